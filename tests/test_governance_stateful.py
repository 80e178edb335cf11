"""A state machine of people acting on a small brief in random order; the rules hold throughout.

Random members of the Lumen Home workspace (and two extra: a second content lead and an admin
with no gate role) review, approve, reject, edit, batch-approve, withdraw and reinstate a claim
and re-run the brief, on 2 SKUs x 2 channels. After every step:

* no package is past a gate without a live approval at that gate, for its current version, by
  a holder of the gate's role who did not make that version;
* every approval has its ``package.gate.approved`` event with the same person and content hash;
* the log grew by exactly the number of changes made (refusals write nothing) and verifies;
* a package blocked before a step has not advanced during it.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from signoff.audit.chain import event_hash
from signoff.audit.models import Event
from signoff.audit.services import head, verify
from signoff.core.errors import InputError
from signoff.packages.decisions import (
    approve_package,
    decide_each,
    edit_package,
    reject_package,
    review_package,
)
from signoff.packages.models import Approval, Package, Review, Version
from signoff.workflow import AuthorityError, ErrorCode
from signoff.workspaces.models import Claim, Person, Workspace

SKUS = ("LUM-SPR-LAV-08", "LUM-SPR-PEO-14")
CHANNELS = ("amazon_us_pdp", "meta_feed_ad")
BRIEF = "governance-mini"
PEOPLE = (
    "maya@lumen.example",  # content_lead
    "noor@lumen.example",  # content_lead (created here)
    "omar@lumen.example",  # compliance
    "lena@lumen.example",  # brand_manager
    "ari@lumen.example",  # operator
    "sofia@lumen.example",  # cmo
    "root@lumen.example",  # admin only (created here)
)
GATE_ROLE = {"G2": "content_lead", "G3": "compliance", "G4": "brand_manager"}
# The gates a package has passed, by position (an unblocked one, or where a blocked one was).
PASSED = {
    "S5/in_review": ("G2",),
    "S6/in_review": ("G2", "G3"),
    "S6/approved": ("G2", "G3", "G4"),
}
# The live approvals a package may still carry at each position (a rejection keeps the
# earlier ones until the next edit voids them).
MAY_CARRY = {
    **PASSED,
    "S3/rejected": ("G2",),
    "S5/rejected": ("G2", "G3"),
}
EDITED_FIELD = {"amazon_us_pdp": "title", "meta_feed_ad": "headline"}
SUFFIXES = (" soft", " warm", ", non-toxic")  # the last is a forbidden claim: a blocking finding
CLAIM = "hand-poured"
INDEX = st.integers(min_value=0, max_value=len(SKUS) * len(CHANNELS) - 1)
# Anyone, or (to reach the later gates often) a holder of the role the package waits on.
WHO = st.sampled_from((*PEOPLE, "owner:0", "owner:1"))
WAITS_ON = {"S3/in_review": "G2", "S5/in_review": "G3", "S6/in_review": "G4"}


class GovernanceMachine(RuleBasedStateMachine):
    brief_path: str = ""  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        from signoff.briefs.approval import approve_brief
        from signoff.briefs.services import add_brief
        from signoff.packages.services import run_brief

        # A fresh brief for every example; the audit log only grows, so count from here.
        self.workspace = Workspace.objects.get(slug="lumen-home")
        self.workspace.briefs.all().delete()
        Claim.objects.filter(workspace=self.workspace, claim_id=CLAIM).update(status="approved")
        brief = add_brief(self.brief_path).brief
        approve_brief(brief=brief, person=self.workspace.people.get(email="maya@lumen.example"))
        brief.refresh_from_db()
        run_brief(brief)
        self.brief = brief
        self.ids = list(
            Package.objects.filter(brief=brief).order_by("id").values_list("pk", flat=True)
        )
        assert len(self.ids) == 4
        self.start_head = head()
        self.baseline = self.start_head[0]
        self.checked = self.start_head
        self.event_count = 0
        self.approval_events: Counter = Counter()
        self.people = {p.email: p for p in Person.objects.filter(workspace=self.workspace)}
        self.roles = {email: set(p.roles) for email, p in self.people.items()}
        self.expected_events = 0
        self.original = {
            pk: row["text"] for pk, row in self.snapshot().items()
        }  # version 1's text of the field the edits change
        self.before = self.snapshot()  # the state the next step starts from

    # --- helpers ---------------------------------------------------------------------------

    def person(self, who: str, pk: int | None = None) -> Person:
        """Return the person; ``owner:N`` is the Nth holder of the role package ``pk`` waits on.

        The services re-read the person (and their roles) inside their transaction.
        """
        if who.startswith("owner:"):
            gate = WAITS_ON.get(self.before[pk]["position"], "G2")
            holders = sorted(e for e, roles in self.roles.items() if GATE_ROLE[gate] in roles)
            who = holders[int(who[-1]) % len(holders)]
        return self.people[who]

    def snapshot(self) -> dict[int, dict]:
        packages = list(Package.objects.filter(pk__in=self.ids).select_related("current_version"))
        return self.rows(packages, list(Approval.objects.filter(package_id__in=self.ids)))

    @staticmethod
    def rows(packages: list[Package], approvals: list[Approval]) -> dict[int, dict]:
        """Each package's position, block, live approvals and copy, as the next step finds it."""
        return {
            p.pk: {
                "position": p.position,
                "blocked_from": p.blocked_from,
                "reasons": [r.get("claim") or r.get("kind") for r in p.blocked_reasons],
                "version": p.current_version_id,
                "approvals": {
                    a.pk for a in approvals if a.package_id == p.pk and a.voided_at is None
                },
                "field": EDITED_FIELD[p.channel],
                "text": p.current_version.fields[EDITED_FIELD[p.channel]],
                "uses_claim": CLAIM in json.dumps(p.current_version.fields).lower(),
            }
            for p in packages
        }

    def expect(self, changes: int) -> None:
        self.expected_events += changes

    # --- rules -------------------------------------------------------------------------------

    @rule(who=WHO, i=INDEX)
    def review(self, who: str, i: int) -> None:
        pk = self.ids[i]
        person = self.person(who, pk)
        already = Review.objects.filter(
            version_id=self.before[pk]["version"], person=person.email
        ).exists()
        (result,) = decide_each([pk], lambda k: review_package(package_id=k, person=person))
        self.expect(1 if result.ok and not already else 0)

    @rule(who=WHO, i=INDEX, gate=st.sampled_from([None, "G2", "G3", "G4"]))
    def approve(self, who: str, i: int, gate: str | None) -> None:
        person = self.person(who, self.ids[i])
        (result,) = decide_each(
            [self.ids[i]],
            lambda k: approve_package(package_id=k, person=person, expected_gate=gate),
        )
        self.expect(1 if result.ok else 0)

    @rule(who=st.sampled_from(["owner:0", "owner:1"]), i=INDEX)
    def approve_as_a_gate_owner(self, who: str, i: int) -> None:
        """A second approve rule, always by a holder of the role: examples reach G3 and G4."""
        person = self.person(who, self.ids[i])
        (result,) = decide_each(
            [self.ids[i]], lambda k: approve_package(package_id=k, person=person)
        )
        self.expect(1 if result.ok else 0)

    @rule(who=WHO, picks=st.lists(INDEX, min_size=1, max_size=4, unique=True))
    def batch_approve(self, who: str, picks: list[int]) -> None:
        person = self.person(who, self.ids[picks[0]])
        results = decide_each(
            [self.ids[i] for i in picks],
            lambda k: approve_package(package_id=k, person=person, batch=True),
        )
        for result in results:
            if result.ok:
                reviewed = Review.objects.filter(
                    version_id=self.before[result.package_id]["version"], person=person.email
                ).exists()
                assert reviewed, "a batch approved a version its approver had not reviewed"
        self.expect(sum(r.ok for r in results))

    @rule(who=WHO, i=INDEX, note=st.sampled_from(["", "  ", "lead with the scent"]))
    def reject(self, who: str, i: int, note: str) -> None:
        person = self.person(who, self.ids[i])
        (result,) = decide_each(
            [self.ids[i]], lambda k: reject_package(package_id=k, person=person, note=note)
        )
        if not note.strip():
            assert not result.ok
        self.expect(1 if result.ok else 0)

    @rule(who=WHO, i=INDEX, suffix=st.sampled_from(SUFFIXES))
    def edit(self, who: str, i: int, suffix: str) -> None:
        pk = self.ids[i]
        field = self.before[pk]["field"]
        text = self.original[pk] + suffix
        person = self.person(who, pk)
        try:
            (result,) = decide_each(
                [pk],
                lambda k: edit_package(package_id=k, person=person, changes={field: text})[0],
            )
        except InputError:  # the same text again: nothing changed, nothing recorded
            assert self.before[pk]["text"] == text
            return
        self.expect(1 if result.ok else 0)

    @rule(
        who=st.sampled_from(["omar@lumen.example", "omar@lumen.example", "lena@lumen.example"]),
        withdraw=st.booleans(),
    )
    def claim_status(self, who: str, withdraw: bool) -> None:
        from signoff.packages.claims import ClaimChange, set_claim_status

        status = "withdrawn" if withdraw else "approved"

        def change_status() -> ClaimChange:
            return set_claim_status(
                workspace=self.workspace,
                claim_id=CLAIM,
                status=status,
                note="audit",
                person=self.person(who),
            )

        if "compliance" not in self.roles[who]:  # the registry is compliance's alone
            with pytest.raises(AuthorityError) as refused:
                change_status()
            assert refused.value.code is ErrorCode.WRONG_ROLE
            return
        change = change_status()
        mine = set(self.ids)
        if withdraw:
            newly = {
                pk
                for pk, row in self.before.items()
                if row["uses_claim"]
                and CLAIM not in row["reasons"]
                and row["position"] != "S6/published"
            }
            assert set(change.blocked) & mine == newly
            moved = 0
        else:
            assert change.blocked == []
            moved = sum(1 for row in self.before.values() if row["reasons"] == [CLAIM])
        self.expect(1 + len(set(change.blocked) & mine) + moved)

    @precondition(lambda self: any(r["position"] == "S2/rejected" for r in self.before.values()))
    @rule()
    def redraft(self) -> None:
        from signoff.packages.services import run_brief

        waiting = sum(1 for row in self.before.values() if row["position"] == "S2/rejected")
        summary = run_brief(self.brief)
        assert summary.drafted == waiting
        self.expect(2 + waiting)  # run.started, one package.drafted each, run.finished

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def every_rule_holds(self) -> None:
        # One read of the state for all checks (the ORM's per-query cost dominates here).
        packages = list(Package.objects.filter(pk__in=self.ids).select_related("current_version"))
        approvals = list(Approval.objects.filter(package_id__in=self.ids).select_related("version"))
        authors: dict[int, list[tuple[int, str]]] = {pk: [] for pk in self.ids}
        for package_id, number, author in Version.objects.filter(
            package_id__in=self.ids
        ).values_list("package_id", "number", "author"):
            authors[package_id].append((number, author))
        events = list(Event.objects.filter(seq__gt=self.checked[0]).order_by("seq").values())
        self.gates_are_passed_only_with_a_valid_live_approval(packages, approvals, authors)
        self.every_approval_has_its_event(approvals, events)
        self.the_log_grew_by_the_changes_made_and_chains_on(events)
        self.a_blocked_package_never_advanced(packages, approvals)
        self.before = self.rows(packages, approvals)

    def gates_are_passed_only_with_a_valid_live_approval(
        self, packages: list[Package], approvals: list[Approval], authors: dict
    ) -> None:
        for p in packages:
            where = p.blocked_from or p.position
            live = [a for a in approvals if a.package_id == p.pk and a.voided_at is None]
            gates = [a.gate for a in live]
            assert set(PASSED.get(where, ())) <= set(gates), (p.pk, where, gates)
            assert set(gates) <= set(MAY_CARRY.get(where, ())), (p.pk, where, gates)
            assert len(gates) == len(set(gates))
            for approval in live:
                makers = {
                    author
                    for number, author in authors[p.pk]
                    if number <= approval.version.number and "@" in author
                }
                assert GATE_ROLE[approval.gate] in self.roles[approval.person]
                assert approval.person not in makers, "maker-checker"
                assert approval.version_id == p.current_version_id
                assert approval.content_hash == p.current_version.content_hash

    def every_approval_has_its_event(self, approvals: list[Approval], events: list[dict]) -> None:
        self.approval_events.update(
            (e["subject_id"], e["gate"], e["actor"], e["content_hash"])
            for e in events
            if e["action"] == "package.gate.approved"
        )
        assert self.approval_events == Counter(
            (str(a.package_id), a.gate, a.person, a.content_hash) for a in approvals
        )

    def the_log_grew_by_the_changes_made_and_chains_on(self, events: list[dict]) -> None:
        self.event_count += len(events)
        assert self.event_count == self.expected_events
        # Each new event links to the one before and hashes right (the whole chain is
        # re-verified in teardown, once per example, against the head taken at the start).
        for row in events:
            assert (row["seq"], row["prev_hash"]) == (self.checked[0] + 1, self.checked[1])
            assert event_hash(row, row["prev_hash"]) == row["hash"]
            self.checked = (row["seq"], row["hash"])

    def a_blocked_package_never_advanced(
        self, packages: list[Package], approvals: list[Approval]
    ) -> None:
        for p in packages:
            assert bool(p.blocked_reasons) == (p.state == "blocked") == bool(p.blocked_from)
            if not self.before[p.pk]["position"].endswith("/blocked"):
                continue
            was = self.before[p.pk]
            live = {a.pk for a in approvals if a.package_id == p.pk and a.voided_at is None}
            assert live <= was["approvals"], "an approval was added while blocked"
            if p.state == "blocked":
                # still blocked: where it returns to is unchanged, or an edit sent it to G2
                assert p.blocked_from in (was["blocked_from"], "S3/in_review")
            else:
                # released: exactly where it was before the block
                assert p.position == was["blocked_from"]

    def teardown(self) -> None:
        assert verify(expected_head=self.start_head).ok


@pytest.mark.django_db
def test_random_people_acting_in_random_order_keep_every_rule(lumen_workspace, example_dir):
    # given: a 2 x 2 brief, a second content lead and an admin without a gate role
    Person.objects.create(workspace=lumen_workspace, email=PEOPLE[1], roles=["content_lead"])
    Person.objects.create(workspace=lumen_workspace, email=PEOPLE[6], roles=["admin"])
    spring = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    spring["brief"] = BRIEF
    spring["products"] = [p for p in spring["products"] if p["sku"] in SKUS]
    spring["channels"] = list(CHANNELS)
    path = example_dir / "briefs" / "governance-mini.yaml"
    path.write_text(yaml.safe_dump(spring, sort_keys=False))
    GovernanceMachine.brief_path = str(path)

    # when / then: every step keeps the invariants
    run_state_machine_as_test(
        GovernanceMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )

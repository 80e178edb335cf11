"""A state machine of random people with random roles acting on a small brief in random order.

Six members of the Lumen Home workspace each hold a random non-empty set of roles, loaded
through the workspace file (``load_workspace``, what ``signoff workspace load`` runs), and
a rule reloads it with someone's roles changed mid-run. On 2 SKUs x 2 channels they review,
approve, reject, edit, batch-approve, fast-track a channel through its gates, launch it,
withdraw and reinstate a claim, update the brief after G1, approve it again and re-run it.
After every step:

* every gate decision event (G1 to G4) is by a holder of the gate's role at that moment (the
  roles the workspace gave them when the event was written), and no approval is by a person
  who made the version it approves, nor by one who approved it at another gate unless the
  workspace relaxed separation of duties then (a rule toggles it), which the event says;
* no package is past a gate without a live approval at that gate for its current version, and
  every approval has its ``package.gate.approved`` event;
* the log grew by exactly the number of changes made plus one event per refused attempt whose
  key (person, action, object, code) was not refused before in the same minute (the refusal
  clock is the machine's; a rule lets a minute pass), every package moved only along its
  events (one event per transition; a refusal moves nothing), and the chain verifies;
* a package blocked before a step has not advanced during it (it is released to where it was,
  or a brief change resets it to S2, still blocked by a withdrawn claim); a withdrawn claim
  blocks every package that makes it;
* the agent only drafts; a published package never changes again.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from image_helpers import required_images

from signoff.audit.chain import event_hash
from signoff.audit.models import Event
from signoff.audit.services import head, verify
from signoff.core.errors import InputError
from signoff.packages import refusals
from signoff.packages.authoring import edit_package
from signoff.packages.decisions import (
    ItemResult,
    approve_package,
    decide_each,
    reject_package,
    review_package,
)
from signoff.packages.images import attach_images
from signoff.packages.models import Approval, Package, Review, Version
from signoff.workflow import AuthorityError, ErrorCode, Role, StateError, WorkflowError
from signoff.workspaces.models import Claim, Person, Workspace

SKUS = ("LUM-SPR-LAV-08", "LUM-SPR-PEO-14")
CHANNELS = ("amazon_us_pdp", "meta_feed_ad")
BRIEF = "governance-mini"
CAST = (
    "maya@lumen.example",
    "noor@lumen.example",
    "omar@lumen.example",
    "lena@lumen.example",
    "ari@lumen.example",
    "sofia@lumen.example",
)
ROLES = tuple(role.value for role in Role)
ROLE_SET = st.frozensets(st.sampled_from(ROLES), min_size=1)
GATE_ROLE = {"G1": "content_lead", "G2": "content_lead", "G3": "compliance", "G4": "brand_manager"}
PUBLISHERS = frozenset({"operator", "brand_manager"})  # who may launch an e-commerce channel
CONTRIBUTORS = frozenset({"operator", "content_lead", "compliance", "brand_manager"})
# The roles of which a person needs one for each change they make that passes no gate.
NEEDS = {
    "package.edited": CONTRIBUTORS,
    "package.blocked": CONTRIBUTORS,  # a claim withdrawn (compliance)
    "package.unblocked": CONTRIBUTORS,  # a claim reinstated, or edited out of the copy
    "brief.version_added": CONTRIBUTORS,
    "brief.edited": CONTRIBUTORS,
    "package.reset": CONTRIBUTORS,
    "brief.impact_assessed": CONTRIBUTORS,
    "claim.status_changed": frozenset({"compliance"}),
    "package.published": PUBLISHERS,
    "channel.launched": PUBLISHERS,
}
# The gates a package has passed, by position (an unblocked one, or where a blocked one was).
PASSED = {
    "S5/in_review": ("G2",),
    "S6/in_review": ("G2", "G3"),
    "S6/approved": ("G2", "G3", "G4"),
    "S6/published": ("G2", "G3", "G4"),
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
WHO = st.sampled_from((*CAST, "owner:0", "owner:1"))
WAITS_ON = {"S3/in_review": "G2", "S5/in_review": "G3", "S6/in_review": "G4"}
AGENT_ACTIONS = {"package.drafted", "package.draft_failed"}
# What a brief update changes: its first key message (every package), or one SKU's colour.
MESSAGES = (
    "Hand-poured soy wax candles with phthalate-free fragrance.",
    "Soy wax candles for calm spring evenings.",
    "Six spring scents, poured by hand.",
)
COLOURS = ("sage", "blush", "cream")
CHANGE = st.sampled_from(("message", "colour:0", "colour:1"))
REFUSED = ("package.decision.refused", "brief.decision.refused")


class GovernanceMachine(RuleBasedStateMachine):
    example_dir: Path = Path()  # set by the test before running
    clock: datetime = datetime(2030, 1, 1, tzinfo=UTC)  # what the refusal recorder reads
    brief_text: str = ""  # the brief file as the test wrote it; updates rewrite the file
    examples = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        # A fresh brief for every example; the audit log only grows, so count from here.
        self.workspace = Workspace.objects.get(slug="lumen-home")
        self.workspace.briefs.all().delete()
        Claim.objects.filter(workspace=self.workspace, claim_id=CLAIM).update(status="approved")
        self.workspace_file = self.example_dir / "governance-workspace.yaml"
        self.workspace_doc = yaml.safe_load(
            (self.example_dir / "workspace.yaml").read_text(encoding="utf-8")
        )
        self.brief_file = self.example_dir / "briefs" / f"{BRIEF}.yaml"
        self.brief_file.write_text(self.brief_text, encoding="utf-8")
        self.brief_doc = yaml.safe_load(self.brief_text)
        self.approved_doc: dict | None = None  # the brief as G1 last approved it
        self.out_dir = Path(tempfile.mkdtemp(prefix=f"launch-{next(self.examples)}-"))
        self.brief = None
        self.brief_state = ""
        self.ids: list[int] = []
        self.original: dict[int, str] = {}  # version 1's text of the field the edits change
        self.before: dict[int, dict] = {}  # the state the next step starts from
        self.roles: dict[str, frozenset[str]] = {}
        self.role_history: list[tuple[int, dict[str, frozenset[str]]]] = []  # (from seq, roles)
        self.people: dict[str, Person] = {}
        self.expected_events = 0
        self.event_count = 0
        self.approval_events: Counter = Counter()
        self.reset: set[int] = set()  # packages a brief update sent back to S2 in this step
        self.published: dict[int, int] = {}  # package -> the version it was published with
        # Each example refuses in hours of its own, so no window is shared with another one.
        GovernanceMachine.clock = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(
            hours=next(self.examples)
        )
        self.refused_keys: set[tuple] = set()  # (person, attempt, object, code, minute)
        self.relaxed = False  # workflows.ecommerce.allow_same_person_two_gates
        self.relax_history: list[tuple[int, bool]] = []  # (from seq, relaxed)
        # (package id, version number) -> person -> the gates they approved it at
        self.approved_by: dict[tuple[str, int], dict[str, set[str]]] = {}

    # --- helpers ---------------------------------------------------------------------------

    def load_roles(self, roles: dict[str, frozenset[str]]) -> None:
        """Write the workspace file with these roles and load it, as the CLI does.

        The claims keep the statuses they have now: only the people change.
        """
        doc = copy.deepcopy(self.workspace_doc)
        names = {p["email"]: p["name"] for p in doc["people"]}
        doc["people"] = [
            {"email": e, "name": names.get(e, e.split("@")[0].title()), "roles": sorted(roles[e])}
            for e in CAST
        ]
        statuses = dict(self.workspace.claims.values_list("claim_id", "status"))
        for claim in doc["claims"]:
            claim["status"] = statuses[claim["id"]]
        if self.relaxed:
            doc["workflows"]["ecommerce"]["allow_same_person_two_gates"] = True
        self.workspace_file.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        from signoff.workspaces.services import load_workspace

        load_workspace(self.workspace_file)
        self.expect(1)  # workspace.updated
        self.roles = {e: frozenset(roles[e]) for e in CAST}
        self.role_history.append((head()[0], dict(self.roles)))
        self.relax_history.append((head()[0], self.relaxed))
        stored = Person.objects.filter(workspace=self.workspace, email__in=CAST)
        assert {p.email: frozenset(p.roles) for p in stored} == self.roles
        # The rules keep passing the Person objects of the first load, their roles long out
        # of date: a service must read the roles as they are when it decides.
        self.people = self.people or {p.email: p for p in stored}

    def relaxed_at(self, seq: int) -> bool:
        """Whether separation of duties was relaxed when event ``seq`` was written."""
        return [relaxed for since, relaxed in self.relax_history if since < seq][-1]

    def refused(self, person: Person, attempt: str, subject: str, pk: int, code: str) -> None:
        """A refused attempt: one event unless the same one was refused in this minute.

        Refusals for missing input (a rejection without a note) are answered, not recorded.
        """
        if code == ErrorCode.NOTE_REQUIRED:
            return
        minute = self.clock.replace(second=0, microsecond=0)
        key = (person.email, attempt, subject, str(pk), str(code), minute)
        if key not in self.refused_keys:
            self.refused_keys.add(key)
            self.expect(1)

    def results(self, person: Person, attempt: str, results: list[ItemResult]) -> int:
        """Expect the events of a batch's refusals; return how many items succeeded."""
        for r in results:
            if not r.ok and r.http_status in (403, 409):  # refused for who or when
                self.refused(person, attempt, "package", r.package_id, r.code)
        return sum(r.ok for r in results)

    def roles_at(self, seq: int) -> dict[str, frozenset[str]]:
        """Everyone's roles when event ``seq`` was written."""
        return [roles for since, roles in self.role_history if since < seq][-1]

    def holders(self, role: str, *, besides: frozenset[str] = frozenset()) -> list[str]:
        return sorted(e for e in CAST if role in self.roles[e] and e not in besides)

    def person(self, who: str, pk: int | None = None, gate: str | None = None) -> Person:
        """Return the person; ``owner:N`` is the Nth holder of the role the package (or the
        brief, at G1) waits on, or someone without it when nobody holds it.

        The services re-read the person (and their roles) inside their transaction.
        """
        if who.startswith("owner:"):
            if gate is None:
                gate = WAITS_ON.get(self.before[pk]["position"], "G2") if pk else "G2"
            n = int(who[-1])
            holders = self.holders(GATE_ROLE[gate]) or list(CAST)
            who = holders[n % len(holders)]
        if who.startswith("publisher:"):
            n = int(who[-1])
            holders = sorted(e for e in CAST if self.roles[e] & PUBLISHERS) or list(CAST)
            who = holders[n % len(holders)]
        return self.people[who]

    def snapshot(self) -> dict[int, dict]:
        packages = list(Package.objects.filter(pk__in=self.ids).select_related("current_version"))
        return self.rows(packages, list(Approval.objects.filter(package_id__in=self.ids)))

    @staticmethod
    def rows(packages: list[Package], approvals: list[Approval]) -> dict[int, dict]:
        """Each package's position, block, live approvals and copy, as the next step finds it."""
        return {
            p.pk: {
                "sku": p.sku,
                "channel": p.channel,
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
                "images": bool(p.current_version.images),
            }
            for p in packages
        }

    def expect(self, changes: int) -> None:
        self.expected_events += changes

    def ran(self) -> None:
        """After a run: the packages it made (the first run makes all four)."""
        if not self.ids:
            self.ids = list(
                Package.objects.filter(brief=self.brief).order_by("id").values_list("pk", flat=True)
            )
            assert len(self.ids) == 4
            # The next invariant check starts from here (``before`` stays empty for them).
            self.original = {pk: row["text"] for pk, row in self.snapshot().items()}

    @property
    def brief_approved(self) -> bool:
        """Whether the brief has passed G1 for its latest version (read after every step)."""
        return self.brief_state == "approved"

    # --- the start: random roles, the brief, G1 and the first run when someone can ----------

    @initialize(roles=st.fixed_dictionaries(dict.fromkeys(CAST, ROLE_SET)))
    def start(self, roles: dict[str, frozenset[str]]) -> None:
        from signoff.briefs.approval import approve_brief
        from signoff.briefs.services import add_brief
        from signoff.packages.services import run_brief

        self.start_head = head()
        self.checked = self.start_head
        self.load_roles(roles)
        self.brief = add_brief(self.brief_file).brief
        self.expect(1)  # brief.added
        leads = self.holders("content_lead")
        if leads:
            approve_brief(brief=self.brief, person=self.people[leads[0]])
            self.approved_doc = copy.deepcopy(self.brief_doc)
            self.brief.refresh_from_db()
            run_brief(self.brief)
            self.expect(1 + 2 + 4)  # G1, run.started, four drafts, run.finished
            self.ran()

    # --- rules -------------------------------------------------------------------------------

    @precondition(lambda self: self.ids)
    @rule(who=WHO, i=INDEX)
    def review(self, who: str, i: int) -> None:
        pk = self.ids[i]
        person = self.person(who, pk)
        already = Review.objects.filter(
            version_id=self.before[pk]["version"], person=person.email
        ).exists()
        (result,) = decide_each([pk], lambda k: review_package(package_id=k, person=person))
        self.results(person, "review", [result])
        self.expect(1 if result.ok and not already else 0)

    @precondition(lambda self: self.ids)
    @rule(who=WHO, i=INDEX, gate=st.sampled_from([None, "G2", "G3", "G4"]))
    def approve(self, who: str, i: int, gate: str | None) -> None:
        person = self.person(who, self.ids[i])
        (result,) = decide_each(
            [self.ids[i]],
            lambda k: approve_package(package_id=k, person=person, expected_gate=gate),
        )
        self.expect(self.results(person, "approve", [result]))

    @precondition(lambda self: self.ids)
    @rule(who=st.sampled_from(["owner:0", "owner:1"]), i=INDEX)
    def approve_as_a_gate_owner(self, who: str, i: int) -> None:
        """A second approve rule, always by a holder of the role: examples reach G3 and G4."""
        person = self.person(who, self.ids[i])
        (result,) = decide_each(
            [self.ids[i]], lambda k: approve_package(package_id=k, person=person)
        )
        self.expect(self.results(person, "approve", [result]))

    @precondition(lambda self: self.ids)
    @rule(i=INDEX)
    def approve_a_second_gate(self, i: int) -> None:
        """Someone who approved this version at one gate, holding the next gate's role too,
        approves it there: refused unless the workspace relaxed separation of duties."""
        pk = self.ids[i]
        gate = WAITS_ON.get(self.before[pk]["position"])
        approvers = Approval.objects.filter(
            package_id=pk, version_id=self.before[pk]["version"]
        ).values_list("person", flat=True)
        twice = sorted(e for e in set(approvers) if gate and GATE_ROLE[gate] in self.roles[e])
        if not twice:
            return
        person = self.people[twice[0]]
        (result,) = decide_each([pk], lambda k: approve_package(package_id=k, person=person))
        if not self.relaxed:
            assert not result.ok, "one person passed two gates of a version"
            assert result.code in (
                ErrorCode.SAME_PERSON_TWO_GATES,
                ErrorCode.MAKER_CHECKER,
                ErrorCode.BLOCKING_FINDINGS,
                ErrorCode.MISSING_IMAGES,
            ), result
        self.expect(self.results(person, "approve", [result]))

    @precondition(lambda self: self.ids)
    @rule(channel=st.sampled_from(CHANNELS), pick=st.integers(0, 5))
    def fast_track(self, channel: str, pick: int) -> None:
        """Each package of a channel approved at every gate it reaches, by a holder of the
        gate's role who made none of its versions and approved none of its gates for this
        version (while there is one): examples launch."""
        for pk in self.ids:
            if self.before[pk]["channel"] != channel:
                continue
            for _ in range(3):
                package = Package.objects.get(pk=pk)
                gate = WAITS_ON.get(package.position)
                if gate is None:
                    break
                makers = frozenset(
                    Version.objects.filter(package_id=pk, author__contains="@").values_list(
                        "author", flat=True
                    )
                )
                approvers = frozenset(
                    Approval.objects.filter(
                        package_id=pk, version_id=package.current_version_id
                    ).values_list("person", flat=True)
                )
                if self.relaxed:
                    approvers = frozenset()
                holders = self.holders(GATE_ROLE[gate], besides=makers | approvers)
                if not holders:
                    break
                person = self.people[holders[pick % len(holders)]]
                (result,) = decide_each(
                    [pk], lambda k, person=person: approve_package(package_id=k, person=person)
                )
                if not result.ok:  # a blocking finding, or G4 with empty image slots
                    stops = {ErrorCode.BLOCKING_FINDINGS.value}
                    if gate == "G4" and not self.before[pk]["images"]:
                        stops.add(ErrorCode.MISSING_IMAGES.value)
                    assert result.code in stops, result
                    self.results(person, "approve", [result])
                    break
                self.expect(1)

    @precondition(lambda self: self.ids)
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
        self.expect(self.results(person, "approve", results))

    @precondition(lambda self: self.ids)
    @rule(who=WHO, i=INDEX, note=st.sampled_from(["", "  ", "lead with the scent"]))
    def reject(self, who: str, i: int, note: str) -> None:
        person = self.person(who, self.ids[i])
        (result,) = decide_each(
            [self.ids[i]], lambda k: reject_package(package_id=k, person=person, note=note)
        )
        if not note.strip():
            assert not result.ok
        self.expect(self.results(person, "reject", [result]))

    @precondition(lambda self: self.ids)
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
        self.expect(self.results(person, "edit", [result]))

    @precondition(lambda self: self.ids)
    @rule(who=WHO, i=INDEX)
    def give_images(self, who: str, i: int) -> None:
        """Renditions in the package's required slots: a new version, like an edit."""
        pk = self.ids[i]
        package = Package.objects.select_related("brief__workspace").get(pk=pk)
        images = required_images(package)
        person = self.person(who, pk)
        (result,) = decide_each(
            [pk], lambda k: attach_images(package_id=k, person=person, images=images)
        )
        self.results(person, "edit", [result])
        self.expect(1 if result.ok and result.outcome != "unchanged" else 0)

    @rule(who=st.sampled_from(CAST), withdraw=st.booleans())
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

    @rule(email=st.sampled_from(CAST), roles=ROLE_SET)
    def change_roles(self, email: str, roles: frozenset[str]) -> None:
        """Someone's roles change mid-run: the workspace file is edited and loaded again."""
        self.load_roles({**self.roles, email: roles})

    @rule(relax=st.booleans())
    def relax_separation(self, relax: bool) -> None:
        """The workspace file allows (or stops allowing) one person at two gates of a version."""
        self.relaxed = relax
        self.load_roles(self.roles)

    @rule(seconds=st.sampled_from((20, 60)))
    def time_passes(self, seconds: int) -> None:
        """The refusal clock moves on: identical refusals aggregate only within one minute."""
        GovernanceMachine.clock += timedelta(seconds=seconds)

    @rule(who=st.sampled_from((*CAST, "owner:0", "owner:1")))
    def approve_the_brief(self, who: str) -> None:
        from signoff.briefs.approval import approve_brief

        person = self.person(who, gate="G1")
        try:
            approve_brief(brief=self.brief, person=person)
        except WorkflowError as exc:
            self.refused(person, "approve", "brief", self.brief.pk, exc.code)
            return
        assert "content_lead" in self.roles[person.email]
        self.approved_doc = copy.deepcopy(self.brief_doc)
        self.expect(1)

    @rule(who=WHO, change=CHANGE, value=st.integers(0, 2))
    def update_the_brief(self, who: str, change: str, value: int) -> None:
        """A change after G1: the packages it touches go back to S2 with approvals voided."""
        from signoff.briefs.approval import update_brief

        doc = copy.deepcopy(self.brief_doc)
        if change == "message":
            doc["key_messages"][0] = MESSAGES[value]
        else:
            doc["products"][int(change[-1])]["attributes"]["color"] = COLOURS[value]
        self.brief_file.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        self.brief.refresh_from_db()
        locked = self.brief.approved_version_id
        versions = self.brief.versions.count()
        person = self.person(who, gate="G1")
        try:
            report = update_brief(brief=self.brief, path=self.brief_file, person=person)
        except WorkflowError as exc:
            assert self.brief.versions.count() == versions  # the whole change rolled back
            self.refused(person, "edit", "brief", self.brief.pk, exc.code)
            return
        # The roles the person holds now decide, before G1 as after it.
        assert self.roles[person.email] & CONTRIBUTORS, (person.email, "changed the brief")
        if not report.brief.created_version:
            assert doc == self.brief_doc
            return
        self.brief_doc = doc
        if locked is None:  # before G1: just the next version
            self.expect(1)
            return
        touched = {i.package_id for i in report.impacts}
        # Against the version G1 locked: the message touches every package; a colour its SKU's
        # packages whose channel uses it (Amazon: a family attribute) or whose copy states the
        # old one (the peony ad's headline says "Blush"), not the others.
        approved = self.approved_doc
        every = approved["key_messages"] != doc["key_messages"]
        old_colour = {
            p["sku"]: p["attributes"]["color"]
            for p, q in zip(approved["products"], doc["products"], strict=True)
            if p != q
        }

        def touches(pk: int, row: dict) -> bool:
            if row["position"] == "S6/published":
                return False
            if every or row["channel"] == "amazon_us_pdp":
                return every or row["sku"] in old_colour
            if row["sku"] not in old_colour:
                return False
            fields = Package.objects.get(pk=pk).current_version.fields
            word = rf"(?<!\w){re.escape(old_colour[row['sku']])}(?!\w)"
            return re.search(word, json.dumps(fields), re.IGNORECASE) is not None

        assert touched == {pk for pk, row in self.before.items() if touches(pk, row)}
        self.reset |= touched
        # brief.version_added, brief.edited, one package.reset each, brief.impact_assessed
        self.expect(3 + len(touched))

    @precondition(
        lambda self: (
            not self.brief_approved
            or not self.ids
            or any(row["position"] in ("S2/rejected", "S2/draft") for row in self.before.values())
        )
    )
    @rule()
    def run(self) -> None:
        from signoff.packages.services import run_brief

        if not self.brief_approved:
            with pytest.raises(StateError):
                run_brief(self.brief)
            return
        waiting = sum(
            1 for row in self.before.values() if row["position"] in ("S2/rejected", "S2/draft")
        )
        summary = run_brief(self.brief)
        if not self.ids:
            waiting = 4
        assert summary.drafted == waiting
        self.expect(2 + waiting)  # run.started, one package.drafted each, run.finished
        self.ran()

    @precondition(lambda self: self.ids)
    @rule(
        who=st.sampled_from((*CAST, "publisher:0", "publisher:1")),
        channel=st.sampled_from(CHANNELS),
    )
    def launch(self, who: str, channel: str) -> None:
        from signoff.delivery.services import launch_channel

        person = self.person(who)
        ready = all(
            row["position"] == "S6/approved"
            for row in self.before.values()
            if row["channel"] == channel
        )
        may = bool(self.roles[person.email] & PUBLISHERS)
        if not (ready and may):  # waiting on G4, or not a publisher: refused, nothing written
            with pytest.raises(WorkflowError):
                launch_channel(
                    brief=self.brief, channel=channel, person=person, out_dir=self.out_dir
                )
            return
        result = launch_channel(
            brief=self.brief, channel=channel, person=person, out_dir=self.out_dir
        )
        assert (self.out_dir / "lumen-home" / BRIEF / channel / "manifest.json").exists()
        for pk in result.packages:
            self.published[pk] = self.before[pk]["version"]
        self.expect(len(result.packages) + 1)  # package.published each, channel.launched

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
        self.every_decision_is_by_a_holder_at_that_moment(events, authors)
        self.the_log_grew_by_the_changes_made_and_chains_on(events)
        self.packages_moved_only_along_their_events(packages, events)
        self.a_blocked_package_never_advanced(packages, approvals)
        self.a_withdrawn_claim_blocks_its_packages(packages)
        self.published_packages_never_change(packages)
        self.before = self.rows(packages, approvals)
        self.reset = set()
        self.brief.refresh_from_db(fields=["state"])
        self.brief_state = self.brief.state

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
            if not self.relaxed and not any(relaxed for _, relaxed in self.relax_history):
                people = [a.person for a in live]
                assert len(people) == len(set(people)), ("one person at two gates", people)
            for approval in live:
                makers = {
                    author
                    for number, author in authors[p.pk]
                    if number <= approval.version.number and "@" in author
                }
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

    def every_decision_is_by_a_holder_at_that_moment(
        self, events: list[dict], authors: dict
    ) -> None:
        """Each gate event's person held the gate's role when it was written (by the roles the
        workspace file gave them then, not now), and no approver made the version."""
        added_by = dict(self.brief.versions.values_list("number", "added_by"))
        for e in events:
            if e["actor_kind"] == "agent":
                assert e["action"] in AGENT_ACTIONS, e
                continue
            if e["actor_kind"] != "person":
                continue
            if e["action"] in REFUSED:  # an attempt, refused: it passed no gate
                assert e["data"]["code"], e
                assert e["from_position"] == e["to_position"] == "", e
                continue
            roles = self.roles_at(e["seq"])[e["actor"]]
            if e["gate"]:
                assert GATE_ROLE[e["gate"]] in roles, (e["action"], e["actor"], roles)
            if e["action"] == "package.gate.approved":
                assert e["data"]["roles"] == sorted(roles)
                makers = {
                    author
                    for number, author in authors[int(e["subject_id"])]
                    if number <= e["data"]["version"]
                }
                assert e["actor"] not in makers, "maker-checker"
                self.separation_holds(e)
            if e["action"] == "brief.gate.approved":
                assert e["actor"] != added_by[e["data"]["version"]], "maker-checker at G1"
            if e["action"] in NEEDS:
                assert roles & NEEDS[e["action"]], (e["action"], e["actor"], roles)

    def separation_holds(self, e: dict) -> None:
        """One person approves one gate of a version, unless the workspace relaxed that when
        the event was written; then the event says so, naming the other gates."""
        version = self.approved_by.setdefault((e["subject_id"], e["data"]["version"]), {})
        others = version.setdefault(e["actor"], set()) - {e["gate"]}
        if others:
            assert self.relaxed_at(e["seq"]), ("one person at two gates", e["actor"], others)
            relaxed = e["data"]["same_person_two_gates"]
            assert set(relaxed["also_approved"]) == others
            assert relaxed["allowed_by"] == "workflows.ecommerce.allow_same_person_two_gates"
        else:
            assert "same_person_two_gates" not in e["data"]
        version[e["actor"]].add(e["gate"])

    def the_log_grew_by_the_changes_made_and_chains_on(self, events: list[dict]) -> None:
        self.event_count += len(events)
        assert self.event_count == self.expected_events
        # Each new event links to the one before and hashes right (the whole chain is
        # re-verified in teardown, once per example, against the head taken at the start).
        for row in events:
            assert (row["seq"], row["prev_hash"]) == (self.checked[0] + 1, self.checked[1])
            assert event_hash(row, row["prev_hash"]) == row["hash"]
            self.checked = (row["seq"], row["hash"])

    def packages_moved_only_along_their_events(
        self, packages: list[Package], events: list[dict]
    ) -> None:
        """One event per transition: a package's events of this step lead, one after another,
        from where it was to where it is; a package without any has not moved."""
        for p in packages:
            was = self.before.get(p.pk)
            if was is None:  # made by this step's run
                continue
            at = was["position"]
            for e in events:
                if e["action"] in REFUSED:
                    continue
                if e["subject_type"] == "package" and e["subject_id"] == str(p.pk):
                    assert e["from_position"] == at, (p.pk, at, e["action"], e["from_position"])
                    at = e["to_position"]
            assert at == p.position, (p.pk, at, p.position)

    def a_blocked_package_never_advanced(
        self, packages: list[Package], approvals: list[Approval]
    ) -> None:
        for p in packages:
            assert bool(p.blocked_reasons) == (p.state == "blocked") == bool(p.blocked_from)
            was = self.before.get(p.pk)
            if was is None or not was["position"].endswith("/blocked"):
                continue
            live = {a.pk for a in approvals if a.package_id == p.pk and a.voided_at is None}
            assert live <= was["approvals"], "an approval was added while blocked"
            if p.pk in self.reset and p.state == "blocked":
                # a brief change sent it back to S2, still held by the claim it makes
                assert (p.position, p.blocked_from) == ("S2/blocked", "S2/draft")
                assert all(r.get("kind") == "claim" for r in p.blocked_reasons)
            elif p.pk in self.reset:
                # a brief change sent it back to be drafted from the new version
                assert p.position == "S2/draft"
            elif p.state == "blocked":
                # still blocked: where it returns to is unchanged, or an edit sent it to G2
                assert p.blocked_from in (was["blocked_from"], "S3/in_review")
            else:
                # released: exactly where it was before the block
                assert p.position == was["blocked_from"]

    def a_withdrawn_claim_blocks_its_packages(self, packages: list[Package]) -> None:
        if not packages or self.workspace.claims.get(claim_id=CLAIM).status == "approved":
            return
        from signoff.packages.claims import packages_using

        using = {p.pk for p in packages_using(self.workspace, CLAIM)} & set(self.ids)
        for p in packages:
            if p.pk in using:
                assert any(r.get("claim") == CLAIM for r in p.blocked_reasons), (
                    p.pk,
                    p.position,
                    "makes a withdrawn claim and is not blocked by it",
                )

    def published_packages_never_change(self, packages: list[Package]) -> None:
        for p in packages:
            if p.pk in self.published:
                assert p.position == "S6/published"
                assert p.current_version_id == self.published[p.pk]

    def teardown(self) -> None:
        if self.brief is not None:
            assert verify(expected_head=self.start_head).ok


@pytest.mark.django_db
def test_random_people_with_random_roles_keep_every_rule(lumen_workspace, example_dir, monkeypatch):
    monkeypatch.setattr(refusals, "now", lambda: GovernanceMachine.clock)
    # given: a 2 x 2 brief
    spring = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    spring["brief"] = BRIEF
    spring["products"] = [p for p in spring["products"] if p["sku"] in SKUS]
    spring["channels"] = list(CHANNELS)
    GovernanceMachine.brief_text = yaml.safe_dump(spring, sort_keys=False)
    GovernanceMachine.example_dir = example_dir

    # when / then: every step keeps the invariants
    run_state_machine_as_test(
        GovernanceMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


# ------------------------------------------------ bugs this machine found, now fixed


@pytest.mark.django_db
def test_a_brief_change_keeps_a_withdrawn_claims_block(
    spring_run, approved_spring_brief, example_dir, person, lumen_workspace
):
    from signoff.briefs.approval import update_brief
    from signoff.packages.claims import packages_using, set_claim_status

    # given: the claim is withdrawn, and every package making it is blocked by it
    change = set_claim_status(
        workspace=lumen_workspace,
        claim_id=CLAIM,
        status="withdrawn",
        note="audit",
        person=person("omar"),
    )
    assert len(change.blocked) == 20
    # when: the brief changes after G1 (a brief-wide key message: every package is reset)
    path = example_dir / "briefs" / "spring-candles.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["key_messages"][0] = MESSAGES[1]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    update_brief(brief=approved_spring_brief, path=path, person=person("ari"))
    # then: the packages whose copy still makes the withdrawn claim are still blocked by it
    using = packages_using(lumen_workspace, CLAIM)
    assert len(using) == 20
    unblocked = [p.pk for p in using if not any(r.get("claim") == CLAIM for r in p.blocked_reasons)]
    assert unblocked == []


@pytest.mark.django_db
def test_the_workspace_file_cannot_change_a_claims_status(spring_run, example_dir, lumen_workspace):
    from signoff.core.errors import InputError
    from signoff.packages.claims import packages_using
    from signoff.workspaces.services import load_workspace

    # given: 20 packages make the hand-poured claim, approved in the registry
    assert len(packages_using(lumen_workspace, CLAIM)) == 20
    # when: the workspace file is loaded again with the claim withdrawn
    path = example_dir / "workspace.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    (claim,) = [c for c in doc["claims"] if c["id"] == CLAIM]
    claim["status"] = "withdrawn"
    claim["evidence"] = "changed too"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_workspace(path)
    # then: refused at the claim's status, pointing at compliance's command; nothing stored
    (problem,) = refused.value.problems
    assert problem.field.endswith(".status")
    assert problem.line is not None
    assert "signoff claim set-status hand-poured withdrawn" in problem.message
    stored = lumen_workspace.claims.get(claim_id=CLAIM)
    assert (stored.status, stored.evidence) != ("withdrawn", "changed too")
    assert stored.status == "approved"
    assert not Package.objects.filter(state="blocked", blocked_reasons__icontains=CLAIM).exists()


@pytest.mark.django_db
def test_before_g1_only_a_contributor_may_add_a_brief_version(spring_brief, example_dir, person):
    from signoff.briefs.approval import update_brief

    path = example_dir / "briefs" / "spring-candles.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["key_messages"][0] = MESSAGES[1]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    with pytest.raises(AuthorityError) as refused:
        update_brief(brief=spring_brief, path=path, person=person("sofia"))  # cmo only
    assert refused.value.code is ErrorCode.WRONG_ROLE
    assert spring_brief.versions.count() == 1


@pytest.mark.django_db
def test_a_brief_update_reads_the_roles_as_they_are_now(
    spring_run, approved_spring_brief, example_dir, person
):
    from signoff.briefs.approval import update_brief
    from signoff.workspaces.services import load_workspace

    # given: Ari, an operator, loses every role but cmo in a reload of the workspace file
    ari = person("ari")
    path = example_dir / "workspace.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    (entry,) = [p for p in doc["people"] if p["email"] == ari.email]
    entry["roles"] = ["cmo"]
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    load_workspace(path)
    # when: the brief is changed in Ari's name
    brief_path = example_dir / "briefs" / "spring-candles.yaml"
    brief = yaml.safe_load(brief_path.read_text(encoding="utf-8"))
    brief["key_messages"][0] = MESSAGES[1]
    brief_path.write_text(yaml.safe_dump(brief, sort_keys=False), encoding="utf-8")
    # then: refused for the roles Ari holds now
    with pytest.raises(AuthorityError) as refused:
        update_brief(brief=approved_spring_brief, path=brief_path, person=ari)
    assert refused.value.code is ErrorCode.WRONG_ROLE
    assert not Package.objects.filter(brief=approved_spring_brief, state="draft").exists()

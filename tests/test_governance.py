"""Governance rules of the e-commerce workflow, through the services that people's actions call.

Each test names the rule of ARCHITECTURE.md ("The e-commerce workflow") it proves. Every action
is wrapped in ``new_events()``: a state change writes exactly one event, and a refusal one
``*.decision.refused`` event that changes nothing (``refusals()``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
import yaml
from django.utils import timezone
from fixable import fixable_finding
from image_helpers import give_images

from signoff.audit.models import Event
from signoff.audit.selectors import who_approved
from signoff.audit.services import verify
from signoff.core.errors import InputError, NotFound
from signoff.delivery.services import launch_channel
from signoff.packages.authoring import apply_fix, edit_package
from signoff.packages.decisions import approve_package, decide_each, reject_package, review_package
from signoff.packages.models import Approval, Finding, Note, Package, Review, Version
from signoff.workflow import (
    Action,
    Actor,
    ActorKind,
    AuthorityError,
    DecisionInputError,
    ErrorCode,
    Facts,
    Position,
    StateError,
    decide,
)
from signoff.workspaces.models import Person

pytestmark = pytest.mark.django_db

LAV, NER, PEO = "LUM-SPR-LAV-08", "LUM-SPR-NER-08", "LUM-SPR-PEO-14"
RHUBARB = "LUM-SPR-RHB-08"


# --- helpers -----------------------------------------------------------------------------------


@contextmanager
def new_events() -> Iterator[list[Event]]:
    """Collect the events written inside the block (filled in when the block ends)."""
    last = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    written: list[Event] = []
    try:
        yield written
    finally:
        written.extend(Event.objects.filter(seq__gt=last).order_by("seq"))


def actions(events: list[Event]) -> list[str]:
    return [e.action for e in events]


def refusals(events: list[Event]) -> list[tuple[str, str, str, str]]:
    """(actor, attempt, subject id, code) of each refused attempt recorded."""
    return [
        (e.actor, e.data["attempt"], e.subject_id, e.data["code"])
        for e in events
        if e.action.endswith(".decision.refused")
    ]


def changes(events: list[Event]) -> list[Event]:
    """The events that record a change (not a refused attempt)."""
    return [e for e in events if not e.action.endswith(".decision.refused")]


def package(brief, sku: str, channel: str) -> Package:
    return Package.objects.select_related("current_version").get(
        brief=brief, sku=sku, channel=channel
    )


def fresh(p: Package) -> Package:
    return Package.objects.select_related("current_version").get(pk=p.pk)


def live_approvals(p: Package) -> dict[str, Approval]:
    return {a.gate: a for a in Approval.objects.filter(package=p, voided_at__isnull=True)}


def says(p: Package, words: str) -> bool:
    """Whether the package's current copy contains ``words`` (case-insensitive)."""
    return p.current_version is not None and words in json.dumps(p.current_version.fields).lower()


def pass_gates(p: Package, person, upto: str) -> None:
    """Take the package through G2 (maya), G3 (omar) and G4 (lena), stopping after ``upto``;
    a package going through G4 first gets the images its channel requires."""
    if upto == "G4":
        give_images([p])
    for gate, name in (("G2", "maya"), ("G3", "omar"), ("G4", "lena")):
        approve_package(package_id=p.pk, person=person(name), expected_gate=gate)
        if gate == upto:
            return


@pytest.fixture
def colleague(lumen_workspace):
    """Create another workspace member with the given roles: colleague("noor", "content_lead")."""

    def make(name: str, *roles: str) -> Person:
        return Person.objects.create(
            workspace=lumen_workspace,
            email=f"{name}@lumen.example",
            name=name.title(),
            roles=list(roles),
        )

    return make


# --- the happy path and launch -----------------------------------------------------------------


def test_a_package_passes_g2_g3_g4_and_its_channel_launches_with_provenance(
    spring_run, spring_brief, person, tmp_path
):
    # given: the meta_feed_ad channel, whose six packages were drafted (no missing data), with
    # the images the channel requires
    lavender = package(spring_brief, LAV, "meta_feed_ad")
    give_images([lavender])
    lavender = fresh(lavender)
    hash_approved = lavender.current_version.content_hash

    # when: one package goes through each gate, one person and one event per gate
    for gate, name, after in (
        ("G2", "maya", "S5/in_review"),
        ("G3", "omar", "S6/in_review"),
        ("G4", "lena", "S6/approved"),
    ):
        with new_events() as events:
            result = approve_package(package_id=lavender.pk, person=person(name))
        # then
        assert (result.ok, result.outcome, result.position) == (True, "approved", after)
        assert fresh(lavender).position == after
        (event,) = events
        assert (event.action, event.actor, event.gate) == (
            "package.gate.approved",
            f"{name}@lumen.example",
            gate,
        )
        assert event.content_hash == hash_approved

    # given: the other packages of the channel approved at every gate too
    meta = list(Package.objects.filter(brief=spring_brief, channel="meta_feed_ad"))
    assert len(meta) == 6
    for p in meta:
        if p.pk != lavender.pk:
            pass_gates(p, person, upto="G4")

    # when: a channel with unapproved packages is launched
    out = tmp_path / "exports"
    with new_events() as refused_events, pytest.raises(StateError) as refused:
        launch_channel(
            brief=spring_brief, channel="instagram_post", person=person("lena"), out_dir=out
        )
    # then: refused as a state error, nothing published, no bundle, no event
    assert refused.value.code is ErrorCode.INVALID_STATE
    assert refused.value.http_status == 409
    assert refused_events == []
    assert not (out / "lumen-home" / spring_brief.slug / "instagram_post").exists()
    assert not Package.objects.filter(brief=spring_brief, state="published").exists()

    # when: the fully approved channel launches
    with new_events() as launch_events:
        result = launch_channel(
            brief=spring_brief, channel="meta_feed_ad", person=person("lena"), out_dir=out
        )
    # then: every package is published, one event each, plus the launch
    assert actions(launch_events) == ["package.published"] * 6 + ["channel.launched"]
    assert {e.subject_id for e in launch_events[:6]} == {str(p.pk) for p in meta}
    # the receipt: the manifest's hash, on every publish event and on the launch
    assert {e.data["manifest_hash"] for e in launch_events[:6]} == {result.manifest_hash}
    assert launch_events[-1].content_hash == result.manifest_hash
    assert set(Package.objects.filter(channel="meta_feed_ad").values_list("state", flat=True)) == {
        "published"
    }
    bundle = out / "lumen-home" / spring_brief.slug / "meta_feed_ad"
    assert result.bundle == bundle
    files = sorted(f.name for f in bundle.iterdir())
    assert files == sorted(["images", "manifest.json", *(f"{p.sku}-en-US-A.json" for p in meta)]), (
        "one content file per package, the manifest, and the images folder"
    )
    shipped = {f.name for f in (bundle / "images").iterdir()}
    assert shipped == {
        entry["file"]
        for p in Package.objects.filter(channel="meta_feed_ad")
        for entry in p.current_version.images.values()
    }
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["channel"] == "meta_feed_ad"
    assert manifest["launched_by"] == "lena@lumen.example"
    for entry in manifest["packages"]:
        version = Package.objects.get(pk=entry["package"]).current_version
        # the manifest's hash is the approved version's hash, and every approval's hash
        assert entry["content_hash"] == version.content_hash
        assert entry["content"] == version.fields
        assert [(a["gate"], a["person"]) for a in entry["approvals"]] == [
            ("G2", "maya@lumen.example"),
            ("G3", "omar@lumen.example"),
            ("G4", "lena@lumen.example"),
        ]
        assert {a["content_hash"] for a in entry["approvals"]} == {version.content_hash}
        shipped = json.loads((bundle / f"{entry['sku']}-en-US-A.json").read_text())
        assert shipped == version.fields
    lav_entry = next(e for e in manifest["packages"] if e["sku"] == LAV)
    assert lav_entry["content_hash"] == hash_approved

    # then: the log answers who approved it at G3, on which content, and still verifies
    event = who_approved(sku=LAV, channel="meta_feed_ad", gate="G3")
    assert (event.actor, event.content_hash) == ("omar@lumen.example", hash_approved)
    assert verify().ok


def test_publish_is_the_point_of_no_return(spring_run, spring_brief, person, tmp_path):
    # given: a launched channel
    meta = list(Package.objects.filter(brief=spring_brief, channel="meta_feed_ad"))
    for p in meta:
        pass_gates(p, person, upto="G4")
    launch_channel(
        brief=spring_brief, channel="meta_feed_ad", person=person("ari"), out_dir=tmp_path
    )

    # when / then: no edit and no second launch reach a published package
    with new_events() as events:
        with pytest.raises(StateError):
            edit_package(
                package_id=meta[0].pk, person=person("ari"), changes={"headline": "Changed"}
            )
        with pytest.raises(StateError):
            launch_channel(
                brief=spring_brief, channel="meta_feed_ad", person=person("ari"), out_dir=tmp_path
            )
    assert changes(events) == []
    assert refusals(events) == [("ari@lumen.example", "edit", str(meta[0].pk), "invalid_state")]
    assert fresh(meta[0]).position == "S6/published"


def test_only_a_publisher_role_launches(spring_run, spring_brief, person, tmp_path):
    # given: an approved channel
    for p in Package.objects.filter(brief=spring_brief, channel="meta_feed_ad"):
        pass_gates(p, person, upto="G4")

    # when: compliance (who owns no publishing role) launches it
    with new_events() as events, pytest.raises(AuthorityError) as refused:
        launch_channel(
            brief=spring_brief, channel="meta_feed_ad", person=person("omar"), out_dir=tmp_path
        )

    # then
    assert refused.value.code is ErrorCode.WRONG_ROLE
    assert events == []
    assert not (tmp_path / "lumen-home" / spring_brief.slug / "meta_feed_ad").exists()
    assert not Package.objects.filter(state="published").exists()


@pytest.mark.parametrize("channel", ["../../escaped", "meta_feed_ad/../x", "email_newsletter"])
def test_only_a_channel_of_the_brief_launches(spring_run, spring_brief, person, tmp_path, channel):
    # given: an approved channel, so only the channel name can stop the launch
    for p in Package.objects.filter(brief=spring_brief, channel="meta_feed_ad"):
        pass_gates(p, person, upto="G4")
    out = tmp_path / "exports"

    # when: a channel that is not one of the brief's (a path, or one it does not use)
    with new_events() as events, pytest.raises(InputError) as refused:
        launch_channel(brief=spring_brief, channel=channel, person=person("lena"), out_dir=out)

    # then: bad input at the channel, before anything touches the file system
    assert [p.field for p in refused.value.problems] == ["channel"]
    assert "meta_feed_ad" in refused.value.problems[0].message  # the channels it could be
    assert events == []
    assert not tmp_path.joinpath("escaped").exists()
    assert not out.exists()


# --- suggested fixes ---------------------------------------------------------------------------


def test_applying_a_fix_is_the_checkers_version_accepted_by_that_person(
    spring_run, spring_brief, person
):
    # given: the default policy, accepted_suggestion_authorship: checker
    finding = fixable_finding(person)

    # when
    with new_events() as events:
        result, changes = apply_fix(
            package_id=finding.version.package_id, finding_id=finding.pk, person=person("maya")
        )

    # then: a new version authored by the checker, recorded as accepted by Maya
    version = fresh(finding.version.package).current_version
    assert (result.outcome, version.number, version.author) == (
        "edited",
        3,
        f"agent:{finding.agent}",
    )
    assert version.origin["kind"] == "suggestion"
    assert version.origin["accepted_by"] == "maya@lumen.example"
    assert version.origin["rule_id"] == finding.rule_id
    assert version.fields["title"] != finding.version.fields["title"]
    assert changes
    assert actions(events) == ["package.edited"]
    assert events[0].note == "applied the suggested fix for voice.banned_phrase"


def test_a_fix_applies_only_to_the_current_version_and_must_fit(spring_run, spring_brief, person):
    # given: a fixable finding, and the spec's title limit
    finding = fixable_finding(person)
    package_id = finding.version.package_id
    maya = person("maya")
    other = package(spring_brief, LAV, "amazon_us_pdp")

    with new_events() as events:
        # a finding of another package is not found on this one
        with pytest.raises(NotFound):
            apply_fix(package_id=other.pk, finding_id=finding.pk, person=maya)
        # a finding with no field, or no fix, has nothing to apply
        Finding.objects.filter(pk=finding.pk).update(field="")
        with pytest.raises(InputError) as no_field:
            apply_fix(package_id=package_id, finding_id=finding.pk, person=maya)
        # a fix that no longer fits (the channel has no such field now) is refused about it
        Finding.objects.filter(pk=finding.pk).update(field="tagline")
        with pytest.raises(InputError) as unfit:
            apply_fix(package_id=package_id, finding_id=finding.pk, person=maya)
    assert [p.field for p in no_field.value.problems] == ["finding_id"]
    assert [p.field for p in unfit.value.problems] == ["finding_id"]
    assert unfit.value.problems[0].message.startswith("tagline: unknown field")
    assert events == []
    assert fresh(other).current_version.number == 1

    # when: the fix is applied once the package has moved on to a newer version
    Finding.objects.filter(pk=finding.pk).update(field="title")
    edit_package(package_id=package_id, person=person("ari"), changes={"title": "Calm Candle"})

    # then: the finding belongs to an older version and is gone
    with pytest.raises(NotFound):
        apply_fix(package_id=package_id, finding_id=finding.pk, person=maya)


# --- authority ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["omar", "lena", "ari", "sofia", "daniel"])
def test_only_the_gate_owner_approves_g2(spring_run, spring_brief, person, name):
    # given
    p = package(spring_brief, LAV, "amazon_us_pdp")

    # when
    with new_events() as events, pytest.raises(AuthorityError) as refused:
        approve_package(package_id=p.pk, person=person(name))

    # then: 403 wrong_role, naming the role needed; nothing moved or was recorded
    assert refused.value.code is ErrorCode.WRONG_ROLE
    assert refused.value.http_status == 403
    assert refused.value.required_roles == {"content_lead"}
    assert "content_lead" in refused.value.message
    assert refusals(events) == [(f"{name}@lumen.example", "approve", str(p.pk), "wrong_role")]
    assert changes(events) == []
    assert fresh(p).position == "S3/in_review"
    assert not Approval.objects.filter(package=p).exists()


def test_each_later_gate_belongs_to_its_role_alone(spring_run, spring_brief, person):
    # given: a package waiting on G3, then on G4
    p = package(spring_brief, LAV, "amazon_us_pdp")
    pass_gates(p, person, upto="G2")

    # then: the content lead who owns G2 may not pass G3, nor the brand manager
    for name in ("maya", "lena", "ari"):
        with pytest.raises(AuthorityError) as refused:
            approve_package(package_id=p.pk, person=person(name))
        assert (refused.value.code, refused.value.required_roles) == (
            ErrorCode.WRONG_ROLE,
            {"compliance"},
        )
    approve_package(package_id=p.pk, person=person("omar"))
    for name in ("maya", "omar"):
        with pytest.raises(AuthorityError) as refused:
            approve_package(package_id=p.pk, person=person(name))
        assert refused.value.required_roles == {"brand_manager"}
    assert fresh(p).position == "S6/in_review"


def test_admin_without_the_role_is_refused_like_anyone(spring_run, spring_brief, person, colleague):
    # given: an admin, and an admin who also holds the gate's role
    admin = colleague("root", "admin")
    lead_admin = colleague("kim", "admin", "content_lead")
    p = package(spring_brief, LAV, "amazon_us_pdp")

    # when / then: no admin override, at approval, review or rejection
    for act in (
        lambda: approve_package(package_id=p.pk, person=admin),
        lambda: review_package(package_id=p.pk, person=admin),
        lambda: reject_package(package_id=p.pk, person=admin, note="not good enough"),
    ):
        with new_events() as events, pytest.raises(AuthorityError) as refused:
            act()
        assert refused.value.code is ErrorCode.WRONG_ROLE
        assert changes(events) == []
        assert [code for *_, code in refusals(events)] == ["wrong_role"]
    assert fresh(p).position == "S3/in_review"

    # when: the role, not the admin flag, lets the second one approve
    approve_package(package_id=p.pk, person=lead_admin)
    assert live_approvals(p)["G2"].person == "kim@lumen.example"


def test_roles_count_as_they_are_at_the_moment_of_the_decision(spring_run, spring_brief, person):
    # given: maya's Person object loaded while she was content lead
    maya = person("maya")
    p = package(spring_brief, LAV, "amazon_us_pdp")

    # when: her role is taken away before she approves with that object
    Person.objects.filter(pk=maya.pk).update(roles=["operator"])
    with new_events() as events, pytest.raises(AuthorityError) as refused:
        approve_package(package_id=p.pk, person=maya)

    # then
    assert refused.value.code is ErrorCode.WRONG_ROLE
    assert refusals(events) == [("maya@lumen.example", "approve", str(p.pk), "wrong_role")]
    assert changes(events) == []
    assert not Approval.objects.filter(package=p).exists()


@pytest.mark.parametrize("kind", [ActorKind.AGENT, ActorKind.SYSTEM])
@pytest.mark.parametrize("action", [Action.APPROVE, Action.REJECT, Action.REVIEW])
def test_agents_and_system_events_never_decide_at_a_gate(spring_run, spring_brief, kind, action):
    # given: an agent or system actor, even one claiming every gate role
    from signoff.briefs.workflow import template_for

    actor = Actor(
        id=f"{kind}:copy_drafter",
        kind=kind,
        roles=frozenset({"content_lead", "compliance", "brand_manager", "admin"}),
    )
    p = package(spring_brief, LAV, "amazon_us_pdp")

    # when / then: refused as not a person, whatever the roles
    with pytest.raises(AuthorityError) as refused:
        decide(
            Position.parse(p.position),
            action,
            actor,
            Facts(note="a note", reviewed_by_actor=True),
            template_for(spring_brief),
        )
    assert refused.value.code is ErrorCode.NOT_A_PERSON
    assert refused.value.http_status == 403


def test_an_agent_named_person_cannot_slip_an_approval_into_the_log(
    spring_run, spring_brief, colleague
):
    # given: a Person row whose "email" is the drafter's agent id, given the gate's role
    impostor = colleague("x", "content_lead")
    Person.objects.filter(pk=impostor.pk).update(email="agent:copy_drafter")
    p = package(spring_brief, LAV, "amazon_us_pdp")

    # when / then: the agent authored the version; the approval is refused and nothing is kept
    with new_events() as events, pytest.raises((AuthorityError, ValueError)):
        approve_package(package_id=p.pk, person=Person.objects.get(pk=impostor.pk))
    assert events == []
    assert not Approval.objects.filter(package=p).exists()
    assert fresh(p).position == "S3/in_review"


# --- maker-checker -----------------------------------------------------------------------------


def test_maker_checker_the_editor_may_not_approve_another_lead_may(
    spring_run, spring_brief, person, colleague
):
    # given: maya edits the draft
    p = package(spring_brief, LAV, "amazon_us_pdp")
    with new_events() as events:
        edit_package(
            package_id=p.pk,
            person=person("maya"),
            changes={"bullet_points[4]": "Burn time: 50 hours, evenly"},
        )
    assert actions(events) == ["package.edited"]

    # when: she approves her own version at G2
    with new_events() as events, pytest.raises(AuthorityError) as refused:
        approve_package(package_id=p.pk, person=person("maya"))

    # then: 403 maker_checker, distinct from wrong_role; only the refusal recorded
    assert refused.value.code is ErrorCode.MAKER_CHECKER
    assert refused.value.http_status == 403
    assert refusals(events) == [("maya@lumen.example", "approve", str(p.pk), "maker_checker")]
    assert changes(events) == []

    # when: another content lead approves it
    noor = colleague("noor", "content_lead")
    with new_events() as events:
        approve_package(package_id=p.pk, person=noor)

    # then
    assert fresh(p).position == "S5/in_review"
    assert live_approvals(p)["G2"].person == "noor@lumen.example"
    assert actions(events) == ["package.gate.approved"]


def test_maker_checker_holds_for_later_versions_and_later_gates(
    spring_run, spring_brief, person, colleague
):
    # given: maya edits, then ari edits again on top of her version
    p = package(spring_brief, LAV, "amazon_us_pdp")
    edit_package(package_id=p.pk, person=person("maya"), changes={"title": "Lumen Home Lavender"})
    edit_package(
        package_id=p.pk, person=person("ari"), changes={"title": "Lumen Home Lavender Candle"}
    )

    # then: maya still edited this version's lineage and may not approve it
    with pytest.raises(AuthorityError) as refused:
        approve_package(package_id=p.pk, person=person("maya"))
    assert refused.value.code is ErrorCode.MAKER_CHECKER

    # given: a second lead passes G2; then compliance itself edits (back to S3), G2 again
    noor = colleague("noor", "content_lead")
    approve_package(package_id=p.pk, person=noor)
    edit_package(
        package_id=p.pk, person=person("omar"), changes={"title": "Lumen Home Lavender, 8 oz"}
    )
    assert fresh(p).position == "S3/in_review"
    approve_package(package_id=p.pk, person=noor)

    # when / then: omar may not sign off compliance on copy he wrote
    with pytest.raises(AuthorityError) as refused:
        approve_package(package_id=p.pk, person=person("omar"))
    assert (refused.value.code, refused.value.gate) == (ErrorCode.MAKER_CHECKER, "G3")
    assert fresh(p).position == "S5/in_review"


# --- batch approval ----------------------------------------------------------------------------


def test_batch_approval_only_takes_what_the_approver_reviewed(spring_run, spring_brief, person):
    # given: a mixed selection
    maya = person("maya")
    reviewed = package(spring_brief, LAV, "amazon_us_pdp")
    not_reviewed = package(spring_brief, NER, "amazon_us_pdp")
    reviewed_by_someone_else = package(spring_brief, PEO, "amazon_us_pdp")
    with_block = package(spring_brief, LAV, "meta_feed_ad")
    wrong_gate = package(spring_brief, NER, "meta_feed_ad")
    blocked = package(spring_brief, RHUBARB, "amazon_us_pdp")

    review_package(package_id=reviewed.pk, person=maya)
    noor = Person.objects.create(
        workspace=spring_brief.workspace, email="noor@lumen.example", roles=["content_lead"]
    )
    review_package(package_id=reviewed_by_someone_else.pk, person=noor)
    # an operator writes a forbidden claim into the copy: a blocking finding
    edit_package(
        package_id=with_block.pk,
        person=person("ari"),
        changes={"primary_text": "Lavender and cedar in a non-toxic soy wax candle."},
    )
    review_package(package_id=with_block.pk, person=maya)
    assert (
        fresh(with_block)
        .current_version.findings.filter(severity="block", rule_id="claims.forbidden")
        .exists()
    )
    review_package(package_id=wrong_gate.pk, person=maya)
    approve_package(package_id=wrong_gate.pk, person=maya)  # now waits on G3

    selection = [reviewed, not_reviewed, reviewed_by_someone_else, with_block, wrong_gate, blocked]
    before = {p.pk: fresh(p).position for p in selection}
    approvals_before = Approval.objects.count()

    # when: maya approves them all as a batch, each expected at G2
    with new_events() as events:
        results = decide_each(
            [p.pk for p in selection],
            lambda pk: approve_package(package_id=pk, person=maya, batch=True, expected_gate="G2"),
        )

    # then: one result per item, in order, each with its own reason
    assert [r.package_id for r in results] == [p.pk for p in selection]
    assert [(r.outcome, r.code, r.http_status) for r in results] == [
        ("approved", None, 200),
        ("refused", "not_reviewed", 409),
        ("refused", "not_reviewed", 409),
        ("refused", "blocking_findings", 409),
        ("refused", "invalid_state", 409),
        ("refused", "invalid_state", 409),
    ]
    assert all(r.message for r in results)
    # then: only the reviewed one moved; the refused ones are untouched
    assert fresh(reviewed).position == "S5/in_review"
    for p in selection[1:]:
        assert fresh(p).position == before[p.pk]
    assert Approval.objects.count() == approvals_before + 1
    assert not Approval.objects.filter(
        package__in=selection[1:4] + selection[5:], voided_at__isnull=True
    ).exists()
    (event,) = changes(events)
    assert [code for *_, code in refusals(events)] == [
        r.code for r in results if not r.ok and r.http_status != 422
    ]
    assert (event.action, event.subject_id) == ("package.gate.approved", str(reviewed.pk))
    assert event.data["batch"] is True


def test_batch_approval_of_a_version_reviewed_before_an_edit_is_refused(
    spring_run, spring_brief, person
):
    # given: maya reviewed version 1, then the operator changed the copy
    maya = person("maya")
    p = package(spring_brief, LAV, "amazon_us_pdp")
    review_package(package_id=p.pk, person=maya)
    edit_package(package_id=p.pk, person=person("ari"), changes={"title": "Lumen Home Lavender"})

    # when
    (result,) = decide_each(
        [p.pk], lambda pk: approve_package(package_id=pk, person=maya, batch=True)
    )

    # then: the review covered the old version only
    assert (result.ok, result.code) == (False, "not_reviewed")
    assert Review.objects.filter(package=p, person=maya.email).count() == 1


def test_review_marks_once_per_version_and_records_one_event(spring_run, spring_brief, person):
    p = package(spring_brief, LAV, "amazon_us_pdp")
    with new_events() as first:
        review_package(package_id=p.pk, person=person("maya"))
    with new_events() as again:
        review_package(package_id=p.pk, person=person("maya"))
    assert actions(first) == ["package.reviewed"]
    assert again == []
    assert fresh(p).position == "S3/in_review"


# --- edits after approval ----------------------------------------------------------------------


def test_an_edit_after_approval_voids_it_and_the_diff_says_what_changed(
    spring_run, spring_brief, person
):
    # given: a package approved at G2 and G3
    p = package(spring_brief, LAV, "amazon_us_pdp")
    pass_gates(p, person, upto="G3")
    old = fresh(p).current_version
    assert set(live_approvals(p)) == {"G2", "G3"}

    # when: the operator changes the title and the burn time
    with new_events() as events:
        result, diff = edit_package(
            package_id=p.pk,
            person=person("ari"),
            changes={
                "title": old.fields["title"].replace("Cotton Wick", "Cotton Wick, Sage"),
                "bullet_points[4]": "Burn time: 55 hours",
            },
            note="customer feedback",
        )

    # then: a new version, back to S3/in_review, every approval voided by it
    p = fresh(p)
    assert p.position == result.position == "S3/in_review"
    assert p.current_version.number == old.number + 1
    assert p.current_version.parent_id == old.pk
    assert p.current_version.content_hash != old.content_hash
    assert p.current_version.origin["person"] == "ari@lumen.example"
    assert "voided approvals: G2, G3" in result.message
    assert live_approvals(p) == {}
    voided = Approval.objects.filter(package=p)
    assert voided.count() == 2
    assert all(a.voided_at is not None and a.voided_by_id == p.current_version.pk for a in voided)
    # then: the diff reporter names the changed fields and the changed fact
    assert any(line.startswith("title:") and "Sage" in line for line in diff)
    assert any(line.startswith("bullet_points[4]:") for line in diff)
    assert diff[-1].startswith("fact burn time: 50 hours -> ")
    assert "55 hours" in diff[-1]
    (event,) = events
    assert event.action == "package.edited"
    assert event.content_hash == p.current_version.content_hash
    assert sorted(event.data["voided"]) == ["G2", "G3"]
    assert event.data["changes"] == diff
    assert Note.objects.filter(package=p, kind="edit", text="customer feedback").exists()

    # then: the gates must be passed again, for the new content (with the images G4 needs)
    pass_gates(p, person, upto="G4")
    p = fresh(p)
    assert {a.content_hash for a in live_approvals(p).values()} == {p.current_version.content_hash}


def test_an_edit_after_the_last_gate_voids_all_three(spring_run, spring_brief, person):
    p = package(spring_brief, LAV, "meta_feed_ad")
    pass_gates(p, person, upto="G4")
    assert fresh(p).position == "S6/approved"
    result, diff = edit_package(
        package_id=p.pk, person=person("ari"), changes={"headline": "Lavender Fields, 8 oz"}
    )
    assert result.position == "S3/in_review"
    assert live_approvals(p) == {}
    assert Approval.objects.filter(package=p, voided_at__isnull=False).count() == 3
    assert diff[0].startswith("headline:")


def test_an_edit_that_changes_the_claims_made_says_so_in_its_diff(spring_run, spring_brief, person):
    # given: a package whose description says hand-poured in Vermont
    p = package(spring_brief, LAV, "google_merchant")
    text = fresh(p).current_version.fields["description"]
    assert ", hand-poured in Vermont" in text

    # when: the operator drops that claim and writes a clean-burning one
    with new_events() as events:
        _, diff = edit_package(
            package_id=p.pk,
            person=person("ari"),
            changes={
                "description": text.replace(", hand-poured in Vermont", "")
                + " A clean burning candle."
            },
        )

    # then: the diff names the claim removed and the claim added, and the event keeps them
    assert "claim removed: 'hand-poured' (\"hand-poured in Vermont\")" in diff
    assert "claim added: 'clean-burning' (\"clean burning\")" in diff
    (event,) = events
    assert event.data["changes"] == diff


def test_a_no_op_edit_and_an_unknown_field_are_refused(spring_run, spring_brief, person):
    # given
    p = package(spring_brief, LAV, "amazon_us_pdp")
    pass_gates(p, person, upto="G2")
    version = fresh(p).current_version

    # when / then: same value -> nothing changed; unknown field -> named in the error
    with new_events() as events:
        with pytest.raises(InputError) as same:
            edit_package(
                package_id=p.pk, person=person("ari"), changes={"title": version.fields["title"]}
            )
        with pytest.raises(InputError) as unknown:
            edit_package(package_id=p.pk, person=person("ari"), changes={"subtitle": "x"})
    assert "nothing changed" in str(same.value)
    assert [problem.field for problem in unknown.value.problems] == ["subtitle"]
    assert events == []
    # then: nothing was stored, and the approval stands
    p = fresh(p)
    assert (p.position, p.current_version_id) == ("S5/in_review", version.pk)
    assert Version.objects.filter(package=p).count() == 1
    assert set(live_approvals(p)) == {"G2"}


# --- rejection ---------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   "])
def test_a_rejection_needs_a_note(spring_run, spring_brief, person, note):
    p = package(spring_brief, LAV, "amazon_us_pdp")
    with new_events() as events, pytest.raises(DecisionInputError) as refused:
        reject_package(package_id=p.pk, person=person("maya"), note=note)
    assert (refused.value.code, refused.value.http_status) == (ErrorCode.NOTE_REQUIRED, 422)
    assert events == []
    assert fresh(p).position == "S3/in_review"
    assert not Note.objects.filter(package=p).exists()


def test_a_g2_rejection_goes_back_to_s2_and_the_next_draft_reads_the_note(
    spring_run, spring_brief, person
):
    # given
    from signoff.packages.services import run_brief

    p = package(spring_brief, LAV, "amazon_us_pdp")
    note = "Lead with the scent, not the wick"

    # when
    with new_events() as events:
        result = reject_package(package_id=p.pk, person=person("maya"), note=note)

    # then
    assert result.position == fresh(p).position == "S2/rejected"
    (event,) = events
    assert (event.action, event.gate, event.note) == ("package.gate.rejected", "G2", note)
    assert Note.objects.get(package=p, kind="rejection").text == note

    # when: the next run re-drafts it (and only it)
    summary = run_brief(spring_brief)

    # then: a new agent version that used the rejection note
    assert summary.drafted == 1
    p = fresh(p)
    assert p.position == "S3/in_review"
    assert p.current_version.number == 2
    assert p.current_version.author == "agent:copy_drafter"
    (used,) = [n for n in p.current_version.origin["notes_used"] if note in n]
    assert "G2" in used


@pytest.mark.parametrize(
    ("upto", "name", "back_to"),
    [("G2", "omar", "S3/rejected"), ("G3", "lena", "S5/rejected")],
)
def test_later_rejections_return_to_the_previous_stage(
    spring_run, spring_brief, person, upto, name, back_to
):
    # given
    p = package(spring_brief, LAV, "amazon_us_pdp")
    pass_gates(p, person, upto=upto)

    # when
    with new_events() as events:
        reject_package(package_id=p.pk, person=person(name), note="claim wording")

    # then: back one stage; a person's fix voids the earlier approvals and goes to G2
    assert fresh(p).position == back_to
    assert actions(events) == ["package.gate.rejected"]
    edit_package(package_id=p.pk, person=person("ari"), changes={"title": "Lumen Home Lavender"})
    assert fresh(p).position == "S3/in_review"
    assert live_approvals(p) == {}


# --- claims ------------------------------------------------------------------------------------


@pytest.fixture
def encore_brief(spring_run, example_dir, person):
    """A second brief of the same workspace (2 SKUs x 3 channels), approved and run."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief

    source = example_dir / "briefs" / "spring-candles.yaml"
    data = yaml.safe_load(source.read_text())
    data["brief"] = "spring-encore-2027"
    data["name"] = "Spring encore"
    data["products"] = [p for p in data["products"] if p["sku"] in (LAV, PEO)]
    data["channels"] = ["amazon_us_pdp", "google_merchant", "meta_feed_ad"]
    path = example_dir / "briefs" / "spring-encore.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    brief = add_brief(path).brief
    approve_brief(brief=brief, person=person("maya"))
    brief.refresh_from_db()
    run_brief(brief)
    return brief


def test_withdrawing_a_claim_blocks_every_package_using_it_across_briefs(
    spring_brief, encore_brief, lumen_workspace, person
):
    from signoff.packages.claims import set_claim_status

    # given: packages at different positions in both briefs
    at_g3 = package(spring_brief, LAV, "amazon_us_pdp")
    pass_gates(at_g3, person, upto="G2")
    at_g4 = package(spring_brief, NER, "walmart_us")
    give_images([at_g4])  # it passes G4 at the end
    pass_gates(at_g4, person, upto="G3")
    approved = package(encore_brief, PEO, "amazon_us_pdp")
    pass_gates(approved, person, upto="G4")
    everything = list(Package.objects.filter(brief__workspace=lumen_workspace))
    before = {p.pk: (p.position, p.blocked_from, p.blocked_reasons) for p in everything}
    using = {p.pk for p in everything if says(p, "hand-poured")}
    assert {p.brief_id for p in everything if p.pk in using} == {spring_brief.pk, encore_brief.pk}
    assert {at_g3.pk, at_g4.pk, approved.pk} <= using

    # when: compliance withdraws the claim
    with new_events() as events:
        change = set_claim_status(
            workspace=lumen_workspace,
            claim_id="hand-poured",
            status="withdrawn",
            note="site audit lapsed",
            person=person("omar"),
        )

    # then: exactly the packages whose copy says it are blocked, remembering where they were
    assert set(change.blocked) == using
    assert actions(events) == ["package.blocked"] * len(using) + ["claim.status_changed"]
    assert {int(e.subject_id) for e in events[:-1]} == using
    for p in Package.objects.filter(brief__workspace=lumen_workspace):
        if p.pk in using:
            was = before[p.pk][0]
            assert (p.state, p.blocked_from, p.stage) == ("blocked", was, was.split("/")[0])
            assert [r["claim"] for r in p.blocked_reasons] == ["hand-poured"]
        else:
            assert (p.position, p.blocked_from, p.blocked_reasons) == before[p.pk]

    # then: a blocked package refuses approval, review and rejection; only the refusals are
    # recorded
    with new_events() as refused_events:
        for pk, name in ((at_g3.pk, "omar"), (at_g4.pk, "lena"), (approved.pk, "lena")):
            with pytest.raises(StateError) as refused:
                approve_package(package_id=pk, person=person(name))
            assert refused.value.code is ErrorCode.INVALID_STATE
        with pytest.raises(StateError):
            review_package(package_id=at_g3.pk, person=person("omar"))
        with pytest.raises(StateError):
            reject_package(package_id=at_g3.pk, person=person("omar"), note="no")
    assert changes(refused_events) == []
    assert [(attempt, code) for _, attempt, _, code in refusals(refused_events)] == [
        ("approve", "invalid_state"),
        ("approve", "invalid_state"),
        ("approve", "invalid_state"),
        ("review", "invalid_state"),
        ("reject", "invalid_state"),
    ]

    # when: the claim is reinstated
    with new_events() as events:
        change = set_claim_status(
            workspace=lumen_workspace,
            claim_id="hand-poured",
            status="approved",
            note="re-audited",
            person=person("omar"),
        )

    # then: each package returns exactly to where it was, approvals intact
    assert set(change.released) == using
    assert actions(events) == ["package.unblocked"] * len(using) + ["claim.status_changed"]
    for p in Package.objects.filter(brief__workspace=lumen_workspace):
        assert (p.position, p.blocked_from, p.blocked_reasons) == before[p.pk]
    assert set(live_approvals(approved)) == {"G2", "G3", "G4"}
    approve_package(package_id=at_g4.pk, person=person("lena"))
    assert fresh(at_g4).position == "S6/approved"
    assert verify().ok


def test_a_package_held_by_two_claims_waits_for_both(spring_run, spring_brief, person):
    from signoff.packages.claims import set_claim_status

    # given: a package whose copy makes two claims, both withdrawn
    workspace = spring_brief.workspace
    p = package(spring_brief, LAV, "google_merchant")
    assert says(p, "hand-poured")
    assert says(p, "phthalate-free")
    omar = person("omar")
    for claim in ("hand-poured", "phthalate-free"):
        set_claim_status(
            workspace=workspace, claim_id=claim, status="withdrawn", note="audit", person=omar
        )
    assert len(fresh(p).blocked_reasons) == 2

    # when: one is reinstated
    with new_events() as events:
        set_claim_status(
            workspace=workspace, claim_id="hand-poured", status="approved", note="ok", person=omar
        )

    # then: still blocked for the other, no unblock event
    assert fresh(p).state == "blocked"
    assert "package.unblocked" not in {e.action for e in events if e.subject_id == str(p.pk)}

    # when: the other one too
    set_claim_status(
        workspace=workspace, claim_id="phthalate-free", status="approved", note="ok", person=omar
    )
    assert (fresh(p).position, fresh(p).blocked_reasons) == ("S3/in_review", [])


def test_the_blocking_report_names_each_claim_and_who_releases_it_in_constant_queries(
    spring_run, spring_brief, person, colleague
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from signoff.packages.claims import set_claim_status
    from signoff.packages.selectors import blocking

    def report() -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as ctx:
            found = blocking(spring_brief)
        return found, len(ctx.captured_queries)

    # given: two compliance people, one withdrawn claim
    colleague("noor", "compliance")
    omar = person("omar")
    workspace = spring_brief.workspace
    set_claim_status(
        workspace=workspace, claim_id="hand-poured", status="withdrawn", note="a", person=omar
    )
    one, queries = report()

    # when: a second claim is withdrawn too
    set_claim_status(
        workspace=workspace, claim_id="phthalate-free", status="withdrawn", note="b", person=omar
    )
    two, more_queries = report()

    # then: one group per claim, naming it and the role and people who can release it
    assert [g["claim"] for g in one["other_blocks"]] == ["hand-poured"]
    assert sorted(g["claim"] for g in two["other_blocks"]) == ["hand-poured", "phthalate-free"]
    for group in two["other_blocks"]:
        assert group["cause"] == "claim"
        ((role, people),) = [(r["role"], sorted(r["people"])) for r in group["released_by"]]
        assert (role, people) == ("compliance", ["noor@lumen.example", "omar@lumen.example"])
        assert all(
            any(
                r.get("claim") == group["claim"] for r in Package.objects.get(pk=pk).blocked_reasons
            )
            for pk in group["packages"]
        )
    # then: more causes cost no more queries
    assert more_queries == queries


def test_an_edit_that_drops_a_withdrawn_claim_releases_the_package(
    spring_run, spring_brief, person
):
    from signoff.packages.claims import set_claim_status

    # given: a package blocked because its copy says hand-poured, which was withdrawn
    workspace = spring_brief.workspace
    p = package(spring_brief, LAV, "google_merchant")
    set_claim_status(
        workspace=workspace,
        claim_id="hand-poured",
        status="withdrawn",
        note="audit",
        person=person("omar"),
    )
    assert fresh(p).position == "S3/blocked"
    text = fresh(p).current_version.fields["description"]

    # when: an operator rewrites the copy without the claim
    with new_events() as events:
        edit_package(
            package_id=p.pk,
            person=person("ari"),
            changes={"description": text.replace(", hand-poured in Vermont", "")},
        )

    # then: the edit is recorded, then the release, and nothing holds the package any more
    assert actions(events) == ["package.edited", "package.unblocked"]
    assert not says(fresh(p), "hand-poured")
    assert (fresh(p).position, fresh(p).blocked_reasons) == ("S3/in_review", [])


def test_reinstating_a_claim_releases_every_package_it_blocked(spring_run, spring_brief, person):
    from signoff.packages.claims import set_claim_status

    # given: a blocked package whose copy still makes the claim after an unrelated edit
    workspace = spring_brief.workspace
    p = package(spring_brief, LAV, "google_merchant")
    set_claim_status(
        workspace=workspace,
        claim_id="hand-poured",
        status="withdrawn",
        note="audit",
        person=person("omar"),
    )
    edit_package(
        package_id=p.pk,
        person=person("ari"),
        changes={"title": fresh(p).current_version.fields["title"] + " Set"},
    )
    assert fresh(p).position == "S3/blocked"

    # when: the claim is reinstated
    set_claim_status(
        workspace=workspace,
        claim_id="hand-poured",
        status="approved",
        note="re-audited",
        person=person("omar"),
    )

    # then: nothing holds the package any more
    assert (fresh(p).position, fresh(p).blocked_reasons) == ("S3/in_review", [])


def test_only_compliance_changes_the_claims_registry(spring_run, spring_brief, person):
    from signoff.packages.claims import set_claim_status
    from signoff.workflow import AuthorityError

    with pytest.raises(AuthorityError) as refused:
        set_claim_status(
            workspace=spring_brief.workspace,
            claim_id="hand-poured",
            status="withdrawn",
            note="audit",
            person=person("maya"),
        )
    assert refused.value.code == "wrong_role"
    assert spring_brief.workspace.claims.get(claim_id="hand-poured").status == "approved"


def test_a_price_change_after_g1_touches_only_that_sku(
    spring_run, spring_brief, example_dir, person
):
    from signoff.briefs.approval import approve_brief, update_brief
    from signoff.packages.services import run_brief

    # given: approvals on two SKUs
    lav = package(spring_brief, LAV, "amazon_us_pdp")
    ner = package(spring_brief, NER, "amazon_us_pdp")
    pass_gates(lav, person, upto="G3")
    pass_gates(ner, person, upto="G2")
    before = {p.pk: p.position for p in Package.objects.filter(brief=spring_brief)}
    csv = example_dir / "products.csv"
    text = csv.read_text()
    assert "LUM-SPR-LAV-08,Lavender Fields Candle,00850012345018,32.00" in text
    csv.write_text(
        text.replace(
            "LUM-SPR-LAV-08,Lavender Fields Candle,00850012345018,32.00",
            "LUM-SPR-LAV-08,Lavender Fields Candle,00850012345018,34.00",
        )
    )

    # when: the operator updates the brief with the new CSV
    with new_events() as events:
        report = update_brief(
            brief=spring_brief,
            path=example_dir / "briefs" / "spring-candles.yaml",
            products_csv=csv,
            person=person("ari"),
        )

    # then: the impact analysis names exactly the lavender packages whose channel uses the
    # price, because of the price; the ad and the post (which neither need nor state it) stay
    priced = ("amazon_us_pdp", "walmart_us", "target_plus", "google_merchant")
    lav_packages = set(
        Package.objects.filter(brief=spring_brief, sku=LAV, channel__in=priced).values_list(
            "pk", flat=True
        )
    )
    assert {i.package_id for i in report.impacts} == lav_packages
    assert all(any("price" in r for r in i.reasons) for i in report.impacts)
    assert report.untouched == 36 - 4
    assert {i.channel for i in report.spared} == {"meta_feed_ad", "instagram_post"}
    for p in Package.objects.filter(brief=spring_brief):
        if p.pk in lav_packages:
            assert p.position == "S2/draft"
        else:
            assert p.position == before[p.pk]
    assert live_approvals(lav) == {}
    assert Approval.objects.filter(package=lav, voided_at__isnull=False).count() == 2
    assert set(live_approvals(ner)) == {"G2"}
    assert actions(events) == [
        "brief.version_added",
        "brief.edited",
        *["package.reset"] * 4,
        "brief.impact_assessed",
    ]
    # then: the brief needs G1 again before anything is drafted from it
    spring_brief.refresh_from_db()
    assert spring_brief.position == "S1/in_review"
    with new_events() as refused_events, pytest.raises(StateError) as refused:
        run_brief(spring_brief)
    assert refused.value.gate == "G1"
    assert refused_events == []

    # when: G1 passes again (maya did not add this version) and the brief runs
    approve_brief(brief=spring_brief, person=person("maya"))
    spring_brief.refresh_from_db()
    summary = run_brief(spring_brief)

    # then: the touched packages are re-drafted from the new version
    assert summary.drafted == 4
    lav = fresh(lav)
    assert lav.position == "S3/in_review"
    assert lav.current_version.brief_version == spring_brief.approved_version
    assert lav.current_version.brief_version.products.get(sku=LAV).price == Decimal("34.00")


# --- SLA ---------------------------------------------------------------------------------------


def test_sla_report_lists_packages_waiting_past_their_gate_sla(spring_run, spring_brief, person):
    from signoff.packages.selectors import sla_report

    # given: three packages at G2 for 50 hours, one at G3 for 50 hours, one at G4 for 20 hours
    now = timezone.now()
    late_g2 = [package(spring_brief, sku, "amazon_us_pdp").pk for sku in (LAV, NER, PEO)]
    at_g3 = package(spring_brief, LAV, "walmart_us")
    pass_gates(at_g3, person, upto="G2")
    at_g4 = package(spring_brief, LAV, "target_plus")
    pass_gates(at_g4, person, upto="G3")
    Package.objects.filter(pk__in=[*late_g2, at_g3.pk]).update(
        stage_entered_at=now - timedelta(hours=50)
    )
    Package.objects.filter(pk=at_g4.pk).update(stage_entered_at=now - timedelta(hours=20))

    # when
    rows = sla_report(spring_brief, now=now)

    # then: the G2 and G3 ones are listed with who should act; G4 (24 h SLA) is not yet late
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {*late_g2, at_g3.pk}
    for pk in late_g2:
        row = by_id[pk]
        assert (row["gate"], row["owner_role"], row["people"]) == (
            "G2",
            "content_lead",
            ["maya@lumen.example"],
        )
        assert row["waiting_hours"] == pytest.approx(50, abs=0.1)
        assert row["overdue_hours"] == pytest.approx(2, abs=0.1)
    assert (by_id[at_g3.pk]["gate"], by_id[at_g3.pk]["people"]) == ("G3", ["omar@lumen.example"])

    # when: the G4 package waits 30 hours
    Package.objects.filter(pk=at_g4.pk).update(stage_entered_at=now - timedelta(hours=30))
    rows = sla_report(spring_brief, now=now)
    row = next(r for r in rows if r["id"] == at_g4.pk)
    assert (row["gate"], row["owner_role"], row["people"]) == (
        "G4",
        "brand_manager",
        ["lena@lumen.example"],
    )


def test_an_approval_restarts_the_sla_clock(spring_run, spring_brief, person):
    from signoff.packages.selectors import sla_report

    p = package(spring_brief, LAV, "amazon_us_pdp")
    Package.objects.filter(pk=p.pk).update(stage_entered_at=timezone.now() - timedelta(hours=50))
    assert p.pk in {r["id"] for r in sla_report(spring_brief)}
    approve_package(package_id=p.pk, person=person("maya"))
    assert p.pk not in {r["id"] for r in sla_report(spring_brief)}


# --- the audit chain over a whole session -------------------------------------------------------


def test_every_decision_is_one_event_and_the_chain_verifies(spring_run, spring_brief, person):
    # given
    p = package(spring_brief, LAV, "amazon_us_pdp")
    steps = [
        (lambda: review_package(package_id=p.pk, person=person("maya")), "package.reviewed"),
        (lambda: approve_package(package_id=p.pk, person=person("maya")), "package.gate.approved"),
        (
            lambda: reject_package(package_id=p.pk, person=person("omar"), note="vague"),
            "package.gate.rejected",
        ),
        (
            lambda: edit_package(
                package_id=p.pk, person=person("ari"), changes={"title": "Lumen Home Lavender"}
            ),
            "package.edited",
        ),
        (lambda: approve_package(package_id=p.pk, person=person("maya")), "package.gate.approved"),
    ]
    for act, expected in steps:
        with new_events() as events:
            act()
        # then
        assert actions(events) == [expected]
        assert events[0].subject_id == str(p.pk)
        assert events[0].from_position
        assert events[0].to_position == fresh(p).position
    assert verify().ok
    assert [
        e.action
        for e in Event.objects.filter(subject_id=str(p.pk), subject_type="package").order_by("seq")
    ] == ["package.drafted", *(expected for _, expected in steps)]

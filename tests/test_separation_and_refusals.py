"""Separation of duties (one person, one gate of a package version) and recorded refusals.

Issue 16, items 7 and 8: a person holding two gate roles approved the same version at G2 and
G3; and wrong-role, maker-checker, not-reviewed and wrong-state attempts left no trace. Each
refused attempt now writes one ``*.decision.refused`` event per (person, action, object, code)
and minute, after the refused transaction rolled back; identical repeats in that minute are
counted outside the chain and carried by the key's next event.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from api_helpers import api_error
from cli_helpers import ref
from django.urls import reverse

from signoff.audit.models import Event
from signoff.audit.services import verify
from signoff.core.errors import InputError
from signoff.packages import refusals
from signoff.packages.authoring import apply_fix, edit_package
from signoff.packages.decisions import approve_package, decide_each, reject_package
from signoff.packages.models import Approval, Package, RefusalWindow
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
    load_template,
    settings_problems,
)
from signoff.workspaces.models import Person

LAV, NER = "LUM-SPR-LAV-08", "LUM-SPR-NER-08"
KIM = "kim@lumen.example"  # holds both G2's role (content_lead) and G3's (compliance)
RELAX = "allow_same_person_two_gates"
NOON = datetime(2030, 5, 1, 12, 0, 10, tzinfo=UTC)


# --- helpers -----------------------------------------------------------------------------------


def refused_events(**where: str) -> list[Event]:
    return list(Event.objects.filter(action__endswith=".decision.refused", **where).order_by("seq"))


def changes_since(seq: int) -> list[str]:
    """The actions of the events after ``seq`` that are not refusals."""
    return list(
        Event.objects.filter(seq__gt=seq)
        .exclude(action__endswith=".decision.refused")
        .values_list("action", flat=True)
    )


def last_seq() -> int:
    return Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def lav(channel: str = "amazon_us_pdp") -> Package:
    return Package.objects.select_related("current_version").get(sku=LAV, channel=channel)


@pytest.fixture
def kim(lumen_workspace) -> Person:
    return Person.objects.create(
        workspace=lumen_workspace,
        email=KIM,
        name="Kim Two-Hats",
        roles=["content_lead", "compliance"],
    )


@pytest.fixture
def clock(monkeypatch) -> list[datetime]:
    """The refusal recorder's clock, set by the test: clock[0] = NOON + ..."""
    now = [NOON]
    monkeypatch.setattr(refusals, "now", lambda: now[0])
    return now


def relax(example_dir: Path, value: object = True) -> Path:
    """Write the workspace file with kim in it and separation of duties relaxed for e-commerce."""
    path = example_dir / "workspace.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["people"].append({"email": KIM, "name": "Kim", "roles": ["content_lead", "compliance"]})
    doc["workflows"]["ecommerce"][RELAX] = value
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


# --- the engine (pure) ---------------------------------------------------------------------


def test_the_engine_refuses_one_person_at_a_second_gate_of_a_version():
    template = load_template("ecommerce")
    kim = Actor(id=KIM, kind=ActorKind.PERSON, roles={"content_lead", "compliance"})
    at_g3 = Position.parse("S5/in_review")

    with pytest.raises(AuthorityError) as refused:
        decide(at_g3, Action.APPROVE, kim, Facts(gates_approved_by_actor={"G2"}), template)

    assert refused.value.code is ErrorCode.SAME_PERSON_TWO_GATES
    assert refused.value.http_status == 403
    assert refused.value.gate == "G3"
    assert "already approved this version at G2" in refused.value.message
    # The same person at the first gate of the version, or again at the same gate, is fine;
    # rejecting at the second gate is too (separation is about passing gates).
    first = decide(Position.parse("S3/in_review"), Action.APPROVE, kim, Facts(), template)
    assert first.also_approved_by_actor == ()
    again = decide(at_g3, Action.APPROVE, kim, Facts(gates_approved_by_actor={"G3"}), template)
    assert again.gate == "G3"
    rejected = decide(
        at_g3, Action.REJECT, kim, Facts(gates_approved_by_actor={"G2"}, note="no"), template
    )
    assert rejected.audit_action == "package.gate.rejected"


def test_maker_checker_is_said_before_separation_of_duties():
    kim = Actor(id=KIM, kind=ActorKind.PERSON, roles={"content_lead", "compliance"})
    with pytest.raises(AuthorityError) as refused:
        decide(
            Position.parse("S5/in_review"),
            Action.APPROVE,
            kim,
            Facts(version_makers={KIM}, gates_approved_by_actor={"G2"}),
            load_template("ecommerce"),
        )
    assert refused.value.code is ErrorCode.MAKER_CHECKER


def test_a_relaxed_template_allows_it_and_the_decision_says_so():
    template = load_template("ecommerce", {RELAX: True})
    kim = Actor(id=KIM, kind=ActorKind.PERSON, roles={"content_lead", "compliance"})

    decision = decide(
        Position.parse("S5/in_review"),
        Action.APPROVE,
        kim,
        Facts(gates_approved_by_actor={"G2"}),
        template,
    )

    assert decision.next_position == Position.parse("S6/in_review")
    assert decision.also_approved_by_actor == ("G2",)
    assert load_template("ecommerce").allow_same_person_two_gates is False


@pytest.mark.parametrize("value", ["yes", "true", 1, 0, [True]])
def test_the_setting_must_be_true_or_false(value):
    (problem,) = settings_problems("ecommerce", {RELAX: value})
    assert problem.path == ("workflows", "ecommerce", RELAX)
    assert "expected true or false" in problem.expected


@pytest.mark.django_db
def test_a_workspace_file_with_a_bad_relaxation_is_refused_at_its_line(example_dir):
    from signoff.workspaces.services import load_workspace

    path = relax(example_dir, "yes")
    with pytest.raises(InputError) as refused:
        load_workspace(path)
    (problem,) = refused.value.problems
    assert problem.field == f"workflows.ecommerce.{RELAX}"
    assert problem.line is not None
    assert "expected true or false" in problem.message


# --- separation of duties through the services --------------------------------------------------


@pytest.mark.django_db
def test_one_person_with_two_gate_roles_passes_only_one_gate_of_a_version(spring_run, kim, person):
    # given: kim approved the draft at G2
    p = lav()
    approve_package(package_id=p.pk, person=kim)
    seq = last_seq()

    # when: kim approves the same version at G3
    with pytest.raises(AuthorityError) as refused:
        approve_package(package_id=p.pk, person=kim)

    # then: 403 same_person_two_gates; the package still waits on G3 with no approval there;
    # the refusal (and nothing else) is recorded
    assert refused.value.code is ErrorCode.SAME_PERSON_TWO_GATES
    assert lav().position == "S5/in_review"
    assert not Approval.objects.filter(package=p, gate="G3").exists()
    assert changes_since(seq) == []
    (event,) = refused_events(seq__gt=seq)
    assert (event.action, event.actor, event.subject_id, event.gate) == (
        "package.decision.refused",
        KIM,
        str(p.pk),
        "G3",
    )
    assert event.data["code"] == "same_person_two_gates"
    assert event.data["attempt"] == "approve"
    assert event.data["status"] == 403

    # when: another compliance reviewer signs it off
    approve_package(package_id=p.pk, person=person("omar"))
    # then
    assert lav().position == "S6/in_review"


@pytest.mark.django_db
def test_a_new_version_is_a_new_version_for_separation_too(spring_run, kim, person):
    # given: kim approved version 2 at G2; ari's edit makes version 3 (voiding G2); maya
    # approves version 3 at G2
    p = lav()
    approve_package(package_id=p.pk, person=kim)
    edit_package(package_id=p.pk, person=person("ari"), changes={"title": "Lavender Calm Candle"})
    approve_package(package_id=p.pk, person=person("maya"))

    # when: kim signs version 3 off at G3 (she approved an older version at G2, not this one)
    result = approve_package(package_id=p.pk, person=kim)

    # then
    assert result.ok
    assert lav().position == "S6/in_review"
    gates = {a.gate: a.person for a in Approval.objects.filter(package=p, voided_at=None)}
    assert gates == {"G2": "maya@lumen.example", "G3": KIM}


@pytest.mark.django_db
def test_the_brief_approver_at_g1_may_approve_its_packages_at_g2(spring_run, person):
    # maya passed G1 for the brief (the fixture); a package is another object
    event = Event.objects.get(action="brief.gate.approved")
    assert event.actor == "maya@lumen.example"

    result = approve_package(package_id=lav().pk, person=person("maya"))

    assert result.ok
    assert lav().position == "S5/in_review"


@pytest.mark.django_db
def test_a_brief_version_passes_g1_once_and_a_second_try_is_recorded(
    approved_spring_brief, person, kim
):
    from signoff.briefs.approval import approve_brief

    with pytest.raises(StateError) as refused:
        approve_brief(brief=approved_spring_brief, person=kim)

    assert refused.value.code is ErrorCode.INVALID_STATE
    (event,) = refused_events(subject_type="brief")
    assert (event.action, event.actor, event.subject_id) == (
        "brief.decision.refused",
        KIM,
        str(approved_spring_brief.pk),
    )
    assert (event.data["attempt"], event.data["code"]) == ("approve", "invalid_state")


@pytest.mark.django_db
def test_a_relaxed_workspace_lets_one_person_pass_two_gates_and_the_event_says_so(
    spring_run, kim, example_dir
):
    from signoff.workspaces.services import load_workspace

    # given: the workspace file relaxes separation of duties for e-commerce
    load_workspace(relax(example_dir))
    p = lav()

    # when: kim approves at G2 and then at G3
    approve_package(package_id=p.pk, person=kim)
    approve_package(package_id=p.pk, person=kim)

    # then: both pass; the G3 event records that the setting allowed it, the G2 one does not
    assert lav().position == "S6/in_review"
    g2, g3 = Event.objects.filter(action="package.gate.approved", subject_id=str(p.pk)).order_by(
        "seq"
    )
    assert "same_person_two_gates" not in g2.data
    assert g3.data["same_person_two_gates"] == {
        "allowed_by": f"workflows.ecommerce.{RELAX}",
        "also_approved": ["G2"],
    }
    assert verify().ok


# --- refusals are recorded, aggregated per minute ----------------------------------------------


@pytest.mark.django_db
def test_each_kind_of_refusal_leaves_one_event_and_changes_nothing(spring_run, person, clock):
    p, other = lav(), lav("meta_feed_ad")
    seq = last_seq()
    maya, omar = person("maya"), person("omar")
    edit_package(package_id=other.pk, person=maya, changes={"headline": "Calm lavender"})
    seq_after_edit = last_seq()

    attempts = [
        (lambda: approve_package(package_id=p.pk, person=omar), "wrong_role"),
        (lambda: approve_package(package_id=other.pk, person=maya), "maker_checker"),
        (lambda: approve_package(package_id=p.pk, person=maya, batch=True), "not_reviewed"),
        (
            lambda: approve_package(package_id=p.pk, person=maya, expected_gate="G3"),
            "invalid_state",
        ),
    ]
    for attempt, code in attempts:
        with pytest.raises((AuthorityError, StateError)) as refused:
            attempt()
        assert refused.value.code == code

    events = refused_events(seq__gt=seq)
    assert [(e.subject_id, e.data["code"]) for e in events] == [
        (str(p.pk), "wrong_role"),
        (str(other.pk), "maker_checker"),
        (str(p.pk), "not_reviewed"),
        (str(p.pk), "invalid_state"),
    ]
    assert all(e.data["attempt"] == "approve" and e.data["message"] for e in events)
    assert all(e.data["window"] == "2030-05-01T12:00:00+00:00" for e in events)
    assert changes_since(seq_after_edit) == []
    assert lav().position == "S3/in_review"
    assert not Approval.objects.exists()
    assert verify().ok


@pytest.mark.django_db
def test_a_rejection_without_a_note_is_answered_not_recorded(spring_run, person):
    seq = last_seq()
    with pytest.raises(DecisionInputError):
        reject_package(package_id=lav().pk, person=person("maya"), note=" ")
    assert Event.objects.filter(seq__gt=seq).count() == 0


@pytest.mark.django_db
def test_a_flood_of_identical_refusals_writes_one_event_a_minute_and_keeps_the_count(
    spring_run, person, clock
):
    p = lav()
    omar = person("omar")
    seq = last_seq()

    def try_approving(times: int) -> None:
        results = decide_each(
            [p.pk] * times, lambda pk: approve_package(package_id=pk, person=omar)
        )
        assert {r.code for r in results} == {"wrong_role"}

    # when: omar tries fifty times in one minute
    try_approving(50)
    # then: one event; the 49 repeats are counted outside the chain
    (first,) = refused_events(seq__gt=seq)
    assert first.data["earlier_repeats"] == 0
    (window,) = RefusalWindow.objects.filter(actor=omar.email)
    assert window.window == datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    assert (window.repeats, window.reported, window.event_seq) == (49, 0, first.seq)

    # when: someone else is refused on the same package in the same minute, and omar tries
    # another action: other keys, so their own events
    with pytest.raises(AuthorityError):
        approve_package(package_id=p.pk, person=person("lena"))
    with pytest.raises(AuthorityError):
        reject_package(package_id=p.pk, person=omar, note="too long")
    assert [(e.actor, e.data["attempt"]) for e in refused_events(seq__gt=seq)] == [
        ("omar@lumen.example", "approve"),
        ("lena@lumen.example", "approve"),
        ("omar@lumen.example", "reject"),
    ]

    # when: the next minute, omar tries again three times
    clock[0] = NOON + timedelta(seconds=55)
    try_approving(3)
    # then: one new event, carrying the 49 repeats of the minute before
    events = refused_events(seq__gt=seq, actor=omar.email, data__attempt="approve")
    assert len(events) == 2
    assert events[1].data["earlier_repeats"] == 49
    assert events[1].data["earlier_windows"] == ["2030-05-01T12:00:00+00:00"]
    assert events[1].data["window"] == "2030-05-01T12:01:00+00:00"
    windows = RefusalWindow.objects.filter(actor=omar.email, attempt="approve")
    assert list(windows.values_list("repeats", "reported")) == [(49, 49), (2, 0)]

    # when: an hour later, once more: the two repeats are carried, nothing counted twice
    clock[0] = NOON + timedelta(hours=1)
    try_approving(1)
    last = refused_events(seq__gt=seq, actor=omar.email, data__attempt="approve")[-1]
    assert (last.data["earlier_repeats"], len(last.data["earlier_windows"])) == (2, 1)
    assert verify().ok


@pytest.mark.django_db
def test_a_refusal_inside_apply_fix_is_recorded_once_after_both_transactions(
    spring_run, person, clock
):
    from fixable import fixable_finding

    finding = fixable_finding(person)
    package = finding.version.package
    seq = last_seq()

    # when: someone without a contributor role applies the fix (apply_fix -> edit_package)
    with pytest.raises(AuthorityError) as refused:
        apply_fix(package_id=package.pk, finding_id=finding.pk, person=person("sofia"))

    # then: one event (the outer transaction rolled back; it was written after it)
    assert refused.value.code is ErrorCode.WRONG_ROLE
    (event,) = Event.objects.filter(seq__gt=seq)
    assert (event.action, event.actor, event.data["attempt"]) == (
        "package.decision.refused",
        "sofia@lumen.example",
        "edit",
    )
    assert RefusalWindow.objects.get(actor="sofia@lumen.example").event_seq == event.seq


@pytest.mark.django_db
def test_a_refused_brief_change_is_recorded_on_the_brief(
    approved_spring_brief, example_dir, person
):
    from signoff.briefs.approval import update_brief

    path = example_dir / "briefs" / "spring-candles.yaml"
    seq = last_seq()
    with pytest.raises(AuthorityError):
        update_brief(brief=approved_spring_brief, path=path, person=person("sofia"))

    (event,) = Event.objects.filter(seq__gt=seq)
    assert (event.action, event.subject_type, event.data["attempt"], event.data["code"]) == (
        "brief.decision.refused",
        "brief",
        "edit",
        "wrong_role",
    )
    assert approved_spring_brief.versions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_refusals_write_one_event_per_minute(example_dir):
    """Twenty threads, each with its own connection, refused the same way at once."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("in-memory SQLite cannot wait on locks (test_governance_concurrency runs WAL)")
    from test_governance_concurrency import prepare

    package_id, _ = prepare(example_dir)
    omar = Person.objects.get(email="omar@lumen.example")
    barrier = threading.Barrier(20)
    codes: list[str] = []

    def attempt() -> None:
        try:
            person = Person.objects.get(pk=omar.pk)
            barrier.wait()
            approve_package(package_id=package_id, person=person)
        except AuthorityError as exc:
            codes.append(exc.code.value)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == ["wrong_role"] * 20
    windows = list(RefusalWindow.objects.filter(actor=omar.email))
    events = refused_events(actor=omar.email)
    # One event per minute window the twenty fell in (one, unless a minute turned meanwhile),
    # and every refusal is either that event or one of its window's repeats.
    assert len(events) == len(windows) >= 1
    assert len(events) + sum(w.repeats for w in windows) == 20
    assert {w.event_seq for w in windows} == {e.seq for e in events}
    assert verify().ok


# --- every entry point: the command, the API, the web app ------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_command_refuses_a_second_gate_with_exit_4_and_records_it(cli, tokens, cli_brief):
    # given: kim, holding both roles, is added to the workspace file and given a token
    path = cli_brief / "workspace.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["people"].append({"email": KIM, "name": "Kim", "roles": ["content_lead", "compliance"]})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert cli("load", str(path)).exit_code == 0
    token = cli("token", "issue", KIM).stdout.strip()
    package = ref(LAV, "amazon_us_pdp")
    assert cli("approve", package, token=token).exit_code == 0

    # when: kim approves the same version at G3
    result = cli("approve", package, token=token)

    # then: exit 4 (authority), the stable code, and the refusal in the package's audit log
    assert result.exit_code == 4, result.output
    assert "refused (same_person_two_gates)" in result.stdout
    assert Package.objects.get(sku=LAV, channel="amazon_us_pdp").position == "S5/in_review"
    log = cli("audit", "log", "--package", package, "--json")
    assert log.exit_code == 0, log.output
    newest = json.loads(log.stdout)[0]
    assert (newest["action"], newest["actor"], newest["gate"]) == (
        "package.decision.refused",
        KIM,
        "G3",
    )
    (event,) = refused_events(actor=KIM)
    assert event.data["code"] == "same_person_two_gates"

    # when: the workspace file relaxes it, kim's second approval passes
    doc["workflows"]["ecommerce"][RELAX] = True
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    assert cli("load", str(path)).exit_code == 0
    assert cli("approve", package, token=token).exit_code == 0
    assert Package.objects.get(sku=LAV, channel="amazon_us_pdp").position == "S6/in_review"


@pytest.mark.django_db
def test_the_api_answers_403_same_person_two_gates_alone_and_in_a_batch(api, spring_run, kim):
    p, other = lav(), lav("meta_feed_ad")
    for package in (p, other):
        assert api("kim").post(f"/api/packages/{package.pk}/approve").status_code == 200
    assert api("kim").post(f"/api/packages/{other.pk}/review").status_code == 200

    # when: kim approves one again at G3, then both in a batch
    alone = api("kim").post(f"/api/packages/{p.pk}/approve")
    batch = api("kim").post("/api/packages/batch", {"action": "approve", "ids": [p.pk, other.pk]})

    # then: 403 with the stable code, as wrong_role and maker_checker are
    api_error(alone, 403, "same_person_two_gates")
    assert batch.status_code == 200
    results = batch.json()["results"]
    assert [(r["code"], r["http_status"]) for r in results] == [
        ("same_person_two_gates", 403),
        ("same_person_two_gates", 403),
    ]
    # and the audit log the API serves shows the refusals (the identical one once a minute)
    log = api("omar").get("/api/audit/log", package=p.pk).json()
    assert [e["action"] for e in log].count("package.decision.refused") == 1
    assert lav().position == "S5/in_review"


@pytest.mark.django_db
def test_the_web_app_says_same_person_two_gates_and_shows_the_refusal(as_person, spring_run, kim):
    p = lav()
    url = reverse("web:package-decide", kwargs={"package_id": p.pk})
    page = as_person("kim")
    assert "G2 approved" in page.post(url, {"action": "approve"}, follow=True).text

    refused = page.post(url, {"action": "approve"}, follow=True)

    assert "Refused (same_person_two_gates)" in refused.text
    # the package's audit history shows the attempt and its reason
    # (by name, not email: plain words)
    assert f"<b>package.decision.refused</b> G3 by {kim.name} (same_person_two_gates)" in (
        refused.text
    )
    assert lav().position == "S5/in_review"
    (event,) = refused_events(subject_id=str(p.pk))
    assert event.actor == KIM

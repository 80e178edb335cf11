"""Twenty people approving the same package at G2 at once: one approval, one event, 19 refusals
(recorded as one refusal event per minute, the identical others counted beside the chain).
Every loser gets a state refusal (409 ``invalid_state``: the package moved on), whether it
named the gate it meant (as the web app does) or not (as the API and the CLI may).

Each approver is a thread with its own database connection. On PostgreSQL that runs here, on
the test database. SQLite's in-memory test database cannot wait on locks (shared-cache locks
fail at once), so on SQLite the race runs in a child process on the real embedded setup: a
fresh SIGNOFF_HOME with its WAL database file, as ``test_audit_concurrency.py`` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import yaml

APPROVERS = 20
SKU, CHANNEL = "LUM-SPR-LAV-08", "meta_feed_ad"


def write_small_brief(example_dir: Path) -> Path:
    """One SKU on one channel, next to the example's other briefs (references resolve)."""
    data = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    data["brief"] = "race-2027"
    data["products"] = [p for p in data["products"] if p["sku"] == SKU]
    data["channels"] = [CHANNEL]
    path = example_dir / "briefs" / "race.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def prepare(example_dir: Path) -> tuple[int, int]:
    """Load the workspace, pass G1, draft; return (package id, maya's person id)."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.models import Package
    from signoff.packages.services import run_brief
    from signoff.workspaces.services import load_workspace

    workspace, _ = load_workspace(example_dir / "workspace.yaml")
    maya = workspace.people.get(email="maya@lumen.example")
    brief = add_brief(write_small_brief(example_dir)).brief
    approve_brief(brief=brief, person=maya)
    brief.refresh_from_db()
    run_brief(brief)
    package = Package.objects.get(brief=brief, sku=SKU, channel=CHANNEL)
    assert package.position == "S3/in_review"
    return package.pk, maya.pk


def race(package_id: int, person_id: int, expected_gate: str | None = "G2") -> dict:
    """Start APPROVERS threads that approve the package at G2 together; report what happened.

    Each approver asks (``asked_at``) before the race starts, as a person clicks Approve on
    the page they see; ``expected_gate`` None is an approval that names no gate.
    """
    from django.db import connections
    from django.utils import timezone

    from signoff.audit.models import Event
    from signoff.audit.services import verify
    from signoff.packages.decisions import approve_package
    from signoff.packages.models import Approval, Package, RefusalWindow
    from signoff.workflow import WorkflowError
    from signoff.workspaces.models import Person

    barrier = threading.Barrier(APPROVERS)
    outcomes: list[str] = []

    def approve() -> None:
        try:
            person = Person.objects.get(pk=person_id)  # opens this thread's own connection
            asked_at = timezone.now()
            barrier.wait()
            approve_package(
                package_id=package_id,
                person=person,
                expected_gate=expected_gate,
                asked_at=asked_at,
            )
            outcomes.append("approved")
        except WorkflowError as exc:
            outcomes.append(f"{type(exc).__name__}:{exc.code.value}")
        except Exception as exc:  # reported to the test, which shows it: never hidden
            outcomes.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve) for _ in range(APPROVERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = Event.objects.filter(action="package.gate.approved", subject_id=str(package_id))
    refused = Event.objects.filter(action="package.decision.refused", subject_id=str(package_id))
    windows = RefusalWindow.objects.filter(subject_id=str(package_id))
    return {
        "refusal_events": list(refused.values_list("seq", "data__code")),
        "refusal_windows": list(windows.values_list("event_seq", "code", "repeats")),
        "outcomes": dict(Counter(outcomes)),
        "approvals": list(
            Approval.objects.filter(package_id=package_id).values_list("gate", "person")
        ),
        "events": list(events.values_list("gate", "actor", "content_hash")),
        "current_hash": Package.objects.get(pk=package_id).current_version.content_hash,
        "position": Package.objects.get(pk=package_id).position,
        "verified": verify().ok,
    }


def assert_one_winner(report: dict) -> None:
    # then: one approval, one event for it, and 19 state errors (409: it moved on)
    assert report["outcomes"] == {"approved": 1, "StateError:invalid_state": APPROVERS - 1}
    assert [tuple(a) for a in report["approvals"]] == [("G2", "maya@lumen.example")]
    (event,) = report["events"]
    assert tuple(event) == ("G2", "maya@lumen.example", report["current_hash"])
    assert report["position"] == "S5/in_review"
    assert report["verified"] is True
    # the 19 refusals: one event per minute they fell in (one, unless a minute turned), the
    # identical rest counted in that minute's window row
    events, windows = report["refusal_events"], report["refusal_windows"]
    assert {code for _, code in events} == {"invalid_state"}
    assert sorted(seq for seq, _ in events) == sorted(seq for seq, _, _ in windows)
    assert len(events) + sum(repeats for _, _, repeats in windows) == APPROVERS - 1


CHILD = """
import json, os, sys
from pathlib import Path
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
sys.path.insert(0, sys.argv[1])
from test_governance_concurrency import prepare, race
package_id, person_id = prepare(Path(sys.argv[2]))
print(json.dumps(race(package_id, person_id, None if sys.argv[3] == "-" else sys.argv[3])))
"""


@pytest.mark.parametrize("expected_gate", ["G2", None])
def test_twenty_simultaneous_g2_approvals_leave_one_on_sqlite_wal(
    example_dir, tmp_path, expected_gate
):
    # given: a fresh embedded database (SQLite file in WAL mode) in its own SIGNOFF_HOME
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DATABASE_URL"}
    env |= {"SIGNOFF_HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path)}

    # when: twenty threads of one process approve the same package at G2 at once
    child = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "-c",
            CHILD,
            str(Path(__file__).parent),
            str(example_dir),
            expected_gate or "-",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == 0, child.stderr

    # then
    assert_one_winner(json.loads(child.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("expected_gate", ["G2", None])
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_g2_approvals_leave_one_on_the_test_database(
    example_dir, expected_gate
):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("in-memory SQLite cannot wait on locks: see the SQLite WAL test above")
    # given
    package_id, person_id = prepare(example_dir)

    # when / then
    assert_one_winner(race(package_id, person_id, expected_gate))

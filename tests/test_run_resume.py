"""Runs against a model-like provider: concurrency, failed drafts, budgets, crash and resume."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from cli_helpers import OwnHome
from fakes.slow_provider import RemoteLikeProvider

from signoff.audit.models import Event
from signoff.packages import run_records
from signoff.packages.models import Package, Version
from signoff.packages.services import run_brief

LAVENDER_AMAZON = "LUM-SPR-LAV-08/amazon_us_pdp"


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [1, 4])
def test_drafts_run_up_to_the_concurrency_limit(approved_spring_brief, limit):
    provider = RemoteLikeProvider(delay=0.01)
    summary = run_brief(approved_spring_brief, provider=provider, concurrency=limit)
    assert summary.drafted == provider.calls == 32
    assert provider.peak == limit
    assert (summary.input_tokens + summary.output_tokens) == 32 * 100


@pytest.mark.django_db
def test_a_failed_draft_is_recorded_never_stored_and_retried_next_run(approved_spring_brief):
    provider = RemoteLikeProvider(fail_for=(LAVENDER_AMAZON,))
    summary = run_brief(approved_spring_brief, provider=provider, concurrency=3)
    assert (summary.drafted, summary.failed) == (31, 1)
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    assert (package.position, package.current_version) == ("S2/draft", None)
    event = Event.objects.get(action="package.draft_failed")
    assert event.subject_id == str(package.pk)
    assert "212 characters" in event.data["reason"]
    # the next run drafts only what is left
    again = run_brief(approved_spring_brief, provider=RemoteLikeProvider())
    assert (again.drafted, again.failed) == (1, 0)
    # each run reports what it spent itself (the failed attempt counts), not the brief's total
    assert summary.cost == pytest.approx(32 * 0.01)
    assert again.cost == pytest.approx(0.01)
    assert (again.input_tokens + again.output_tokens) == 100
    package.refresh_from_db()
    assert package.position == "S3/in_review"


@pytest.fixture
def budgeted_brief(spring_brief, example_dir, person):
    """Give the spring brief a token budget (before G1 it may change), pass G1, return it."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief

    def approve(max_tokens: int):
        path = example_dir / "briefs" / "spring-candles.yaml"
        budget = f"variants: 1\nbudget: {{max_tokens: {max_tokens}}}\n"
        path.write_text(path.read_text().replace("variants: 1\n", budget))
        add_brief(path, products_csv=example_dir / "products.csv")
        approve_brief(brief=spring_brief, person=person("maya"))
        spring_brief.refresh_from_db()
        return spring_brief

    return approve


@pytest.mark.django_db
def test_the_budget_stops_a_run_cleanly_and_counts_across_runs(budgeted_brief):
    spring_brief = budgeted_brief(max_tokens=450)
    summary = run_brief(spring_brief, provider=RemoteLikeProvider(tokens=100), concurrency=1)
    assert summary.status == "stopped"
    assert summary.drafted == 5  # 100 tokens each: the fifth reaches 500 >= 450
    assert summary.not_started == 27
    assert "token budget reached" in summary.message
    # the budget is the brief's, not the run's: the next run starts spent
    again = run_brief(spring_brief, provider=RemoteLikeProvider(tokens=100), concurrency=1)
    assert (again.status, again.drafted) == ("stopped", 0)
    assert Version.objects.count() == 5


@pytest.mark.django_db
def test_with_drafts_in_flight_the_budget_stops_new_ones_and_lets_those_finish(budgeted_brief):
    spring_brief = budgeted_brief(max_tokens=450)
    provider = RemoteLikeProvider(tokens=100, delay=0.01)
    summary = run_brief(spring_brief, provider=provider, concurrency=4)
    assert summary.status == "stopped"
    # Five drafts reach the cap; at most the three others in flight then still come back.
    assert 5 <= summary.drafted == provider.calls <= 8
    assert summary.drafted + summary.not_started == 32
    assert Version.objects.count() == summary.drafted


@pytest.mark.django_db
def test_what_a_crashed_run_spent_counts_against_the_budget(budgeted_brief):
    from signoff.packages.models import Run

    spring_brief = budgeted_brief(max_tokens=2000)
    with pytest.raises(RuntimeError, match="worker died"):
        run_brief(
            spring_brief, provider=RemoteLikeProvider(tokens=100, crash_after=14), concurrency=1
        )
    kept = Version.objects.count()
    crashed = Run.objects.get(brief=spring_brief)
    assert (crashed.status, crashed.summary["status"]) == ("failed", "failed")
    assert crashed.summary["error"] == "RuntimeError: worker died"
    assert crashed.summary["drafted"] == kept
    failed = Event.objects.get(action="run.failed")
    assert (failed.subject_id, failed.data["error"]) == (
        str(crashed.pk),
        "RuntimeError: worker died",
    )
    assert crashed.summary["input_tokens"] + crashed.summary["output_tokens"] == 100 * kept
    again = run_brief(spring_brief, provider=RemoteLikeProvider(tokens=100), concurrency=1)
    # 2000 tokens in all: the crashed run's committed drafts count, so together they draft 20.
    assert again.status == "stopped"
    assert kept + again.drafted == 20


@pytest.mark.django_db
@pytest.mark.parametrize("limit", [1, 4])
def test_a_crashed_run_keeps_finished_skus_and_the_next_run_does_the_rest(
    approved_spring_brief, limit
):
    crashing = RemoteLikeProvider(crash_after=14)
    with pytest.raises(RuntimeError, match="worker died"):
        run_brief(approved_spring_brief, provider=crashing, concurrency=limit)
    assert crashing.calls <= 14 + limit  # each slot stops at its first crash
    kept = Version.objects.count()
    assert 0 < kept < 32
    run_brief(approved_spring_brief, provider=RemoteLikeProvider(), concurrency=2)
    per_package = Counter(Version.objects.values_list("package_id", flat=True))
    assert len(per_package) == 32
    assert set(per_package.values()) == {1}  # no package drafted twice


class _CountingProvider(RemoteLikeProvider):
    """Sets ``all_called`` once it has been asked for ``expected`` drafts."""

    def __init__(self, expected: int, **options) -> None:
        super().__init__(**options)
        self.expected = expected
        self.all_called = threading.Event()

    def draft(self, request):
        result = super().draft(request)
        if self.calls >= self.expected:
            self.all_called.set()
        return result


def _on_first_drafted_store(monkeypatch, action) -> None:
    """Run ``action`` when the run first stores a drafted SKU, then store as usual."""
    original = run_records.store_plans
    done = []

    def store(brief, version, run, plans, actor):
        if not done and any(plan.draft_fields is not None for plan in plans):
            done.append(True)
            action()
        return original(brief, version, run, plans, actor)

    monkeypatch.setattr(run_records, "store_plans", store)


@pytest.mark.django_db
def test_free_slots_take_the_next_draft_while_the_run_stores_a_sku(
    approved_spring_brief, monkeypatch
):
    provider = _CountingProvider(expected=32)
    during_store = []
    # Hold the first SKU's store until every draft has been asked for: possible only if the
    # slots go on without waiting for the thread that stores.
    _on_first_drafted_store(
        monkeypatch, lambda: during_store.append(provider.all_called.wait(timeout=30))
    )
    summary = run_brief(approved_spring_brief, provider=provider, concurrency=2)
    assert during_store == [True]
    assert summary.drafted == provider.calls == 32
    assert provider.peak == 2


@pytest.mark.django_db
def test_a_failed_store_starts_no_new_draft(approved_spring_brief, monkeypatch):
    provider = RemoteLikeProvider(delay=0.01)
    started = []

    def fail() -> None:
        started.append(provider.calls)
        raise RuntimeError("disk full")

    _on_first_drafted_store(monkeypatch, fail)
    try:
        run_brief(approved_spring_brief, provider=provider, concurrency=4)
    except RuntimeError as error:
        failure = error  # its traceback keeps the run's frame alive, as an error report would
    assert str(failure) == "disk full"
    # The run returns only once its slots have stopped: nothing is drafted behind its back.
    assert not [t for t in threading.enumerate() if t.name.startswith("draft-")]
    # Only the drafts already started when the store failed (and the few the slots took
    # while the error reached the run) were asked for; not the rest of the brief.
    assert provider.calls <= started[0] + 4 < 32
    assert Version.objects.count() == 0


RUN_SCRIPT = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
django.setup()
from fakes.slow_provider import SlowProvider
from signoff.briefs.services import get_brief
from signoff.packages.services import run_brief
print(run_brief(get_brief("spring-candles-2027"), provider=SlowProvider(), concurrency=2))
"""


@pytest.mark.skipif(bool(os.environ.get("SIGNOFF_DATABASE_URL")), reason="uses its own SQLite")
def test_killing_the_worker_mid_run_then_resuming_drafts_each_package_once(tmp_path):
    own = OwnHome(tmp_path / "home")
    database = own.database

    def versions() -> list[int]:
        with sqlite3.connect(database) as db:
            return [row[0] for row in db.execute("SELECT package_id FROM packages_version")]

    worker = own.python(RUN_SCRIPT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(versions()) < 6 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    killed_at = len(versions())
    assert 0 < killed_at < 32, "the kill should land mid-run"
    finished = subprocess.run(
        [sys.executable, "-c", RUN_SCRIPT], env=own.env, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stderr
    with sqlite3.connect(database) as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM packages_run ORDER BY id")]
    assert statuses == ["interrupted", "finished"]  # the killed run, found by the next one
    per_package = Counter(versions())
    assert len(per_package) == 32
    assert set(per_package.values()) == {1}
    assert own.ok("audit", "verify").stdout.startswith("ok:")

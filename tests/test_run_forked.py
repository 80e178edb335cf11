"""Drafting and checking spread over worker processes gives exactly what one process gives."""

import ctypes
import os
import signal
import sys

import pytest
import yaml

from signoff.briefs.approval import approve_brief
from signoff.briefs.services import add_brief
from signoff.core.forked import can_fork, map_forked
from signoff.packages.models import Package
from signoff.packages.services import run_brief

pytestmark = pytest.mark.skipif(not can_fork(), reason="this platform does not fork")


def _square_or_fail(value: int) -> int:
    if value < 0:
        raise ValueError(f"negative: {value}")
    return value * value


def _pid(_: object) -> int:
    return os.getpid()


def test_map_forked_returns_every_result_with_its_index():
    results = dict(map_forked(_square_or_fail, list(range(25)), workers=2))
    assert results == {i: i * i for i in range(25)}


def test_map_forked_runs_in_other_processes():
    pids = {pid for _, pid in map_forked(_pid, list(range(8)), workers=2)}
    assert os.getpid() not in pids


def test_map_forked_raises_a_childs_error_in_the_parent():
    with pytest.raises(ValueError, match="negative: -3"):
        list(map_forked(_square_or_fail, [1, 2, -3, 4], workers=2))


def _death_signal(_: object) -> int:
    """The signal this process gets when its parent dies (prctl PR_GET_PDEATHSIG)."""
    value = ctypes.c_int(0)
    ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(value))
    return value.value


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_children_die_with_the_parent():
    # so a killed run's workers cannot keep its database connection and run lock alive
    received = [death for _, death in map_forked(_death_signal, [0, 1], workers=2)]
    assert received == [signal.SIGKILL, signal.SIGKILL]


def _copy_brief(example_dir, slug: str):
    source = example_dir / "briefs" / "spring-candles.yaml"
    data = yaml.safe_load(source.read_text())
    data["brief"] = slug
    target = example_dir / "briefs" / f"{slug}.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    return add_brief(target, products_csv=example_dir / "products.csv").brief


def _outcome(brief) -> dict:
    packages = Package.objects.filter(brief=brief).select_related("current_version")
    outcome = {}
    for package in packages:
        version = package.current_version
        findings = (
            sorted(
                (f.rule_id, f.severity, f.field, f.span_start, f.span_end, f.message)
                for f in version.findings.all()
            )
            if version
            else None
        )
        outcome[(package.sku, package.channel, package.market, package.variant)] = (
            package.position,
            package.confidence,
            package.blocked_reasons,
            version.fields if version else None,
            version.content_hash if version else None,
            findings,
        )
    return outcome


@pytest.mark.django_db(transaction=True)
def test_forked_run_stores_the_same_drafts_findings_and_positions(
    lumen_workspace, example_dir, person, settings, monkeypatch
):
    from signoff.packages import services

    monkeypatch.setattr(services, "FORKED_WRITE_EVERY", 5)  # written in slices as SKUs return
    maya = person("maya")
    one, forked = _copy_brief(example_dir, "one-process"), _copy_brief(example_dir, "forked")
    for brief in (one, forked):
        approve_brief(brief=brief, person=maya)
        brief.refresh_from_db()

    settings.SIGNOFF_DRAFT_PROCESSES = 1
    single = run_brief(one)
    settings.SIGNOFF_DRAFT_PROCESSES = 2
    settings.SIGNOFF_FORK_MIN_PACKAGES = 1
    spread = run_brief(forked)

    assert (spread.drafted, spread.blocked, spread.findings) == (
        single.drafted,
        single.blocked,
        single.findings,
    )
    assert spread.drafted > 0
    assert _outcome(forked) == _outcome(one)
    # The parent's database connection is intact after the children exit.
    assert Package.objects.filter(brief=forked, state="in_review").count() == spread.drafted


def test_only_big_unbudgeted_local_runs_fork(settings):
    from signoff.agents.providers.builtin import BuiltinProvider
    from signoff.packages.drafting import Budget, worker_processes

    settings.SIGNOFF_FORK_MIN_PACKAGES = 1
    settings.SIGNOFF_DRAFT_PROCESSES = 2
    provider = BuiltinProvider()
    assert worker_processes(provider, Budget(), 500) == 2
    settings.SIGNOFF_DRAFT_PROCESSES = 1
    assert worker_processes(provider, Budget(), 500) == 1
    settings.SIGNOFF_DRAFT_PROCESSES = 2
    assert worker_processes(provider, Budget(max_tokens=10), 500) == 1
    settings.SIGNOFF_FORK_MIN_PACKAGES = 1000
    assert worker_processes(provider, Budget(), 500) == 1
    remote = type("Remote", (), {"name": "openai"})()
    assert worker_processes(remote, Budget(), 5000) == 1


def test_two_threads_may_map_at_once_each_with_its_own_work():
    from concurrent.futures import ThreadPoolExecutor

    def squares(offset: int) -> dict[int, int]:
        items = [offset + i for i in range(12)]
        return dict(map_forked(_square_or_fail, items, workers=2))

    with ThreadPoolExecutor(max_workers=2) as threads:
        first, second = threads.map(squares, [0, 100])
    assert first == {i: i * i for i in range(12)}
    assert second == {i: (100 + i) ** 2 for i in range(12)}

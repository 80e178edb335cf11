"""One run of a brief at a time: in one process, across processes, and after a killed holder."""

import json
import os
import signal
import subprocess
import threading
import time
from types import SimpleNamespace

import pytest
from cli_helpers import BRIEF, OwnHome
from django.db import connections

from signoff.audit.models import Event
from signoff.packages import runlock
from signoff.packages.models import Run, Version
from signoff.packages.runlock import RUN_LOCK_CLASS, run_in_progress, run_lock
from signoff.packages.services import run_brief
from signoff.workflow import ErrorCode, StateError


@pytest.mark.django_db
def test_a_run_is_refused_while_another_run_of_the_brief_holds_the_lock(approved_spring_brief):
    with run_lock(approved_spring_brief):
        assert run_in_progress(approved_spring_brief)
        with pytest.raises(StateError) as refused:
            run_brief(approved_spring_brief)
    assert refused.value.code is ErrorCode.RUN_IN_PROGRESS
    assert f"brief {BRIEF} is being run already" in refused.value.message
    assert "run again" in refused.value.message
    # nothing was started, drafted or logged for the refused run
    assert not Run.objects.exists()
    assert not Version.objects.exists()
    assert not Event.objects.filter(action__startswith="run.").exists()
    # released with the block: the next run goes ahead
    assert not run_in_progress(approved_spring_brief)
    assert run_brief(approved_spring_brief).drafted == 32


@pytest.mark.django_db(transaction=True)
def test_a_run_waits_out_a_momentary_look_at_the_lock(approved_spring_brief, monkeypatch):
    looking, release, released = threading.Event(), threading.Event(), threading.Event()

    def look() -> None:  # what run_in_progress does for a polling page, held a little longer
        try:
            with runlock._try_lock(approved_spring_brief) as acquired:
                assert acquired
                looking.set()
                release.wait(timeout=10)
            released.set()
        finally:
            connections.close_all()  # this thread's own connection

    def pause(seconds: float) -> None:  # the run's first retry: the look ends meanwhile
        release.set()
        released.wait(timeout=10)

    monkeypatch.setattr(runlock, "time", SimpleNamespace(monotonic=time.monotonic, sleep=pause))
    thread = threading.Thread(target=look)
    thread.start()
    assert looking.wait(timeout=10)
    assert run_in_progress(approved_spring_brief)
    with run_lock(approved_spring_brief):
        assert released.is_set()
    thread.join()


@pytest.mark.django_db
def test_the_refusal_names_the_run_in_progress(approved_spring_brief):
    started = Run.objects.create(
        brief=approved_spring_brief, brief_version=approved_spring_brief.approved_version
    )
    with run_lock(approved_spring_brief), pytest.raises(StateError) as refused:
        run_brief(approved_spring_brief)
    assert f"(run {started.pk}, started 0 min ago)" in refused.value.message


@pytest.mark.django_db
def test_the_next_run_marks_the_runs_a_dead_worker_left_running_interrupted(
    approved_spring_brief,
):
    checkpoint = {"status": "running", "drafted": 6, "input_tokens": 0, "output_tokens": 0}
    dead = Run.objects.create(
        brief=approved_spring_brief,
        brief_version=approved_spring_brief.approved_version,
        summary=checkpoint,
    )
    assert run_brief(approved_spring_brief).drafted == 32
    dead.refresh_from_db()
    assert (dead.status, dead.summary["status"], dead.summary["drafted"]) == (
        "interrupted",
        "interrupted",
        6,
    )
    assert dead.finished_at is None  # when it died is not known
    found = Event.objects.get(action="run.interrupted")
    new = Run.objects.exclude(pk=dead.pk).get()
    assert (found.subject_id, found.data["found_by_run"]) == (str(dead.pk), new.pk)
    assert new.status == "finished"


@pytest.mark.django_db
def test_the_lock_is_per_brief(approved_spring_brief, lumen_workspace, example_dir, person):
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief

    path = example_dir / "briefs" / "spring-candles.yaml"
    path.write_text(path.read_text().replace(f"brief: {BRIEF}", "brief: spring-copy"))
    other = add_brief(path, products_csv=example_dir / "products.csv").brief
    approve_brief(brief=other, person=person("maya"))
    other.refresh_from_db()
    with run_lock(approved_spring_brief):
        assert not run_in_progress(other)
        assert run_brief(other).drafted == 32


@pytest.mark.django_db
def test_a_run_that_raised_lets_the_next_one_in(approved_spring_brief):
    from fakes.slow_provider import RemoteLikeProvider

    with pytest.raises(RuntimeError, match="worker died"):
        run_brief(approved_spring_brief, provider=RemoteLikeProvider(crash_after=3), concurrency=2)
    assert not run_in_progress(approved_spring_brief)
    assert run_brief(approved_spring_brief, provider=RemoteLikeProvider()).status == "finished"


@pytest.mark.django_db
@pytest.mark.skipif(
    not os.environ.get("SIGNOFF_DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL's advisory lock",
)
def test_on_postgresql_another_session_holds_the_lock_until_it_ends(approved_spring_brief):
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    )
    try:
        args = (RUN_LOCK_CLASS, approved_spring_brief.pk)
        assert other.execute("SELECT pg_try_advisory_lock(%s, %s)", args).fetchone()[0]
        assert run_in_progress(approved_spring_brief)
        with pytest.raises(StateError):
            run_brief(approved_spring_brief)
    finally:
        # The holder's session ends, as when its worker is killed. Closing the connection
        # returns before the server's backend has exited (and dropped the lock), so end the
        # backend from here and wait for it to be gone.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 10000)", [other.info.backend_pid])
            assert cursor.fetchone()[0]
        other.close()
    assert not run_in_progress(approved_spring_brief)
    assert run_brief(approved_spring_brief).drafted == 32


HOLD_SCRIPT = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
django.setup()
from signoff.briefs.services import get_brief
from signoff.packages.runlock import run_lock
with run_lock(get_brief("spring-candles-2027")):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.mark.skipif(bool(os.environ.get("SIGNOFF_DATABASE_URL")), reason="uses its own SQLite")
def test_across_processes_a_live_holder_refuses_and_a_killed_one_lets_go(tmp_path):
    own = OwnHome(tmp_path / "home")

    holder = own.python(HOLD_SCRIPT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = own.cli("run", BRIEF)
        assert refused.returncode == 3, refused.stderr
        assert f"brief {BRIEF} is being run already" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    own.ok("run", BRIEF)
    assert (own.home / "signoff.sqlite3.locks").is_dir()


@pytest.mark.django_db(transaction=True)
def test_signoff_runs_lists_each_run_as_it_stands(cli, tokens):
    from signoff.briefs.services import get_brief

    # the tokens fixture ran the brief once; a second run finds nothing left to draft
    assert cli("run", BRIEF).exit_code == 0
    first, second = Run.objects.order_by("pk")
    failed = {"status": "failed", "error": "OSError: [Errno 28] No space left", "drafted": 3}
    Run.objects.filter(pk=second.pk).update(status="failed", summary=failed)
    Run.objects.filter(pk=first.pk).update(status="running", finished_at=None)

    listed = json.loads(cli("runs", BRIEF, "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [
        (second.pk, "failed"),
        (first.pk, "interrupted"),
    ]
    assert listed[1]["summary"]["drafted"] == 32
    with run_lock(get_brief(BRIEF)):
        live = json.loads(cli("runs", BRIEF, "--json").stdout)
    assert live[1]["status"] == "running"

    text = cli("runs", BRIEF).stdout
    assert "OSError: [Errno 28] No space left" in text  # printed as it is, not as markup
    assert f"Run {first.pk} stopped before it finished" in text
    assert f"Run again to draft what is left: signoff run {BRIEF}" in text
    assert cli("runs", "no-such-brief").exit_code != 0

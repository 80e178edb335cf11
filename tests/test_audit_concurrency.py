"""Concurrent appenders on the real embedded setup: separate processes, one SQLite file in WAL.

The in-memory test database cannot show this (shared-cache locks fail instead of waiting), so
each writer is its own process with SIGNOFF_HOME pointing at a fresh directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SETUP = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
django.setup()
from django.db import transaction
from signoff.audit.services import record, verify
"""

MIGRATE = (
    SETUP
    + """
from django.core.management import call_command
call_command("migrate", verbosity=0)
"""
)

WRITE = (
    SETUP
    + """
worker, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    with transaction.atomic():
        record(action="package.reviewed", actor=f"p{worker}@x.example",
               subject_type="package", subject_id=f"{worker}-{i}")
"""
)

VERIFY = (
    SETUP
    + """
import json
result = verify()
print(json.dumps({"ok": result.ok, "count": result.count, "reason": result.reason}))
"""
)


def _run(home: Path, script: str, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DATABASE_URL"}
    env |= {"SIGNOFF_HOME": str(home), "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen) -> str:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def test_processes_appending_at_once_keep_one_chain_on_sqlite(tmp_path: Path):
    _finish(_run(tmp_path, MIGRATE))
    writers, per_writer = 6, 25
    processes = [_run(tmp_path, WRITE, str(w), str(per_writer)) for w in range(writers)]
    for process in processes:
        _finish(process)
    result = json.loads(_finish(_run(tmp_path, VERIFY)))
    assert result == {"ok": True, "count": writers * per_writer, "reason": None}

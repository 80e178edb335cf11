"""Benchmark the board page (``/briefs/<slug>/``) for a brief of 2,000 packages.

Generates the same workspace and brief as ``bench/run_bench.py`` (100 SKUs x 20 channels,
G1 approved by the content lead, then ``run_brief``), signs in as Maya through Django's test
client and times whole requests through the URL resolver, middleware, view and templates:

- the full page (board, filters, "what's blocking" panel; 50 rows a page),
- the htmx table partial (what a filter change swaps in),
- the full page on the last page of the 40,
- the full page filtered to one channel.

Server time is the median of 5 requests after one warm-up; queries are counted per request.

    python bench/board_page_bench.py                  # embedded SQLite in a temporary home
    SIGNOFF_DATABASE_URL=postgres://... python bench/board_page_bench.py

Results: docs/performance.md, section 5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="signoff-board-bench-"))
    os.environ.setdefault("SIGNOFF_HOME", str(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from run_bench import _brief, _workspace

    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.models import Package
    from signoff.packages.services import run_brief
    from signoff.web.accounts import ensure_user
    from signoff.workspaces.models import Person
    from signoff.workspaces.services import load_workspace

    setup_test_environment()  # lets the test client's "testserver" host in
    call_command("migrate", verbosity=0)
    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(
        connection.vendor, connection.vendor
    )
    stamp = str(int(time.time()))
    workspace, _ = load_workspace(_workspace(tmp, f"board-{stamp}"))
    maya = Person.objects.get(workspace=workspace, email="maya@lumen.example")
    slug = f"board-{stamp}"
    brief = add_brief(_brief(tmp, slug, workspace.slug, workspace.channels, args.skus)).brief
    approve_brief(brief=brief, person=maya)
    brief.refresh_from_db()
    start = time.perf_counter()
    run_brief(brief)
    print(f"setup: run_brief in {time.perf_counter() - start:.1f} s")
    packages = Package.objects.filter(brief=brief).count()

    client = Client()
    client.force_login(ensure_user(maya))
    url = f"/briefs/{slug}/"
    channel = workspace.channels[0]
    cases = [
        ("full page, page 1", url, {}),
        ("htmx table partial", url, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board-table"}),
        ("full page, page 40 (last)", f"{url}?page=40", {}),
        (f"full page, channel={channel}", f"{url}?channel={channel}", {}),
    ]
    print(f"database: {vendor}; packages: {packages}; signed in as {maya.email}")
    for label, path, headers in cases:
        client.get(path, **headers)  # warm-up: templates compiled, caches filled
        samples, queries, size = [], set(), 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as ctx:
                start = time.perf_counter()
                response = client.get(path, **headers)
                samples.append(time.perf_counter() - start)
            assert response.status_code == 200, (path, response.status_code)
            queries.add(len(ctx.captured_queries))
            size = len(response.content)
        rows = response.content.count(b"data-package=")
        print(
            f"{label}: median {statistics.median(samples) * 1000:.1f} ms of {args.repeat} "
            f"[{' '.join(f'{s * 1000:.1f}' for s in samples)}], "
            f"queries {'/'.join(map(str, sorted(queries)))}, rows {rows}, {size / 1024:.0f} KiB"
        )


if __name__ == "__main__":
    main()

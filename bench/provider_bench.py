"""Benchmark concurrent drafting through the openai provider against a fixed-latency server.

Target (issue #4): N packages with concurrency C finish within 1.1 x ceil(N/C) x L, where L is
the server's latency per request; the same run with concurrency 1 for comparison.

    python bench/provider_bench.py                          # 10 SKUs x 6 channels, L=0.2 s
    python bench/provider_bench.py --skus 20 --concurrency 1 4 8 16 --latency 0.5 --repeat 5
    python bench/provider_bench.py --in-process             # the server in a thread of this process
    python bench/fake_openai.py --port 8765 --latency 0.2 &   # or: a server you started
    python bench/provider_bench.py --server-url http://127.0.0.1:8765

By default the fake server (``bench/fake_openai.py``) runs in a process of its own on loopback,
as a model server (vLLM, Ollama, llama.cpp) does: in a thread of this process its request
handling would share this process's GIL with the client's, and bill the server's CPU to the
run. Each
measurement adds a fresh brief (new slug) to the demo workspace (Lumen Home, loaded into a
temporary SQLite ``SIGNOFF_HOME``): ``--skus`` SKUs copied from the demo spring brief, all with
complete product data, on its six channels; G1 is approved by the content lead outside the
timed region, then ``run_brief(brief, provider=OpenAIProvider(...), concurrency=C)`` is timed.

Besides wall time it reports where the time beyond ``ceil(N/C) x L`` goes: before the first
request reaches the server (planning, prompts), after the last answer leaves it (the last SKU's
checks and commit), and the main thread's time in checks and in ``store_plans`` (one transaction per
SKU for a remote provider) while drafts are in flight. Unless ``--no-zero`` is given, every
concurrency is also run at L=0, which is the run's cost without any waiting.
Results: docs/performance.md, section 4.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "signoff" / "demo" / "lumen-home"
BOUND = 1.1


def _gtin(i: int) -> str:
    """A 14-digit GTIN with a valid GS1 check digit."""
    body = f"0085001239{i:03d}"
    total = sum(int(d) * (3 if k % 2 == 0 else 1) for k, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def _brief(tmp: Path, slug: str, skus: int) -> Path:
    """The demo spring brief with ``skus`` products, every one complete (GTIN, burn time)."""
    base = yaml.safe_load((DEMO / "briefs" / "spring-candles.yaml").read_text())
    demo_products = base["products"]
    products = []
    for i in range(skus):
        product = json.loads(json.dumps(demo_products[i % len(demo_products)]))
        product["sku"] = f"{product['sku']}-{i:03d}"
        product["gtin"] = _gtin(i)
        product.setdefault("attributes", {}).setdefault(
            "burn_time_hours", 80 if "14" in product["attributes"].get("size", "") else 50
        )
        product["claims"] = [c for c in product.get("claims", []) if c != "clean-burning"]
        product.pop("images", None)
        products.append(product)
    brief = {**base, "brief": slug, "name": f"Provider bench {slug}", "products": products}
    brief.pop("references", None)
    path = tmp / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(brief, sort_keys=False))
    return path


class Server:
    """Talks to the fake server's stats endpoints, wherever it runs."""

    def __init__(self, origin: str) -> None:
        self.origin = origin.rstrip("/").removesuffix("/v1")

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def reset(self, latency: float | None = None) -> dict:
        body = json.dumps({} if latency is None else {"latency": latency}).encode()
        request = urllib.request.Request(f"{self.origin}/bench/reset", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.origin}/bench/stats", timeout=10) as response:
            return json.load(response)


@contextmanager
def _server_process(latency: float) -> Iterator[Server]:
    """Start bench/fake_openai.py on a free loopback port; stop it afterwards."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = Path(__file__).resolve().parent / "fake_openai.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.DEVNULL,
    )
    server = Server(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                server.stats()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Sample:
    wall: float
    before_first: float  # run start to the first request's arrival at the server
    after_last: float  # the last answer leaving the server to run_brief's return
    checks: float  # main thread in check_group (spec, claims, voice, pii, consistency)
    store: float  # main thread in store_plans (one transaction per SKU)
    requests: int
    peak: int
    drafted: int
    failed: int


@dataclass
class Row:
    skus: int
    packages: int
    concurrency: int
    latency: float
    samples: list[Sample] = field(default_factory=list)

    def median(self, name: str) -> float:
        return statistics.median(getattr(s, name) for s in self.samples)

    @property
    def ideal(self) -> float:
        return math.ceil(self.packages / self.concurrency) * self.latency


class Timers:
    """Main-thread time in the checks (``check_group``, called by ``services``) and in
    ``run_records.store_plans`` (wrapped in place, in the module that looks each up)."""

    def __init__(self) -> None:
        from signoff.packages import run_records, services

        self.seconds = {"check_group": 0.0, "store_plans": 0.0}
        for module, name in ((services, "check_group"), (run_records, "store_plans")):
            setattr(module, name, self._wrap(name, getattr(module, name)))

    def _wrap(self, name, original):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed

    def reset(self) -> None:
        for name in self.seconds:
            self.seconds[name] = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10, help="SKUs (x 6 channels = N)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--latency", type=float, default=0.2, help="L, seconds per request")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median reported)")
    parser.add_argument("--no-zero", dest="zero", action="store_false", help="skip the L=0 rows")
    parser.add_argument(
        "--server-url",
        help="a running bench/fake_openai.py (its latency is set through /bench/reset); "
        "default: start one in its own process",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the fake server in a thread of this process instead",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="signoff-provider-bench-"))
    os.environ["SIGNOFF_HOME"] = str(tmp)
    os.environ.pop("SIGNOFF_DATABASE_URL", None)  # SQLite in the temporary home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from signoff.agents.providers.openai_provider import OpenAIProvider
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief
    from signoff.workspaces.models import Person
    from signoff.workspaces.services import load_workspace

    call_command("migrate", verbosity=0)
    workspace, _ = load_workspace(DEMO / "workspace.yaml")
    maya = Person.objects.get(workspace=workspace, email="maya@lumen.example")
    timers = Timers()
    stamp = str(int(time.time()))
    counter = iter(range(1_000_000))

    with ExitStack() as stack:
        if args.server_url:
            server = Server(args.server_url)
        elif args.in_process:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from fake_openai import FakeOpenAI

            fake = stack.enter_context(FakeOpenAI(latency=args.latency))
            server = Server(fake.base_url)
        else:
            server = stack.enter_context(_server_process(args.latency))

        def measure(skus: int, concurrency: int, latency: float) -> Sample:
            brief = add_brief(_brief(tmp, f"pb-{stamp}-{next(counter)}", skus)).brief
            approve_brief(brief=brief, person=maya)  # G1, outside the timed region
            brief.refresh_from_db()
            provider = OpenAIProvider(
                model="fake",
                base_url=server.base_url,
                api_key="x",
                max_retries=0,
                output_retries=0,
            )
            server.reset(latency)
            timers.reset()
            t0 = time.time()
            start = time.perf_counter()
            summary = run_brief(brief, provider=provider, concurrency=concurrency)
            wall = time.perf_counter() - start
            t1 = time.time()
            stats = server.stats()
            provider.client.close()
            first, last = stats["first_at"] or t0, stats["last_at"] or t1
            return Sample(
                wall=wall,
                before_first=first - t0,
                after_last=t1 - last,
                checks=timers.seconds["check_group"],
                store=timers.seconds["store_plans"],
                requests=stats["requests"],
                peak=stats["peak"],
                drafted=summary.drafted,
                failed=summary.failed,
            )

        measure(1, 2, 0.0)  # warm-up: imports, the SDK's first client, schema compilation

        latencies = [args.latency] + ([0.0] if args.zero and args.latency else [])
        rows: list[Row] = []
        for latency in latencies:
            for concurrency in args.concurrency:
                row = Row(args.skus, 0, concurrency, latency)
                for _ in range(args.repeat):
                    sample = measure(args.skus, concurrency, latency)
                    row.samples.append(sample)
                    row.packages = sample.drafted + sample.failed
                    if sample.failed or sample.requests != sample.drafted:
                        print(
                            f"warning: {sample.failed} failed drafts, "
                            f"{sample.requests} requests for {sample.drafted} drafts",
                            file=sys.stderr,
                        )
                rows.append(row)
                _print_row(row)

    print(
        f"\ndatabase: {connection.vendor}; {os.cpu_count()} cores; Python "
        f"{sys.version.split()[0]}; Django {django.get_version()}; server: "
        f"{args.server_url or ('in-process thread' if args.in_process else 'own process')}"
    )
    print(
        "\n| N | C | L | wall (median) | runs | bound 1.1 x ceil(N/C) x L | ratio | met? "
        "| before 1st request | after last answer | checks | store | peak in flight |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        wall = row.median("wall")
        runs = " ".join(f"{s.wall:.2f}" for s in row.samples)
        if row.latency:
            bound = f"{BOUND * row.ideal:.2f} s"
            ratio = wall / row.ideal
            ratio_text, met = f"{ratio:.2f}", ("yes" if ratio <= BOUND else "**no**")
        else:
            bound, ratio_text, met = "-", "-", "-"
        print(
            f"| {row.packages} | {row.concurrency} | {row.latency:g} s | {wall:.2f} s | {runs} "
            f"| {bound} | {ratio_text} | {met} | {row.median('before_first'):.2f} s "
            f"| {row.median('after_last'):.2f} s | {row.median('checks'):.2f} s "
            f"| {row.median('store'):.2f} s | {max(s.peak for s in row.samples)} |"
        )


def _print_row(row: Row) -> None:
    wall = row.median("wall")
    text = (
        f"N={row.packages} C={row.concurrency} L={row.latency:g}: wall median {wall:.3f} s "
        f"[{' '.join(f'{s.wall:.3f}' for s in row.samples)}]"
    )
    if row.latency:
        text += f", ideal ceil(N/C) x L = {row.ideal:.2f} s, ratio {wall / row.ideal:.3f}"
    text += (
        f"; before first request {row.median('before_first'):.3f} s, after last answer "
        f"{row.median('after_last'):.3f} s, checks {row.median('checks'):.3f} s, store "
        f"{row.median('store'):.3f} s, peak in flight {max(s.peak for s in row.samples)}"
    )
    print(text, flush=True)


if __name__ == "__main__":
    main()

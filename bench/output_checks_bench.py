"""Cost of the output guard and substance checker (issue 14) next to the older copy checks.

1,000 builtin drafts of a 100-SKU brief (the demo spring candles, renamed) on the first 20
catalog channels, every draft seen by the brief's 100 products as siblings; each check runs
once per draft on texts it has not seen (the cold case a run meets).

    .venv/bin/python bench/output_checks_bench.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import test_builtin_provider as example  # noqa: E402

from signoff.agents.checks.claims import scan_claims  # noqa: E402
from signoff.agents.checks.integrity import check_integrity  # noqa: E402
from signoff.agents.checks.pii import check_pii  # noqa: E402
from signoff.agents.checks.spec import check_spec  # noqa: E402
from signoff.agents.checks.substance import check_substance  # noqa: E402
from signoff.agents.checks.voice import check_voice  # noqa: E402
from signoff.agents.context import Draft, InputSignals  # noqa: E402

NAMES = ["Alpha", "Beta", "Gamma", "Delta", "Eps", "Zeta", "Eta", "Theta", "Iota", "Kappa"]


def main() -> None:
    base = example.SPRING_PRODUCTS
    products = tuple(
        replace(
            base[i % len(base)],
            sku=f"SKU-{i:03d}",
            name=f"{base[i % len(base)].name.split()[0]} {NAMES[i // 10 % 10]} {i} Candle",
        )
        for i in range(100)
    )
    inputs = InputSignals(brief_texts=tuple(example.SPRING_BRIEF.key_messages))
    channels = list(example.CATALOG.items())[:20]
    drafts = [
        Draft(
            channel, example._draft(cid, product).fields, product, siblings=products, inputs=inputs
        )
        for product in products
        for cid, channel in channels
    ]
    rules = example.RULES
    start = time.perf_counter()
    for draft in drafts:
        check_spec(draft)
        scan_claims(draft, rules)
        check_voice(draft, rules)
        check_pii(draft)
    older = time.perf_counter() - start
    start = time.perf_counter()
    for draft in drafts:
        check_integrity(draft)
        check_substance(draft, rules)
    new = time.perf_counter() - start
    print(
        f"{len(drafts)} drafts: spec+claims+voice+pii {older:.2f} s, "
        f"integrity+substance {new:.2f} s"
    )


if __name__ == "__main__":
    main()

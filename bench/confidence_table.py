"""The confidence score on the labelled set: each group's distribution, as docs/checks.md shows.

The set is the tests' (``tests/confidence_set.py``): the builtin composer's drafts of three
candles on six channels, clean hand-made copy, one hand-made draft per failure of issue 14,
and a hostile model's drafts (one per failure) driven through the real OpenAI SDK provider
against a local fake server (loopback only). Each draft is checked as a run checks it and
scored by ``signoff.packages.confidence``.

    SIGNOFF_HOME=$(mktemp -d) .venv/bin/python bench/confidence_table.py

prints a Markdown table (group, drafts, min, median, max) and whether every bad draft scores
below every good one.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "signoff.config.settings")

import django  # noqa: E402

django.setup()

from confidence_set import hostile_drafts, samples  # noqa: E402


def main() -> None:
    scored = samples(hostile_drafts())
    groups: dict[str, list[int]] = {}
    for sample in scored:
        groups.setdefault(sample.group, []).append(sample.score)
    print("| group | drafts | min | median | max |")
    print("|---|---|---|---|---|")
    for group, scores in sorted(groups.items(), key=lambda g: (not g[0].startswith("good"), g[0])):
        median = statistics.median(scores)
        print(f"| {group} | {len(scores)} | {min(scores)} | {median:g} | {max(scores)} |")
    good = [s.score for s in scored if s.good]
    bad = [s.score for s in scored if not s.good]
    print()
    print(
        f"lowest good {min(good)}, highest bad {max(bad)}: every bad draft below every good one: "
        f"{'yes' if max(bad) < min(good) else 'NO'}"
    )


if __name__ == "__main__":
    main()

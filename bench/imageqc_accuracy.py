"""Precision and recall per image-QC family on the labelled set made by code.

Run: .venv/bin/python bench/imageqc_accuracy.py

Two labelled sets from tests/imageqc_samples.py: the synthetic one (a drawn candle jar), and
the real one: the demo packshot (src/signoff/demo/lumen-home/references/ember-packshot.png)
composited by the builtin provider (1024 and 2048 px, seeds 1-8), each master as PNG and JPEG
q85 and rendered into every cover slot of instagram_post, meta_feed_ad, email_promo and
print_poster_a2, checked with ImageQCSpec() and the product box the compositor reports; plus
defects planted on real composites (two other colourways, another label text, the lid painted
over). Renditions the renderer itself enlarged are not scored for image.upscaled (they are
enlarged; the rule is not asked to see 1.2x).

Each image is one case per family: a family's finding (warn or
block; info is not a finding) on an image planted with that family's defect is a true
positive, on any other image a false positive. Coherence is scored on the set members: the
planted outlier should be named, the others not.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from imageqc_samples import (  # noqa: E402
    BRAND_PALETTE,
    real_packshot,
    real_samples,
    samples,
    set_members,
)

from signoff.channels.image_qc import ImageQCSpec  # noqa: E402
from signoff.visuals.qc import check_image, check_set  # noqa: E402

FAMILIES = [
    "image.background",
    "image.fill",
    "image.product_match",
    "image.sharpness",
    "image.upscaled",
    "image.compression",
    "image.text_overlay",
    "image.print",
    "image.coherence",
]


def main() -> None:
    started = time.perf_counter()
    tp, fp, fn = Counter(), Counter(), Counter()
    cases = samples()
    blocked_clean = []
    for sample in cases:
        findings = check_image(
            sample.image,
            sample.spec,
            main=sample.main,
            packshot=sample.packshot,
            physical=sample.physical,
            jpeg_quantization=sample.quantization,
        )
        got = {f.family for f in findings if f.severity != "info"}
        if not sample.expect and any(f.severity == "block" for f in findings):
            blocked_clean.append(sample.name)
        for family in FAMILIES[:-1]:
            tp[family] += family in got and family in sample.expect
            fp[family] += family in got and family not in sample.expect
            fn[family] += family not in got and family in sample.expect
    members = set_members()
    findings = check_set({n: img for n, (img, _) in members.items()}, BRAND_PALETTE, ImageQCSpec())
    named = {f.message.split("'")[1] for f in findings}
    for name, (_, odd) in members.items():
        family = "image.coherence"
        tp[family] += name in named and odd
        fp[family] += name in named and not odd
        fn[family] += name not in named and odd

    real = real_samples(full=True)
    pack = real_packshot()
    for sample in real:
        findings = check_image(sample.image, ImageQCSpec(), main=False, packshot=pack,
                               product_bbox=sample.product_bbox)  # fmt: skip
        got = {f.family for f in findings if f.severity != "info"}
        if not sample.expect and any(f.severity == "block" for f in findings):
            blocked_clean.append(sample.name)
        for family in FAMILIES[:-1]:
            if family == "image.upscaled" and "/" in sample.name and "jpeg85" not in sample.name:
                continue  # renditions: some are enlarged by the renderer (story from 1024 px)
            tp[family] += family in got and family in sample.expect
            fp[family] += family in got and family not in sample.expect
            fn[family] += family not in got and family in sample.expect
    cases = cases + real
    clean = sum(1 for s in cases if not s.expect)
    print(
        f"{len(cases)} images ({len(real)} real composites and renditions; {clean} clean)"
        f" + a set of {len(members)}; "
        f"{time.perf_counter() - started:.1f} s\n"
    )
    print("| Family | Planted | TP | FP | FN | Precision | Recall |")
    print("|---|---|---|---|---|---|---|")
    for family in FAMILIES:
        planted = tp[family] + fn[family]
        found = tp[family] + fp[family]
        precision = f"{tp[family] / found:.2f}" if found else "n/a"
        recall = f"{tp[family] / planted:.2f}" if planted else "n/a"
        print(
            f"| {family} | {planted} | {tp[family]} | {fp[family]} | {fn[family]} |"
            f" {precision} | {recall} |"
        )
    print(f"\nclean images with a blocking finding: {blocked_clean or 'none'}")


if __name__ == "__main__":
    main()

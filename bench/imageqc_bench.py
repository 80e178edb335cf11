"""Cost of the pixel QC: every rule on a 2,000 x 2,000 JPEG vs Pillow decoding it, and peak
memory checking a 12,000 x 12,000 master.

Run: .venv/bin/python bench/imageqc_bench.py [--skip-12k]

Targets (issue #12): all rules on a 2,000 px JPEG cost at most 4x its Pillow decode; a
12,000 px master is checked with peak memory under 3x its decoded size. Every rule runs: white
background, fill, product match against the packshot, sharpness, upscaling, compression, text
overlay on every image, and the print rules (A2). The packshot is prepared once per packshot
object (a brief checks many images against one), so its one-off cost is printed apart, and
so is the first image's (it also makes the packshot's search templates for its size).
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "tests"))

from imageqc_samples import jpeg, main_image, packshot, scene, scene_box  # noqa: E402
from PIL import Image  # noqa: E402

from signoff.channels.catalog import load_catalog  # noqa: E402
from signoff.channels.spec import PrintSpec  # noqa: E402
from signoff.visuals.qc import check_image  # noqa: E402
from signoff.visuals.qc import locate as qc_locate  # noqa: E402
from signoff.visuals.qc import match as qc_match  # noqa: E402
from signoff.visuals.qc import run as qc_run  # noqa: E402

A2 = PrintSpec(width_mm=420, height_mm=594, min_ppi=150)
RUNS = 9


def _spec():
    amazon = load_catalog()["amazon_us_pdp"].images.qc
    return amazon.model_copy(
        update={"text_overlay": amazon.text_overlay.model_copy(update={"applies": "all"})}
    )


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _median_ms(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def bench_2000() -> None:
    pack = packshot()
    spec = _spec()
    on_scene = jpeg(scene(pack), 90)
    cases = {
        "main image on white": (jpeg(main_image(pack), 92), None),
        "product on a scene (searched)": (on_scene, None),
        "product on a scene (product_bbox given)": (on_scene, scene_box(pack)),
    }
    qc_run._REFERENCES.clear()
    start = time.perf_counter()
    qc_run._prepare(pack)
    prep = (time.perf_counter() - start) * 1000
    print(f"packshot preparation (once per packshot, 3,000 px): {prep:.0f} ms\n")
    print(
        "| 2,000 x 2,000 JPEG | Pillow decode | all rules | ratio | decode + rules"
        " | first image of the packshot |"
    )
    print("|---|---|---|---|---|---|")
    for label, (img, box) in cases.items():
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        data = buf.getvalue()
        decoded = _decode(data)
        # The first image checked against a packshot also makes the packshot's templates (per
        # size, kept for the next images); the table's medians are the images after it.
        qc_match._SIZED.clear()
        qc_locate._TEMPLATES.clear()
        start = time.perf_counter()
        check_image(decoded, spec, main=True, packshot=pack, physical=A2, product_bbox=box)
        first = (time.perf_counter() - start) * 1000
        decode_ms, rules_ms = [], []
        for _ in range(RUNS):  # interleaved, so load on the machine hits both alike
            decode_ms.append(_median_ms(lambda data=data: _decode(data), 1))
            rules_ms.append(
                _median_ms(
                    lambda img=decoded, box=box: check_image(
                        img, spec, main=True, packshot=pack, physical=A2, product_bbox=box
                    ),
                    1,
                )
            )
        d, r = statistics.median(decode_ms), statistics.median(rules_ms)
        print(
            f"| {label} | {d:.0f} ms | {r:.0f} ms | {r / d:.1f}x | {(d + r) / d:.1f}x"
            f" | {first:.0f} ms |"
        )


CHILD = """
import resource, sys, time
sys.path.insert(0, {tests!r})
from PIL import Image
Image.MAX_IMAGE_PIXELS = None
from imageqc_samples import packshot
from signoff.channels.spec import PrintSpec
from signoff.visuals.qc import check_image
import bench_spec
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
pack = packshot()
base = rss()
img = Image.open({path!r}); img.load()
after_decode = rss()
start = time.perf_counter()
findings = check_image(img, bench_spec.spec(), main=True, packshot=pack,
                       physical=PrintSpec(width_mm=420, height_mm=594, min_ppi=150))
took = time.perf_counter() - start
peak = rss()
print(base, after_decode, peak, took, len(findings))
"""


def bench_12k() -> None:
    side = 12_000
    decoded_mb = side * side * 3 / 2**20
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "master.jpg")
        # Built in a child so this process's own peak does not count.
        subprocess.run(
            [sys.executable, "-c", (
                "import sys; sys.path.insert(0, {!r})\n"
                "from PIL import Image\n"
                "from imageqc_samples import main_image, packshot\n"
                "main_image(packshot(), side=3000).resize((12000, 12000), Image.BICUBIC)"
                ".save({!r}, quality=90)\n"
            ).format(str(HERE / "tests"), path)],
            check=True,
        )  # fmt: skip
        Path(tmp, "bench_spec.py").write_text(
            "from signoff.channels.catalog import load_catalog\n"
            "def spec():\n"
            "    a = load_catalog()['amazon_us_pdp'].images.qc\n"
            "    return a.model_copy(update={'text_overlay':"
            " a.text_overlay.model_copy(update={'applies': 'all'})})\n"
        )
        env = {**os.environ, "PYTHONPATH": tmp}
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(tests=str(HERE / "tests"), path=path)],
            check=True, capture_output=True, text=True, env=env,
        ).stdout.split()  # fmt: skip
    base, after_decode, peak, took, count = (float(v) for v in out)
    print(f"\n12,000 x 12,000 JPEG master (decoded RGB {decoded_mb:.0f} MiB)")
    print(f"  process before decode      {base:7.0f} MiB (Python, numpy, OpenCV, skimage)")
    print(f"  peak after decode          {after_decode:7.0f} MiB")
    print(f"  peak after all rules       {peak:7.0f} MiB ({took:.1f} s, {count:.0f} findings)")
    print(f"  added by the rules         {peak - after_decode:7.0f} MiB")
    print(f"  peak / decoded size        {peak / decoded_mb:7.2f}x  (target < 3x)")
    print(f"  (peak - baseline) / decoded {(peak - base) / decoded_mb:6.2f}x")


if __name__ == "__main__":
    bench_2000()
    if "--skip-12k" not in sys.argv:
        bench_12k()

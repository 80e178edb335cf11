"""Benchmark channel renditions against the fastest bare decode + resize + encode.

Target (issue #11): rendering every slot of N packages with ``renditions.render_all`` costs at
most 1.5x a bare Pillow pipeline making the same outputs (JPEG draft decode, one resize per
slot, encode at the slot's format and quality, no cut-out, no metadata, no byte-limit loop);
and a 12,000 x 12,000 master renders with peak memory under 3x its decoded size.

    python bench/render_bench.py                     # 2,000 packages, 24 masters
    python bench/render_bench.py --packages 200 --masters 12
    python bench/render_bench.py --skip-memory
    python bench/render_bench.py --only-memory

A package is one SKU's master x one catalog channel: all of that channel's slots. Half the
masters are packshots on white (JPEG, as photographers deliver them), half are builtin
compositor scenes (PNG, as the provider returns them); a scene's ``pad_white`` slot is made
from the SKU's packshot in the product, so scene packages render only their ``cover`` slots.
The three pipelines (Signoff, bare Pillow, and pyvips when ``import pyvips`` works, e.g. from
``pip install pyvips pyvips-binary``) run over the same jobs in the same process, one after
the other. Peak memory of the 12k master is measured in a child process from /proc (VmHWM,
reset through /proc/self/clear_refs) around ``render_all`` alone.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

from signoff.channels.catalog import load_catalog
from signoff.channels.spec import ImageSlot
from signoff.visuals.compositor import compose_scene, compose_white, plan_framing
from signoff.visuals.cutout import cut_out
from signoff.visuals.providers.port import COMPOSITE_SYNTHETIC
from signoff.visuals.renditions import REDUCING_GAP, RenditionError, render_all

PALETTE = ("#2B2A28", "#C9A27E", "#EFE6DA", "#8A5A3B")


def _packshot() -> Image.Image:
    shot = Path(__file__).resolve().parents[2] / "shared/examples/lumen-home/references"
    if (shot / "ember-packshot.png").exists():
        return Image.open(shot / "ember-packshot.png").convert("RGB")
    img = Image.new("RGB", (2000, 2000), "white")
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((430, 300, 1570, 1880), radius=110, fill=(60, 60, 62))
    draw.rectangle((640, 880, 1360, 1410), fill=(242, 238, 230))
    return img


def make_masters(count: int, side: int) -> list[tuple[bytes, tuple | None]]:
    """(file bytes, product bbox) per master: white JPEG packshots and PNG scenes."""
    cut = cut_out(_packshot())
    masters = []
    for i in range(count):
        if i % 2 == 0:
            img, params = compose_white(cut, (side, side), 0.80 + 0.01 * (i % 8))
            out = io.BytesIO()
            img.save(out, "JPEG", quality=95)
        else:
            framing = plan_framing(i, negative_space=i % 4 == 1)
            img, params = compose_scene(cut, (side, side), PALETTE, framing, i)
            out = io.BytesIO()
            img.save(out, "PNG", compress_level=3)
        masters.append((out.getvalue(), tuple(params["product_box"])))
    return masters


def make_jobs(masters, packages: int) -> list[tuple[int, list[ImageSlot]]]:
    channels = [spec for spec in load_catalog().values() if spec.images and spec.images.slots]
    jobs = []
    for n in range(packages):
        index = n % len(masters)
        # Walk channels at a different pace than masters so every pair occurs.
        spec = channels[(n // len(masters) + n) % len(channels)]
        slots = list(spec.images.slots)
        if index % 2 == 1:
            slots = [s for s in slots if s.fit == "cover"]
        if slots:
            jobs.append((index, slots))
    return jobs


def signoff_job(data: bytes, bbox, slots: list[ImageSlot]) -> tuple[int, int]:  # noqa: ANN001
    out = render_all(data, slots, product_bbox=bbox, digital_source_type=COMPOSITE_SYNTHETIC)
    refused = sum(1 for result in out.values() if isinstance(result, RenditionError))
    return len(out) - refused, refused


def _bare_encode(img: Image.Image, slot: ImageSlot) -> bytes:
    out = io.BytesIO()
    if slot.format == "tiff":
        img.save(out, "TIFF", compression="tiff_lzw")
    elif slot.format == "png":
        img.save(out, "PNG", compress_level=6)
    else:
        img.save(out, slot.format.upper(), quality=slot.quality)
    return out.getvalue()


def bare_job(data: bytes, bbox, slots: list[ImageSlot]) -> None:  # noqa: ANN001
    """Decode once (JPEG draft to the largest slot), centre-crop or fit, encode."""
    img = Image.open(io.BytesIO(data))
    longest = max(max(s.width_px, s.height_px) for s in slots)
    img.draft("RGB", (longest, longest))
    img = img.convert("RGB")
    for slot in slots:
        sw, sh = slot.width_px, slot.height_px
        if slot.fit == "cover":
            ratio = sw / sh
            w, h = img.size
            ww, wh = (h * ratio, h) if w / h > ratio else (w, w / ratio)
            box = ((w - ww) / 2, (h - wh) / 2, (w + ww) / 2, (h + wh) / 2)
            out = img.resize((sw, sh), Image.Resampling.LANCZOS, box=box,
                             reducing_gap=REDUCING_GAP)  # fmt: skip
        else:
            side = round((slot.fill or 0.85) * max(sw, sh))
            part = img.resize((side, side), Image.Resampling.LANCZOS,
                              reducing_gap=REDUCING_GAP)  # fmt: skip
            out = Image.new("RGB", (sw, sh), "white")
            out.paste(part, ((sw - side) // 2, (sh - side) // 2))
        _bare_encode(out, slot)


def _vips():  # noqa: ANN202
    try:
        import pyvips
    except (ImportError, OSError):
        return None
    return pyvips


def vips_job(data: bytes, bbox, slots: list[ImageSlot]) -> None:  # noqa: ANN001
    pyvips = _vips()
    for slot in slots:
        sw, sh = slot.width_px, slot.height_px
        if slot.fit == "cover":
            out = pyvips.Image.thumbnail_buffer(data, sw, height=sh, crop="centre")
        else:
            side = round((slot.fill or 0.85) * max(sw, sh))
            out = pyvips.Image.thumbnail_buffer(data, side, height=side)
            out = out.gravity("centre", sw, sh, extend="background", background=[255] * 3)
        if slot.format == "tiff":
            out.write_to_buffer(".tif[compression=lzw]")
        else:
            out.write_to_buffer(f".jpg[Q={slot.quality}]")


def run_all(masters, jobs) -> dict:  # noqa: ANN001
    """Time the pipelines job by job, in rotating order, so a busy machine slows all alike."""
    pipelines = {"bare": bare_job, "signoff": signoff_job}
    if _vips() is not None:
        pipelines["vips"] = vips_job
    totals = dict.fromkeys(pipelines, 0.0)
    made = refused = 0
    names = list(pipelines)
    for n, (index, slots) in enumerate(jobs):
        data, bbox = masters[index]
        for name in names[n % len(names) :] + names[: n % len(names)]:
            started = time.perf_counter()
            result = pipelines[name](data, bbox, slots)
            totals[name] += time.perf_counter() - started
            if name == "signoff":
                made, refused = made + result[0], refused + result[1]
    return totals | {"made": made, "refused": refused}


_MEMORY_CHILD = r"""
import io, json, sys, time
from PIL import Image
from signoff.channels.catalog import load_catalog
from signoff.visuals.renditions import render_all

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
data = open(sys.argv[1], "rb").read()
bbox = tuple(json.loads(sys.argv[2]))
slots = [s for spec in load_catalog().values() if spec.images for s in spec.images.slots]
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS")
started = time.perf_counter()
out = render_all(data, slots, product_bbox=bbox, max_pixels=200_000_000)
seconds = time.perf_counter() - started
peak = status("VmHWM")
made = sum(1 for v in out.values() if not isinstance(v, Exception))
print(json.dumps({"before": before, "peak": peak, "seconds": seconds, "made": made,
                  "slots": len(out)}))
"""

_MAKE_12K = r"""
import sys
from PIL import Image, ImageDraw
side = 12000
img = Image.new("RGB", (side, side), "white")
draw = ImageDraw.Draw(img)
draw.rounded_rectangle((3400, 1600, 8600, 10400), radius=600, fill=(60, 60, 62))
draw.rectangle((4200, 5000, 7800, 7400), fill=(242, 238, 230))
for i in range(40):  # some detail so the file is not trivially small
    draw.line((4400, 5200 + i * 50, 7600, 5200 + i * 50), fill=(40, 48, 44), width=8)
img.save(sys.argv[1] + ".jpg", "JPEG", quality=92)
img.save(sys.argv[1] + ".png", "PNG", compress_level=1)
"""


def memory_12k(workdir: Path) -> list[dict]:
    base = workdir / "master12k"
    if not (base.with_suffix(".jpg").exists() and base.with_suffix(".png").exists()):
        subprocess.run([sys.executable, "-c", _MAKE_12K, str(base)], check=True)
    decoded = 12000 * 12000 * 3
    bbox = json.dumps([3400, 1600, 5201, 8801])
    rows = []
    for suffix in (".jpg", ".png"):
        path = base.with_suffix(suffix)
        done = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, str(path), bbox],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        growth = row["peak"] - row["before"]
        row |= {
            "master": path.name,
            "file_mb": path.stat().st_size / 1e6,
            "decoded_mb": decoded / 1e6,
            "peak_growth_mb": growth / 1e6,
            "x_decoded": growth / decoded,
        }
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=2000)
    parser.add_argument("--masters", type=int, default=24)
    parser.add_argument("--master-size", type=int, default=2400)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/signoff-render-bench"))
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--only-memory", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if not args.only_memory:
        masters = make_masters(args.masters, args.master_size)
        jobs = make_jobs(masters, args.packages)
        renders = sum(len(slots) for _, slots in jobs)
        print(f"{len(jobs)} packages, {renders} renditions from {len(masters)} masters "
              f"({args.master_size} px; JPEG on white / PNG scenes)")  # fmt: skip
        totals = run_all(masters, jobs)
        bare, ours = totals["bare"], totals["signoff"]
        print(
            f"  bare Pillow (draft+resize+encode): {bare:8.1f} s  {1000 * bare / renders:6.1f} ms"
        )
        print(f"  signoff render_all               : {ours:8.1f} s  {1000 * ours / renders:6.1f} ms"
              f"  ({totals['made']} made, {totals['refused']} refused)")  # fmt: skip
        print(f"  ratio signoff / bare Pillow      : {ours / bare:8.2f}x  (target <= 1.5x)")
        if "vips" not in totals:
            print("  pyvips                           : not installed, skipped")
        else:
            vips = totals["vips"]
            print(f"  pyvips thumbnail+encode          : {vips:8.1f} s  "
                  f"{1000 * vips / renders:6.1f} ms")  # fmt: skip
            print(f"  ratio signoff / pyvips           : {ours / vips:8.2f}x")
    if not args.skip_memory:
        for row in memory_12k(args.workdir):
            print(
                f"  12k x 12k {row['master']} ({row['file_mb']:.0f} MB file): "
                f"{row['made']}/{row['slots']} slots in {row['seconds']:.1f} s, peak growth "
                f"{row['peak_growth_mb']:.0f} MB = {row['x_decoded']:.2f}x the "
                f"{row['decoded_mb']:.0f} MB decoded size (target < 3x)"
            )


if __name__ == "__main__":
    main()

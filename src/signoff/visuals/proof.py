"""A proof sheet (PDF) for one image: what a printer or an art director checks before sign-off.

Page 1: the image fit to the page, with its pixel size, its physical size and effective ppi
where the channel prints, the flagged regions boxed, and the findings listed. Page 2: 100 %
crops of the four corners, the centre, the product's label and the least sharp regions, each
named, so resolution, edges and artefacts show as they will at print size. Pure: Pillow and
numpy, no Django.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from signoff.channels.spec import PrintSpec
from signoff.visuals.qc.findings import ImageFinding

PAGE = (1240, 1754)  # A4 portrait at 150 dpi
MARGIN = 60
CROP = 300  # a 100 % crop's side in pixels
INK = (34, 38, 36)
MUTED = (110, 114, 112)
FLAG = (200, 40, 40)


@dataclass(frozen=True, slots=True)
class Crop:
    name: str
    box: tuple[int, int, int, int]  # x, y, w, h in the image


def crops(image: Image.Image, product_bbox: Sequence[int] | None = None) -> list[Crop]:
    """The regions shown at 100 %: corners, centre, label, and the two least sharp tiles."""
    w, h = image.size
    side = min(CROP, w, h)
    out = [
        Crop("top left", (0, 0, side, side)),
        Crop("top right", (w - side, 0, side, side)),
        Crop("bottom left", (0, h - side, side, side)),
        Crop("bottom right", (w - side, h - side, side, side)),
        Crop("centre", ((w - side) // 2, (h - side) // 2, side, side)),
    ]
    if product_bbox:
        x, y, bw, bh = product_bbox
        cx, cy = x + bw // 2, y + bh // 2  # a label sits near the middle of the product
        out.append(
            Crop(
                "label",
                (_clamp(cx - side // 2, w - side), _clamp(cy - side // 2, h - side), side, side),
            )
        )
    out += [Crop(f"least sharp {i}", box) for i, box in enumerate(_least_sharp(image, side), 1)]
    return out


def _clamp(value: int, high: int) -> int:
    return max(0, min(value, high))


def _least_sharp(image: Image.Image, side: int, count: int = 2) -> list[tuple[int, int, int, int]]:
    """Tiles with detail (not flat background) whose Laplacian variance is lowest."""
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    h, w = gray.shape
    scored = []
    for y in range(0, max(1, h - side + 1), side):
        for x in range(0, max(1, w - side + 1), side):
            tile = gray[y : y + side, x : x + side]
            if tile.std() < 8:  # flat: nothing to be sharp or blurred
                continue
            lap = cv2.Laplacian(tile, cv2.CV_32F)
            scored.append((float(lap.var()), (x, y, side, side)))
    return [box for _, box in sorted(scored)[:count]]


def proof_pdf(
    image: Image.Image,
    *,
    title: str,
    findings: Sequence[ImageFinding],
    physical: PrintSpec | None = None,
    product_bbox: Sequence[int] | None = None,
) -> bytes:
    """Return the proof sheet as PDF bytes."""
    image = image.convert("RGB")
    first = _overview(image, title, findings, physical)
    second = _crops_page(image, crops(image, product_bbox), findings)
    buffer = io.BytesIO()
    first.save(buffer, format="PDF", resolution=150.0, save_all=True, append_images=[second])
    return buffer.getvalue()


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _overview(
    image: Image.Image, title: str, findings: Sequence[ImageFinding], physical: PrintSpec | None
) -> Image.Image:
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    shown_title = title if len(title) <= 60 else title[:28] + "..." + title[-29:]
    draw.text((MARGIN, MARGIN), shown_title, fill=INK, font=_font(34))
    w, h = image.size
    lines = [f"{w} x {h} px"]
    if physical is not None:
        ppi_w = w / (physical.width_mm / 25.4)
        ppi_h = h / (physical.height_mm / 25.4)
        lines.append(
            f"printed at {physical.width_mm:g} x {physical.height_mm:g} mm: "
            f"{min(ppi_w, ppi_h):.0f} ppi effective (needs {physical.min_ppi})"
        )
    draw.text((MARGIN, MARGIN + 50), "   ".join(lines), fill=MUTED, font=_font(22))
    box_w, box_h = PAGE[0] - 2 * MARGIN, 1000
    scale = min(box_w / w, box_h / h)
    shown = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    left, top = MARGIN + (box_w - shown.width) // 2, MARGIN + 110
    page.paste(shown, (left, top))
    draw.rectangle((left - 1, top - 1, left + shown.width, top + shown.height), outline=MUTED)
    for finding in findings:
        if finding.bbox:
            x, y, bw, bh = finding.bbox
            draw.rectangle(
                (
                    left + x * scale,
                    top + y * scale,
                    left + (x + bw) * scale,
                    top + (y + bh) * scale,
                ),
                outline=FLAG,
                width=3,
            )
    y = top + shown.height + 40
    font = _font(20)
    if not findings:
        draw.text((MARGIN, y), "No findings.", fill=INK, font=font)
    for finding in findings:
        if y > PAGE[1] - MARGIN:
            draw.text((MARGIN, y), "... more findings in the JSON report", fill=MUTED, font=font)
            break
        colour = FLAG if finding.severity == "block" else INK
        text = f"{finding.severity.upper():<5} {finding.rule_id}: {finding.message}"
        for part in _wrap(text, 100):
            draw.text((MARGIN, y), part, fill=colour, font=font)
            y += 28
    return page


def _crops_page(
    image: Image.Image, regions: list[Crop], findings: Sequence[ImageFinding]
) -> Image.Image:
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    draw.text((MARGIN, MARGIN), "100 % crops", fill=INK, font=_font(34))
    cols, gap = 3, 40
    cell = (PAGE[0] - 2 * MARGIN - (cols - 1) * gap) // cols
    for i, region in enumerate(regions[:12]):
        x0 = MARGIN + (i % cols) * (cell + gap)
        y0 = MARGIN + 70 + (i // cols) * (cell + 70)
        x, y, w, h = region.box
        tile = image.crop((x, y, x + w, y + h))
        if tile.width > cell or tile.height > cell:  # shown at 100 % where it fits the cell
            tile = tile.crop((0, 0, min(cell, tile.width), min(cell, tile.height)))
        page.paste(tile, (x0, y0))
        flagged = any(f.bbox and _overlaps(f.bbox, region.box) for f in findings)
        draw.rectangle(
            (x0 - 1, y0 - 1, x0 + tile.width, y0 + tile.height),
            outline=FLAG if flagged else MUTED,
            width=3 if flagged else 1,
        )
        label = f"{region.name} ({x}, {y})" + ("  flagged" if flagged else "")
        draw.text(
            (x0, y0 + tile.height + 8), label, fill=FLAG if flagged else MUTED, font=_font(18)
        )
    return page


def _overlaps(a: Sequence[int], b: Sequence[int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = "  " + word
        else:
            line = f"{line} {word}".strip() if line else word
    return [*lines, line] if line else lines

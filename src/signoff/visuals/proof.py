"""A proof sheet for one image: what a printer or an art director checks before sign-off.

``layout`` computes what the sheet shows: the image's physical size and effective ppi where the
channel prints, 100 % crops of the four corners, the centre, the product's label and the least
sharp regions, and the flagged regions. ``proof_pdf`` draws it on two pages (the fitted image
with the boxes and findings, then the crops); the web proof page renders the same layout. Pure:
Pillow and numpy, no Django.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from signoff.channels.spec import ImageSpec, PrintSpec
from signoff.visuals.qc.findings import BBox, ImageFinding

PAGE = (1240, 1754)  # A4 portrait at 150 dpi
MARGIN = 60
CROP = 300  # a 100 % crop's side in pixels
INK = (34, 38, 36)
MUTED = (110, 114, 112)
FLAG = (200, 40, 40)
MM_PER_INCH = 25.4


@dataclass(frozen=True, slots=True)
class Crop:
    name: str
    box: tuple[int, int, int, int]  # x, y, w, h in the image
    flagged: bool = False  # a finding's region overlaps it


@dataclass(frozen=True, slots=True)
class PrintSize:
    """The whole image as it prints: its size at ``ppi``, and what the channel asks for."""

    width_mm: float
    height_mm: float
    ppi: float  # effective: image pixels per printed inch
    min_ppi: int
    trim_mm: tuple[float, float] | None = None  # the finished size, cut from the image
    bleed_mm: float = 0.0  # per side, beyond the trim

    @property
    def width_in(self) -> float:
        return self.width_mm / MM_PER_INCH

    @property
    def height_in(self) -> float:
        return self.height_mm / MM_PER_INCH

    @property
    def enough(self) -> bool:
        # Compared as shown (whole ppi): a slot sized for 150 ppi measures 149.99 on one axis.
        return round(self.ppi) >= self.min_ppi

    def describe(self) -> str:
        """One line for the sheet: size, effective ppi and what print needs."""
        trim = ""
        if self.trim_mm is not None:
            trim = f", trim {self.trim_mm[0]:g} x {self.trim_mm[1]:g} mm"
            trim += f" + {self.bleed_mm:g} mm bleed" if self.bleed_mm else ""
        return (
            f"printed {self.width_mm:.0f} x {self.height_mm:.0f} mm{trim}: "
            f"{self.ppi:.0f} ppi effective (needs {self.min_ppi})"
        )


def printed_at(size: tuple[int, int], physical: PrintSpec, bleed_mm: float = 0.0) -> PrintSize:
    """The image scaled to cover the trim plus bleed (the smaller axis' ppi, as ``image.print``
    measures it); the image's other axis runs past the trim and is cut."""
    w, h = size
    cover_w = (physical.width_mm + 2 * bleed_mm) / MM_PER_INCH
    cover_h = (physical.height_mm + 2 * bleed_mm) / MM_PER_INCH
    ppi = min(w / cover_w, h / cover_h)
    return PrintSize(
        width_mm=w / ppi * MM_PER_INCH,
        height_mm=h / ppi * MM_PER_INCH,
        ppi=ppi,
        min_ppi=physical.min_ppi,
        trim_mm=(physical.width_mm, physical.height_mm),
        bleed_mm=bleed_mm,
    )


def printed_at_dpi(
    size: tuple[int, int], dpi: int, min_ppi: int, trim_mm: tuple[float, float] | None = None
) -> PrintSize:
    """The image printed at the dpi written into its file (a print slot's rendition)."""
    w, h = size
    width_mm, height_mm = w / dpi * MM_PER_INCH, h / dpi * MM_PER_INCH
    bleed = 0.0
    if trim_mm is not None:
        bleed = max(0.0, min(width_mm - trim_mm[0], height_mm - trim_mm[1]) / 2)
    return PrintSize(width_mm, height_mm, float(dpi), min_ppi, trim_mm, round(bleed, 1))


def prints(images: ImageSpec | None) -> bool:
    """Whether a channel prints: a physical size, or a slot with a dpi written into its file."""
    return images is not None and (
        images.print is not None or any(slot.dpi for slot in images.slots)
    )


def print_size(
    images: ImageSpec | None, size: tuple[int, int], slot_id: str | None = None
) -> PrintSize | None:
    """How an image of ``size`` prints on a channel: a slot's rendition at its own dpi, any
    other image scaled to cover the channel's print size plus bleed. None where it never prints.
    """
    if images is None:
        return None
    physical = images.print
    bleed = images.qc.print.bleed_mm if images.qc is not None else 0.0
    slot = images.slot(slot_id) if slot_id else None
    if slot is not None and slot.dpi:
        trim = (physical.width_mm, physical.height_mm) if physical else None
        return printed_at_dpi(size, slot.dpi, physical.min_ppi if physical else slot.dpi, trim)
    if physical is not None:
        return printed_at(size, physical, bleed)
    slot = next((s for s in images.slots if s.dpi), None)
    if slot is None or slot.dpi is None:
        return None
    area = PrintSpec(
        width_mm=slot.width_px / slot.dpi * MM_PER_INCH,
        height_mm=slot.height_px / slot.dpi * MM_PER_INCH,
        min_ppi=slot.dpi,
    )
    return printed_at(size, area)


@dataclass(frozen=True, slots=True)
class Region:
    """A finding's region, numbered as the finding is in the list."""

    number: int
    severity: str
    box: BBox


@dataclass(frozen=True, slots=True)
class ProofLayout:
    size: tuple[int, int]
    printed: PrintSize | None
    crops: tuple[Crop, ...]
    regions: tuple[Region, ...]
    findings: tuple[ImageFinding, ...]


def layout(
    image: Image.Image,
    *,
    findings: Sequence[ImageFinding],
    printed: PrintSize | None = None,
    product_bbox: Sequence[int] | None = None,
) -> ProofLayout:
    """What the proof shows of ``image``: the PDF and the web page both draw this."""
    regions = tuple(
        Region(n, f.severity, f.bbox) for n, f in enumerate(findings, 1) if f.bbox is not None
    )
    shown = tuple(
        Crop(c.name, c.box, any(_overlaps(r.box, c.box) for r in regions))
        for c in crops(image, product_bbox)
    )
    return ProofLayout(image.size, printed, shown, regions, tuple(findings))


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
    # On a small image a least sharp tile can be a corner already shown: show another.
    shown = {c.box for c in out}
    fresh = [box for box in _least_sharp(image, side, count=len(shown) + 2) if box not in shown]
    out += [Crop(f"least sharp {i}", box) for i, box in enumerate(fresh[:2], 1)]
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
    printed: PrintSize | None = None,
    product_bbox: Sequence[int] | None = None,
) -> bytes:
    """Return the proof sheet as PDF bytes."""
    sheet = layout(image, findings=findings, printed=printed, product_bbox=product_bbox)
    return sheet_pdf(image, title=title, sheet=sheet)


def sheet_pdf(image: Image.Image, *, title: str, sheet: ProofLayout) -> bytes:
    """Draw a layout already computed (the web page's) as the two-page PDF."""
    image = image.convert("RGB")
    first = _overview(image, title, sheet)
    second = _crops_page(image, sheet)
    buffer = io.BytesIO()
    first.save(buffer, format="PDF", resolution=150.0, save_all=True, append_images=[second])
    return buffer.getvalue()


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _overview(image: Image.Image, title: str, sheet: ProofLayout) -> Image.Image:
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    shown_title = title if len(title) <= 60 else title[:28] + "..." + title[-29:]
    draw.text((MARGIN, MARGIN), shown_title, fill=INK, font=_font(34))
    w, h = image.size
    lines = [f"{w} x {h} px"]
    if sheet.printed is not None:
        lines.append(sheet.printed.describe())
    for i, line in enumerate(lines):  # one line each: the print size can run long
        draw.text((MARGIN, MARGIN + 50 + 30 * i), line, fill=MUTED, font=_font(22))
    box_w, box_h = PAGE[0] - 2 * MARGIN, 1000
    scale = min(box_w / w, box_h / h)
    shown = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    left, top = MARGIN + (box_w - shown.width) // 2, MARGIN + 130
    page.paste(shown, (left, top))
    draw.rectangle((left - 1, top - 1, left + shown.width, top + shown.height), outline=MUTED)
    for region in sheet.regions:
        x, y, bw, bh = region.box
        corner = (left + x * scale, top + y * scale)
        draw.rectangle(
            (*corner, left + (x + bw) * scale, top + (y + bh) * scale), outline=FLAG, width=3
        )
        # The finding's number, as listed below, just inside the box's corner.
        draw.text((corner[0] + 5, corner[1] + 2), str(region.number), fill=FLAG, font=_font(20))
    y = top + shown.height + 40
    font = _font(20)
    if not sheet.findings:
        draw.text((MARGIN, y), "No findings.", fill=INK, font=font)
    for n, finding in enumerate(sheet.findings, 1):
        if y > PAGE[1] - MARGIN:
            draw.text((MARGIN, y), "... more findings in the JSON report", fill=MUTED, font=font)
            break
        colour = FLAG if finding.severity == "block" else INK
        text = f"{n}. {finding.severity.upper():<5} {finding.rule_id}: {finding.message}"
        parts = [(0, part, colour) for part in _wrap(text, 100)]
        if finding.suggested_fix:
            parts += [(30, part, MUTED) for part in _wrap(f"fix: {finding.suggested_fix}", 96)]
        for indent, part, fill in parts:
            draw.text((MARGIN + indent, y), part, fill=fill, font=font)
            y += 28
    return page


def _crops_page(image: Image.Image, sheet: ProofLayout) -> Image.Image:
    page = Image.new("RGB", PAGE, "white")
    draw = ImageDraw.Draw(page)
    draw.text((MARGIN, MARGIN), "100 % crops", fill=INK, font=_font(34))
    cols, gap = 3, 40
    cell = (PAGE[0] - 2 * MARGIN - (cols - 1) * gap) // cols
    for i, region in enumerate(sheet.crops[:12]):
        x0 = MARGIN + (i % cols) * (cell + gap)
        y0 = MARGIN + 70 + (i // cols) * (cell + 70)
        x, y, w, h = region.box
        tile = image.crop((x, y, x + w, y + h))
        if tile.width > cell or tile.height > cell:  # shown at 100 % where it fits the cell
            tile = tile.crop((0, 0, min(cell, tile.width), min(cell, tile.height)))
        page.paste(tile, (x0, y0))
        flagged = region.flagged
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

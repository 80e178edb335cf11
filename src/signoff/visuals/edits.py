"""Pure, predictable edits of an image version: new background, upscale, crop.

Each edit returns ``(image, parameters, note)``: the new image, what was done as data (stored
with the new version) and one sentence for the reviewer. An edit that cannot be done cleanly is
refused with ``EditRefused`` saying why; nothing is half-applied.
"""

from __future__ import annotations

import re
from typing import Any

from PIL import Image

from signoff.visuals.cutout import CutoutRefused, cut_out

MAX_UPSCALED_PIXELS = 100_000_000
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

EditOutcome = tuple[Image.Image, dict[str, Any], str]


class EditRefused(ValueError):
    """The edit cannot be made; the message says why and what would work."""


def replace_background(img: Image.Image, background: str) -> EditOutcome:
    """Put the product on ``"white"``, ``"transparent"`` or a ``"#RRGGBB"`` colour."""
    target = background.strip()
    if target.lower() == "white":
        colour: tuple[int, int, int] | None = (255, 255, 255)
    elif target.lower() == "transparent":
        colour = None
    elif _HEX.match(target):
        colour = tuple(int(target[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[assignment]
    else:
        raise EditRefused(
            f"background {background!r} is not understood; use white, transparent or #RRGGBB"
        )
    try:
        cut = cut_out(img)
    except CutoutRefused as exc:
        raise EditRefused(f"the product cannot be cut out cleanly: {exc.reason}") from exc
    if colour is None:
        result = cut.rgba
        label = "transparent"
    else:
        result = Image.new("RGB", cut.rgba.size, colour)
        result.paste(cut.rgba, mask=cut.rgba.getchannel("A"))
        label = "#{:02X}{:02X}{:02X}".format(*colour)
    how = "its alpha channel" if cut.background is None else "a cut-out from its plain backdrop"
    parameters = {
        "background": label,
        "method": "alpha" if cut.background is None else "cutout",
        "product_bbox": list(cut.bbox),
    }
    return result, parameters, f"background replaced with {label} using {how}"


def upscale(img: Image.Image, factor: int) -> EditOutcome:
    """Enlarge by 2 or 4 with Lanczos; marked as upscaled because channels refuse hidden ones."""
    if factor not in (2, 4):
        raise EditRefused(f"upscale factor {factor} is not offered; use 2 or 4")
    width, height = img.size
    if width * height * factor * factor > MAX_UPSCALED_PIXELS:
        raise EditRefused(
            f"{width} x {height} upscaled {factor}x would be {width * factor} x "
            f"{height * factor}, more than {MAX_UPSCALED_PIXELS:,} pixels"
        )
    result = img.resize((width * factor, height * factor), Image.Resampling.LANCZOS)
    parameters = {"upscaled": True, "method": "lanczos", "factor": factor,
                  "from": [width, height], "to": list(result.size)}  # fmt: skip
    note = (
        f"upscaled {factor}x with Lanczos to {result.width} x {result.height}; no detail is "
        "added, and Google refuses upscaled images"
    )
    return result, parameters, note


def crop(img: Image.Image, x: int, y: int, w: int, h: int) -> EditOutcome:
    """Cut the (x, y, w, h) window out of ``img``; the window must lie inside it."""
    width, height = img.size
    values = (x, y, w, h)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise EditRefused(f"crop {values} must be whole pixels (x, y, width, height)")
    if w <= 0 or h <= 0:
        raise EditRefused(f"crop size {w} x {h} is empty; width and height must be positive")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise EditRefused(
            f"crop {w} x {h} at ({x}, {y}) goes outside the {width} x {height} image; "
            f"x + width must be at most {width} and y + height at most {height}"
        )
    result = img.crop((x, y, x + w, y + h))
    parameters = {"x": x, "y": y, "width": w, "height": h, "from": [width, height]}
    return result, parameters, f"cropped to {w} x {h} at ({x}, {y}) from {width} x {height}"

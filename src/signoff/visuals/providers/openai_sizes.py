"""The OpenAI Images API's sizes and prices (pure: no SDK, no Django).

Which sizes a model accepts and the nearest one to a size asked for; what one image costs from
the price table in ``SIGNOFF_IMAGE_PRICES``.
"""

from __future__ import annotations

import math
from typing import Any

# The sizes every GPT image model accepts.
STANDARD_SIZES: tuple[tuple[int, int], ...] = ((1024, 1024), (1536, 1024), (1024, 1536))
# gpt-image-2 and later accept any WxH: both sides divisible by 16, ratio within 1:3..3:1,
# at most 3840 on a side and 3840x2160 in pixels; above 2560x1440 is experimental, so that
# is the default ceiling (``max_api_pixels`` raises it).
SIZE_STEP = 16
MAX_RATIO = 3.0
MAX_EDGE = 3840
MAX_API_PIXELS = 3840 * 2160
DEFAULT_API_PIXELS = 2560 * 1440
# OpenAI's image guide gives gpt-image-2 a floor of 655,360 pixels (1024x640): smaller asks
# are sent at the same ratio and this many pixels; the services resize the result.
MIN_API_PIXELS = 655_360


# ---------------------------------------------------------------- sizes (pure)


def takes_any_size(model: str) -> bool:
    """True for the models that accept any WxH (gpt-image-2 and its successors)."""
    return model.startswith("gpt-image-2")


def takes_input_fidelity(model: str) -> bool:
    """True where ``input_fidelity="high"`` is accepted (gpt-image-1.5; not -mini, not 2.x)."""
    return model.startswith("gpt-image-1.5")


def size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def api_size(
    model: str, asked: tuple[int, int], *, max_pixels: int = DEFAULT_API_PIXELS
) -> tuple[int, int]:
    """Return the size to send for ``asked`` (width, height): one the API accepts.

    Models with fixed sizes get the standard size nearest in aspect ratio. gpt-image-2 and
    later get ``asked`` itself when it is valid, otherwise the same ratio (clamped to 1:3..3:1)
    at a pixel count within [MIN_API_PIXELS, max_pixels], both sides on the 16-pixel grid.
    """
    width, height = asked
    if width < 1 or height < 1:
        raise ValueError(f"an image size must be positive, got {width}x{height}")
    if not takes_any_size(model):
        ratio = math.log(width / height)
        return min(STANDARD_SIZES, key=lambda s: abs(math.log(s[0] / s[1]) - ratio))
    max_pixels = max(MIN_API_PIXELS, min(max_pixels, MAX_API_PIXELS))
    if _valid_any_size(width, height, max_pixels):
        return width, height
    ratio = min(max(width / height, 1 / MAX_RATIO), MAX_RATIO)
    pixels = min(max(width * height, MIN_API_PIXELS), max_pixels)
    w = math.sqrt(pixels * ratio)
    h = w / ratio
    shrink = min(1.0, MAX_EDGE / max(w, h))
    w, h = w * shrink, h * shrink
    # The grid points around (w, h) that the API accepts; the one nearest the asked ratio,
    # then the larger. Rounding one way only could break the pixel floor or the 3:1 limit.
    candidates = [
        (cw, ch)
        for cw in (_down16(w), _down16(w) + SIZE_STEP)
        for ch in (_down16(h), _down16(h) + SIZE_STEP)
        if _valid_any_size(cw, ch, max_pixels)
    ]
    if not candidates:  # cannot happen within the limits above; fail loudly if it does
        raise ValueError(f"no size the API accepts near {width}x{height}")
    return min(candidates, key=lambda s: (abs(math.log(s[0] / s[1] / ratio)), -s[0] * s[1]))


def _down16(value: float) -> int:
    return max(SIZE_STEP, int(value) // SIZE_STEP * SIZE_STEP)


def _valid_any_size(width: int, height: int, max_pixels: int) -> bool:
    return (
        width % SIZE_STEP == 0
        and height % SIZE_STEP == 0
        and max(width, height) <= MAX_EDGE
        and max(width / height, height / width) <= MAX_RATIO
        and MIN_API_PIXELS <= width * height <= max_pixels
    )


# ---------------------------------------------------------------- prices (pure)


def image_price(prices: dict[str, Any], model: str, size: str, quality: str | None) -> float | None:
    """The price of one image, or None when the table has none for this model and size.

    ``prices[model]["per_image"]`` is a number (every size) or a table keyed by
    ``"WxH:quality"``, ``"WxH"`` and ``"default"``, looked up in that order.
    """
    entry = prices.get(model)
    if not isinstance(entry, dict) or "per_image" not in entry:
        return None
    table = entry["per_image"]
    if isinstance(table, int | float):
        return float(table)
    if not isinstance(table, dict):
        return None
    keys = ([f"{size}:{quality}"] if quality else []) + [size, "default"]
    for key in keys:
        if key in table:
            return float(table[key])
    return None

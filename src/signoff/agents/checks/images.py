"""The channel-spec check for images: presence, format, pixel size, shape, background, print ppi.

Only the header is read for most rules; pixels are decoded only for the white-background rule,
and then at reduced scale, because a 2,000-package run may check the same large files often.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from signoff.agents.context import CheckFinding, Severity
from signoff.channels.spec import ChannelSpec, ImageSpec, PrintSpec, RuleSource, parse_ratio

AGENT = "spec_checker"

MM_PER_INCH = 25.4
WHITE_MIN_MEAN = 250  # each of R, G and B, averaged over the border
BORDER_FRACTION = 0.02
_BACKGROUND_WORK_SIDE = 512  # decode big images at about this size for the background test

# Pillow's format names -> the spec's names.
_FORMATS = {
    "JPEG": "jpeg",
    "MPO": "jpeg",  # multi-picture JPEG from cameras; a JPEG to every channel
    "PNG": "png",
    "GIF": "gif",
    "WEBP": "webp",
    "TIFF": "tiff",
    "BMP": "bmp",
}
_EXTENSIONS = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".gif": "gif",
    ".webp": "webp",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
}


def check_images(channel: ChannelSpec, images: Sequence[Path]) -> list[CheckFinding]:
    """Return findings on a package's images against the channel's image rules.

    ``images[0]`` is the main image: that is the one a "white" background rule applies to,
    unless the spec says ``background_applies_to: all``.
    """
    rules = channel.images
    if rules is None:
        return []
    out: list[CheckFinding] = []
    _check_count(channel, rules, len(images), out)
    for index, path in enumerate(images):
        _check_image(channel, rules, index, Path(path), out)
    return out


def _check_count(
    channel: ChannelSpec, rules: ImageSpec, count: int, out: list[CheckFinding]
) -> None:
    if count < rules.min_count:
        out.append(
            _finding(
                "spec.image_count",
                Severity.BLOCK,
                f"{_plural(count)}; {channel.name} needs at least {rules.min_count}"
                f"{_cite(rules.cite('min_count'))}",
                "images",
            )
        )
    elif rules.recommended_min_count is not None and count < rules.recommended_min_count:
        out.append(
            _finding(
                "spec.image_recommended_count",
                Severity.WARN,
                f"{_plural(count)}; {channel.name} recommends at least"
                f" {rules.recommended_min_count}{_cite(rules.cite('recommended_min_count'))}",
                "images",
            )
        )
    if rules.max_count is not None and count > rules.max_count:
        out.append(
            _finding(
                "spec.image_count",
                Severity.BLOCK,
                f"{_plural(count)}; {channel.name} accepts at most {rules.max_count}"
                f"{_cite(rules.cite('max_count'))}",
                "images",
            )
        )


def _plural(count: int) -> str:
    return f"the package has {count} image" + ("" if count == 1 else "s")


def _check_image(
    channel: ChannelSpec, rules: ImageSpec, index: int, path: Path, out: list[CheckFinding]
) -> None:
    field = f"images[{index}]"
    name = channel.name
    if not path.is_file():
        out.append(
            _finding("spec.image_missing", Severity.BLOCK, f"{field}: {path.name} not found", field)
        )
        return
    try:
        with Image.open(path) as image:
            fmt = _FORMATS.get(image.format or "", (image.format or "unknown").lower())
            width, height = image.size
            needs_background = rules.background == "white" and (
                index == 0 or rules.background_applies_to == "all"
            )
            border = _border_mean(image) if needs_background else None
    except (UnidentifiedImageError, OSError) as exc:
        out.append(
            _finding(
                "spec.image_format",
                Severity.BLOCK,
                f"{field}: {path.name} is not a readable image ({exc.__class__.__name__})",
                field,
            )
        )
        return

    label = f"{field} ({path.name})"
    if fmt not in rules.formats:
        out.append(
            _finding(
                "spec.image_format",
                Severity.BLOCK,
                f"{label} is {fmt.upper()}; {name} accepts"
                f" {', '.join(f.upper() for f in rules.formats)}{_cite(rules.cite('formats'))}",
                field,
            )
        )
    named_as = _EXTENSIONS.get(path.suffix.lower())
    if named_as is not None and named_as != fmt:
        out.append(
            _finding(
                "spec.image_format",
                Severity.WARN,
                f"{label} is named {path.suffix} but holds {fmt.upper()}; channels that read the"
                " type from the name will reject or misread it",
                field,
            )
        )
    _check_pixels(name, rules, label, field, width, height, out)
    _check_shape(name, rules, label, field, width, height, out)
    if rules.max_file_mb is not None:
        size_mb = path.stat().st_size / 1_000_000
        if size_mb > rules.max_file_mb:
            out.append(
                _finding(
                    "spec.image_file_size",
                    Severity.BLOCK,
                    f"{label} is {size_mb:.1f} MB; {name} accepts at most {rules.max_file_mb:g} MB"
                    f"{_cite(rules.cite('max_file_mb'))}",
                    field,
                )
            )
    if rules.print is not None:
        finding = _check_print(name, rules.print, rules, label, field, width, height)
        if finding is not None:
            out.append(finding)
    if border is not None and min(border) < WHITE_MIN_MEAN:
        rgb = ", ".join(f"{value:.0f}" for value in border)
        out.append(
            _finding(
                "spec.image_background",
                Severity.BLOCK,
                f"{label} does not have a white background: its outer {BORDER_FRACTION:.0%}"
                f" averages RGB {rgb}; {name} needs pure white (255, 255, 255)"
                f"{_cite(rules.cite('background'))}",
                field,
            )
        )


def _check_pixels(
    name: str,
    rules: ImageSpec,
    label: str,
    field: str,
    width: int,
    height: int,
    out: list[CheckFinding],
) -> None:
    size = f"{label} is {width} x {height} px"
    too_small = []
    if rules.min_width_px is not None and width < rules.min_width_px:
        too_small.append(("min_width_px", f"at least {rules.min_width_px} px wide"))
    if rules.min_height_px is not None and height < rules.min_height_px:
        too_small.append(("min_height_px", f"at least {rules.min_height_px} px high"))
    long_side = max(width, height)
    if rules.min_long_side_px is not None and long_side < rules.min_long_side_px:
        too_small.append(
            ("min_long_side_px", f"at least {rules.min_long_side_px} px on the longest side")
        )
    if too_small:
        wants = " and ".join(text for _, text in too_small)
        out.append(
            _finding(
                "spec.image_min_size",
                Severity.BLOCK,
                f"{size}; {name} needs {wants}{_cite(rules.cite(too_small[0][0]))}",
                field,
            )
        )
    elif rules.recommended_min_long_side_px is not None:
        if long_side < rules.recommended_min_long_side_px:
            out.append(
                _finding(
                    "spec.image_recommended_size",
                    Severity.WARN,
                    f"{size}; {name} recommends at least {rules.recommended_min_long_side_px} px"
                    f" on the longest side{_cite(rules.cite('recommended_min_long_side_px'))}",
                    field,
                )
            )
    if rules.max_long_side_px is not None and long_side > rules.max_long_side_px:
        out.append(
            _finding(
                "spec.image_max_size",
                Severity.BLOCK,
                f"{size}; {name} accepts at most {rules.max_long_side_px} px on the longest side"
                f"{_cite(rules.cite('max_long_side_px'))}",
                field,
            )
        )
    if rules.max_megapixels is not None and width * height > rules.max_megapixels * 1_000_000:
        out.append(
            _finding(
                "spec.image_max_size",
                Severity.BLOCK,
                f"{size} ({width * height / 1_000_000:.1f} MP); {name} accepts at most"
                f" {rules.max_megapixels:g} MP{_cite(rules.cite('max_megapixels'))}",
                field,
            )
        )


def _check_shape(
    name: str,
    rules: ImageSpec,
    label: str,
    field: str,
    width: int,
    height: int,
    out: list[CheckFinding],
) -> None:
    aspect = width / height
    # A hair of slack so "1010 x 1000 within 1%" is not lost to float rounding.
    tolerance = rules.aspect_tolerance + 1e-9
    shape = f"{label} is {width} x {height} px (aspect {aspect:.3g}:1)"
    if rules.aspect_ratios:
        targets = [parse_ratio(ratio) or 0.0 for ratio in rules.aspect_ratios]
        if not any(abs(aspect / target - 1) <= tolerance for target in targets if target):
            out.append(
                _finding(
                    "spec.image_aspect",
                    Severity.BLOCK,
                    f"{shape}; {name} needs {' or '.join(rules.aspect_ratios)}"
                    f" (within {rules.aspect_tolerance:.0%}){_cite(rules.cite('aspect_ratios'))}",
                    field,
                )
            )
    low, high = rules.min_aspect, rules.max_aspect
    too_tall = low is not None and aspect < low * (1 - tolerance)
    too_wide = high is not None and aspect > high * (1 + tolerance)
    if too_tall or too_wide:
        bounds = f"between {low:g}:1 and {high:g}:1" if low and high else ""
        if not bounds:
            bounds = f"at least {low:g}:1" if too_tall else f"at most {high:g}:1"
        out.append(
            _finding(
                "spec.image_aspect",
                Severity.BLOCK,
                f"{shape}; {name} needs width:height {bounds}"
                f"{_cite(rules.cite('min_aspect' if too_tall else 'max_aspect'))}",
                field,
            )
        )


def print_pixels_needed(print_spec: PrintSpec) -> tuple[int, int]:
    """Return the (width, height) in pixels that reach ``min_ppi`` at the printed size."""
    return (
        math.ceil(print_spec.width_mm / MM_PER_INCH * print_spec.min_ppi),
        math.ceil(print_spec.height_mm / MM_PER_INCH * print_spec.min_ppi),
    )


def effective_ppi(print_spec: PrintSpec, width: int, height: int) -> float:
    """Return the ppi an image of ``width`` x ``height`` px reaches when printed to size.

    The lower of the two sides decides: that is the one that will look soft.
    """
    return min(
        width / (print_spec.width_mm / MM_PER_INCH),
        height / (print_spec.height_mm / MM_PER_INCH),
    )


def _check_print(
    name: str,
    print_spec: PrintSpec,
    rules: ImageSpec,
    label: str,
    field: str,
    width: int,
    height: int,
) -> CheckFinding | None:
    ppi = effective_ppi(print_spec, width, height)
    if ppi >= print_spec.min_ppi:
        return None
    need_width, need_height = print_pixels_needed(print_spec)
    return _finding(
        "spec.image_print_ppi",
        Severity.BLOCK,
        f"{label} is {width} x {height} px: {ppi:.0f} ppi effective at"
        f" {print_spec.width_mm:g} x {print_spec.height_mm:g} mm; {name} needs"
        f" {print_spec.min_ppi} ppi, i.e. at least {need_width} x {need_height} px"
        f"{_cite(rules.cite('print'))}",
        field,
    )


def _border_mean(image: Image.Image) -> tuple[float, float, float]:
    """Return the mean R, G, B of the outer 2% of the image; transparency counts as black.

    Transparent borders are not white on a marketplace that asks for white, so they fail.
    """
    width, height = image.size
    scale = min(width, height) // _BACKGROUND_WORK_SIDE
    if scale > 1 and image.format == "JPEG":
        image.draft("RGB", (width // scale, height // scale))  # decode at reduced size
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        rgb = Image.alpha_composite(black, rgba).convert("RGB")
    else:
        rgb = image.convert("RGB")
    factor = min(rgb.size) // _BACKGROUND_WORK_SIDE
    if factor > 1:
        rgb = rgb.reduce(factor)
    pixels = np.asarray(rgb, dtype=np.float64)
    rows, cols = pixels.shape[:2]
    band = max(1, round(min(rows, cols) * BORDER_FRACTION))
    strips = [
        pixels[:band].reshape(-1, 3),
        pixels[rows - band :].reshape(-1, 3),
        pixels[band : rows - band, :band].reshape(-1, 3),
        pixels[band : rows - band, cols - band :].reshape(-1, 3),
    ]
    border = np.concatenate(strips)
    red, green, blue = border.mean(axis=0)
    return float(red), float(green), float(blue)


def _cite(source: RuleSource | None) -> str:
    if source is None:
        return ""
    if source.confidence and source.confidence != "confirmed_official":
        return f" (source: {source.source}, {source.confidence})"
    return f" (source: {source.source})"


def _finding(rule_id: str, severity: Severity, message: str, field: str) -> CheckFinding:
    return CheckFinding(
        agent=AGENT, rule_id=rule_id, severity=severity, message=message, field=field
    )

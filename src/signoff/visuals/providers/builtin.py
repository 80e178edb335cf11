"""The builtin image provider: composites the SKU's real packshot onto brand-palette scenes.

Offline, free and reproducible (option i uses ``seed + i``). It never draws a product: with no
packshot it refuses, and when the packshot cannot be cut out cleanly it refuses with the reason
rather than compositing a torn edge.
"""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image, PngImagePlugin

from signoff.visuals.compositor import (
    DEFAULT_PALETTE,
    compose_scene,
    compose_white,
    parse_hex,
    plan_framing,
)
from signoff.visuals.cutout import Cutout, CutoutRefused, cut_out
from signoff.visuals.imaging import (
    ImageInputError,
    decode_image,
    digital_source_xmp,
    srgb_icc_bytes,
)
from signoff.visuals.providers.port import (
    COMPOSITE_SYNTHETIC,
    GeneratedImage,
    ImageEditRequest,
    ImageInput,
    ImageRefused,
    ImageRequest,
    ImageResult,
)

MAX_INPUT_PIXELS = 100_000_000
MIN_SIDE, MAX_SIDE = 64, 8192
DEFAULT_FILL = 0.85


def encode_png(image: Image.Image, digital_source_type: str) -> bytes:
    """PNG with the sRGB profile and the IPTC DigitalSourceType in its XMP (iTXt) chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", digital_source_xmp(digital_source_type).decode())
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, icc_profile=srgb_icc_bytes(), compress_level=3)
    return out.getvalue()


def _palette(colours: tuple[str, ...]) -> tuple[str, ...]:
    valid = []
    for colour in colours:
        try:
            r, g, b = parse_hex(colour)
        except ValueError:
            continue  # a malformed brand colour is skipped, not fatal
        valid.append(f"#{r:02X}{g:02X}{b:02X}")
    return tuple(valid) if len(valid) >= 2 else DEFAULT_PALETTE


def _tint(reference: ImageInput) -> tuple[np.ndarray, np.ndarray] | None:
    """Average colours of a brand example's upper (wall) and lower (surface) parts."""
    try:
        decoded = decode_image(
            reference.data, "brand example", max_pixels=MAX_INPUT_PIXELS, keep_alpha=False,
            draft_size=(128, 128),
        )  # fmt: skip
    except ImageInputError:
        return None
    small = np.asarray(decoded.image.convert("RGB").resize((64, 64)), np.float32) / 255
    return small[:32].reshape(-1, 3).mean(axis=0), small[44:].reshape(-1, 3).mean(axis=0)


class BuiltinImageProvider:
    name = "builtin"
    model = "compositor-1"

    def _cut(self, packshot: ImageInput) -> Cutout:
        label = f"packshot {packshot.sha256[:12]}"
        try:
            decoded = decode_image(packshot.data, label, max_pixels=MAX_INPUT_PIXELS)
        except ImageInputError as exc:
            raise ImageRefused(f"the packshot cannot be read: {exc}") from exc
        try:
            return cut_out(decoded.image)
        except CutoutRefused as exc:
            raise ImageRefused(f"the packshot cannot be cut out cleanly: {exc.reason}") from exc

    def generate(self, request: ImageRequest) -> ImageResult:
        started = time.perf_counter()
        packshots = [p for p in request.packshots if p.kind == "packshot"] or list(
            request.packshots
        )
        if not packshots:
            raise ImageRefused(
                f"no packshot for {request.sku}: the builtin compositor only places the real "
                "product and never draws one it has not been given"
            )
        width, height = request.size
        if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
            raise ImageRefused(f"size {width} x {height} is outside {MIN_SIDE}..{MAX_SIDE} px")
        packshot = packshots[0]
        cut = self._cut(packshot)
        palette = _palette(request.direction.palette)
        examples = [r for r in request.references if r.kind == "brand_example"]
        tint = _tint(examples[0]) if examples else None
        images = []
        for i in range(max(request.n, 1)):
            seed = request.seed + i
            if request.purpose == "main_white":
                image, params = compose_white(cut, request.size, request.fill or DEFAULT_FILL)
            else:
                framing = plan_framing(seed, negative_space=request.direction.negative_space)
                image, params = compose_scene(cut, request.size, palette, framing, seed, tint)
                if tint is not None:
                    params["tinted_by"] = examples[0].sha256
            images.append(
                GeneratedImage(
                    data=encode_png(image, COMPOSITE_SYNTHETIC),
                    seed=seed,
                    parameters=params | {"packshot": packshot.sha256},
                    digital_source_type=COMPOSITE_SYNTHETIC,
                )
            )
        if request.purpose == "main_white":
            scene = (
                f"centred on RGB 255 white at {request.fill or DEFAULT_FILL:.0%} fill, no shadow"
            )
        else:
            scene = (
                f"scene from palette [{', '.join(palette)}]; surface and horizon, side light, "
                "contact and cast shadow; framing varied per option"
                + ("; top third kept clear for copy" if request.direction.negative_space else "")
                + (f"; tinted by brand example {examples[0].sha256[:12]}" if tint else "")
            )
        last_seed = request.seed + len(images) - 1
        recipe = (
            f"builtin compositor: packshot {packshot.sha256[:12]} cut out "
            f"(bbox {list(cut.bbox)}); {scene}; seeds {request.seed}..{last_seed}"
        )
        return ImageResult(
            images=images,
            provider=self.name,
            model=self.model,
            prompt=recipe,
            parameters={
                "size": list(request.size),
                "purpose": request.purpose,
                "n": len(images),
                "palette": list(palette),
                "packshot": packshot.sha256,
                "cutout_bbox": list(cut.bbox),
            },
            cost=0.0,
            latency_ms=(time.perf_counter() - started) * 1000,
        )

    def edit(self, request: ImageEditRequest) -> ImageResult:
        raise ImageRefused(
            "the builtin compositor does not edit by prompt; use background, upscale or crop"
        )

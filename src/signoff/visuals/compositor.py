"""Place a cut-out product on a scene built from the brand's palette, offline and reproducibly.

A scene is a wall and a table surface meeting at a horizon, lit from one side (a gradient, a
soft pool of light and a vignette), with a contact shadow and a cast shadow under the product.
The product's own pixels are pasted unchanged (only resized): the compositor never repaints a
label. Everything random comes from the option's seed, so the same seed gives the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image

from signoff.visuals.cutout import Cutout

# Warm neutrals for a brand without a palette: a scene must still look considered.
DEFAULT_PALETTE = ("#2B2A28", "#C9A27E", "#EFE6DA", "#8A5A3B")
POSITIONS = ("centre", "left", "right")
CAMERAS = {"eye level": 0.60, "high": 0.50, "low": 0.68}  # horizon as a share of the height
PAIRINGS = ("light wall, warm table", "warm wall, deep table", "dark wall, lit", "tone on tone")


@dataclass(frozen=True, slots=True)
class Framing:
    position: str
    scale: float  # product height as a share of the frame's height
    camera: str
    horizon: float
    light: str  # the side the key light comes from
    pairing: str
    negative_space: bool


def parse_hex(colour: str) -> tuple[int, int, int]:
    value = colour.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    if len(value) != 6:
        raise ValueError(f"colour {colour!r} is not #RRGGBB")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.2126, 0.7152, 0.0722]))


def _mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return a * (1 - t) + b * t


def scene_colours(palette: tuple[str, ...], pairing: str) -> tuple[np.ndarray, np.ndarray]:
    """(wall, surface) colours in 0..1 for a pairing, derived from the brand palette."""
    cols = [np.array(parse_hex(c), np.float32) / 255 for c in (palette or DEFAULT_PALETTE)]
    cols.sort(key=_luma)
    dark, light = cols[0], cols[-1]
    mids = cols[1:-1] or [_mix(dark, light, 0.5)]
    # The most saturated mid reads as the brand's warm accent.
    accent = max(mids, key=lambda c: float(c.max() - c.min()))
    deep = min(mids, key=_luma) if len(mids) > 1 else _mix(accent, dark, 0.4)
    white = np.ones(3, np.float32)
    if pairing == "warm wall, deep table":
        return _mix(accent, light, 0.45), _mix(deep, accent, 0.25)
    if pairing == "dark wall, lit":
        return _mix(dark, accent, 0.18), _mix(deep, dark, 0.35)
    if pairing == "tone on tone":
        return _mix(light, white, 0.35), _mix(light, accent, 0.28)
    return _mix(light, white, 0.15), _mix(accent, light, 0.30)


def plan_framing(seed: int, *, negative_space: bool) -> Framing:
    """The framing of one option: consecutive seeds always differ in position and pairing."""
    rng = random.Random(seed)
    position = POSITIONS[seed % len(POSITIONS)]
    pairing = PAIRINGS[seed % len(PAIRINGS)]
    camera = list(CAMERAS)[(seed // len(POSITIONS)) % len(CAMERAS)]
    horizon = CAMERAS[camera] + rng.uniform(-0.02, 0.02)
    if position == "centre":
        light = "left" if (seed // 2) % 2 == 0 else "right"
    else:
        light = "right" if position == "left" else "left"  # lit from the open side
    scale = rng.uniform(0.42, 0.50) if position == "centre" else rng.uniform(0.38, 0.46)
    if negative_space:
        horizon = max(horizon, 0.60)
        scale = min(scale, 0.40)
    return Framing(position, round(scale, 3), camera, round(horizon, 3), light, pairing,
                   negative_space)  # fmt: skip


def _placement(cut: Cutout, size: tuple[int, int], framing: Framing) -> tuple[int, int, int, int]:
    """Product box (x, y, w, h) in the frame for a framing."""
    width, height = size
    _, _, bw, bh = cut.bbox
    ph = framing.scale * height
    pw = ph * bw / bh
    # A wide product (or a tall frame) is scaled by the frame's width instead, leaving air at
    # the sides; an off-centre product needs more of it.
    max_w = (0.62 if framing.position == "centre" else 0.44) * width
    if pw > max_w:
        pw = max_w
        ph = pw * bh / bw
    horizon = framing.horizon * height
    base = horizon + (height - horizon) * (0.52 if framing.negative_space else 0.45)
    if framing.negative_space:
        # Keep the top third (plus a margin) clear for copy.
        ph = min(ph, base - 0.38 * height)
        pw = ph * bw / bh
    centre_x = {"centre": 0.5, "left": 0.31, "right": 0.69}[framing.position] * width
    x = int(round(min(max(centre_x - pw / 2, 0.06 * width), 0.94 * width - pw)))
    w, h = max(int(round(pw)), 1), max(int(round(ph)), 1)
    y = int(round(base - h))
    return x, y, w, h


def _product_layer(cut: Cutout, w: int, h: int) -> Image.Image:
    x, y, bw, bh = cut.bbox
    # Pillow resizes RGBA premultiplied, so the edge keeps no background fringe.
    return cut.rgba.crop((x, y, x + bw, y + bh)).resize((w, h), Image.Resampling.LANCZOS)


def _background(
    size: tuple[int, int],
    wall: np.ndarray,
    surface: np.ndarray,
    framing: Framing,
    focus_x: float,
) -> np.ndarray:
    width, height = size
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    xx = np.linspace(0, 1, width, dtype=np.float32)[None, :]
    hz = framing.horizon
    side = -1.0 if framing.light == "left" else 1.0
    side_grad = 1.0 + 0.07 * (0.5 - xx) * -side * 2  # brighter toward the light
    # A pool of light on the wall behind the product, pushed toward the light.
    px, py = focus_x / width - side * 0.12, hz - 0.22
    aspect = width / height
    pool = np.exp(-(((xx - px) * aspect) ** 2 + (yy - py) ** 2) / (2 * 0.30**2))
    glow = 0.55 if framing.pairing == "dark wall, lit" else 0.20  # separates a dark product
    wall_shade = (0.86 + glow * pool) * side_grad
    # Ambient occlusion where wall meets table, so the table does not look like a pasted band.
    ao = 1.0 - 0.10 * np.exp(-np.clip(hz - yy, 0, None) / 0.035)
    wall_img = wall[None, None, :] * (wall_shade * ao)[..., None]
    depth = np.clip((yy - hz) / max(1 - hz, 1e-3), 0, 1)
    # The far table picks up the wall's light; the front falls off toward the camera.
    far = _mix(surface, wall, 0.12)
    surf_base = (
        far[None, None, :] * (1 - depth[..., None]) + surface[None, None, :] * depth[..., None]
    )
    surf_shade = (1.04 - 0.16 * depth + 0.08 * pool) * side_grad
    surf_img = surf_base * surf_shade[..., None]
    # A soft (2 px) horizon so it is not aliased.
    blend = np.clip((yy - hz) * height / 2.0 + 0.5, 0, 1)[..., None]
    img = wall_img * (1 - blend) + surf_img * blend
    rx, ry = (xx - 0.5) * 2, (yy - 0.5) * 2
    vignette = 1.0 - 0.20 * np.clip((rx**2 + ry**2) / 2, 0, 1) ** 1.4
    return img * vignette[..., None]


def _shadows(
    canvas: np.ndarray, layer: Image.Image, box: tuple[int, int, int, int], framing: Framing
) -> np.ndarray:
    """Darken ``canvas`` (float, 0..1) with a contact shadow and a cast shadow."""
    height, width = canvas.shape[:2]
    # Shadows are all blur, so they are built at a third of the size and scaled up: the same
    # look for a tenth of the time.
    k = 3
    lh, lw = -(-height // k), -(-width // k)
    x, y, w, h = (v / k for v in box)
    small = layer.getchannel("A").resize((max(round(w), 1), max(round(h), 1)))
    alpha = np.asarray(small, np.float32) / 255
    away = 1.0 if framing.light == "left" else -1.0
    base = y + h
    # Cast shadow: the silhouette squashed onto the table and skewed away from the light.
    squash, shear = 0.16, 0.42 * away
    matrix = np.float32([[1, -shear, x + shear * h], [0, squash, base - squash * h]])
    cast = cv2.warpAffine(alpha, matrix, (lw, lh), flags=cv2.INTER_LINEAR)
    length = max(h * squash, 1.0)
    dist = np.clip((base - np.arange(lh, dtype=np.float32)) / length, 0, 1)[:, None]
    near = cv2.GaussianBlur(cast, (0, 0), max(w * 0.015, 0.7))
    soft = cv2.GaussianBlur(cast, (0, 0), max(w * 0.07, 1.0))
    cast = (near * (1 - dist) + soft * dist) * (1 - 0.8 * dist) * 0.38
    # Contact shadow: a thin dark ellipse where the product meets the table, and a wider
    # ambient one around it.
    cx = round(x + w / 2 + away * w * 0.04)
    contact = np.zeros((lh, lw), np.float32)
    cv2.ellipse(contact, (cx, round(base - h * 0.004)), (round(w * 0.50), max(round(w * 0.045), 1)),
                0, 0, 360, 1.0, -1, cv2.LINE_AA)  # fmt: skip
    contact = cv2.GaussianBlur(contact, (0, 0), max(w * 0.025, 0.7)) * 0.55
    ambient = np.zeros((lh, lw), np.float32)
    cv2.ellipse(ambient, (cx, round(base)), (round(w * 0.75), max(round(w * 0.12), 1)),
                0, 0, 360, 1.0, -1, cv2.LINE_AA)  # fmt: skip
    ambient = cv2.GaussianBlur(ambient, (0, 0), max(w * 0.09, 1.0)) * 0.22
    shade = 1 - (1 - cast) * (1 - contact) * (1 - ambient)
    shade = cv2.resize(shade, (lw * k, lh * k), interpolation=cv2.INTER_CUBIC)[:height, :width]
    tint = np.array([0.78, 0.80, 0.84], np.float32)  # shadows run slightly cool-warm neutral
    return canvas * (1 - np.clip(shade, 0, 1)[..., None] * tint)


def compose_scene(
    cut: Cutout,
    size: tuple[int, int],
    palette: tuple[str, ...],
    framing: Framing,
    seed: int,
    tint: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Image.Image, dict]:
    """Render one scene option; returns the image and the parameters that describe it."""
    wall, surface = scene_colours(palette, framing.pairing)
    if tint is not None:
        wall, surface = _mix(wall, tint[0], 0.2), _mix(surface, tint[1], 0.2)
    box = _placement(cut, size, framing)
    x, y, w, h = box
    layer = _product_layer(cut, w, h)
    canvas = _background(size, wall, surface, framing, x + w / 2)
    canvas = _shadows(canvas, layer, box, framing)
    # Fine grain stops 8-bit banding in the long gradients; seeded so bytes repeat.
    grain = np.random.default_rng(seed).normal(0, 0.9, canvas.shape[:2]).astype(np.float32)
    canvas = np.clip(canvas * 255 + grain[..., None] + 0.5, 0, 255).astype(np.uint8)
    scene = Image.fromarray(canvas, "RGB").convert("RGBA")
    scene.alpha_composite(layer, (x, y))
    params = asdict(framing) | {
        "palette": [
            f"#{int(c[0] * 255):02X}{int(c[1] * 255):02X}{int(c[2] * 255):02X}"
            for c in (np.clip(wall, 0, 1), np.clip(surface, 0, 1))
        ],  # fmt: skip
        "palette_roles": ["wall", "surface"],
        "product_box": list(box),
        "shadow": f"contact + cast away from the {framing.light} light",
    }
    return scene.convert("RGB"), params


def compose_white(cut: Cutout, size: tuple[int, int], fill: float) -> tuple[Image.Image, dict]:
    """The product centred on RGB 255 white, its longest side at ``fill`` of the frame's."""
    width, height = size
    _, _, bw, bh = cut.bbox
    scale = fill * max(width, height) / max(bw, bh)
    scale = min(scale, width / bw, height / bh)  # a frame narrower than the product's shape
    w, h = max(int(round(bw * scale)), 1), max(int(round(bh * scale)), 1)
    x, y = (width - w) // 2, (height - h) // 2
    canvas = Image.new("RGBA", size, (255, 255, 255, 255))
    canvas.alpha_composite(_product_layer(cut, w, h), (x, y))
    achieved = max(w, h) / max(width, height)
    params = {
        "framing": "main image: centred on pure white, no shadow",
        "fill": round(achieved, 4),
        "requested_fill": fill,
        "product_box": [x, y, w, h],
        "background": "#FFFFFF",
    }
    return canvas.convert("RGB"), params

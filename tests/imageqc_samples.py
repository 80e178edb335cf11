"""A labelled image set for the pixel QC, made by code (no downloads).

A synthetic candle-jar packshot (amber vessel, walnut lid, cream label with text) on white;
clean main images (padded on white at 88 % fill, JPEG q92), clean scenes (the cut-out pasted
on a warm scene with a soft shadow, like the builtin compositor) and posters; then one planted
defect per image. ``expect`` names the QC families that must fire on it ("" = none).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from signoff.channels.catalog import load_catalog
from signoff.channels.image_qc import ImageQCSpec
from signoff.channels.spec import PrintSpec

AMBER = (196, 120, 52)
TEAL = (48, 128, 140)
PACK_SIDE = 3000
MAIN_SIDE = 2000


@dataclass
class Sample:
    name: str
    image: Image.Image
    spec: ImageQCSpec
    main: bool = False
    packshot: Image.Image | None = None
    physical: PrintSpec | None = None
    quantization: dict | None = None
    expect: set[str] = field(default_factory=set)  # families, e.g. {"image.fill"}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _shade(width: int, height: int, colour: tuple[int, int, int], rng) -> np.ndarray:
    """A cylinder's colour: brighter in the middle, darker at the sides, with sensor grain."""
    x = np.linspace(-1, 1, width)[None, :, None]
    light = 0.72 + 0.38 * np.cos(x * np.pi / 2.2)
    arr = np.asarray(colour, np.float32)[None, None, :] * light
    arr = np.broadcast_to(arr, (height, width, 3)) + rng.normal(0, 2.5, (height, width, 3))
    return np.clip(arr, 0, 255).astype(np.uint8)


@lru_cache(maxsize=16)
def packshot(
    colour: tuple[int, int, int] = AMBER, text: str = "LUMEN", lid: bool = True
) -> Image.Image:
    """The SKU's packshot on pure white, 3000 px square."""
    s = PACK_SIDE / 2400
    rng = np.random.default_rng(7)
    img = Image.new("RGB", (PACK_SIDE, PACK_SIDE), (255, 255, 255))
    vx0, vy0, vx1, vy1 = (int(v * s) for v in (700, 740, 1700, 2150))
    vessel = Image.fromarray(_shade(vx1 - vx0, vy1 - vy0, colour, rng))
    mask = Image.new("L", vessel.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *vessel.size), radius=int(90 * s), fill=255)
    img.paste(vessel, (vx0, vy0), mask)
    draw = ImageDraw.Draw(img)
    if lid:
        draw.rounded_rectangle(
            tuple(int(v * s) for v in (740, 520, 1660, 770)), radius=int(30 * s), fill=(92, 62, 40)
        )
        for y in range(540, 760, 24):  # wood grain
            draw.line([(int(760 * s), int(y * s)), (int(1640 * s), int(y * s))], (78, 52, 33), 3)
    lx0, ly0, lx1, ly1 = (int(v * s) for v in (860, 1150, 1540, 1760))
    draw.rectangle((lx0, ly0, lx1, ly1), fill=(242, 234, 214))
    draw.text(((lx0 + lx1) // 2, ly0 + int(120 * s)), text, (38, 34, 30), _font(int(130 * s)), "mm")
    # Detail lines: a changed label changes these too.
    lines = 5 if text == "LUMEN" else 2
    for i in range(lines):
        y = ly0 + int((260 + i * 50) * s)
        draw.line([(lx0 + int(60 * s), y), (lx1 - int(60 * s), y)], (90, 80, 70), int(8 * s))
    draw.ellipse(
        (lx0 + int(290 * s), ly1 - int(110 * s), lx0 + int(390 * s), ly1 - int(10 * s)),
        outline=(150, 60, 40) if text == "LUMEN" else (40, 90, 150),
        width=int(10 * s),
    )
    return img


_CUTOUTS: dict[int, tuple[Image.Image, Image.Image]] = {}


def _product_cutout(pack: Image.Image) -> tuple[Image.Image, Image.Image]:
    # Packshots are cached by packshot(), so their ids are stable for the session.
    if id(pack) not in _CUTOUTS:
        _CUTOUTS[id(pack)] = _cutout(pack)
    return _CUTOUTS[id(pack)]


def _cutout(pack: Image.Image) -> tuple[Image.Image, Image.Image]:
    red, green, blue = pack.split()
    darkest = ImageChops.darker(ImageChops.darker(red, green), blue)
    cut = darkest.point(lambda v: 255 if v < 250 else 0)
    box = cut.getbbox()
    # Fill the vessel's outline: the label is enclosed, so a filled polygon of rows is enough.
    m = np.asarray(cut.crop(box)) > 0
    filled = np.zeros_like(m)
    for row in range(m.shape[0]):
        cols = np.nonzero(m[row])[0]
        if cols.size:
            filled[row, cols[0] : cols[-1] + 1] = True
    return pack.crop(box), Image.fromarray(filled.astype(np.uint8) * 255)


def main_image(
    pack: Image.Image, fill: float = 0.88, side: int = MAIN_SIDE, shift: float = 0.0
) -> Image.Image:
    """pad_white: the product on pure white spanning ``fill`` of the frame's long side."""
    prod, mask = _product_cutout(pack)
    scale = fill * side / max(prod.size)
    size = (round(prod.size[0] * scale), round(prod.size[1] * scale))
    prod, mask = prod.resize(size, Image.LANCZOS), mask.resize(size, Image.LANCZOS)
    out = Image.new("RGB", (side, side), (255, 255, 255))
    x = (side - size[0]) // 2 + int(shift * side)
    out.paste(prod, (x, (side - size[1]) // 2), mask)
    return out


def scene(
    pack: Image.Image,
    size: tuple[int, int] = (2000, 2000),
    height_share: float = 0.5,
    centre: float = 0.5,
    palette: str = "warm",
    seed: int = 1,
) -> Image.Image:
    """The cut-out composited on a scene with a soft shadow, like the builtin compositor."""
    w, h = size
    rng = np.random.default_rng(seed)
    top, bottom, table = {
        "warm": ((238, 214, 188), (214, 160, 120), (168, 108, 70)),
        "cold": ((60, 80, 110), (40, 52, 80), (30, 38, 60)),
        "neon": ((20, 60, 255), (0, 220, 60), (250, 0, 200)),
    }[palette]
    # The backdrop is smooth, so draw it at a quarter size and enlarge (16x cheaper).
    sw, sh = max(1, w // 4), max(1, h // 4)
    t = np.linspace(0, 1, sh)[:, None, None]
    arr = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    arr = np.broadcast_to(arr, (sh, sw, 3)).copy()
    arr[int(sh * 0.68) :] = np.asarray(table, np.float32)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):  # bokeh
        cx, cy = rng.integers(0, sw), rng.integers(0, int(sh * 0.68))
        r = rng.integers(sw // 20, sw // 8)
        tone = tuple(min(255, c + 18) for c in top)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tone)
    img = img.filter(ImageFilter.GaussianBlur(3)).resize((w, h), Image.BILINEAR)
    # Sensor grain, sigma 2, added in C.
    tile = np.clip(rng.normal(128, 2.0, (509, 509, 3)), 0, 255).astype(np.uint8)
    reps = (h // 509 + 1, w // 509 + 1, 1)
    grain = Image.fromarray(np.ascontiguousarray(np.tile(tile, reps)[:h, :w]))
    img = ImageChops.add(img, grain, 1.0, -128)

    prod, mask = _product_cutout(pack)
    scale = height_share * h / prod.size[1]
    psize = (round(prod.size[0] * scale), round(prod.size[1] * scale))
    prod, mask = prod.resize(psize, Image.LANCZOS), mask.resize(psize, Image.LANCZOS)
    px, py = int(centre * w - psize[0] / 2), int(h * 0.8) - psize[1]
    shadow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(shadow).ellipse(
        (px - psize[0] * 0.05, py + psize[1] * 0.93, px + psize[0] * 1.25, py + psize[1] * 1.06),
        fill=120,
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(h // 80))
    img = Image.composite(Image.new("RGB", (w, h), (40, 25, 15)), img, shadow)
    img.paste(prod, (px, py), mask)
    return img


def scene_box(
    pack: Image.Image,
    size: tuple[int, int] = (2000, 2000),
    height_share: float = 0.5,
    centre: float = 0.5,
) -> tuple[int, int, int, int]:
    """Where ``scene`` pastes the product's cut-out (x, y, w, h), as a compositor knows."""
    w, h = size
    prod, _ = _product_cutout(pack)
    scale = height_share * h / prod.size[1]
    psize = (round(prod.size[0] * scale), round(prod.size[1] * scale))
    return int(centre * w - psize[0] / 2), int(h * 0.8) - psize[1], psize[0], psize[1]


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def _badge(img: Image.Image) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out)
    draw.ellipse((70, 70, 390, 390), fill=(214, 30, 40))
    draw.text((230, 230), "SALE", (255, 255, 255), _font(96), "mm")
    return out


def _watermark(img: Image.Image) -> Image.Image:
    layer = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.text(
        (img.size[0] - 60, img.size[1] - 60), "PHOTO STUDIO", (255, 255, 255, 150), _font(64), "rb"
    )
    return Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")


def _patch(img: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    out = img.copy()
    ImageDraw.Draw(out).rectangle((40, 1500, 380, 1900), fill=colour)
    return out


def poster(pack: Image.Image, px_per_mm: float, bleed_mm: float, palette: str = "warm"):
    w_mm, h_mm = 420 + 2 * bleed_mm, 594 + 2 * bleed_mm
    size = (round(w_mm * px_per_mm), round(h_mm * px_per_mm))
    return scene(pack, size=size, height_share=0.45, palette=palette)


@lru_cache(maxsize=1)
def set_members() -> dict[str, tuple[Image.Image, bool]]:
    """A brief's selected images: (image, is the planted outlier)."""
    pack = packshot()
    out = {
        f"scene_{i}": (
            jpeg(scene(pack, (1200, 1200), 0.45 + 0.03 * i, 0.4 + 0.05 * i, seed=i), 90),
            False,
        )
        for i in range(4)
    }
    out["scene_cold"] = (jpeg(scene(pack, (1200, 1200), 0.5, 0.5, "cold", seed=9), 90), True)
    return out


BRAND_PALETTE = ["#C47834", "#EED6BC", "#5C3E28", "#F2EAD6"]


@lru_cache(maxsize=1)
def samples() -> list[Sample]:
    cat = load_catalog()
    amazon = cat["amazon_us_pdp"].images.qc
    google = cat["google_merchant"].images.qc
    poster_spec = cat["print_poster_a2"].images
    a2 = poster_spec.print
    pack = packshot()
    clean_main = main_image(pack)
    clean_scene = scene(pack)
    q = jpeg(clean_scene, 20)
    out = [
        Sample("main_clean", jpeg(clean_main, 92), amazon, True, pack),
        Sample("main_clean_png", clean_main, amazon, True, pack),
        Sample("main_clean_small", jpeg(main_image(pack, side=1200), 90), amazon, True, pack),
        Sample("scene_clean", jpeg(clean_scene, 90), google, False, pack),
        Sample(
            "scene_clean_left",
            jpeg(scene(pack, height_share=0.35, centre=0.3, seed=4), 88),
            google,
            False,
            pack,
        ),
        Sample("poster_clean", jpeg(poster(pack, 160 / 25.4, 3), 92), poster_spec.qc, physical=a2),
        # Renditions downscaled from a large master, as renditions.py makes them: padded on
        # white (Google main, q90) and a cover crop (Instagram 4:5, q90).
        Sample(
            "rendition_padded", _rendition(pack, cat, "google_merchant", "main"), google, True, pack
        ),
        Sample(
            "rendition_cover",
            _rendition(scene(pack, (3000, 3000), 0.4, seed=5), cat, "instagram_post", "feed_4x5"),
            cat["instagram_post"].images.qc,
            False,
            pack,
        ),
        # Planted defects, one each.
        Sample(
            "bg_offwhite_patch",
            jpeg(_patch(clean_main, (250, 250, 247)), 92),
            amazon,
            True,
            pack,
            expect={"image.background"},
        ),
        Sample(
            "bg_almost_white",
            jpeg(_almost_white(clean_main), 92),
            amazon,
            True,
            pack,
            expect={"image.background"},
        ),
        Sample(
            "fill_low",
            jpeg(main_image(pack, fill=0.6), 92),
            amazon,
            True,
            pack,
            expect={"image.fill"},
        ),
        Sample(
            "fill_cut_edge",
            jpeg(main_image(pack, shift=0.42), 92),
            amazon,
            True,
            pack,
            expect={"image.fill"},
        ),
        Sample(
            "match_colourway",
            jpeg(main_image(packshot(TEAL)), 92),
            amazon,
            True,
            pack,
            expect={"image.product_match"},
        ),
        Sample(
            "match_colourway_scene",
            jpeg(scene(packshot(TEAL)), 90),
            google,
            False,
            pack,
            expect={"image.product_match"},
        ),
        Sample(
            "match_label",
            jpeg(main_image(packshot(text="NOCTA")), 92),
            amazon,
            True,
            pack,
            expect={"image.product_match"},
        ),
        Sample(
            "match_no_lid",
            jpeg(main_image(packshot(lid=False)), 92),
            amazon,
            True,
            pack,
            expect={"image.product_match"},
        ),
        Sample(
            "match_no_lid_scene",
            jpeg(scene(packshot(lid=False)), 90),
            google,
            False,
            pack,
            expect={"image.product_match"},
        ),
        Sample(
            "blur",
            jpeg(clean_main.filter(ImageFilter.GaussianBlur(4)), 92),
            amazon,
            True,
            pack,
            expect={"image.sharpness"},
        ),
        Sample(
            "upscaled_4x",
            jpeg(
                clean_main.resize((500, 500), Image.LANCZOS).resize((2000, 2000), Image.BICUBIC), 92
            ),
            amazon,
            True,
            pack,
            expect={"image.upscaled"},
        ),
        Sample(
            "upscaled_2x_lanczos",  # what the upscale edit makes (edits.upscale)
            jpeg(
                clean_main.resize((1000, 1000), Image.LANCZOS).resize((2000, 2000), Image.LANCZOS),
                92,
            ),
            amazon,
            True,
            pack,
            expect={"image.upscaled"},
        ),
        Sample(
            "jpeg_q20",
            q,
            google,
            False,
            pack,
            quantization=q.quantization,
            expect={"image.compression"},
        ),
        Sample(
            "badge_sale",
            jpeg(_badge(clean_main), 92),
            amazon,
            True,
            pack,
            expect={"image.text_overlay"},
        ),
        Sample(
            "watermark_scene",
            jpeg(_watermark(clean_scene), 90),
            google,
            False,
            pack,
            expect={"image.text_overlay"},
        ),
        Sample(
            "print_low_ppi",
            jpeg(poster(pack, 80 / 25.4, 3), 92),
            poster_spec.qc,
            physical=a2,
            expect={"image.print"},
        ),
        Sample(
            "print_no_bleed",
            jpeg(poster(pack, 160 / 25.4, 0), 92),
            poster_spec.qc,
            physical=a2,
            expect={"image.print"},
        ),
        Sample(
            "print_out_of_gamut",
            jpeg(poster(pack, 160 / 25.4, 3, "neon"), 92),
            poster_spec.qc,
            physical=a2,
            expect={"image.print"},
        ),
    ]
    return out


def _rendition(master: Image.Image, catalog, channel: str, slot_id: str) -> Image.Image:
    from signoff.visuals.renditions import render

    (slot,) = [slot for slot in catalog[channel].images.slots if slot.id == slot_id]
    made = render(master, slot, product_bbox=None, digital_source_type=None)
    img = Image.open(io.BytesIO(made.data))
    img.load()
    return img


def _almost_white(img: Image.Image) -> Image.Image:
    """The whole background at 252,252,250: looks white, is not RGB 255."""
    arr = np.asarray(img).copy()
    white = (arr == 255).all(axis=2)
    arr[white] = (252, 252, 250)
    return Image.fromarray(arr)


# --- Real composites: the builtin compositor and the renditions, on the demo packshot --------

REAL_PACKSHOT = (
    Path(__file__).resolve().parents[1]
    / "src/signoff/demo/lumen-home/references/ember-packshot.png"
)
REAL_PALETTE = ("#F4EFE6", "#2F3A34", "#C9A27E", "#8A9A8B")
REAL_LABEL = (644, 881, 1357, 1412)  # the cream label of the demo packshot, x0 y0 x1 y1
VESSEL = np.array([58, 58, 60], np.float32)


@dataclass
class RealSample:
    name: str
    image: Image.Image
    product_bbox: tuple[int, int, int, int]  # where the compositor / rendition put it
    expect: set[str] = field(default_factory=set)


@lru_cache(maxsize=1)
def real_packshot() -> Image.Image:
    img = Image.open(REAL_PACKSHOT)
    img.load()
    return img


def _recoloured(pack: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """The vessel in another colourway (anti-aliased edges kept, label left alone)."""
    arr = np.asarray(pack.convert("RGB"), np.float32)
    share = np.clip((255 - arr.mean(axis=2)) / (255 - VESSEL.mean()), 0, 1)[..., None]
    new = share * np.asarray(colour, np.float32) + (1 - share) * 255
    x0, y0, x1, y1 = REAL_LABEL
    new[y0:y1, x0:x1] = arr[y0:y1, x0:x1]
    return Image.fromarray(np.clip(new + 0.5, 0, 255).astype(np.uint8))


def _relabelled(pack: Image.Image) -> Image.Image:
    """Same jar, same label layout, another product's label text."""
    out = pack.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    x0, y0, x1, y1 = REAL_LABEL
    draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=(244, 239, 230))
    cx = (x0 + x1) // 2
    draw.text((cx, y0 + 70), "NOCTA GOODS", (47, 58, 52), _font(64), "mm")
    draw.text((cx, y0 + 240), "CEDAR & SMOKE", (47, 58, 52), _font(104), "mm")
    draw.text((cx, y0 + 400), "8 OZ  BEESWAX", (47, 58, 52), _font(64), "mm")
    return out


def _cover_top(img: Image.Image, box, share: float = 0.14) -> Image.Image:
    """The lid and top of the jar painted over with the wall just above the product."""
    x, y, w, h = box
    out = img.copy()
    above = img.crop((x, max(0, y - 12), x + w, max(1, y - 2))).resize((1, 1), Image.BOX)
    colour = above.getpixel((0, 0))
    ImageDraw.Draw(out).rectangle((x - 2, y - 2, x + w + 2, y + round(h * share)), fill=colour)
    return out


def _composites(pack: Image.Image, size: int, seeds: range) -> list[tuple[Image.Image, list]]:
    from signoff.visuals.imaging import sha256_of
    from signoff.visuals.providers.builtin import BuiltinImageProvider
    from signoff.visuals.providers.port import Direction, ImageInput, ImageRequest

    buf = io.BytesIO()
    pack.save(buf, "PNG")
    data = buf.getvalue()
    request = ImageRequest(
        sku="EMBER-OAK", product_name="Ember & Oak", prompt="",
        direction=Direction(palette=REAL_PALETTE, negative_space=True),
        packshots=(ImageInput(sha256_of(data), "packshot", data),),
        n=len(seeds), size=(size, size), seed=seeds.start,
    )  # fmt: skip
    out = []
    for made in BuiltinImageProvider().generate(request).images:
        img = Image.open(io.BytesIO(made.data))
        img.load()
        out.append((img.convert("RGB"), made.parameters["product_box"]))
    return out


def rendition_box(master_size, slot, box) -> tuple[int, int, int, int]:
    """The product's box in a cover rendition, from the crop window renditions.py uses."""
    from signoff.visuals.renditions import _cover_window

    wx, wy, ww, _ = _cover_window(master_size, slot.width_px / slot.height_px,
                                  tuple(float(v) for v in box))  # fmt: skip
    k = slot.width_px / ww
    x, y, w, h = box
    return round((x - wx) * k), round((y - wy) * k), round(w * k), round(h * k)


def _slots():
    cat = load_catalog()
    return [
        (channel, slot)
        for channel in ("instagram_post", "meta_feed_ad", "email_promo", "print_poster_a2")
        for slot in cat[channel].images.slots
        if slot.fit == "cover"
    ]


def _renditions(name: str, master: Image.Image, box, slots, expect) -> list[RealSample]:
    from signoff.visuals.providers.port import COMPOSITE_SYNTHETIC
    from signoff.visuals.renditions import render

    out = []
    for channel, slot in slots:
        made = render(master, slot, product_bbox=box, digital_source_type=COMPOSITE_SYNTHETIC)
        img = Image.open(io.BytesIO(made.data))
        img.load()
        out.append(RealSample(f"{name}/{channel}.{slot.id}", img,
                              rendition_box(master.size, slot, box), set(expect)))  # fmt: skip
    return out


@lru_cache(maxsize=2)
def real_samples(full: bool = True) -> list[RealSample]:
    """Masters from the builtin compositor (1024 and 2048 px, seeds 1-8 in full, fewer for the
    tests) with every cover rendition of the catalog's instagram, meta, email and print slots,
    all clean; then planted defects composited the same way: another colourway, another label
    text, the lid painted over."""
    pack = real_packshot()
    slots = _slots()
    seeds = range(1, 9) if full else range(1, 3)
    planted_seeds = range(1, 3) if full else range(1, 2)  # the tests need one per size
    out: list[RealSample] = []
    for size in (1024, 2048):
        for i, (master, box) in enumerate(_composites(pack, size, seeds)):
            name = f"real_{size}_s{seeds.start + i}"
            out.append(RealSample(name, master, tuple(box)))
            out.append(RealSample(name + "/jpeg85", jpeg(master, 85), tuple(box)))
            # The tests render every slot from one master per size; the bench from all.
            if full or i == 0:
                out += _renditions(name, master, box, slots, set())
    out.append(RealSample("real_packshot_png", pack, None))
    out.append(RealSample("real_packshot_jpeg92", jpeg(pack.convert("RGB"), 92), None))
    match = {"image.product_match"}
    defects = {
        "colourway_red": _recoloured(pack, (128, 34, 42)),
        "colourway_sage": _recoloured(pack, (120, 140, 118)),
        "label_text": _relabelled(pack),
    }
    few = [slots[0], slots[6]]  # instagram feed 4:5 and the email hero
    for label, planted in defects.items():
        for size in (1024, 2048):
            for master, box in _composites(planted, size, planted_seeds):
                name = f"real_{label}_{size}"
                out.append(RealSample(name, master, tuple(box), set(match)))
                out.append(RealSample(name + "/jpeg85", jpeg(master, 85), tuple(box), set(match)))
                out += _renditions(name, master, box, few, match)
    for size in (1024, 2048):
        for master, box in _composites(pack, size, planted_seeds):
            covered = _cover_top(master, box)
            name = f"real_lid_covered_{size}"
            out.append(RealSample(name, covered, tuple(box), set(match)))
            out += _renditions(name, covered, box, few, match)
    return out

"""Decode user and provider image files safely, saying out loud every conversion made.

Every file that enters Signoff (an upload, a provider's answer, a master to render) goes
through ``decode_image``: the size is checked from the header before any pixel is decoded, the
whole file is then decoded (a truncated file fails here, not later in a rendition), and the
result is always 8-bit sRGB (RGBA only when the alpha channel carries something). Each change
is written into ``notes`` so a reviewer can see what was done to their file.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# Formats a channel or a print shop can take as a raster; anything else Pillow happens to read
# (ICO, PSD, EPS previews...) is refused rather than half-supported.
RASTER_FORMATS = {"JPEG", "MPO", "PNG", "TIFF", "WEBP", "GIF", "BMP", "AVIF"}
EXPECTED = "a raster image (PNG, JPEG, TIFF, WebP)"

_ORIENTATION_WORDS = {
    2: "mirrored horizontally",
    3: "rotated 180°",
    4: "flipped vertically",
    5: "transposed",
    6: "rotated 90°",
    7: "transversed",
    8: "rotated 270°",
}


class ImageInputError(ValueError):
    """A file that cannot be used as an image, with what was wrong and what was expected."""

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        self.message = message
        super().__init__(f"{name}: {message}")


@dataclass(slots=True)
class Decoded:
    image: Image.Image  # RGB, or RGBA when the alpha channel is not fully opaque
    format: str
    width: int
    height: int
    notes: list[str] = field(default_factory=list)
    icc_converted: bool = False
    source_size: tuple[int, int] = (0, 0)  # the file's own size before any draft reduction


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


_SRGB_BYTES: bytes | None = None


def srgb_icc_bytes() -> bytes:
    """The sRGB ICC profile to embed in every file Signoff writes."""
    global _SRGB_BYTES
    if _SRGB_BYTES is None:
        _SRGB_BYTES = _srgb_profile().tobytes()
    return _SRGB_BYTES


def digital_source_xmp(digital_source_type: str) -> bytes:
    """An XMP packet carrying the IPTC DigitalSourceType, as channels ask generated images to."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<Iptc4xmpExt:DigitalSourceType>{digital_source_type}</Iptc4xmpExt:DigitalSourceType>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def _sniff_refusal(data: bytes) -> str | None:
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return f"PDF is a document format; {EXPECTED} is needed"
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return f"SVG is a vector format; {EXPECTED} is needed"
    return None


def _open(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open the header only and refuse what must not be decoded."""
    if not data:
        raise ImageInputError(name, f"the file is empty (0 bytes); {EXPECTED} is needed")
    refusal = _sniff_refusal(data)
    if refusal:
        raise ImageInputError(name, refusal)
    # Pillow's own bomb guard uses a global limit; ours is per call, so its warning is only
    # recorded here and the decision is taken below from the header's size.
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise ImageInputError(name, f"too many pixels to decode safely ({exc})") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageInputError(name, f"not an image Signoff can read; {EXPECTED}") from exc
    if im.format not in RASTER_FORMATS:
        raise ImageInputError(name, f"{im.format} is not accepted; {EXPECTED} is needed")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise ImageInputError(name, f"the header gives an empty size {width} x {height}")
    if width * height > max_pixels:
        raise ImageInputError(
            name,
            f"{width} x {height} is {width * height:,} pixels, more than the {max_pixels:,} "
            "allowed (a decompression bomb or an oversized master); supply a smaller image",
        )
    # MPO (phone JPEGs) carry a second preview frame: that is not animation.
    frames = getattr(im, "n_frames", 1) if im.format != "MPO" else 1
    if frames > 1:
        raise ImageInputError(
            name, f"animated {im.format} with {frames} frames; a single still image is needed"
        )
    return im


def open_header(data: bytes, name: str, max_pixels: int) -> Image.Image:
    """Open ``data`` without decoding pixels, with every refusal ``decode_image`` makes."""
    return _open(data, name, max_pixels)


def image_facts(data: bytes, name: str = "image") -> tuple[str, int, int]:
    """(format, width, height) from the header alone: cheap, no pixel is decoded.

    Headers above Pillow's hard limit (twice ``Image.MAX_IMAGE_PIXELS``) are refused here too.
    """
    im = _open(data, name, max_pixels=2**62)
    return im.format or "", im.width, im.height


def _header_bit_depth(data: bytes, im: Image.Image) -> int:
    """Bits per channel the file declares (Pillow silently narrows 48-bit PNG/TIFF)."""
    if im.format == "PNG" and len(data) > 24:
        return data[24]
    if im.format == "TIFF":
        bits = getattr(im, "tag_v2", {}).get(258)
        if isinstance(bits, tuple | list) and bits:
            return int(bits[0])
        if isinstance(bits, int):
            return bits
    return 8


def _to_8bit(im: Image.Image) -> Image.Image:
    import numpy as np

    arr = np.asarray(im)
    if im.mode == "F":
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(scaled.clip(0, 255).astype(np.uint8), "L")
    # 16-bit greyscale keeps its top byte; mode "I" from TIFF may hold 0..65535 as well.
    return Image.fromarray((arr.astype(np.uint32) >> 8).clip(0, 255).astype(np.uint8), "L")


def _convert_icc(
    im: Image.Image, profile_bytes: bytes, notes: list[str], *, naive_mode: str, what: str = ""
) -> tuple[Image.Image, bool]:
    """Convert through the embedded profile to sRGB; returns (image, converted)."""
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
        desc = (ImageCms.getProfileDescription(src) or "").strip()
    except (OSError, ImageCms.PyCMSError):
        notes.append("ICC profile unreadable: colours taken as sRGB")
        return im.convert(naive_mode), False
    if im.mode in ("RGB", "RGBA") and "srgb" in desc.lower():
        return im, False
    alpha = im.getchannel("A") if im.mode == "RGBA" else None
    base = im.convert("RGB") if im.mode == "RGBA" else im
    try:
        out = ImageCms.profileToProfile(
            base, src, _srgb_profile(), outputMode="RGB", renderingIntent=0
        )
    except (OSError, ImageCms.PyCMSError):
        notes.append(f"ICC profile '{desc}' could not be applied: colours taken as sRGB")
        return im.convert(naive_mode), False
    assert out is not None
    if alpha is not None:
        out.putalpha(alpha)
    notes.append(f"{what}ICC profile '{desc}' converted to sRGB")
    return out, True


def _normalise(
    im: Image.Image, data: bytes, notes: list[str], keep_alpha: bool
) -> tuple[Image.Image, bool]:
    """Bring any decoded mode to 8-bit sRGB RGB/RGBA, noting each step."""
    icc = im.info.get("icc_profile")
    if _header_bit_depth(data, im) > 8 or im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        notes.append("16-bit per channel reduced to 8-bit")
        if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            im = _to_8bit(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        im.mode == "P" and "transparency" in im.info
    )
    if im.mode in ("P", "PA"):
        notes.append("palette image converted to RGB")
        im = im.convert("RGBA" if has_alpha else "RGB")
    elif im.mode in ("1", "L", "LA", "La"):
        notes.append("greyscale converted to RGB")
        im = im.convert("RGBA" if has_alpha else "RGB")
    converted = False
    if im.mode == "CMYK":
        if icc:
            notes.append("CMYK converted to sRGB")
            im, converted = _convert_icc(im, icc, notes, naive_mode="RGB", what="CMYK through its ")
        else:
            notes.append("CMYK converted to sRGB (no embedded profile: a generic conversion)")
            im = im.convert("RGB")
    elif im.mode not in ("RGB", "RGBA"):
        notes.append(f"{im.mode} converted to RGB")
        im = im.convert("RGBA" if has_alpha else "RGB")
    elif icc:
        im, converted = _convert_icc(im, icc, notes, naive_mode=im.mode)
    if im.mode == "RGBA":
        lo, _hi = im.getchannel("A").getextrema()
        if lo == 255:
            notes.append("alpha channel fully opaque: dropped")
            im = im.convert("RGB")
        elif keep_alpha:
            notes.append("alpha kept")
        else:
            flat = Image.new("RGB", im.size, (255, 255, 255))
            flat.paste(im, mask=im.getchannel("A"))
            im = flat
            notes.append("alpha flattened onto white")
    return im, converted


def decode_image(
    data: bytes,
    name: str,
    *,
    max_pixels: int,
    keep_alpha: bool = True,
    draft_size: tuple[int, int] | None = None,
) -> Decoded:
    """Decode ``data`` fully into 8-bit sRGB, refusing anything unsafe or not a still raster.

    ``draft_size``: the smallest size the caller needs; a JPEG is then decoded at 1/2, 1/4 or
    1/8 scale (never below it), which keeps a huge master's memory small.
    """
    im = _open(data, name, max_pixels)
    source_size = im.size
    fmt = im.format or ""
    notes: list[str] = []
    if draft_size is not None and fmt in ("JPEG", "MPO"):
        im.draft("RGB" if im.mode != "CMYK" else "CMYK", draft_size)
        if im.size != source_size:
            notes.append(f"decoded at {im.width} x {im.height} (JPEG draft) for speed")
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise ImageInputError(name, f"too many pixels to decode safely ({exc})") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageInputError(
            name, f"the file is truncated or corrupt ({exc}); a complete {EXPECTED} is needed"
        ) from exc
    orientation = im.getexif().get(0x0112)
    if orientation in _ORIENTATION_WORDS:
        transposed = ImageOps.exif_transpose(im)
        if transposed is not None:
            im = transposed
        notes.append(f"EXIF orientation {orientation} applied ({_ORIENTATION_WORDS[orientation]})")
    image, converted = _normalise(im, data, notes, keep_alpha)
    return Decoded(
        image=image,
        format=fmt,
        width=image.width,
        height=image.height,
        notes=notes,
        icc_converted=converted,
        source_size=source_size,
    )

"""Safe decoding of user and provider image files (signoff.visuals.imaging): pure, no DB."""

from __future__ import annotations

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from signoff.visuals.imaging import (
    ImageInputError,
    decode_image,
    image_facts,
    sha256_of,
    srgb_icc_bytes,
)

MAX = 50_000_000


def _encode(img: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def _png_with_size(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header claims ``width`` x ``height`` (a decompression bomb)."""
    data = bytearray(_encode(Image.new("RGB", (1, 1)), "PNG"))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return bytes(data)


def _refused(data: bytes, name: str = "upload.png", **kwargs) -> ImageInputError:
    with pytest.raises(ImageInputError) as info:
        decode_image(data, name, max_pixels=kwargs.pop("max_pixels", MAX), **kwargs)
    assert info.value.name == name
    assert name in str(info.value)
    return info.value


def test_zero_bytes_refused_naming_the_file():
    error = _refused(b"", "empty.jpg")
    assert "0 bytes" in error.message


def test_not_an_image_refused():
    error = _refused(b"hello, this is a text file\n" * 10, "notes.png")
    assert "PNG, JPEG" in error.message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_refused_on_full_decode(fmt):
    noise = np.random.default_rng(1).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), fmt)
    error = _refused(data[: len(data) // 2], "cut.bin")
    assert "truncated or corrupt" in error.message


def test_svg_refused_as_vector():
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10"></svg>'
    error = _refused(svg, "logo.svg")
    assert error.message == (
        "SVG is a vector format; a raster image (PNG, JPEG, TIFF, WebP) is needed"
    )
    assert "vector" in _refused(b"<svg width='1'/>", "bare.svg").message


def test_pdf_refused():
    error = _refused(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "sheet.pdf")
    assert "PDF" in error.message
    assert "raster" in error.message


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animated_images_refused(fmt):
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("red", "blue", "green")]
    data = _encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    error = _refused(data, f"anim.{fmt.lower()}")
    assert "animated" in error.message
    assert "3 frames" in error.message


def test_single_frame_gif_is_fine():
    decoded = decode_image(_encode(Image.new("RGB", (8, 8), "red"), "GIF"), "a.gif", max_pixels=MAX)
    assert decoded.format == "GIF"
    assert decoded.image.mode == "RGB"


def test_decompression_bomb_refused_from_the_header_before_decoding():
    bomb = _png_with_size(12_000, 12_000)  # 1 real pixel, 144 MP claimed
    assert image_facts(bomb) == ("PNG", 12_000, 12_000)  # the header alone is cheap
    error = _refused(bomb, "bomb.png", max_pixels=100_000_000)
    assert "144,000,000 pixels" in error.message
    assert "decompression bomb" in error.message


def test_pillow_bomb_error_is_translated():
    error = _refused(_png_with_size(100_000, 100_000), "huge.png", max_pixels=10**12)
    assert "too many pixels" in error.message


def test_max_pixels_applies_to_ordinary_images():
    data = _encode(Image.new("RGB", (100, 100)), "PNG")
    assert "more than the 5,000 allowed" in _refused(data, "big.png", max_pixels=5_000).message


def test_cmyk_converted_with_a_note():
    data = _encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG")
    decoded = decode_image(data, "print.jpg", max_pixels=MAX)
    assert decoded.image.mode == "RGB"
    assert any(note.startswith("CMYK converted to sRGB") for note in decoded.notes)
    r, g, b = decoded.image.getpixel((8, 8))
    assert r > 200
    assert g < 60
    assert b < 60


def test_sixteen_bit_greyscale_reduced():
    grey = np.full((10, 10), 40_000, np.uint16)
    decoded = decode_image(_encode(Image.fromarray(grey), "PNG"), "deep.png", max_pixels=MAX)
    assert "16-bit per channel reduced to 8-bit" in decoded.notes
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((0, 0)) == (156, 156, 156)  # 40000 >> 8


def test_sixteen_bit_rgb_png_reduced():
    arr = np.zeros((8, 8, 3), np.uint16)
    arr[..., 2] = 65535  # OpenCV is BGR: full red
    ok, png = cv2.imencode(".png", arr)
    assert ok
    decoded = decode_image(png.tobytes(), "deep-rgb.png", max_pixels=MAX)
    assert "16-bit per channel reduced to 8-bit" in decoded.notes
    assert decoded.image.getpixel((0, 0)) == (255, 0, 0)


def test_palette_converted():
    data = _encode(Image.new("RGB", (8, 8), "blue").convert("P"), "PNG")
    decoded = decode_image(data, "pal.png", max_pixels=MAX)
    assert "palette image converted to RGB" in decoded.notes
    assert decoded.image.mode == "RGB"


def test_real_alpha_kept_or_flattened():
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 255))
    img.putpixel((0, 0), (0, 0, 0, 0))
    data = _encode(img, "PNG")
    kept = decode_image(data, "cut.png", max_pixels=MAX)
    assert kept.image.mode == "RGBA"
    assert "alpha kept" in kept.notes
    flat = decode_image(data, "cut.png", max_pixels=MAX, keep_alpha=False)
    assert flat.image.mode == "RGB"
    assert "alpha flattened onto white" in flat.notes
    assert flat.image.getpixel((0, 0)) == (255, 255, 255)


def test_opaque_alpha_dropped():
    data = _encode(Image.new("RGBA", (8, 8), (10, 20, 30, 255)), "PNG")
    decoded = decode_image(data, "opaque.png", max_pixels=MAX)
    assert decoded.image.mode == "RGB"
    assert "alpha channel fully opaque: dropped" in decoded.notes


def test_exif_orientation_applied():
    img = Image.new("RGB", (40, 20), "blue")
    img.paste((255, 0, 0), (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = decode_image(_encode(img, "JPEG", exif=exif), "phone.jpg", max_pixels=MAX)
    assert (decoded.width, decoded.height) == (20, 40)
    assert "EXIF orientation 6 applied (rotated 90°)" in decoded.notes
    r, _, b = decoded.image.getpixel((10, 5))  # displayed upright, red is now on top
    assert r > 200
    assert b < 60


def test_icc_profile_converted_to_srgb():
    srgb = srgb_icc_bytes()
    other = srgb.replace("sRGB built-in".encode("utf-16-be"), "Wide Gamut XY".encode("utf-16-be"))
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(other))).strip()
    data = _encode(Image.new("RGB", (8, 8), (200, 100, 50)), "PNG", icc_profile=other)
    decoded = decode_image(data, "wide.png", max_pixels=MAX)
    assert decoded.icc_converted
    assert "ICC profile 'Wide Gamut XY' converted to sRGB" in decoded.notes
    # Already sRGB: left alone and not claimed as converted.
    plain = decode_image(
        _encode(Image.new("RGB", (8, 8)), "PNG", icc_profile=srgb), "s.png", max_pixels=MAX
    )
    assert not plain.icc_converted
    assert plain.notes == []


def test_facts_and_hash():
    noise = np.random.default_rng(2).integers(0, 255, (34, 120, 3), dtype=np.uint8)
    data = _encode(Image.fromarray(noise), "JPEG")
    assert image_facts(data) == ("JPEG", 120, 34)
    assert image_facts(data[: len(data) // 2]) == ("JPEG", 120, 34)  # the header is enough
    assert len(sha256_of(data)) == 64
    assert sha256_of(data) == sha256_of(bytes(data))
    with pytest.raises(ImageInputError):
        image_facts(b"nope")

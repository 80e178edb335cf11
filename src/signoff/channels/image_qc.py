"""Thresholds for the pixel-level image QC (``signoff.visuals.qc``), as data.

Every number a QC rule compares against lives here, per family, with a default that suits any
channel; a channel's catalog YAML sets ``images.qc`` only where it differs, and names where the
stricter value comes from in that family's ``source`` / ``rule_sources``. Nothing here imports
Django, and this module must not import ``channels.spec`` (spec imports it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

QCSeverity = Literal["info", "warn", "block"]
# Which images of a package a rule looks at: the main (first) image, every image, or none.
Applies = Literal["never", "main", "all"]


class QCSource(BaseModel):
    """Where one threshold comes from (mirrors ``spec.RuleSource``; kept separate to avoid an
    import cycle with spec.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str  # URL
    confidence: str | None = None  # confirmed_official | secondary | unconfirmed | guidance
    notes: str | None = None


class _Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: QCSeverity = "warn"
    source: str | None = None  # URL for this family's channel-specific values
    confidence: str | None = None
    rule_sources: dict[str, QCSource] = {}  # per threshold, keyed by the field's name

    def cite(self, rule: str) -> QCSource | None:
        if rule in self.rule_sources:
            return self.rule_sources[rule]
        if self.source is None:
            return None
        return QCSource(source=self.source, confidence=self.confidence)

    @model_validator(mode="after")
    def _known_rules(self) -> _Family:
        unknown = sorted(set(self.rule_sources) - set(type(self).model_fields))
        if unknown:
            raise ValueError(f"rule_sources names unknown rules: {', '.join(unknown)}")
        return self


class BackgroundQC(_Family):
    applies: Applies = "never"
    severity: QCSeverity = "block"
    # A pixel is white when every channel is at least this. 254 and not 255: JPEG q>=85 decodes
    # a flat 255 field to 254-255 (DCT rounding, chroma upsampling), while a 253 "almost white"
    # is what gets listings suppressed (254,254,253 reported by jpg.now).
    white_min: int = Field(default=254, ge=200, le=255)
    # Share of the background that may be off-white: JPEG ringing next to the product edge.
    max_off_white_share: float = Field(default=0.01, ge=0, le=1)
    # Pixels further from white than this (any channel below 255 - it) belong to objects.
    object_threshold: int = Field(default=40, ge=5, le=200)


class FillQC(_Family):
    applies: Applies = "never"
    severity: QCSeverity = "block"
    # Longest side of the product's bounding box / longest side of the image.
    min_fill: float = Field(default=0.85, gt=0, le=1)
    cut_severity: QCSeverity = "block"
    # The product counts as cut when this share of a frame edge (in px of the proxy) is product.
    min_cut_share: float = Field(default=0.02, ge=0, le=1)


class ProductMatchQC(_Family):
    applies: Applies = "all"
    severity: QCSeverity = "block"
    # CIEDE2000 between the packshot's and the image's dominant product colours. JND is ~2.3;
    # renders and JPEG stay under ~6, a different colourway is 20+.
    max_delta_e: float = Field(default=12.0, gt=0)
    # Same, median colour per cell of a 6x6 grid over the aligned product (packshot cut-out
    # mask, eroded; the scene and shadow excluded): a missing lid or a recoloured part. Clean
    # images measure <= 3.4 (synthetic set) and <= 3.5 (builtin composites, their renditions,
    # JPEG q85-92); a lid painted over with a dark wall 12.4-12.9, with a light one 45.
    max_cell_delta_e: float = Field(default=10.0, gt=0)
    # Structural similarity (Wang et al. 2004) of the aligned product at <= 256 px (never above
    # its size in the image), both sides blurred by 0.8 px, worst cell of a 6x6 grid. Clean
    # images measure >= 0.86 (synthetic) and >= 0.84 (real composites and renditions), a
    # sigma 4 px blur (image.sharpness's defect) 0.74; a changed label 0.25-0.56, a covered
    # lid 0.34-0.63.
    min_detail_ssim: float = Field(default=0.66, ge=-1, le=1)
    # Silhouette IoU after aligning the bounding boxes (white backgrounds only).
    min_silhouette_iou: float = Field(default=0.9, ge=0, le=1)
    max_aspect_change: float = Field(default=0.08, ge=0)  # |bbox aspect ratio change| / aspect
    min_locate_score: float = Field(default=0.35, ge=-1, le=1)  # template match; below: not found


class SharpnessQC(_Family):
    applies: Applies = "all"
    # No packshot: variance of the Laplacian at 512 px over the same at 256 px (halving hides a
    # blur under ~1 px, so blur lowers the ratio whatever the subject). Weak: the synthetic set
    # measures 0.26-0.57 sharp vs 0.17 after a sigma 4 px blur at 2,000 px.
    min_sharpness: float = Field(default=0.22, gt=0)
    # With a packshot: the region's variance of Laplacian at 512 px over the packshot's product
    # at 512 px (same subject, same scale, so the ratio is the blur). Sharp renders and JPEG
    # keep 0.6-1.2; a sigma 4 px blur drops it to 0.2.
    min_relative_sharpness: float = Field(default=0.4, gt=0)


class UpscaledQC(_Family):
    applies: Applies = "all"
    # Enlarging adds no detail: the power of the pixel steps above 0.3 cycles/px over their
    # power at 0.016-0.047 cycles/px, on textured segments of the product region. Native
    # images, masters and renditions downscaled from them at JPEG q85-92 measure 0.35-1.6
    # (217 images); enlargements of sharp sources 1.5x 0.07-0.08, 2x and more <= 0.02;
    # renditions enlarged 1.07-1.25x 0.22-0.44 (not called enlarged), 1.73x 0.02.
    max_detail_ratio: float = Field(default=0.15, gt=0)
    # Interpolation leaves the pixel-to-pixel steps periodic with the enlargement factor
    # (Gallagher 2005; Popescu & Farid 2005): the steps at the period's phase over the median
    # phase, minus 1. At this strength the period fixes the reported factor, and tells an
    # enlargement from a blur (4x bicubic measures 0.33-1.4, native images under 0.15).
    min_periodicity: float = Field(default=0.3, gt=0)


class CompressionQC(_Family):
    applies: Applies = "all"
    # Estimated IJG quality. 70 is ImageSlot.min_quality's default, the floor renditions use.
    min_quality: int = Field(default=70, ge=1, le=100)
    # No-reference JPEG score of Wang, Sheikh & Bovik (ICIP 2002) from 8x8 block-edge steps,
    # in-block activity and zero crossings, on their 1-10 MOS scale. Measured here: q>=88
    # 7.8-11, q75 5.4, q50 0.5-4.9, q20 3.4-4.8; below 5 the blocking is visible.
    min_nr_score: float = Field(default=5.0)


class TextOverlayQC(_Family):
    applies: Applies = "never"
    severity: QCSeverity = "block"
    min_height_share: float = Field(default=0.012, gt=0, le=1)  # a text line vs frame height
    max_height_share: float = Field(default=0.2, gt=0, le=1)
    min_glyphs: int = Field(default=3, ge=1)  # separate strokes in the line


class PrintQC(_Family):
    severity: QCSeverity = "block"
    bleed_mm: float = Field(default=0.0, ge=0)  # per side; 0 = no bleed asked
    bleed_severity: QCSeverity = "warn"
    # Out-of-gamut approximation: Lab chroma beyond a hue-dependent coated-CMYK limit, scaled.
    gamut_chroma_scale: float = Field(default=1.0, gt=0)
    max_out_of_gamut_share: float = Field(default=0.02, ge=0, le=1)
    gamut_severity: QCSeverity = "warn"


class CoherenceQC(_Family):
    # Modified z-score cut (Iglewicz & Hoaglin 1993): |0.6745 (x - median) / MAD| > 3.5.
    max_z: float = Field(default=3.5, gt=0)
    # Below these absolute differences from the set median nobody is an outlier, so a set of
    # near-identical images (MAD ~ 0) does not flag noise.
    min_palette_delta_e: float = Field(default=12.0, ge=0)
    min_exposure_delta_l: float = Field(default=12.0, ge=0)
    min_white_balance_delta: float = Field(default=6.0, ge=0)  # in a*b* units
    min_framing_delta: float = Field(default=0.15, ge=0)
    max_brand_delta_e: float = Field(default=30.0, gt=0)  # nearest brand colour, weighted


class ImageQCSpec(BaseModel):
    """Thresholds and severities of every QC family; see each family's field comments."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    background: BackgroundQC = BackgroundQC()
    fill: FillQC = FillQC()
    product_match: ProductMatchQC = ProductMatchQC()
    sharpness: SharpnessQC = SharpnessQC()
    upscaled: UpscaledQC = UpscaledQC()
    compression: CompressionQC = CompressionQC()
    text_overlay: TextOverlayQC = TextOverlayQC()
    print: PrintQC = PrintQC()
    coherence: CoherenceQC = CoherenceQC()

    def families(self) -> dict[str, _Family]:
        return {name: getattr(self, name) for name in type(self).model_fields}

"""The shape of a channel spec: what a destination accepts, as data.

Specs ship as YAML in ``channels/catalog/`` (one file per channel, each limit with its source
URL) and a workspace can override any value. Nothing here imports Django.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from signoff.channels.image_qc import ImageQCSpec

Casing = Literal["any", "title", "sentence", "lower", "no_all_caps"]
Compose = Literal[
    "title",  # product title: brand, type, scent/variant, size
    "short_title",  # a short product name for feeds
    "bullets",  # key features, one fact each
    "description",  # long product description
    "keywords",  # search terms, space separated, no brand
    "headline",  # ad or card headline
    "primary_text",  # ad body above the creative
    "link_description",  # small text under an ad headline
    "caption",  # social post caption
    "hashtags",  # social hashtags (list)
    "subject",  # email subject line
    "preheader",  # email preview text
    "body",  # email or poster body copy
    "cta",  # call to action label
    "tagline",  # poster headline / short line
    "path",  # display URL path segment (Google Ads)
    "item_specifics",  # key: value facts (list)
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSource(_Spec):
    """Where one limit comes from, when it is not the field's (or image block's) own source."""

    source: str  # URL
    confidence: str | None = None  # confirmed_official | secondary | unconfirmed | guidance
    notes: str | None = None


def _check_rule_names(owner: type[BaseModel], rule_sources: dict[str, RuleSource]) -> None:
    unknown = sorted(set(rule_sources) - set(owner.model_fields))
    if unknown:
        raise ValueError(f"rule_sources names unknown rules: {', '.join(unknown)}")


class FieldSpec(_Spec):
    """One field of a channel: its limits and rules. For list fields limits apply per item."""

    label: str
    compose: Compose
    kind: Literal["text", "list"] = "text"
    required: bool = True
    min_chars: int | None = Field(default=None, ge=0)
    max_chars: int | None = Field(default=None, ge=1)
    recommended_max_chars: int | None = Field(default=None, ge=1)  # a warning, not a block
    max_bytes: int | None = Field(default=None, ge=1)  # UTF-8 bytes
    bytes_ignore_spaces_punctuation: bool = False  # Amazon search terms count letters only
    min_items: int | None = Field(default=None, ge=0)
    max_items: int | None = Field(default=None, ge=1)
    banned_chars: list[str] = []
    casing: Casing = "any"
    max_word_repeats: int | None = Field(default=None, ge=1)  # articles etc. are exempt
    allow_emoji: bool = True
    allow_html: bool = False
    allow_urls: bool = False
    html_tags: list[str] = []  # with allow_html: the only tags accepted (empty = any tag)
    requires: str | None = None  # another field that must be filled when this one is
    source: str | None = None  # URL the limits come from
    confidence: str | None = None  # confirmed_official | secondary | unconfirmed | guidance
    notes: str | None = None
    # Per-limit provenance where a limit comes from another page than ``source``, keyed by the
    # limit's name here ("max_word_repeats": {source: URL, confidence: secondary}).
    rule_sources: dict[str, RuleSource] = {}

    def cite(self, rule: str) -> RuleSource | None:
        """Return where ``rule`` (a limit's name) comes from, or None if nobody said."""
        if rule in self.rule_sources:
            return self.rule_sources[rule]
        if self.source is None:
            return None
        return RuleSource(source=self.source, confidence=self.confidence)

    @model_validator(mode="after")
    def _limits_make_sense(self) -> FieldSpec:
        _check_rule_names(FieldSpec, self.rule_sources)
        if self.min_chars is not None and self.max_chars is not None:
            if self.min_chars > self.max_chars:
                raise ValueError("min_chars is greater than max_chars")
        if self.min_items is not None and self.max_items is not None:
            if self.min_items > self.max_items:
                raise ValueError("min_items is greater than max_items")
        if self.kind == "text" and (self.min_items is not None or self.max_items is not None):
            raise ValueError("min_items/max_items only apply to list fields")
        return self


class BannedPhrase(_Spec):
    """A phrase the channel refuses, in any field unless ``fields`` narrows it."""

    phrase: str
    fields: list[str] | None = None
    reason: str | None = None
    source: str | None = None
    confidence: str | None = None
    severity: Literal["warn", "block"] = "block"  # "warn" for guidance such as spam words


def parse_ratio(ratio: str) -> float | None:
    """Return width / height for "W:H" (e.g. "4:5", "1.91:1", "420:594"), or None if malformed."""
    width, sep, height = ratio.partition(":")
    try:
        value = float(width) / float(height) if sep else None
    except (ValueError, ZeroDivisionError):
        return None
    return value if value and value > 0 else None


class PrintSpec(_Spec):
    width_mm: float = Field(gt=0)
    height_mm: float = Field(gt=0)
    min_ppi: int = Field(gt=0)
    source: str | None = None


class ImageSlot(_Spec):
    """One image a channel's package needs, rendered from the SKU's selected image.

    ``fit``: ``cover`` fills the frame and crops, never through the product's bounding box;
    ``pad_white`` keeps the whole image and pads it on pure white so the product spans
    ``fill`` of the frame (a marketplace main image).
    """

    id: str = Field(pattern=r"^[a-z0-9_]+$")  # main, gallery, feed_1x1, feed_4x5, story_9x16, ...
    label: str = ""
    width_px: int = Field(gt=0, le=20000)
    height_px: int = Field(gt=0, le=20000)
    fit: Literal["cover", "pad_white"] = "cover"
    fill: float | None = Field(default=None, gt=0, le=1)  # pad_white: product's share of frame
    format: Literal["jpeg", "png", "webp", "tiff"] = "jpeg"
    quality: int = Field(default=90, ge=1, le=100)  # jpeg/webp start here; lowered to fit bytes
    min_quality: int = Field(default=70, ge=1, le=100)  # below this the byte limit is refused
    colour_space: Literal["sRGB"] = "sRGB"  # embedded ICC; print hands sRGB to the RIP
    max_bytes: int | None = Field(default=None, gt=0)
    dpi: int | None = Field(default=None, gt=0)  # written into the file (print)
    required: bool = True  # launch refuses the package while a required slot is empty
    source: str | None = None
    notes: str | None = None


class ImageSpec(_Spec):
    """Rules for the package's images."""

    formats: list[Literal["jpeg", "png", "gif", "webp", "tiff", "bmp"]] = ["jpeg", "png"]
    min_count: int = Field(default=0, ge=0)
    max_count: int | None = Field(default=None, ge=1)
    recommended_min_count: int | None = Field(default=None, ge=1)  # a warning, not a block
    min_width_px: int | None = Field(default=None, ge=1)
    min_height_px: int | None = Field(default=None, ge=1)
    min_long_side_px: int | None = Field(default=None, ge=1)
    max_long_side_px: int | None = Field(default=None, ge=1)
    recommended_min_long_side_px: int | None = Field(default=None, ge=1)  # a warning
    max_megapixels: float | None = Field(default=None, gt=0)
    aspect_ratios: list[str] = []  # "1:1", "4:5"; empty = any
    min_aspect: float | None = None  # width / height
    max_aspect: float | None = None
    aspect_tolerance: float = Field(default=0.01, ge=0)
    background: Literal["white", "any"] = "any"
    # Marketplaces want white behind the main (first) image only; the rest may be lifestyle.
    background_applies_to: Literal["main", "all"] = "main"
    max_file_mb: float | None = Field(default=None, gt=0)  # decimal megabytes
    print: PrintSpec | None = None
    slots: list[ImageSlot] = []  # the renditions a package needs; the first is the main image
    qc: ImageQCSpec = ImageQCSpec()  # pixel QC thresholds (signoff.visuals.qc); set where stricter
    source: str | None = None
    confidence: str | None = None
    notes: str | None = None
    rule_sources: dict[str, RuleSource] = {}

    def slot(self, slot_id: str) -> ImageSlot | None:
        return next((slot for slot in self.slots if slot.id == slot_id), None)

    def cite(self, rule: str) -> RuleSource | None:
        """Return where ``rule`` (a limit's name) comes from, or None if nobody said."""
        if rule in self.rule_sources:
            return self.rule_sources[rule]
        if rule == "print" and self.print is not None and self.print.source:
            return RuleSource(source=self.print.source, confidence=self.confidence)
        if self.source is None:
            return None
        return RuleSource(source=self.source, confidence=self.confidence)

    @model_validator(mode="after")
    def _rule_names_exist(self) -> ImageSpec:
        _check_rule_names(ImageSpec, self.rule_sources)
        if self.min_aspect is not None and self.max_aspect is not None:
            if self.min_aspect > self.max_aspect:
                raise ValueError("min_aspect is greater than max_aspect")
        for ratio in self.aspect_ratios:
            if parse_ratio(ratio) is None:
                raise ValueError(f"aspect ratio {ratio!r} is not of the form W:H, e.g. 4:5")
        ids = [slot.id for slot in self.slots]
        if len(ids) != len(set(ids)):
            raise ValueError(f"image slot ids must be unique, got {ids}")
        return self


class ChannelSpec(_Spec):
    """A destination and everything it accepts."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    kind: Literal["marketplace", "feed", "social", "ads", "email", "print"]
    tone: str = "calm"  # the default tone; the workspace's brand voice may set its own per channel
    fields: dict[str, FieldSpec]
    banned_phrases: list[BannedPhrase] = []
    banned_chars: list[str] = []  # in every field
    allow_exclamation: bool = True  # brand voice may still forbid it
    required_facts: list[str] = ["name"]  # product facts: name, gtin, price, images, attributes.X
    requires_family_attributes: bool = False  # needs every attribute the brief's SKUs share
    images: ImageSpec | None = None
    sources: list[str] = []
    notes: str | None = None
    rule_sources: dict[str, RuleSource] = {}  # e.g. for channel-wide banned_chars

    def cite(self, rule: str) -> RuleSource | None:
        """Return where a channel-wide ``rule`` comes from: its own source or the first page."""
        if rule in self.rule_sources:
            return self.rule_sources[rule]
        return RuleSource(source=self.sources[0]) if self.sources else None

    @model_validator(mode="after")
    def _fields_exist(self) -> ChannelSpec:
        if not self.fields:
            raise ValueError("a channel needs at least one field")
        _check_rule_names(ChannelSpec, self.rule_sources)
        for name, spec in self.fields.items():
            if spec.requires is not None and spec.requires not in self.fields:
                raise ValueError(f"field {name!r} requires unknown field {spec.requires!r}")
        for banned in self.banned_phrases:
            for name in banned.fields or []:
                if name not in self.fields:
                    raise ValueError(
                        f"banned phrase {banned.phrase!r} names unknown field {name!r}"
                    )
        return self

    @property
    def required_fields(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.required]

"""The one narrow port every image provider implements.

A provider turns an ImageRequest (the brief's direction, the SKU's packshots and the brand's
references) into image bytes, and says what it used (provider, model, prompt, parameters,
seed, cost, latency) so every image version can say where it came from. It never changes
state and never stores anything: the services decide what to keep. A provider that cannot
make an image without inventing the product (no packshot) refuses with ImageRefused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# IPTC DigitalSourceType values channels ask generated images to carry
# (https://cv.iptc.org/newscodes/digitalsourcetype/).
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
COMPOSITE_SYNTHETIC = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"

ReferenceKind = Literal["packshot", "brand_example", "previous_winner", "negative"]
Purpose = Literal["scene", "main_white"]


@dataclass(frozen=True, slots=True)
class ImageInput:
    """A stored file a provider may look at: a packshot or a brand reference."""

    sha256: str
    kind: ReferenceKind
    data: bytes  # the file's bytes, as stored
    note: str = ""


@dataclass(frozen=True, slots=True)
class Direction:
    """What the brief asks the images to say, in the brief's own words."""

    hypothesis: str = ""
    audience: str = ""
    key_messages: tuple[str, ...] = ()
    acceptance_criteria: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()  # notes of negative references: what must not appear
    palette: tuple[str, ...] = ()  # brand colours as "#RRGGBB", most important first
    past_feedback: tuple[str, ...] = ()  # ratings, tags and notes on earlier options
    negative_space: bool = False  # the brief asks for room for copy


@dataclass(frozen=True, slots=True)
class ImageRequest:
    sku: str
    product_name: str
    prompt: str  # the full prompt (builtin: recorded as the recipe it followed)
    direction: Direction
    packshots: tuple[ImageInput, ...]  # never empty: no product is ever invented
    references: tuple[ImageInput, ...] = ()  # brand examples and previous winners
    n: int = 4
    size: tuple[int, int] = (1024, 1024)  # width, height in pixels
    seed: int = 0  # option i uses seed + i
    purpose: Purpose = "scene"  # "main_white": the product on pure white at ``fill``
    fill: float | None = None  # share of the frame's longest side the product spans


@dataclass(frozen=True, slots=True)
class ImageEditRequest:
    image: bytes  # the parent image version's file
    prompt: str
    mask: bytes | None = None  # PNG, same size as the image; edited where alpha is 0
    packshots: tuple[ImageInput, ...] = ()
    seed: int = 0
    size: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes  # an encoded image file (PNG or JPEG) as the provider returned it
    seed: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # what differs per option
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA


@dataclass(frozen=True, slots=True)
class ImageResult:
    images: list[GeneratedImage]
    provider: str
    model: str
    prompt: str
    parameters: dict[str, Any] = field(default_factory=dict)
    cost: float = 0.0  # for the whole call, in the price table's currency
    latency_ms: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)


class ImageProviderError(Exception):
    """The provider failed (network, refusal by the service, an answer that is not an image)."""


class ImageRefused(ImageProviderError):
    """The provider will not make this image (no packshot, a cut-out it cannot do cleanly)."""


class ImageProvider(Protocol):
    name: str
    model: str

    def generate(self, request: ImageRequest) -> ImageResult: ...

    def edit(self, request: ImageEditRequest) -> ImageResult: ...

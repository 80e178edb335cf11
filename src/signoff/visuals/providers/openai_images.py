"""Images through the OpenAI Images API, with the official ``openai`` SDK.

Signoff never invents the product, so options are made with ``images.edit``: the SKU's
packshots travel as input images (then the brand's examples and previous winners, for the
look only) and the prompt says what to make of them. ``images.generate`` (text only) is kept
as a helper, ``text_to_image``, that no service calls: with no packshot the model would draw
a product of its own.

What leaves the machine: the prompt, after the PII guard (``redact``), and the image files as
stored. What comes back is checked before anyone sees it: every option must be a decodable
image of the size that was sent, and as many as were asked for; otherwise the call fails with
``OpenAIImagesError`` naming the option, and nothing is returned to store.

Transport failures (429, 5xx, timeouts) are retried by the SDK itself (``max_retries``,
exponential backoff with jitter, ``Retry-After`` honoured); when it gives up, its error
becomes an ``OpenAIImagesError`` with the HTTP status and the API's own message.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
import warnings
from dataclasses import dataclass
from typing import Any

import openai
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, UnidentifiedImageError

from signoff.agents.providers.prompting import Redactor
from signoff.visuals.providers.openai_sizes import (
    DEFAULT_API_PIXELS,
    api_size,
    image_price,
    size_text,
    takes_input_fidelity,
)
from signoff.visuals.providers.port import (
    TRAINED_ALGORITHMIC_MEDIA,
    GeneratedImage,
    ImageEditRequest,
    ImageInput,
    ImageProviderError,
    ImageRefused,
    ImageRequest,
    ImageResult,
)

DEFAULT_MODEL = "gpt-image-2"
# Image calls are slow (a high-quality 4-option edit can take minutes); the SDK's own default
# is ten minutes, the copy providers' 60 s would cut good calls off.
DEFAULT_TIMEOUT = 300.0
DEFAULT_MAX_RETRIES = 2

# Models OpenAI has switched off: refused when configured, with what to use instead, rather
# than failing on every call with a 404.
RETIRED_MODELS = {
    "gpt-image-1": "shut down on 23 Oct 2026; use gpt-image-2.5-sunburst or gpt-image-2.5-flare",
    "dall-e-2": "retired on 12 May 2026; use a GPT image model",
    "dall-e-3": "retired on 12 May 2026; use a GPT image model",
}


MAX_N = 10  # images per call
MAX_INPUTS = 16  # input images per edit
MAX_INPUT_BYTES = 50 * 1024 * 1024  # each input image must be smaller
MAX_MASK_BYTES = 4 * 1024 * 1024
# An input too large to send as stored is re-encoded as PNG at most this long on a side.
RESIZED_INPUT_EDGE = 4096

_UPLOAD_FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg")}
_UPLOAD_FORMATS["WEBP"] = ("webp", "image/webp")
_ANSWER_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
_RETRIED_STATUSES = {408, 409, 429}

SEED_NOTE = "the OpenAI Images API takes no seed: an option cannot be made again from a seed"


class OpenAIImagesError(ImageProviderError):
    """A failed Images API call. ``option`` (1-based) names the option that was not an image."""

    def __init__(
        self, message: str, *, status_code: int | None = None, option: int | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.option = option


def _settings_value(name: str, default: Any) -> Any:
    from django.conf import settings

    if not settings.configured:
        return default
    return getattr(settings, name, default)


# ---------------------------------------------------------------- uploads


@dataclass(frozen=True, slots=True)
class _Upload:
    name: str
    data: bytes
    mime: str
    size: tuple[int, int]
    note: str = ""  # why the bytes are not the stored file's, when they are not

    def file(self) -> tuple[str, bytes, str]:
        return (self.name, self.data, self.mime)


def _open(data: bytes, label: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # The pixel ceiling is checked below against SIGNOFF_IMAGE_MAX_PIXELS, which a
            # 12k master exceeds Pillow's own warning threshold for.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        raise OpenAIImagesError(f"{label} is not an image that can be read: {exc}") from exc
    if image.width * image.height > max_pixels:
        raise OpenAIImagesError(
            f"{label} is {image.width}x{image.height}, over the {max_pixels:,}-pixel limit "
            "(SIGNOFF_IMAGE_MAX_PIXELS)"
        )
    return image


def _encode_png(image: Image.Image, edge: int | None) -> tuple[bytes, tuple[int, int]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image.load()
    mode = "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
    image = image.convert(mode)
    if edge and max(image.size) > edge:
        image.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue(), image.size


def _upload(data: bytes, stem: str, label: str, max_pixels: int) -> _Upload:
    """The file as stored when the API takes it; else re-encoded as PNG, and why."""
    image = _open(data, label, max_pixels)
    fmt = _UPLOAD_FORMATS.get(image.format or "")
    if fmt and len(data) < MAX_INPUT_BYTES:
        return _Upload(f"{stem}.{fmt[0]}", data, fmt[1], image.size)
    too_big = len(data) >= MAX_INPUT_BYTES
    png, size = _encode_png(image, RESIZED_INPUT_EDGE if too_big else None)
    if len(png) >= MAX_INPUT_BYTES:
        raise OpenAIImagesError(f"{label} is still 50 MB or more as a {size_text(size)} PNG")
    why = "50 MB or more" if too_big else f"{image.format} is not accepted"
    note = f"{label}: {why}; sent as a {size_text(size)} PNG"
    return _Upload(f"{stem}.png", png, "image/png", size, note)


# ---------------------------------------------------------------- the provider


class OpenAIImageProvider:
    """The ``openai`` image provider. Options can come from SIGNOFF_IMAGE_PROVIDER_OPTIONS.

    ``base_url`` and ``api_key`` default to the SDK's ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``;
    ``prices`` to ``SIGNOFF_IMAGE_PRICES``; ``max_pixels`` (the largest image decoded, in or
    out) to ``SIGNOFF_IMAGE_MAX_PIXELS``.
    """

    name = "openai"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        prices: dict[str, Any] | None = None,
        quality: str | None = None,
        input_fidelity: str | None = "auto",
        send_references: bool = True,
        max_api_pixels: int = DEFAULT_API_PIXELS,
        max_pixels: int | None = None,
        default_headers: dict[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        self.model = (model or DEFAULT_MODEL).strip()
        if self.model in RETIRED_MODELS:
            raise ImproperlyConfigured(
                f"The image model {self.model!r} was {RETIRED_MODELS[self.model]} "
                "(SIGNOFF_IMAGE_MODEL)"
            )
        if max_retries < 0 or timeout <= 0:
            raise ImproperlyConfigured("max_retries must be 0 or more and timeout above 0")
        if input_fidelity not in (None, "auto", "high", "low"):
            raise ImproperlyConfigured("input_fidelity must be auto, high, low or null")
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.quality = quality
        self.input_fidelity = input_fidelity
        self.send_references = send_references
        self.max_api_pixels = int(max_api_pixels)
        self.extra_body = extra_body
        self._prices = prices
        self._max_pixels = max_pixels
        try:
            # The SDK retries 408/409/429/5xx and timeouts itself, honouring Retry-After.
            self.client = openai.OpenAI(
                base_url=base_url,
                api_key=api_key,
                timeout=self.timeout,
                max_retries=self.max_retries,
                default_headers=default_headers,
            )
        except openai.OpenAIError as exc:  # no API key anywhere
            raise ImproperlyConfigured(
                f"The openai image provider cannot start: {exc} (set OPENAI_API_KEY or the "
                "api_key option in SIGNOFF_IMAGE_PROVIDER_OPTIONS)"
            ) from exc
        self.base_url = str(self.client.base_url)

    # ------------------------------------------------------------ configuration

    @property
    def prices(self) -> dict[str, Any]:
        if self._prices is not None:
            return self._prices
        return dict(_settings_value("SIGNOFF_IMAGE_PRICES", {}) or {})

    @property
    def max_pixels(self) -> int:
        if self._max_pixels is not None:
            return int(self._max_pixels)
        return int(_settings_value("SIGNOFF_IMAGE_MAX_PIXELS", 144_000_000))

    def _fidelity(self) -> str | None:
        if self.input_fidelity == "auto":
            # Keeps labels and logos closer to the packshot, where the model takes it;
            # gpt-image-2 wants the parameter left out.
            return "high" if takes_input_fidelity(self.model) else None
        return self.input_fidelity

    # ------------------------------------------------------------ the port

    def generate(self, request: ImageRequest) -> ImageResult:
        """Make ``request.n`` options from the packshots (``images.edit``)."""
        if not request.packshots:
            raise ImageRefused("no packshot: the openai provider never invents the product")
        if not 1 <= request.n <= MAX_N:
            raise OpenAIImagesError(f"n must be 1 to {MAX_N} per call, got {request.n}")
        inputs = list(request.packshots)
        if self.send_references:
            # Negative references show what must not appear: sent as images they would be
            # copied, so only their notes travel (in the prompt the service wrote).
            inputs += [r for r in request.references if r.kind != "negative"]
        sent, left_out = inputs[:MAX_INPUTS], inputs[MAX_INPUTS:]
        uploads = [
            _upload(item.data, f"{item.kind}-{i}", f"input {i} ({item.kind})", self.max_pixels)
            for i, item in enumerate(sent, start=1)
        ]
        prompt = request.prompt.strip() or _fallback_prompt(request)
        guide = _inputs_guide(sent)
        if guide:
            prompt = f"{prompt}\n{guide}"
        parameters = {
            "purpose": request.purpose,
            "inputs": [{"kind": item.kind, "sha256": item.sha256} for item in sent],
            "inputs_left_out": [{"kind": i.kind, "sha256": i.sha256} for i in left_out],
            "requested_seed": request.seed,
        }
        if request.fill is not None:
            parameters["fill"] = request.fill
        return self._call(
            "edit",
            prompt=prompt,
            n=request.n,
            asked=request.size,
            uploads=uploads,
            mask=None,
            parameters=parameters,
        )

    def edit(self, request: ImageEditRequest) -> ImageResult:
        """Edit ``request.image`` (where the mask's alpha is 0, if there is a mask)."""
        max_pixels = self.max_pixels
        base = _upload(request.image, "image", "the image to edit", max_pixels)
        mask = None
        if request.mask is not None:
            mask = self._mask(request.mask, request.image, base, max_pixels)
        packshots = list(request.packshots[: MAX_INPUTS - 1])
        uploads = [base] + [
            _upload(p.data, f"packshot-{i}", f"packshot {i}", max_pixels)
            for i, p in enumerate(packshots, start=1)
        ]
        prompt = request.prompt.strip()
        if packshots:
            prompt = (
                f"{prompt}\nImage 1 is the image to edit. Images 2 to {len(uploads)} are "
                "packshots of the product: keep the product exactly as they show it."
            )
        asked = request.size or _open(request.image, "the image to edit", max_pixels).size
        parameters = {
            "inputs": [{"kind": "image"}]
            + [{"kind": p.kind, "sha256": p.sha256} for p in packshots],
            "requested_seed": request.seed,
        }
        return self._call(
            "edit",
            prompt=prompt,
            n=1,
            asked=asked,
            uploads=uploads,
            mask=mask,
            parameters=parameters,
        )

    def text_to_image(
        self, prompt: str, *, n: int = 1, size: tuple[int, int] = (1024, 1024)
    ) -> ImageResult:
        """``images.generate`` from text alone. No service calls this: it invents the product.

        Kept for checking a key or a model from a shell, and for the day a purpose allows it.
        """
        if not 1 <= n <= MAX_N:
            raise OpenAIImagesError(f"n must be 1 to {MAX_N} per call, got {n}")
        return self._call(
            "generate", prompt=prompt, n=n, asked=size, uploads=[], mask=None, parameters={}
        )

    # ------------------------------------------------------------ one call

    def _mask(self, mask: bytes, image: bytes, base: _Upload, max_pixels: int) -> _Upload:
        opened = _open(mask, "the mask", max_pixels)
        original = _open(image, "the image to edit", max_pixels).size
        if opened.size != original:
            raise OpenAIImagesError(
                f"the mask is {size_text(opened.size)} but the image is {size_text(original)}; "
                "they must be the same size"
            )
        if "A" not in opened.getbands() and "transparency" not in opened.info:
            raise OpenAIImagesError(
                "the mask has no alpha channel: the API edits where the mask's alpha is 0"
            )
        if opened.format == "PNG" and base.size == original and len(mask) < MAX_MASK_BYTES:
            return _Upload("mask.png", mask, "image/png", opened.size)
        # The image was re-encoded smaller, or the mask is not a small PNG: match the image,
        # with NEAREST so the edited area keeps its exact edge.
        opened = opened.convert("RGBA").resize(base.size, Image.Resampling.NEAREST)
        out = io.BytesIO()
        opened.save(out, format="PNG", optimize=True)
        if out.tell() >= MAX_MASK_BYTES:
            raise OpenAIImagesError("the mask is 4 MB or more as a PNG; the API takes less")
        return _Upload("mask.png", out.getvalue(), "image/png", base.size, "mask re-encoded")

    def _call(
        self,
        endpoint: str,
        *,
        prompt: str,
        n: int,
        asked: tuple[int, int],
        uploads: list[_Upload],
        mask: _Upload | None,
        parameters: dict[str, Any],
    ) -> ImageResult:
        clean = Redactor()
        prompt = clean(prompt)  # the PII guard: nothing personal leaves the machine
        try:
            sent = api_size(self.model, asked, max_pixels=self.max_api_pixels)
        except ValueError as exc:
            raise OpenAIImagesError(str(exc)) from exc
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "n": n,
            "size": size_text(sent),
            "output_format": "png",
        }
        if self.quality:
            body["quality"] = self.quality
        fidelity = self._fidelity() if endpoint == "edit" else None
        if fidelity:
            body["input_fidelity"] = fidelity
        if self.extra_body:
            body["extra_body"] = self.extra_body
        started = time.perf_counter()
        try:
            if endpoint == "edit":
                files = [upload.file() for upload in uploads]
                if mask is not None:
                    body["mask"] = mask.file()
                response = self.client.images.edit(image=files, **body)
            else:
                response = self.client.images.generate(**body)
        except openai.OpenAIError as exc:
            raise self._error(exc) from exc
        latency_ms = (time.perf_counter() - started) * 1000
        images = self._read(response, n, sent)

        quality = self.quality or "auto"
        price = image_price(self.prices, self.model, size_text(sent), quality)
        usage = response.usage.model_dump(exclude_none=True) if response.usage else {}
        record = {
            **parameters,
            "endpoint": f"images.{endpoint}",
            "size_asked": size_text(asked),
            "size_sent": size_text(sent),
            "quality": quality,
            "output_format": "png",
            "input_fidelity": fidelity,
            "n": n,
            "mask": mask is not None,
            "inputs_converted": [u.note for u in [*uploads, *([mask] if mask else [])] if u.note],
            "seed": None,
            "seed_note": SEED_NOTE,
            "pricing": "per_image" if price is not None else "unpriced",
            "priced": price is not None,
            "price_per_image": price,
            "redactions": clean.count,
            "redaction_kinds": sorted(clean.kinds),
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "base_url": self.base_url,
            "served": {
                "size": response.size,
                "quality": response.quality,
                "background": response.background,
                "output_format": response.output_format,
                "created": response.created,
            },
        }
        return ImageResult(
            images=images,
            provider=self.name,
            model=self.model,
            prompt=prompt,
            parameters=record,
            cost=round((price or 0.0) * len(images), 8),
            latency_ms=latency_ms,
            usage=usage,
        )

    def _read(self, response: Any, n: int, sent: tuple[int, int]) -> list[GeneratedImage]:
        """Every option as checked image bytes, or an error naming the first bad option."""
        data = list(response.data or [])
        if len(data) != n:
            missing = f"options {len(data) + 1} to {n} are missing" if len(data) < n else ""
            raise OpenAIImagesError(
                f"the answer had {len(data)} image(s), {n} were asked for"
                + (f"; {missing}" if missing else ""),
                option=len(data) + 1 if len(data) < n else None,
            )
        images = []
        for number, item in enumerate(data, start=1):
            label = f"option {number} of {n}"
            image_bytes, fmt = self._decode(item, label, number, sent)
            images.append(
                GeneratedImage(
                    data=image_bytes,
                    seed=None,
                    parameters={"option": number, "size": size_text(sent), "format": fmt},
                    digital_source_type=TRAINED_ALGORITHMIC_MEDIA,
                )
            )
        return images

    def _decode(
        self, item: Any, label: str, number: int, sent: tuple[int, int]
    ) -> tuple[bytes, str]:
        encoded = getattr(item, "b64_json", None)
        if not encoded:
            where = " (only a URL, which GPT image models never send)" if item.url else ""
            raise OpenAIImagesError(f"{label} carried no image data{where}", option=number)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise OpenAIImagesError(f"{label} is not valid base64: {exc}", option=number) from exc
        try:
            image = _open(raw, label, self.max_pixels)
            fmt = _ANSWER_FORMATS.get(image.format or "")
            if fmt is None:
                raise OpenAIImagesError(
                    f"{label} is a {image.format} file, not PNG, JPEG or WebP", option=number
                )
            image.load()  # decodes every pixel: a truncated file fails here
        except OpenAIImagesError as exc:
            exc.option = number
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise OpenAIImagesError(
                f"{label} is truncated or corrupt: {exc}", option=number
            ) from exc
        if image.size != sent:
            raise OpenAIImagesError(
                f"{label} is {size_text(image.size)}, but {size_text(sent)} was asked for",
                option=number,
            )
        return raw, fmt

    def _error(self, exc: openai.OpenAIError) -> OpenAIImagesError:
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            body = exc.body if isinstance(exc.body, dict) else {}
            message = body.get("message") or exc.message
            code = body.get("code") or body.get("type")
            text = f"the OpenAI Images API answered HTTP {status}: {message}"
            if code:
                text += f" ({code})"
            if (status in _RETRIED_STATUSES or status >= 500) and self.max_retries:
                text += f"; still failing after the SDK's {self.max_retries} retries"
            return OpenAIImagesError(text, status_code=status)
        if isinstance(exc, openai.APITimeoutError):
            return OpenAIImagesError(
                f"the OpenAI Images API did not answer within {self.timeout:g} s "
                f"({self.max_retries} retries)"
            )
        if isinstance(exc, openai.APIConnectionError):
            return OpenAIImagesError(
                f"the OpenAI Images API could not be reached at {self.base_url}: {exc}"
            )
        return OpenAIImagesError(f"the OpenAI Images call failed: {type(exc).__name__}: {exc}")


def _inputs_guide(sent: list[ImageInput]) -> str:
    """Say which input image is which, when there are references besides the packshots."""
    packshots = sum(1 for item in sent if item.kind == "packshot")
    if packshots == len(sent):
        return ""
    return (
        f"Input images 1 to {packshots} are packshots of the product. Images {packshots + 1} "
        f"to {len(sent)} are brand references for the look only: do not copy products, "
        "people or text from them."
    )


def _fallback_prompt(request: ImageRequest) -> str:
    """A prompt from the direction, for callers that did not write one."""
    direction = request.direction
    lines = [
        f"Product photograph of {request.product_name}, made from the attached packshot.",
        "Keep the product exactly as in the packshot: same shape, colours, label and text.",
    ]
    if direction.hypothesis:
        lines.append(f"Idea to show: {direction.hypothesis}")
    if direction.audience:
        lines.append(f"For: {direction.audience}")
    lines += [f"Must: {c}" for c in direction.acceptance_criteria]
    lines += [f"Avoid: {n}" for n in direction.negatives]
    return "\n".join(lines)

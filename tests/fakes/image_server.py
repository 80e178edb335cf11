"""A local server on 127.0.0.1 that speaks the OpenAI Images API, for the real ``openai`` SDK.

``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart: ``image`` or
``image[]`` parts, ``mask``, ``prompt``, ``n``, ``size``, ``model``, ...) answer like the API:
``{"created", "data": [{"b64_json"}], "usage", "size", "quality", "output_format"}``, with
real PNGs of the size asked for. Each PNG is a gradient with the first input image pasted in
its middle, so a test can see the packshot was sent and used.

Every request is recorded (path, headers, form fields, uploaded files' bytes). The server can
be told to misbehave on the next requests (``fail``), one fault per request, in order; then it
behaves again. Tests talk to it only through the SDK:
``OpenAI(base_url=server.base_url, api_key="test")``.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from PIL import Image, ImageDraw

FaultKind = Literal[
    "rate_limit",  # 429 with retry-after (the SDK retries)
    "server_error",  # 500 (the SDK retries)
    "error_body",  # 400 with the API's JSON error body (not retried)
    "not_image",  # b64_json decodes to text, not an image
    "bad_base64",  # b64_json is not base64 at all
    "truncated",  # a PNG cut off half-way
    "wrong_size",  # a PNG of another size than asked
    "too_few",  # one image fewer than n
    "no_data",  # b64_json missing
]


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    status: int | None = None  # for error_body (default 400)
    message: str = "the fake server was told to fail"
    code: str | None = None
    retry_after_ms: int = 20  # rate_limit / server_error: how long the SDK is told to wait
    option: int = 1  # the 1-based option the answer faults (not_image, truncated, ...)


@dataclass(frozen=True, slots=True)
class Upload:
    field: str  # "image", "image[]" or "mask"
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class ImageCall:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, Any]  # JSON body, or the multipart form's text fields
    files: list[Upload] = field(default_factory=list)
    at: float = 0.0
    answered: int = 200

    @property
    def images(self) -> list[Upload]:
        return [f for f in self.files if f.field in ("image", "image[]")]

    @property
    def mask(self) -> Upload | None:
        return next((f for f in self.files if f.field == "mask"), None)


def png(size: tuple[int, int], *, paste: bytes | None = None, hue: int = 0) -> bytes:
    """A gradient PNG of ``size``, with ``paste`` (an image file) fitted in its middle."""
    width, height = size
    ramp = Image.linear_gradient("L").resize((width, height))
    canvas = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.FLIP_LEFT_RIGHT), ramp))
    if hue:
        ImageDraw.Draw(canvas).rectangle((0, 0, width // 8, height // 8), fill=(hue, 0, 0))
    if paste is not None:
        product = Image.open(io.BytesIO(paste)).convert("RGBA")
        product.thumbnail((max(1, width // 2), max(1, height // 2)))
        at = ((width - product.width) // 2, (height - product.height) // 2)
        canvas.paste(product, at, product)
    out = io.BytesIO()
    canvas.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _parse_size(value: Any) -> tuple[int, int]:
    if not value or value == "auto":
        return 1024, 1024
    width, _, height = str(value).partition("x")
    return int(width), int(height)


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], list[Upload]]:
    """Parse multipart/form-data with the standard library's MIME parser."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    files: list[Upload] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files.append(Upload(name, filename, part.get_content_type(), payload))
        else:
            fields[name] = payload.decode("utf-8")
    return fields, files


class FakeImageServer:
    """The Images API in a background thread; use as a context manager."""

    def __init__(self) -> None:
        self.calls: list[ImageCall] = []
        self.faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def fail(self, *faults: Fault | FaultKind) -> FakeImageServer:
        """Misbehave on the next requests, one fault each, in order."""
        with self._lock:
            self.faults.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)
        return self

    def __enter__(self) -> FakeImageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ---------------------------------------------------------------- answers

    def _answer(self, call: ImageCall) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(call)
            fault = self.faults.popleft() if self.faults else None
        if call.path not in ("/v1/images/generations", "/v1/images/edits"):
            return _error(404, f"no route {call.path}", "not_found", retry=False)
        kind = fault.kind if fault else None
        if kind == "rate_limit":
            return _error(
                429,
                "Rate limit reached for images per minute",
                "rate_limit_exceeded",
                headers={"retry-after-ms": str(fault.retry_after_ms)},
            )
        if kind == "server_error":
            return _error(
                500,
                "The server had an error processing your request",
                "server_error",
                headers={"retry-after-ms": str(fault.retry_after_ms)},
            )
        if kind == "error_body":
            return _error(fault.status or 400, fault.message, fault.code, retry=False)

        n = int(call.fields.get("n") or 1)
        size = _parse_size(call.fields.get("size"))
        first = call.images[0].data if call.images else None
        encoded = [base64.b64encode(png(size, paste=first, hue=40 * i)).decode() for i in range(n)]
        data: list[dict[str, Any]] = [{"b64_json": item} for item in encoded]
        at = min(fault.option if fault else 1, n) - 1
        if kind == "not_image":
            data[at] = {"b64_json": base64.b64encode(b"I am a PNG, honestly").decode()}
        elif kind == "bad_base64":
            data[at] = {"b64_json": "***not base64***"}
        elif kind == "truncated":
            whole = base64.b64decode(encoded[at])
            data[at] = {"b64_json": base64.b64encode(whole[: len(whole) // 2]).decode()}
        elif kind == "wrong_size":
            data[at] = {"b64_json": base64.b64encode(png((size[0] // 2, size[1]))).decode()}
        elif kind == "too_few":
            data = data[:-1]
        elif kind == "no_data":
            data[at] = {"revised_prompt": "nothing to see"}
        quality = call.fields.get("quality")
        image_tokens = 272 * len(call.images)
        text_tokens = len(str(call.fields.get("prompt", "")).split())
        body = {
            "created": int(time.time()),
            "data": data,
            "background": "opaque",
            "output_format": call.fields.get("output_format") or "png",
            "quality": quality if quality not in (None, "auto") else "medium",
            "size": f"{size[0]}x{size[1]}",
            "usage": {
                "input_tokens": image_tokens + text_tokens,
                "input_tokens_details": {"image_tokens": image_tokens, "text_tokens": text_tokens},
                "output_tokens": 1056 * n,
                "total_tokens": image_tokens + text_tokens + 1056 * n,
            },
        }
        return 200, body, {}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("content-type", "")
                files: list[Upload] = []
                if content_type.startswith("multipart/form-data"):
                    fields, files = _multipart(content_type, raw)
                else:
                    fields = json.loads(raw) if raw else {}
                call = ImageCall(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    fields=fields,
                    files=files,
                    at=time.monotonic(),
                )
                status, body, headers = server._answer(call)
                call.answered = status
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout under test)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output clean

        return Handler


def _error(
    status: int,
    message: str,
    code: str | None,
    *,
    retry: bool = True,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
    headers = dict(headers or {})
    if not retry:
        headers["x-should-retry"] = "false"
    return status, body, headers


@contextmanager
def image_server(*faults: Fault | FaultKind) -> Iterator[FakeImageServer]:
    with FakeImageServer() as server:
        server.fail(*faults)
        yield server

"""A local OpenAI-compatible chat-completions server with a fixed latency, for benchmarks.

Every ``POST .../chat/completions`` is answered ``latency`` seconds after it arrived (the reply
is written during that time, so writing it never adds to the latency), with one choice whose
content is a JSON object valid for the schema the client sent in
``response_format.json_schema.schema``: each string property is plain words ("Calm lavender
candle ...") repeated or trimmed to fit its ``minLength``/``maxLength``, each array property
has between ``minItems`` and ``maxItems`` such strings, and only the schema's properties are
written (``additionalProperties: false`` holds). Without a schema the content is ``{}``. The
response carries a ``usage`` block (about four characters a token), in the shape the official
``openai`` SDK reads.

    python bench/fake_openai.py --port 8765 --latency 0.2   # serve until Ctrl-C

or in a thread, from Python::

    with FakeOpenAI(latency=0.2) as server:
        base_url = server.base_url  # http://127.0.0.1:PORT/v1

It binds 127.0.0.1 only. ``GET /bench/stats`` returns how many completions were answered,
the most requests in flight at once (``peak``: the concurrency the client really reached), and
the wall-clock (``time.time()``) arrival of the first request and departure of the last
answer; ``POST /bench/reset`` zeroes them (a body ``{"latency": L}`` also sets the latency).
The same figures are attributes of :class:`FakeOpenAI`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = (
    "Calm lavender candle with a slow even burn in reusable stoneware for quiet evenings at home"
).split()
DEFAULT_CHARS = 60  # the length of a string whose schema sets no maximum
DEFAULT_ITEMS = 3  # the number of items of a list whose schema allows more


def text(min_length: int = 0, max_length: int | None = None, casing: str = "sentence") -> str:
    """Plain words, at least ``min_length`` and at most ``max_length`` characters.

    ``casing`` is ``sentence`` (the words as they are), ``title`` (every word capitalised) or
    ``lower``.
    """
    target = max(min_length, DEFAULT_CHARS if max_length is None else min(max_length, 120))
    words: list[str] = []
    for word in itertools.cycle(WORDS):
        if len(" ".join(words)) >= target:
            break
        words.append(word.lower() if words else word)
    out = " ".join(words)
    if max_length is not None and len(out) > max_length:
        cut = out[:max_length]
        # Trim at a word boundary when that still leaves enough characters.
        space = cut.rstrip().rfind(" ")
        out = cut[:space] if space >= max(min_length, 1) else cut.rstrip()
    while len(out) < min_length:  # an exact length ending on a space: pad with a letter
        out += "s"
    if casing == "title":
        out = " ".join(word[:1].upper() + word[1:] for word in out.split(" "))
    elif casing == "lower":
        out = out.lower()
    return out


def _hints(schema: dict[str, Any]) -> tuple[int | None, str]:
    """What the field's description asks beyond the schema: a recommended length, a casing."""
    description = str(schema.get("description", ""))
    aim = re.search(r"aim for at most (\d+) characters", description)
    casing = re.search(r"\b(title|sentence|lower) case\b", description)
    return (int(aim.group(1)) if aim else None), (casing.group(1) if casing else "sentence")


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):  # strict mode: ["string", "null"]
        kind = next((k for k in kind if k != "null"), "null")
    return kind


def value(schema: dict[str, Any], hints: tuple[int | None, str] | None = None) -> Any:
    """A value valid for a string, array-of-strings or object schema.

    A field's description may ask for a casing or a shorter length than its limit ("aim for
    at most 80 characters; title case"); those hints are followed too, so the copy also
    passes the channel's spec check and no draft is sent back for a refit.
    """
    kind = _type(schema)
    aim, casing = hints or _hints(schema)
    if kind == "array":
        minimum = int(schema.get("minItems", 0))
        maximum = schema.get("maxItems")
        count = max(minimum, DEFAULT_ITEMS if maximum is None else min(maximum, DEFAULT_ITEMS))
        item = schema.get("items") or {"type": "string"}
        return [value(item, (aim, casing)) for _ in range(count)]
    if kind == "object":
        return {name: value(prop) for name, prop in (schema.get("properties") or {}).items()}
    if kind == "null":
        return None
    minimum = int(schema.get("minLength", 0))
    maximum = schema.get("maxLength")
    if aim is not None and aim >= minimum:
        maximum = aim if maximum is None else min(maximum, aim)
    return text(minimum, maximum, casing)


def content_for(body: dict[str, Any]) -> dict[str, Any]:
    """The reply object for a chat-completions request body."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") != "json_schema":
        return {}
    schema = (fmt.get("json_schema") or {}).get("schema")
    if not schema:
        return {}
    return value(schema)


def completion(body: dict[str, Any], raw_length: int) -> dict[str, Any]:
    content = json.dumps(content_for(body))
    prompt_tokens = max(1, raw_length // 4)
    completion_tokens = max(1, len(content) // 4)
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # a burst of new connections is never refused


class FakeOpenAI:
    """The server in a background thread; use as a context manager."""

    def __init__(self, *, latency: float = 0.2, port: int = 0) -> None:
        self.latency = latency
        self.requests = 0
        self.peak = 0
        self.first_at: float | None = None  # time.time() when the first request arrived
        self.last_at: float | None = None  # time.time() when the last answer was ready
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.peak = 0
            self.first_at = self.last_at = None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "peak": self.peak,
                "first_at": self.first_at,
                "last_at": self.last_at,
                "latency": self.latency,
            }

    def serve_forever(self) -> None:
        self._httpd.serve_forever(poll_interval=0.05)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
            # Headers and body go out in two writes; with Nagle's algorithm on, the body
            # waits for the client's delayed ACK of the headers (about 40 ms on Linux).
            disable_nagle_algorithm = True

            def _send(self, status: int, payload: dict[str, Any] | bytes) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                if self.path == "/bench/stats":
                    self._send(200, server.stats())
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:  # noqa: N802
                arrived = time.monotonic()
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.path == "/bench/reset":  # optional body: {"latency": seconds}
                    server.reset()
                    if raw and "latency" in json.loads(raw):
                        server.latency = float(json.loads(raw)["latency"])
                    self._send(200, server.stats())
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"error": {"message": "the body is not JSON"}})
                    return
                with server._lock:
                    if server.first_at is None:
                        server.first_at = time.time()
                    server._in_flight += 1
                    server.peak = max(server.peak, server._in_flight)
                try:
                    # The answer is ready L after the request arrived, however long writing it
                    # took: with many requests due at once, writing them one after another
                    # (this process's GIL) would otherwise add to the latency of the last.
                    payload = json.dumps(completion(body, len(raw))).encode()
                    time.sleep(max(0.0, arrived + server.latency - time.monotonic()))
                finally:
                    with server._lock:
                        server._in_flight -= 1
                        server.requests += 1
                        server.last_at = time.time()
                try:
                    self._send(200, payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per request")
    args = parser.parse_args()
    server = FakeOpenAI(latency=args.latency, port=args.port)
    print(f"serving {server.base_url} with {args.latency} s latency", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()

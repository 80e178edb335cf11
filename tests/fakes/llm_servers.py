"""Local model servers on 127.0.0.1 that speak the OpenAI and Anthropic HTTP protocols.

Each test scripts the answers as a queue: the n-th request gets the n-th scripted response
(status, JSON body or raw text, headers, an optional delay before answering). Every request
is captured (path, headers, raw body, parsed JSON, arrival time), so a test can assert what
the real SDKs sent, how often, and how long they waited between tries.

A request that arrives after the queue is empty gets a 599 with ``x-should-retry: false``
(no SDK retries it) and is still captured, so an unexpected extra call fails loudly, unless
a responder is set (``respond_with``): then it computes the answer from the request, for
runs whose requests arrive in no fixed order (several drafts at once).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Scripted:
    """One scripted answer."""

    status: int = 200
    body: Any = None  # a dict/list is sent as JSON; a str as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to trip client timeouts)


@dataclass(frozen=True, slots=True)
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: str
    at: float  # time.monotonic() when the request arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class FakeLLMServer:
    """A scripted HTTP server in a background thread; use as a context manager."""

    def __init__(self) -> None:
        self.script: deque[Scripted] = deque()
        self.requests: list[Captured] = []
        self.responder: Callable[[Captured], Scripted] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        # Do not wait at close for handlers still sleeping through a scripted delay.
        self._httpd.block_on_close = False
        # A short poll interval: shutdown() waits for the loop to notice, once per test.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # ---------------------------------------------------------------- scripting

    def push(self, *answers: Scripted) -> FakeLLMServer:
        with self._lock:
            self.script.extend(answers)
        return self

    def respond_with(self, responder: Callable[[Captured], Scripted]) -> FakeLLMServer:
        """Answer every request the script does not cover with ``responder(request)``."""
        self.responder = responder
        return self

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def bodies(self) -> list[str]:
        return [r.body for r in self.requests]

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests' arrivals."""
        times = [r.at for r in self.requests]
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # ---------------------------------------------------------------- serving

    def _next(self, captured: Captured) -> Scripted:
        with self._lock:
            self.requests.append(captured)
            if self.script:
                return self.script.popleft()
            responder = self.responder
        if responder is not None:
            try:
                return responder(captured)
            except Exception as exc:  # a bug in the test's responder: fail the call loudly
                return Scripted(
                    status=599,
                    body={"error": {"message": f"the responder failed: {exc!r}"}},
                    headers={"x-should-retry": "false"},
                )
        return Scripted(
            status=599,
            body={"error": {"message": "the fake server has no scripted response left"}},
            headers={"x-should-retry": "false"},
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                captured = Captured(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    at=time.monotonic(),
                )
                answer = server._next(captured)
                if answer.delay and server._stopping.wait(answer.delay):
                    return
                payload = (
                    answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                ).encode("utf-8")
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left: that is the scenario under test

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # keep test output clean

        return Handler


@contextmanager
def fake_server(*answers: Scripted) -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        server.push(*answers)
        yield server


# -------------------------------------------------------------------- OpenAI protocol


def openai_reply(
    content: str | dict[str, Any] | None,
    *,
    model: str = "fake-gpt",
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
    finish_reason: str = "stop",
    refusal: str | None = None,
) -> Scripted:
    """A chat-completions response whose message content is ``content`` (a dict is dumped)."""
    text = json.dumps(content) if isinstance(content, dict) else content
    return Scripted(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def openai_error(
    status: int, message: str = "error", headers: dict[str, str] | None = None
) -> Scripted:
    return Scripted(
        status=status,
        body={"error": {"message": message, "type": "server_error", "code": None}},
        headers=headers or {},
    )


# -------------------------------------------------------------------- Anthropic protocol


def anthropic_tool_reply(
    tool_input: Any,
    *,
    tool_name: str = "submit_fields",
    model: str = "fake-claude",
    input_tokens: int = 120,
    output_tokens: int = 60,
    stop_reason: str = "tool_use",
) -> Scripted:
    """A Messages API response with one tool_use block carrying ``tool_input``."""
    return Scripted(
        body={
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [
                {"type": "tool_use", "id": "toolu_fake", "name": tool_name, "input": tool_input}
            ],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    )


def anthropic_text_reply(
    text: str, *, model: str = "fake-claude", input_tokens: int = 120, output_tokens: int = 60
) -> Scripted:
    return Scripted(
        body={
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }
    )


def anthropic_error(
    status: int, message: str = "error", headers: dict[str, str] | None = None
) -> Scripted:
    return Scripted(
        status=status,
        body={"type": "error", "error": {"type": "api_error", "message": message}},
        headers=headers or {},
    )

"""A webhook receiver on loopback that fails on purpose, and counts what it took by key.

It behaves like a careful real receiver (Stripe's idempotency keys): the first request with an
``Idempotency-Key`` that it *applies* is stored with the answer it gave; a later request with
the same key gets that answer again and is not applied again. So ``applied[key]`` is how many
times a key's document took effect (must be 1), and ``acked[key]`` how many 2xx answers it
wrote for it (1 unless an answer was lost on the way: a crash, a dropped response).

Failure modes, chosen per (key, how many times the key was seen) from a seeded hash, so the
same run fails the same way whatever the thread timing:

* ``error``: 500 or 503 (with or without ``Retry-After``), nothing applied
* ``limited``: 429 with ``Retry-After``, nothing applied
* ``hang``: no answer until after the client's timeout, nothing applied
* ``reset``: the connection is reset before any answer, nothing applied
* ``drop``: applied, then the connection is reset: the answer is lost (the mode that tests
  idempotency: the sender must not count it, and must send again with the same key)
* ``slow``: answered correctly, but late (within the timeout)

A request served only after the sender stopped waiting (on a loaded machine) is counted as a
failure too, ``lost``: applied, with its answer lost, as ``drop``.

``refuse`` lists keys answered 422 every time (a receiver that will never take them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import struct
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("error", "limited", "hang", "reset", "drop", "slow")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # listen() backlog: the default 5 drops connections a busy sender opens at once, and a
    # dropped SYN is retried only after a second (a "timeout" the receiver never saw).
    request_queue_size = 512

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # resets and lost answers are on purpose


class FakeReceiver:
    def __init__(
        self,
        *,
        failure_rate: float = 0.3,
        latency: float = 0.0,
        hang: float = 1.0,
        slow: float = 0.05,
        retry_after: str = "1",
        secret: bytes = b"test-secret",
        seed: int = 7,
        refuse: frozenset[str] = frozenset(),
        modes: tuple[str, ...] = MODES,
    ) -> None:
        self.failure_rate = failure_rate
        self.latency = latency  # every answer waits this long (the benchmark's receiver)
        self.hang = hang
        self.slow = slow
        self.retry_after = retry_after
        self.secret = secret
        self.seed = seed
        self.refuse = refuse
        self.modes = modes
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()  # requests per key
        self.applied: Counter[str] = Counter()  # documents that took effect, per key
        self.acked: Counter[str] = Counter()  # 2xx answers written, per key
        self.answers: dict[str, dict[str, Any]] = {}  # the stored answer, per applied key
        self.failures: dict[str, list[str]] = defaultdict(list)  # the modes each key met
        self.bad_signatures = 0
        self.documents: dict[str, dict[str, Any]] = {}
        self.in_flight = 0
        self.peak = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._server: ThreadingHTTPServer | None = None

    # --- the server ---------------------------------------------------------------------------

    def __enter__(self) -> FakeReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                receiver._handle(self)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                receiver._answer(self, 200, receiver.stats())

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/signoff"

    def stats(self) -> dict[str, Any]:
        """The counts, for a receiver running in another process (``GET /stats``)."""
        with self.lock:
            return {
                "seen": dict(self.seen),
                "applied": dict(self.applied),
                "acked": dict(self.acked),
                "failures": dict(self.failures),
                "answers": {k: v["id"] for k, v in self.answers.items()},
                "bad_signatures": self.bad_signatures,
                "peak": self.peak,
            }

    # --- behaviour ----------------------------------------------------------------------------

    def mode_for(self, key: str, nth: int) -> str | None:
        """The failure this request meets (None: it succeeds), from a seeded hash."""
        digest = hashlib.sha256(f"{self.seed}:{key}:{nth}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.failure_rate:
            return None
        return self.modes[digest[8] % len(self.modes)]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        key = handler.headers.get("Idempotency-Key", "")
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            now = time.time()
            self.first_at = self.first_at or now
            self.seen[key] += 1
            nth = self.seen[key]
        try:
            if not hmac.compare_digest(expected, handler.headers.get("X-Signoff-Signature", "")):
                with self.lock:
                    self.bad_signatures += 1
                return self._answer(handler, 401, {"error": "bad signature"})
            if key in self.refuse:
                return self._answer(handler, 422, {"error": {"message": "gtin is not valid"}})
            mode = None if key in self.answers else self.mode_for(key, nth)
            if mode:
                with self.lock:
                    self.failures[key].append(mode)
            if self.latency:
                time.sleep(self.latency)
            if mode == "error":
                status = 503 if nth % 2 else 500
                headers = {"Retry-After": "0"} if status == 503 else {}
                return self._answer(handler, status, {"error": "upstream busy"}, headers)
            if mode == "limited":
                headers = {"Retry-After": self.retry_after}
                return self._answer(handler, 429, {"error": "slow down"}, headers)
            if mode == "hang":
                time.sleep(self.hang)
                return self._reset(handler)
            if mode == "reset":
                return self._reset(handler)
            if mode == "slow":
                time.sleep(self.slow)
            answer = self._apply(key, body)
            if mode == "drop":
                return self._reset(handler)
            try:
                self._answer(handler, 200, answer)
            except OSError:
                # The sender gave up waiting before this request was served (a loaded
                # machine): applied, but the answer is lost, as with "drop".
                with self.lock:
                    self.failures[key].append("lost")
                return None
            with self.lock:
                self.acked[key] += 1
        finally:
            with self.lock:
                self.in_flight -= 1
                self.last_at = time.time()

    def _apply(self, key: str, body: bytes) -> dict[str, Any]:
        with self.lock:
            if key not in self.answers:  # a repeat gets the first answer, and is not applied
                self.applied[key] += 1
                document = json.loads(body)
                self.documents[key] = document
                self.answers[key] = {"id": f"rcv-{len(self.answers) + 1}", "ok": True}
            return self.answers[key]

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    @staticmethod
    def _reset(handler: BaseHTTPRequestHandler) -> None:
        """Close with RST: the client sees a reset, not an answer."""
        connection = handler.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        connection.close()


def main() -> None:
    """Serve on loopback until killed, in a process of its own (the benchmark's receiver):
    ``python tests/fakes/receiver.py --latency 0.1 [--failure-rate 0.3]`` prints its URL."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--hang", type=float, default=1.5)
    parser.add_argument("--slow", type=float, default=0.1)
    parser.add_argument("--secret", default="test-secret")
    args = parser.parse_args()
    with FakeReceiver(
        failure_rate=args.failure_rate,
        latency=args.latency,
        hang=args.hang,
        slow=args.slow,
        secret=args.secret.encode(),
    ) as receiver:
        sys.stdout.write(receiver.url + "\n")
        sys.stdout.flush()
        threading.Event().wait()


if __name__ == "__main__":
    main()

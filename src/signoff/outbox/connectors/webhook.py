"""POST one signed JSON document per package to a receiver's URL.

Headers: ``Idempotency-Key`` (the same on every attempt at one package version and
destination, so the receiver can recognise a repeat: draft-ietf-httpapi-idempotency-key-header)
and ``X-Signoff-Signature: sha256=<hex HMAC-SHA256 of the body with the destination's
secret>``. The receiver's id is the ``id`` of its JSON answer, else its ``Location`` header.

The standard library's ``http.client`` does the HTTP: neither httpx nor requests is a
dependency of Signoff, and one POST with a timeout needs neither. Redirects are not followed
(a signed POST should not wander): a 3xx is reported as a refusal to fix the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import ssl
from typing import ClassVar
from urllib.parse import urlsplit

from signoff.outbox.connectors.port import TAKEDOWN, DeliveryDocument
from signoff.outbox.destinations import DestinationError
from signoff.outbox.rules import SendResult

MAX_ANSWER_BYTES = 64 * 1024  # enough for any receipt or error message; the rest is not read
MAX_MESSAGE_CHARS = 500  # of the receiver's words kept with a failure
USER_AGENT = "signoff-outbox/1"


def signature(secret: bytes, body: bytes) -> str:
    """Return the ``X-Signoff-Signature`` value of a body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookConnector:
    kind: ClassVar[str] = "webhook"
    batches: ClassVar[bool] = False
    takes_down: ClassVar[bool] = True  # a takedown document to the same URL

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout  # seconds, for connecting and for each read

    def send(self, document: DeliveryDocument) -> SendResult:
        destination = document.destination
        try:
            secret = destination.secret()
        except DestinationError as exc:
            return SendResult(False, error=str(exc), transient=False)
        parts = urlsplit(destination.url)
        headers = {
            "Content-Type": document.media_type,
            "Idempotency-Key": document.key,
            "X-Signoff-Signature": signature(secret, document.body),
            "X-Signoff-Event": "package.takedown"
            if document.action == TAKEDOWN
            else "package.published",
            "User-Agent": USER_AGENT,
        }
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=self.timeout
            )
        try:
            connection.request("POST", target, body=document.body, headers=headers)
            response = connection.getresponse()
            answer = response.read(MAX_ANSWER_BYTES)
        except TimeoutError:
            return SendResult(False, error=f"no answer within {self.timeout:g} s (timeout)")
        except ssl.SSLCertVerificationError as exc:
            # Not a passing fault: someone must fix the certificate, then retry.
            return SendResult(False, error=f"TLS certificate refused: {exc}", transient=False)
        except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
            return SendResult(False, error="the receiver closed the connection without answering")
        except ConnectionRefusedError:
            return SendResult(False, error="connection refused (is the receiver up?)")
        except (OSError, http.client.HTTPException) as exc:
            return SendResult(False, error=f"connection failed: {exc or type(exc).__name__}")
        finally:
            connection.close()
        status = response.status
        if 200 <= status <= 299:
            return SendResult(True, status, receiver_id=_receiver_id(answer, response))
        message = _message(answer)
        if 300 <= status <= 399:
            where = response.getheader("Location") or "elsewhere"
            message = f"redirected to {where}; set the destination's url to the final address"
        return SendResult(
            False, status, error=message, retry_after=response.getheader("Retry-After")
        )


def _receiver_id(answer: bytes, response: http.client.HTTPResponse) -> str:
    try:
        data = json.loads(answer) if answer else None
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("id") not in (None, ""):
        return str(data["id"])[:500]
    return (response.getheader("Location") or "")[:500]


def _message(answer: bytes) -> str:
    """Return the receiver's words from an error answer: its JSON ``error``/``message``/
    ``detail``, else its text, on one line and cut to a readable length."""
    text = answer.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("error", "message", "detail", "title"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("detail")
            if isinstance(value, str) and value.strip():
                text = value
                break
    words = " ".join(text.split())
    if len(words) > MAX_MESSAGE_CHARS:
        words = words[: MAX_MESSAGE_CHARS - 1] + "…"
    return words

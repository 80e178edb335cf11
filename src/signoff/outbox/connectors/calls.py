"""One HTTP call to a channel's API, as the Shopify, Amazon and Merchant connectors make it.

The webhook connector's rules hold here too: the standard library's ``http.client`` (no new
dependency), a timeout for connecting and for each read, redirects not followed, the answer
read up to a bound, and a failure without an answer described the way
:func:`signoff.outbox.rules.next_step` classifies it (a timeout or reset is retried, a refused
certificate is not).
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from signoff.outbox.connectors.port import DeliveryDocument
from signoff.outbox.rules import SendResult

MAX_ANSWER_BYTES = 256 * 1024  # a GraphQL answer or a list of issues; the rest is not read
MAX_MESSAGE_CHARS = 500  # of the receiver's words kept with a failure
USER_AGENT = "signoff-outbox/1"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver answered: its status, headers (names in lower case) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status <= 299


def call(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: bytes | None = None,
    timeout: float,
) -> Answer | SendResult:
    """Make one request; return the answer, or a failed SendResult when none came."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
    try:
        connection.request(method, target, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read(MAX_ANSWER_BYTES)
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except TimeoutError:
        return SendResult(False, error=f"no answer within {timeout:g} s (timeout)")
    except ssl.SSLCertVerificationError as exc:
        return SendResult(False, error=f"TLS certificate refused: {exc}", transient=False)
    except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
        return SendResult(False, error="the receiver closed the connection without answering")
    except ConnectionRefusedError:
        return SendResult(False, error="connection refused (is the receiver up?)")
    except (OSError, http.client.HTTPException) as exc:
        return SendResult(False, error=f"connection failed: {exc or type(exc).__name__}")
    finally:
        connection.close()
    if 300 <= answer.status <= 399:
        where = answer.header("Location") or "elsewhere"
        return SendResult(
            False,
            answer.status,
            error=f"redirected to {where}; set the destination's url, shop, region or endpoint "
            "to the final address",
        )
    return answer


def one_line(text: str) -> str:
    """The receiver's words on one line, cut to a readable length."""
    words = " ".join(str(text).split())
    if len(words) > MAX_MESSAGE_CHARS:
        words = words[: MAX_MESSAGE_CHARS - 1] + "…"
    return words


def receiver_message(answer: Answer) -> str:
    """The receiver's words from an error answer, whichever of the usual shapes it has:
    Google's ``{"error": {"status", "message"}}``, Amazon's ``{"errors": [{"code",
    "message"}]}``, GraphQL's ``{"errors": [{"message"}]}`` or ``{"errors": "..."}``, an
    OAuth ``{"error", "error_description"}``; else the body as text."""
    data = answer.json()
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            status = error.get("status")
            return one_line(f"{status}: {error['message']}" if status else error["message"])
        if isinstance(error, str) and error:
            described = data.get("error_description")
            return one_line(f"{error}: {described}" if described else error)
        errors = data.get("errors")
        if isinstance(errors, str) and errors:
            return one_line(errors)
        if isinstance(errors, list) and errors:
            said = []
            for entry in errors:
                if isinstance(entry, dict):
                    code = entry.get("code") or ""
                    message = entry.get("message") or ""
                    said.append(f"{code}: {message}" if code and message else code or message)
                else:
                    said.append(str(entry))
            return one_line("; ".join(s for s in said if s))
        for key in ("message", "detail", "title"):
            if isinstance(data.get(key), str) and data[key].strip():
                return one_line(data[key])
    return one_line(answer.body.decode("utf-8", "replace")) or f"HTTP {answer.status}"


def failure(answer: Answer, *, retry_after: str | None = None) -> SendResult:
    """A non-2xx answer as a failed SendResult: its status (which decides whether it is
    retried), the receiver's words and its ``Retry-After`` (or the one given)."""
    return SendResult(
        False,
        answer.status,
        error=receiver_message(answer),
        retry_after=retry_after if retry_after is not None else answer.header("Retry-After"),
    )


def problems_by_package(problems: Iterable[Any]) -> dict[int, str]:
    """A feed's problems (``FeedProblem``s) as ``{package id: "field: why; ..."}``."""
    said: dict[int, list[str]] = {}
    for problem in problems:
        text = f"{problem.field}: {problem.message}" if problem.field else problem.message
        said.setdefault(problem.package_id, []).append(text)
    return {package: "; ".join(texts) for package, texts in said.items()}


def stored_document(document: DeliveryDocument) -> dict[str, Any]:
    """The stored delivery document a channel API connector was handed (its JSON body)."""
    data = json.loads(document.body)
    if not isinstance(data, dict):
        raise ValueError("a delivery document is a JSON object")
    return data


def request_of(stored: dict[str, Any], kind: str) -> dict[str, Any] | SendResult:
    """The channel API call stored with a delivery, or why it cannot be sent: the package's
    ``problem`` (a field the API needs), or no call at all (the delivery was written for
    another kind of destination under the same name: launch again)."""
    if stored.get("problem"):
        return SendResult(False, error=str(stored["problem"]), transient=False)
    request = stored.get("request")
    if not isinstance(request, dict):
        return SendResult(
            False,
            error=f"this delivery holds no {kind} call: its destination was another kind at "
            "launch; launch the channel again to send it",
            transient=False,
        )
    return request

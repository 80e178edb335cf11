"""What every remote model provider shares: ask for JSON, validate, re-prompt, record.

A subclass only says how to send one turn through its SDK and how to append a correction to
the conversation. This class owns the rules the issue sets for every provider, for drafts
(``draft``) and for any other agent's structured question (``complete``, the brief parser):

- The prompt is built (and PII redacted) by ``prompting.build_prompt``.
- The reply is parsed and validated against the channel's schema. An invalid reply (not
  JSON, cut off, a refusal, a schema error) is answered with the validation errors, up to
  ``output_retries`` times; then ``DraftFailed`` is raised and nothing is returned as content.
- Transport failures (429, 5xx, timeouts, refused connections) are retried by the SDK itself
  (``max_retries``, exponential backoff with jitter, ``Retry-After`` honoured). When the SDK
  gives up its error is wrapped in ``DraftFailed`` so the caller has one failure to record.
- The result carries model, prompt, parameters, tokens summed over attempts, wall-clock
  latency and cost from the price table.

A reply only ever becomes field values: whatever it says is data for people to review.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured

from signoff.agents.context import FieldValue
from signoff.agents.providers.port import (
    Check,
    Completion,
    DraftFailed,
    DraftRequest,
    DraftResult,
    Prompt,
)
from signoff.agents.providers.prompting import Redactor, build_prompt, repair_message
from signoff.agents.providers.schema import drop_nulls, validate_fields

DEFAULT_TIMEOUT = 60.0  # seconds per HTTP request; the SDKs' own default is ten minutes
DEFAULT_MAX_RETRIES = 2  # transport retries inside the SDK, per attempt
DEFAULT_OUTPUT_RETRIES = 2  # re-prompts after an invalid reply
DEFAULT_MAX_TOKENS = 2000
DEFAULT_TEMPERATURE = 0.7

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n?(.*?)\n?```\s*$", re.DOTALL)


@dataclass(slots=True)
class Reply:
    """One model turn, as the provider understood it."""

    data: Any = None  # the parsed JSON object, when there is one
    text: str = ""  # the raw text, to echo back in a correction
    problem: str | None = None  # why there is no usable object (bad JSON, cut off, refusal)
    input_tokens: int = 0
    output_tokens: int = 0
    served_model: str | None = None
    raw: Any = None  # the SDK's response object, for the subclass's correction turn


@dataclass(slots=True)
class _Tally:
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    repairs: list[list[str]] = field(default_factory=list)
    served_model: str | None = None


def parse_json(text: str) -> tuple[Any, str | None]:
    """Return (object, None), or (None, why not). A ```json fence around it is tolerated."""
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    if not text.strip():
        return None, "the reply was empty; reply with the JSON object"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"the reply is not valid JSON ({exc.msg} at line {exc.lineno})"


def model_from(option: str | None) -> str:
    """The model name from the option or ``SIGNOFF_MODEL``; a remote provider needs one."""
    model = option or os.environ.get("SIGNOFF_MODEL", "").strip()
    if not model:
        raise ImproperlyConfigured(
            "No model is set for this provider: set SIGNOFF_MODEL or the provider's "
            "OPTIONS['model'] in SIGNOFF_PROVIDERS (see docs/providers.md)."
        )
    return model


def price_table() -> dict[str, Any]:
    from django.conf import settings

    if not settings.configured:
        return {}
    return dict(getattr(settings, "SIGNOFF_PRICES", {}) or {})


def cost_of(
    prices: dict[str, Any], model: str, input_tokens: int, output_tokens: int
) -> float | None:
    """The cost of the tokens, or None when the model has no price (it is recorded as 0)."""
    price = prices.get(model)
    if not price:
        return None
    cost = input_tokens / 1000 * float(price.get("input_per_1k", 0)) + output_tokens / 1000 * float(
        price.get("output_per_1k", 0)
    )
    return round(cost, 8)


class StructuredProvider:
    """Base of the SDK-backed providers: the attempt loop and the provenance record."""

    name: ClassVar[str]
    transport_errors: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(
        self,
        *,
        model: str | None = None,
        temperature: float | None = DEFAULT_TEMPERATURE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        output_retries: int = DEFAULT_OUTPUT_RETRIES,
        prices: dict[str, Any] | None = None,
    ) -> None:
        if output_retries < 0 or max_retries < 0:
            raise ImproperlyConfigured("output_retries and max_retries must be 0 or more")
        self.model = model_from(model)
        self.temperature = temperature
        self.max_tokens = int(max_tokens)
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.output_retries = int(output_retries)
        self._prices = prices

    # ------------------------------------------------------------ for subclasses

    def _start(self, prompt: Prompt) -> list[dict[str, Any]]:
        """The conversation's opening messages (the system prompt may travel separately)."""
        raise NotImplementedError

    def _send(self, prompt: Prompt, messages: list[dict[str, Any]]) -> Reply:
        """Send the conversation once through the SDK and read its reply."""
        raise NotImplementedError

    def _correct(
        self, messages: list[dict[str, Any]], reply: Reply, correction: str, clean: Redactor
    ) -> None:
        """Append the reply and the correction so the next turn can fix it."""
        raise NotImplementedError

    def _parameters(self, prompt: Prompt) -> dict[str, Any]:
        """What this provider sent besides the prompt, recorded with the version."""
        return {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "output_retries": self.output_retries,
        }

    def _describe_error(self, exc: Exception) -> str:
        status = getattr(exc, "status_code", None)
        detail = str(exc) or type(exc).__name__
        if status is not None:
            return f"the provider answered HTTP {status}: {detail}"
        return f"the provider could not be reached: {type(exc).__name__}: {detail}"

    # ------------------------------------------------------------ the loop

    def draft(self, request: DraftRequest) -> DraftResult:
        channel = request.channel

        def check(data: Any) -> tuple[Any, list[str]]:
            data = drop_nulls(channel, data)
            return data, validate_fields(channel, data)

        data, record = self._ask(build_prompt(request), check)
        # Only the channel's fields, as plain strings: validation already refused anything
        # else, and the copy is rebuilt here so no SDK object or extra key travels on.
        fields: dict[str, FieldValue] = {}
        for name in channel.fields:
            if name in data:
                value = data[name]
                fields[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
        return DraftResult(fields=fields, **record)

    def complete(self, prompt: Prompt, check: Check) -> Completion:
        """Return the JSON object the model answers ``prompt`` with, once ``check`` accepts it.

        ``prompt`` must already be redacted (every agent builds its own with a ``Redactor``).
        Raises ``DraftFailed`` like ``draft`` does: after ``output_retries`` corrections, or
        when the transport gives up.
        """
        data, record = self._ask(prompt, check)
        return Completion(data=data, **record)

    def _ask(self, prompt: Prompt, check: Check) -> tuple[Any, dict[str, Any]]:
        messages = self._start(prompt)
        tally = _Tally()
        # Echoed replies and corrections are redacted too: nothing leaves unguarded, even text
        # the model made up.
        echo = Redactor()
        started = time.perf_counter()
        while True:
            tally.attempts += 1
            try:
                reply = self._send(prompt, messages)
            except self.transport_errors as exc:
                raise self._failed(self._describe_error(exc), prompt, tally, started, echo) from exc
            tally.input_tokens += reply.input_tokens
            tally.output_tokens += reply.output_tokens
            tally.served_model = reply.served_model or tally.served_model
            if reply.problem:
                data, problems = None, [reply.problem]
            else:
                data, problems = check(reply.data)
            if not problems:
                return data, self._record(prompt, tally, started, echo)
            tally.repairs.append(problems)
            if tally.attempts > self.output_retries:
                reason = "invalid output: " + "; ".join(problems)
                raise self._failed(reason, prompt, tally, started, echo)
            self._correct(messages, reply, echo(repair_message(problems)), echo)

    def _record(
        self, prompt: Prompt, tally: _Tally, started: float, echo: Redactor
    ) -> dict[str, Any]:
        prices = self._prices if self._prices is not None else price_table()
        cost = cost_of(prices, self.model, tally.input_tokens, tally.output_tokens)
        parameters = {
            **self._parameters(prompt),
            "attempts": tally.attempts,
            "redactions": prompt.redactions + echo.count,
            "redaction_kinds": sorted(set(prompt.redaction_kinds) | set(echo.kinds)),
            "repairs": tally.repairs,
            "priced": cost is not None,
        }
        if tally.served_model and tally.served_model != self.model:
            parameters["served_model"] = tally.served_model
        return {
            "provider": self.name,
            "model": self.model,
            "prompt": prompt.text,
            "parameters": parameters,
            "input_tokens": tally.input_tokens,
            "output_tokens": tally.output_tokens,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "cost": cost or 0.0,
        }

    def _failed(
        self, reason: str, prompt: Prompt, tally: _Tally, started: float, echo: Redactor
    ) -> DraftFailed:
        return DraftFailed(reason, tally.attempts, **self._record(prompt, tally, started, echo))

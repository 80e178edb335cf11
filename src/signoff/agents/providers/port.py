"""The one narrow port every model provider implements.

A provider turns a DraftRequest into field values. It records what it used (provider, model,
prompt or template, parameters) so every version can say where it came from. It never changes
state: the services decide what to store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from signoff.agents.context import BrandRules, BriefFacts, FieldValue, ProductFacts
from signoff.channels.spec import ChannelSpec

# Checks a parsed reply: returns the value to keep and why it is not valid (empty when it is).
Check = Callable[[Any], tuple[Any, list[str]]]


# What a drafter asks a model: the prompting module builds it, a Completer sends it.
@dataclass(frozen=True, slots=True)
class Prompt:
    system: str
    user: str
    schema: dict[str, Any]
    schema_name: str = "fields"
    redactions: int = 0
    redaction_kinds: tuple[str, ...] = ()
    # The forced tool a provider without JSON modes (Anthropic) is asked to call.
    tool_name: str = "submit_fields"
    tool_description: str = "Submit the copy: one value per channel field, within its limits."

    @property
    def text(self) -> str:
        """The whole prompt as one stable text, stored with the version it produced."""
        return f"[system]\n{self.system}\n\n[user]\n{self.user}"

    def chat_messages(self) -> list[dict[str, Any]]:
        """Chat-completions messages: system then user."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user},
        ]


@dataclass(frozen=True, slots=True)
class DraftRequest:
    channel: ChannelSpec
    product: ProductFacts
    brief: BriefFacts
    rules: BrandRules
    variant: str = "A"  # "A", "B", ...: variants must really differ
    variant_index: int = 0
    market: str = "en-US"
    # How many notes people left on this package's own SKU and channel (its copy sent back or
    # edited): what a redraft counts as its revision. ``brief.notes`` also carries notes on
    # the SKU's other channels and the channel's other SKUs, which inform the draft but are
    # another template's history. None: count every note given.
    revision: int | None = None
    # The copy this draft replaces (a rejected or reset version's fields), so a field a
    # rejection named can be written anew rather than word for word again. None: a first draft.
    replaces: Mapping[str, FieldValue] | None = None


@dataclass(frozen=True, slots=True)
class DraftResult:
    fields: dict[str, FieldValue]
    provider: str
    model: str
    prompt: str  # the prompt sent, or the template id for the builtin composer
    parameters: dict[str, Any] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class Completion:
    """A structured answer to any prompt (not a draft): the checked JSON and its record."""

    data: Any
    provider: str
    model: str
    prompt: str
    parameters: dict[str, Any] = field(default_factory=dict)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost: float = 0.0

    def origin(self) -> dict[str, Any]:
        """Where the answer came from, as stored next to what was made of it."""
        return _origin(self)


class Provider(Protocol):
    """Draft content for one package."""

    name: str

    def draft(self, request: DraftRequest) -> DraftResult: ...


class Completer(Protocol):
    """Answer one prompt with a JSON object that ``check`` accepts (the remote providers).

    Agents other than the copy drafter (the brief parser) ask through this: the same PII
    guard on the prompt, the same re-prompting with the problems, the same record, and
    ``DraftFailed`` when no valid answer came.
    """

    name: str

    def complete(self, prompt: Prompt, check: Check) -> Completion: ...


class DraftFailed(Exception):
    """A provider could not produce valid fields for a request.

    Raised after the provider's own retries (transport, then re-prompting with validation
    errors) are spent. The caller records a failed draft with ``reason``; nothing the model
    returned is stored as content. Usage and cost are still carried: failed attempts are paid
    for, and budgets must count them.
    """

    def __init__(
        self,
        reason: str,
        attempts: int,
        *,
        provider: str = "",
        model: str = "",
        prompt: str = "",
        parameters: dict[str, Any] | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        latency_ms: float = 0.0,
        cost: float = 0.0,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts
        self.provider = provider
        self.model = model
        self.prompt = prompt
        self.parameters = parameters or {}
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.latency_ms = latency_ms
        self.cost = cost

    def __str__(self) -> str:
        return f"{self.reason} (after {self.attempts} attempt{'s' if self.attempts != 1 else ''})"

    def origin(self) -> dict[str, Any]:
        """What was asked and what the failed attempts cost, as a completion's origin says."""
        return _origin(self)


def _origin(made: Completion | DraftFailed) -> dict[str, Any]:
    return {
        "provider": made.provider,
        "model": made.model,
        "prompt": made.prompt,
        "parameters": made.parameters,
        "input_tokens": made.input_tokens,
        "output_tokens": made.output_tokens,
        "latency_ms": made.latency_ms,
        "cost": made.cost,
    }

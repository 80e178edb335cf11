"""The one narrow port every model provider implements.

A provider turns a DraftRequest into field values. It records what it used (provider, model,
prompt or template, parameters) so every version can say where it came from. It never changes
state: the services decide what to store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from signoff.agents.context import BrandRules, BriefFacts, FieldValue, ProductFacts
from signoff.channels.spec import ChannelSpec


@dataclass(frozen=True, slots=True)
class DraftRequest:
    channel: ChannelSpec
    product: ProductFacts
    brief: BriefFacts
    rules: BrandRules
    variant: str = "A"  # "A", "B", ...: variants must really differ
    variant_index: int = 0
    market: str = "en-US"


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


class Provider(Protocol):
    """Draft content for one package."""

    name: str

    def draft(self, request: DraftRequest) -> DraftResult: ...

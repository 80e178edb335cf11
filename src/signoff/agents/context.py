"""Plain values the agents work on: product facts, brief facts, workspace rules, drafts, findings.

Checks and providers take these, never models, so they run without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from signoff.channels.spec import ChannelSpec

FieldValue = str | list[str]


class Severity(StrEnum):
    INFO = "info"  # worth knowing, nothing to do
    WARN = "warn"  # a person should look before approving
    BLOCK = "block"  # cannot pass a gate until fixed


SEVERITY_ORDER = {Severity.INFO: 0, Severity.WARN: 1, Severity.BLOCK: 2}


class ClaimStatus(StrEnum):
    APPROVED = "approved"  # substantiated; may be used
    PENDING = "pending"  # under legal review
    NEEDS_SUBSTANTIATION = "needs_substantiation"  # requires cited evidence first
    FORBIDDEN = "forbidden"  # never
    WITHDRAWN = "withdrawn"  # was approved, no longer


@dataclass(frozen=True, slots=True)
class ProductFacts:
    sku: str
    name: str
    gtin: str | None = None
    price: Decimal | None = None
    currency: str = "USD"
    attributes: Mapping[str, str] = field(default_factory=dict)
    claims: tuple[str, ...] = ()  # claim ids the product may make
    images: tuple[str, ...] = ()  # paths relative to the brief's folder


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    status: ClaimStatus
    text: str | None = None  # the wording, detected case- and hyphen-insensitively
    pattern: str | None = None  # a regular expression that detects it
    evidence: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Term:
    use: str
    avoid: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BannedTerm:
    phrase: str
    suggest: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class BrandRules:
    """The workspace's brand voice, terminology, banned phrases and claims registry."""

    brand_name: str
    description: str = ""
    tone_default: str = "calm"
    tone_by_channel: Mapping[str, str] = field(default_factory=dict)
    max_sentence_words: int | None = None
    forbid_exclamation: bool = False
    terminology: tuple[Term, ...] = ()
    banned: tuple[BannedTerm, ...] = ()
    claims: tuple[Claim, ...] = ()
    # How an unapproved claim found in copy is graded, by status.
    claim_severity: Mapping[str, Severity] = field(
        default_factory=lambda: {
            ClaimStatus.PENDING: Severity.BLOCK,
            ClaimStatus.NEEDS_SUBSTANTIATION: Severity.WARN,
            ClaimStatus.FORBIDDEN: Severity.BLOCK,
            ClaimStatus.WITHDRAWN: Severity.BLOCK,
        }
    )

    def tone_for(self, channel_id: str, channel_default: str) -> str:
        return self.tone_by_channel.get(channel_id, self.tone_default or channel_default)

    def claim(self, claim_id: str) -> Claim | None:
        return next((c for c in self.claims if c.id == claim_id), None)


@dataclass(frozen=True, slots=True)
class BriefFacts:
    """What the brief says that a drafter may use."""

    name: str
    audience: str = ""
    key_messages: tuple[str, ...] = ()
    acceptance_criteria: tuple[str, ...] = ()
    markets: tuple[str, ...] = ("en-US",)
    notes: tuple[str, ...] = ()  # reviewer notes from earlier rejections, newest first
    # What earlier launches on the channel proved, with the numbers (signoff.insights).
    learnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InputSignals:
    """What the input guard found in a brief that its copy must never carry (agents.guard).

    ``flagged``: the input sentences that instruct the system; ``pii_words`` and ``pii_forms``:
    the words of personal data found in the inputs, and their joined forms and digit runs
    ("janedoe", "4155550134"); ``brief_texts``: the brief-wide texts every package may quote.
    """

    flagged: tuple[str, ...] = ()
    pii_words: tuple[str, ...] = ()
    pii_forms: tuple[str, ...] = ()
    brief_texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Draft:
    """One version's content for one package, as the checks see it."""

    channel: ChannelSpec
    fields: Mapping[str, FieldValue]
    product: ProductFacts
    market: str = "en-US"
    variant: str = "A"
    # The brief's other products (product identity) and what its inputs were screened for.
    siblings: tuple[ProductFacts, ...] = ()
    inputs: InputSignals | None = None


@dataclass(frozen=True, slots=True)
class RelatedPackage:
    """Another package a finding is about: its cell, and what it says there.

    The consistency auditor links the packages that disagree with the one a finding is on, so
    a screen or the API can link to them without parsing the message.
    """

    sku: str
    channel: str
    market: str
    variant: str
    says: str = ""  # what that package states, normalised: "40 hours", '"green"'

    def as_dict(self) -> dict[str, str]:
        return {
            "sku": self.sku,
            "channel": self.channel,
            "market": self.market,
            "variant": self.variant,
            "says": self.says,
        }


@dataclass(frozen=True, slots=True)
class CheckFinding:
    """One check's result on one draft."""

    agent: str  # spec_checker, claims_scanner, brand_voice, pii_guard, consistency_auditor
    rule_id: str  # dotted: "spec.max_chars", "claims.pending", "voice.terminology", ...
    severity: Severity
    message: str
    field: str | None = None  # "title", or "bullet_points[2]" for the third item of a list
    span: tuple[int, int] | None = None  # [start, end) in that field's text
    suggested_fix: str | None = None
    related: tuple[RelatedPackage, ...] = ()  # the other packages involved (consistency)


def field_texts(fields: Mapping[str, FieldValue]) -> list[tuple[str, str]]:
    """Return (field path, text) for every text, list items as ``name[i]``."""
    out: list[tuple[str, str]] = []
    for name, value in fields.items():
        if isinstance(value, list):
            out.extend((f"{name}[{i}]", item) for i, item in enumerate(value))
        elif value is not None:
            out.append((name, str(value)))
    return out

"""The brief enricher: proposals a person accepts, edits or ignores. Builtin only.

It proposes key messages per channel (from the approved claims every SKU may make and the
channel's kind), facts to request (what completeness says each channel will miss) and
references to reuse (copy that passed the last gate before, on the same channel) and
performance winners of earlier launches on the brief's channels, with their numbers. It never
changes a brief itself: accepting proposals makes a new brief version, which G1 then approves.

It uses no model, and a model configured for it is refused rather than ignored
(:func:`refuse_models`). The reason is how proposals are accepted: by id, with the proposals
computed again at acceptance (``signoff brief accept BRIEF ID...``). A model answers
differently each time, so its ids would not survive until a person accepts them; that needs
the proposals stored with the brief version first. ``SIGNOFF_PROVIDER`` (every agent's
default) does not apply here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from signoff.agents.context import BrandRules, ClaimStatus, ProductFacts
from signoff.briefs.completeness import fact_label, family_attributes, find_gaps
from signoff.channels.spec import ChannelSpec
from signoff.core.text import clip

# What a message leads with, by the kind of channel.
LEADS = {
    "marketplace": "State the facts shoppers compare first: {facts}.",
    "feed": "Keep titles factual and complete: {facts}.",
    "social": "One sensory idea per post; mention {claim} once, plainly.",
    "ads": "One benefit per ad: {claim}.",
    "email": "Open with the occasion, then {claim}.",
    "print": "One line, one image: {claim}.",
}


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str  # stable for the same proposal on the same brief
    kind: str  # "key_message" | "request_data" | "reference" | "learning"
    target: str  # where it goes: "channel_messages.amazon_us_pdp", "data_requests", "references"
    value: str
    reason: str


def _id(kind: str, target: str, value: str) -> str:
    return hashlib.sha256(f"{kind}|{target}|{value}".encode()).hexdigest()[:8]


def _proposal(kind: str, target: str, value: str, reason: str) -> Proposal:
    return Proposal(_id(kind, target, value), kind, target, value, reason)


AGENT = "brief_enricher"
_BUILTIN = "signoff.agents.providers.builtin.BuiltinProvider"


def refuse_models(workspace: str | None) -> None:
    """Refuse a model configured for the enricher, in settings or by the workspace.

    Raises ``ImproperlyConfigured`` for ``SIGNOFF_AGENT_PROVIDERS`` / ``SIGNOFF_PROVIDERS``
    and ``InputError`` (located at ``providers.brief_enricher``) for the workspace file.
    """
    from signoff.core.errors import InputError, Problem

    configured = (getattr(settings, "SIGNOFF_PROVIDERS", {}) or {}).get(AGENT)
    if configured and configured.get("BACKEND") != _BUILTIN:
        raise ImproperlyConfigured(
            f"{AGENT} is builtin-only (its proposals are accepted by id, so they must be the "
            f"same each time): remove {AGENT} from SIGNOFF_AGENT_PROVIDERS / SIGNOFF_PROVIDERS"
        )
    if not workspace:
        return
    from signoff.workspaces.models import Workspace

    choices = Workspace.objects.filter(slug=workspace).values_list("providers", flat=True)
    spec = (choices.first() or {}).get(AGENT, "")
    if spec and spec.partition(":")[0].strip() != "builtin":
        raise InputError(
            [
                Problem(
                    f"{spec!r}: the brief enricher is builtin-only (its proposals are "
                    "accepted by id, so they must be the same each time); remove it or say "
                    "'builtin'",
                    field=f"providers.{AGENT}",
                )
            ]
        )


def propose(
    brief: Mapping,
    products: Sequence[ProductFacts],
    channels: Mapping[str, ChannelSpec],
    rules: BrandRules,
    winners: Sequence[tuple[str, str, str]] = (),  # (sku, channel, copy) that passed the last gate
    learnings: Sequence[tuple[str, str]] = (),  # (channel, why it won, with its numbers)
) -> list[Proposal]:
    """Return the proposals for a brief, in a stable order.

    Refuses (see :func:`refuse_models`) when a model is configured for the enricher.
    """
    refuse_models(brief.get("workspace"))
    proposals: list[Proposal] = []
    approved = {c.id: c for c in rules.claims if c.status is ClaimStatus.APPROVED and c.text}
    shared = [c for c in approved if products and all(c in p.claims for p in products)]
    claim = approved[shared[0]].text if shared else "the product's own facts"
    family = sorted(family_attributes(products))
    facts = ", ".join(["size", *[a.replace("_", " ") for a in family if a != "size"][:3]])
    existing = brief.get("channel_messages", {})
    for channel_id, spec in channels.items():
        message = LEADS[spec.kind].format(facts=facts, claim=claim)
        if message not in existing.get(channel_id, []):
            proposals.append(
                _proposal(
                    "key_message",
                    f"channel_messages.{channel_id}",
                    message,
                    f"{spec.name} is a {spec.kind} channel"
                    + (f"; every SKU may claim {claim!r}" if shared else ""),
                )
            )
    requested = set(brief.get("data_requests", []))
    for product in products:
        missing: dict[str, list[str]] = {}
        for channel_id, spec in channels.items():
            _, gaps = find_gaps(product, spec, family, brief.get("required_attributes", []))
            for gap in gaps:
                missing.setdefault(gap.field, []).append(channel_id)
        for fact, needing in missing.items():
            request = f"{product.sku}: {fact_label(fact)}"
            if request not in requested:
                proposals.append(
                    _proposal(
                        "request_data",
                        "data_requests",
                        request,
                        f"needed by {', '.join(needing)}; without it those packages are blocked",
                    )
                )
    known = {r.get("note") for r in brief.get("references", [])}
    for sku, channel_id, copy in winners:
        if channel_id not in channels:
            continue
        note = f"Approved copy for {sku} on {channel_id}: {clip(copy, 160)}"
        if note not in known:
            proposals.append(
                _proposal(
                    "reference",
                    "references",
                    note,
                    "passed every gate before on this channel (a previous winner)",
                )
            )
    # What launches proved (signoff.insights): proposed as references the drafts then cite.
    for channel_id, text in learnings:
        if channel_id in channels and text not in known:
            proposals.append(
                _proposal(
                    "learning",
                    "references",
                    text,
                    "measured on an earlier launch: a significant winner with enough data",
                )
            )
    return proposals

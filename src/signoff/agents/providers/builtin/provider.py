"""``BuiltinProvider``: the port implementation, drafting every field of a channel."""

from __future__ import annotations

from dataclasses import replace

from signoff.agents.context import FieldValue
from signoff.agents.feedback import Asks, asks_for, says, scrub, without
from signoff.agents.providers.builtin.composers import Context, plan_for
from signoff.agents.providers.builtin.facts import facts_for
from signoff.agents.providers.builtin.filling import filled
from signoff.agents.providers.builtin.rules import field_setup
from signoff.agents.providers.builtin.vocabulary import LEADS, TONE_STYLES
from signoff.agents.providers.port import DraftRequest, DraftResult

MODEL = "composer-1"
# Leads tried for a field a rejection named, until its wording differs from the rejected one.
REWORK_TRIES = 2 * len(LEADS)
# Words in "lead with ..." that pick each lead.
LEAD_WORDS = {
    "scent": {"scent", "scents", "fragrance", "smell", "notes"},
    "ritual": {"ritual", "burn", "evening", "evenings", "routine"},
    "benefit": {"benefit", "benefits", "claim", "claims", "why"},
    "material": {"material", "materials", "wax", "vessel", "wick", "made"},
}
TEMPLATE_VERSION = 1


def _revision(request: DraftRequest) -> int:
    # Only this package's own notes make a redraft move off its copy: a note on another
    # channel's copy of the SKU says nothing about this template's.
    return len(request.brief.notes) if request.revision is None else request.revision


def _variant_rank(request: DraftRequest) -> int:
    index = request.variant_index
    letter = (request.variant or "A")[:1].upper()
    if not index and "A" < letter <= "Z":
        index = ord(letter) - ord("A")
    return index + _revision(request)


def _lead(asked: str, default: str) -> str:
    """The lead a note asked for ("lead with the scent", "open with the burn time")."""
    words = set(asked.lower().replace("-", " ").split())
    for lead, synonyms in LEAD_WORDS.items():
        if words & synonyms:
            return lead
    return default


def _without_removed(request: DraftRequest, asks: Asks) -> DraftRequest:
    """The request with every fact that says a phrase a rejection asked to remove cut down:
    the sentence that says it leaves the attribute (the attribute goes when nothing is left),
    and a key message that says it is dropped. The composer then never writes it."""
    product, brief = request.product, request.brief
    attributes = {}
    for key, value in product.attributes.items():
        text = str(value)
        for ask in asks.removals:
            if says(text, ask.phrase):
                text = without(text, ask.phrase)
        if text.strip():
            attributes[key] = text
    messages = tuple(
        m for m in brief.key_messages if not any(says(m, a.phrase) for a in asks.removals)
    )
    return replace(
        request,
        product=replace(product, attributes=attributes),
        brief=replace(brief, key_messages=messages),
    )


class BuiltinProvider:
    """Deterministic composer: every declared field, from the brief's facts, within spec."""

    name = "builtin"
    model = MODEL
    spec_valid = True  # composes within every limit by construction: nothing to refit
    computes_locally = True  # pure CPU work in this process: a run may spread it over cores

    def draft(self, request: DraftRequest) -> DraftResult:
        channel, rules = request.channel, request.rules
        # What this package's rejections asked: removals leave the facts before composing,
        # a lead asked for comes first; the rest moves on with the revision, as before.
        asks = asks_for(request.brief.notes, request.product.sku, channel.id, channel.fields)
        if asks.removals:
            request = _without_removed(request, asks)
        facts = facts_for(request)
        setup = field_setup(channel, rules)
        max_words = rules.max_sentence_words
        rank = _variant_rank(request)
        tone = rules.tone_for(channel.id, channel.tone)
        context = Context(
            facts=facts,
            tone=TONE_STYLES.get(tone, "calm"),
            lead=_lead(asks.lead, LEADS[rank % len(LEADS)]),
            rank=rank,
            channel_kind=channel.kind,
        )
        fields: dict[str, FieldValue] = {}
        occurrences: dict[str, int] = {}
        taken: set[str] = set()
        rejected = request.replaces or {}
        for field_name, spec in channel.fields.items():
            occurrence = occurrences.get(spec.compose, 0)
            occurrences[spec.compose] = occurrence + 1
            guard, spec_key = setup[field_name]
            # A field the rejection named is written anew: the next leads are tried until
            # its wording differs from the rejected one (each is as valid as the first).
            tries = REWORK_TRIES if field_name in asks.rework and field_name in rejected else 1
            for shift in range(tries):
                shifted = context
                if shift:
                    moved = rank + shift
                    shifted = replace(context, lead=LEADS[moved % len(LEADS)], rank=moved)
                plan = plan_for(spec.compose, shifted, occurrence)
                value = filled(plan, spec, spec_key, guard, facts, max_words, taken)
                if value != rejected.get(field_name):
                    break
            fields[field_name] = value
            if isinstance(value, str):
                taken.add(value)
        if asks.removals:  # a phrase composed from several facts still goes
            fields = scrub(fields, asks)
        return DraftResult(
            fields=fields,
            provider=self.name,
            model=MODEL,
            prompt=f"builtin/{channel.id}/variant-{request.variant}@{TEMPLATE_VERSION}",
            parameters={
                "variant": request.variant,
                "variant_index": request.variant_index,
                "tone": tone,
                "lead": context.lead,
                "revision": _revision(request),
                "market": request.market,
                **({"asks": _asks_record(asks)} if asks else {}),
            },
        )


def _asks_record(asks: Asks) -> dict:
    """What the draft acted on, recorded in its parameters (and so in its version's origin)."""
    return {
        "remove": [a.phrase for a in asks.removals],
        "rework": list(asks.rework),
        "lead": asks.lead,
    }

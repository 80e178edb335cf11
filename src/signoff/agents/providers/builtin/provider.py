"""``BuiltinProvider``: the port implementation, drafting every field of a channel."""

from __future__ import annotations

from signoff.agents.context import FieldValue
from signoff.agents.providers.builtin.composers import Context, plan_for
from signoff.agents.providers.builtin.facts import facts_for
from signoff.agents.providers.builtin.filling import filled
from signoff.agents.providers.builtin.rules import field_setup
from signoff.agents.providers.builtin.vocabulary import LEADS, TONE_STYLES
from signoff.agents.providers.port import DraftRequest, DraftResult

MODEL = "composer-1"
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


class BuiltinProvider:
    """Deterministic composer: every declared field, from the brief's facts, within spec."""

    name = "builtin"
    model = MODEL
    spec_valid = True  # composes within every limit by construction: nothing to refit
    computes_locally = True  # pure CPU work in this process: a run may spread it over cores

    def draft(self, request: DraftRequest) -> DraftResult:
        channel, rules = request.channel, request.rules
        facts = facts_for(request)
        setup = field_setup(channel, rules)
        max_words = rules.max_sentence_words
        rank = _variant_rank(request)
        tone = rules.tone_for(channel.id, channel.tone)
        context = Context(
            facts=facts,
            tone=TONE_STYLES.get(tone, "calm"),
            lead=LEADS[rank % len(LEADS)],
            rank=rank,
            channel_kind=channel.kind,
        )
        fields: dict[str, FieldValue] = {}
        occurrences: dict[str, int] = {}
        taken: set[str] = set()
        for field_name, spec in channel.fields.items():
            occurrence = occurrences.get(spec.compose, 0)
            occurrences[spec.compose] = occurrence + 1
            plan = plan_for(spec.compose, context, occurrence)
            guard, spec_key = setup[field_name]
            value = filled(plan, spec, spec_key, guard, facts, max_words, taken)
            fields[field_name] = value
            if isinstance(value, str):
                taken.add(value)
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
            },
        )

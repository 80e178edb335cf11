"""Refit a model's draft that breaks its channel's spec, before any person sees it. Pure.

First the drafter is asked again with the findings as feedback; what still breaks a limit is
then trimmed by rule (each spec finding's suggested fix), as a last resort. A re-prompt that
fails (invalid output, a transport error) does not lose the first draft: it was valid output,
only outside the spec, so it is trimmed instead, and the failed attempt's tokens still count.
"""

from __future__ import annotations

from dataclasses import replace

from signoff.agents.checks.spec import check_spec
from signoff.agents.context import CheckFinding, Draft, FieldValue, Severity
from signoff.agents.providers.port import DraftFailed, DraftRequest, DraftResult, Provider
from signoff.packages.fields import apply_changes

# Each suggested fix answers one rule; a text breaking two (a banned character and the length)
# is fixed over two passes. Bounded, so fixes that never settle cannot loop.
TRIM_PASSES = 3


def spec_blocks(request: DraftRequest, fields: dict[str, FieldValue]) -> list[CheckFinding]:
    draft = Draft(request.channel, fields, request.product, request.market, request.variant)
    return [f for f in check_spec(draft) if f.severity is Severity.BLOCK]


def trim_by_rule(
    request: DraftRequest, fields: dict[str, FieldValue]
) -> tuple[dict[str, FieldValue], list[str]]:
    """Apply the spec's suggested fixes until none is left; return the fields and what changed.

    Blocks without a suggested fix (too few items, a missing field) stay for a person to see.
    """
    trimmed: set[str] = set()
    for _ in range(TRIM_PASSES):
        fixes = {
            f.field: f.suggested_fix
            for f in spec_blocks(request, fields)
            if f.field and f.suggested_fix
        }
        if not fixes:
            break
        fields = apply_changes(fields, fixes, request.channel.fields)
        trimmed |= set(fixes)
    return fields, sorted(trimmed)


def draft_and_refit(provider: Provider, request: DraftRequest) -> tuple[DraftResult, dict]:
    """Return a draft that fits the spec as far as rules can make it, and how it was refitted.

    The refit record is empty when the first draft fitted; otherwise it has
    ``reprompted_with`` (the feedback lines), ``reprompt_failed`` (the reason, when the second
    attempt failed) and ``trimmed`` (the field paths fixed by rule). Tokens, cost and latency
    are summed over both attempts. ``DraftFailed`` from the first attempt propagates.
    """
    result = provider.draft(request)
    if getattr(provider, "spec_valid", False):
        return result, {}
    blocks = spec_blocks(request, result.fields)
    if not blocks:
        return result, {}
    feedback = tuple(f"fix: {f.field}: {f.message}" for f in blocks)
    refit: dict = {"reprompted_with": list(feedback)}
    again = replace(request, brief=replace(request.brief, notes=(*request.brief.notes, *feedback)))
    attempts: list[DraftResult | DraftFailed] = [result]
    try:
        base = provider.draft(again)
        attempts.append(base)
    except DraftFailed as failed:
        refit["reprompt_failed"] = str(failed)
        attempts.append(failed)
        base = result
    fields, trimmed = trim_by_rule(request, base.fields)
    if trimmed:
        refit["trimmed"] = trimmed
    result = replace(
        base,
        fields=fields,
        input_tokens=sum(a.input_tokens for a in attempts),
        output_tokens=sum(a.output_tokens for a in attempts),
        cost=sum(a.cost for a in attempts),
        latency_ms=sum(a.latency_ms for a in attempts),
    )
    return result, refit

"""Refit a model's draft that breaks its channel's spec, before any person sees it. Pure.

First the drafter is asked again with the findings as feedback; what still breaks a limit is
then trimmed by rule (each spec finding's suggested fix), as a last resort.
"""

from __future__ import annotations

from dataclasses import replace

from signoff.agents.checks.spec import check_spec
from signoff.agents.context import CheckFinding, Draft, FieldValue, Severity
from signoff.agents.providers.port import DraftRequest, DraftResult, Provider
from signoff.packages.fields import apply_changes


def spec_blocks(request: DraftRequest, fields: dict[str, FieldValue]) -> list[CheckFinding]:
    draft = Draft(request.channel, fields, request.product, request.market, request.variant)
    return [f for f in check_spec(draft) if f.severity is Severity.BLOCK]


def draft_and_refit(provider: Provider, request: DraftRequest) -> tuple[DraftResult, dict]:
    """Return a draft that fits the spec as far as rules can make it, and how it was refitted."""
    result = provider.draft(request)
    if getattr(provider, "spec_valid", False):
        return result, {}
    blocks = spec_blocks(request, result.fields)
    if not blocks:
        return result, {}
    feedback = tuple(f"fix: {f.field}: {f.message}" for f in blocks)
    retry = provider.draft(
        replace(request, brief=replace(request.brief, notes=(*request.brief.notes, *feedback)))
    )
    refit: dict = {"reprompted_with": list(feedback)}
    usage = (
        result.input_tokens + retry.input_tokens,
        result.output_tokens + retry.output_tokens,
        result.cost + retry.cost,
        result.latency_ms + retry.latency_ms,
    )
    fields = retry.fields
    remaining = spec_blocks(request, fields)
    fixes = {f.field: f.suggested_fix for f in remaining if f.field and f.suggested_fix}
    if fixes:
        fields = apply_changes(fields, fixes, request.channel.fields)
        refit["trimmed"] = sorted(fixes)
    result = replace(
        retry,
        fields=fields,
        input_tokens=usage[0],
        output_tokens=usage[1],
        cost=usage[2],
        latency_ms=usage[3],
    )
    return result, refit

"""Draft one package with several providers or models side by side (R&D; stores nothing).

Each candidate is checked by the same agents as a real draft, so a team can compare
findings, tokens and cost before pointing the copy drafter at a provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from signoff.agents.checking import check_draft
from signoff.agents.context import Draft
from signoff.agents.providers import provider_from_spec
from signoff.agents.providers.port import DraftFailed, DraftRequest
from signoff.channels.catalog import resolve_spec
from signoff.packages.models import Package
from signoff.workspaces.rules import brand_rules


@dataclass
class Candidate:
    provider: str  # the spec asked for: "builtin", "openai:MODEL"
    ok: bool
    fields: dict = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    cost: float = 0.0
    error: str = ""


def compare_providers(package: Package, specs: list[str]) -> list[Candidate]:
    """Draft the package with each provider spec and check every draft."""
    brief = package.brief
    workspace = brief.workspace
    version = brief.approved_version or brief.latest_version()
    rules = brand_rules(workspace)
    channel = resolve_spec(package.channel, workspace.channel_overrides.get(package.channel))
    product = version.products.get(sku=package.sku).facts()
    request = DraftRequest(
        channel=channel,
        product=product,
        brief=version.facts(),
        rules=rules,
        variant=package.variant,
        variant_index=ord(package.variant) - ord("A"),
        market=package.market,
    )
    candidates = []
    for spec in specs:
        try:
            result = provider_from_spec(spec).draft(request)
        except DraftFailed as exc:
            candidates.append(
                Candidate(
                    spec,
                    False,
                    model=exc.model,
                    error=exc.reason,
                    input_tokens=exc.input_tokens,
                    output_tokens=exc.output_tokens,
                    latency_ms=exc.latency_ms,
                    cost=exc.cost,
                )
            )
            continue
        findings = check_draft(
            Draft(channel, result.fields, product, package.market, package.variant), rules
        )
        candidates.append(
            Candidate(
                spec,
                True,
                result.fields,
                [
                    {
                        "severity": str(f.severity),
                        "rule_id": f.rule_id,
                        "field": f.field,
                        "message": f.message,
                    }
                    for f in findings
                ],
                result.model,
                result.input_tokens,
                result.output_tokens,
                result.latency_ms,
                result.cost,
            )
        )
    return candidates

"""Check a copy file outside any brief, the way a linter checks source."""

from __future__ import annotations

from pathlib import Path

from signoff.agents.checking import check_draft
from signoff.agents.context import Draft, ProductFacts
from signoff.channels.catalog import resolve_spec
from signoff.core.errors import InputError
from signoff.core.sourcemap import read_document
from signoff.workspaces.rules import brand_rules
from signoff.workspaces.services import get_workspace


def lint_file(path: str | Path, *, channel_id: str, workspace_slug: str) -> list[dict]:
    """Return the findings on a YAML/JSON file of ``{field: text or [items]}``."""
    workspace = get_workspace(workspace_slug)
    channel = resolve_spec(channel_id, workspace.channel_overrides.get(channel_id))
    doc = read_document(path)
    if not isinstance(doc.data, dict):
        raise InputError(
            [
                doc.problem(
                    f"expected a mapping of {channel.name} fields ({', '.join(channel.fields)})"
                )
            ]
        )
    problems = []
    fields: dict[str, str | list[str]] = {}
    for name, value in doc.data.items():
        if isinstance(value, str):
            fields[name] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields[name] = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            fields[name] = str(value)
        else:
            problems.append(doc.problem("expected text or a list of texts", (name,)))
    if problems:
        raise InputError(problems)
    product = ProductFacts(sku="-", name="")
    findings = check_draft(Draft(channel, fields, product), brand_rules(workspace))
    return [
        {
            "agent": f.agent,
            "rule_id": f.rule_id,
            "severity": str(f.severity),
            "field": f.field,
            "line": doc.line_of((f.field.split("[")[0],)) if f.field else None,
            "span": list(f.span) if f.span else None,
            "message": f.message,
            "suggested_fix": f.suggested_fix,
        }
        for f in findings
    ]

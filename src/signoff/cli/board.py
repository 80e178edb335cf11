"""Reading where a brief stands: `board`, `blocking`, `show`, `check` and `sla`."""

from __future__ import annotations

import sys
from collections import Counter

import click
from rich.markup import escape
from rich.table import Table

from signoff.cli.base import (
    _acting_person,
    _emit_json,
    _known_value,
    command,
    err,
    main,
    out,
)
from signoff.core.text import clip


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--channel")
@click.option("--sku")
@click.option(
    "--state",
    type=click.Choice(["draft", "in_review", "approved", "rejected", "blocked", "published"]),
)
@click.option(
    "--severity",
    type=click.Choice(["info", "warn", "block"]),
    help="Only packages with at least one finding of this severity.",
)
@click.option(
    "--sort",
    type=click.Choice(["id", "confidence"]),
    default="id",
    show_default=True,
    help="confidence: lowest first (read these first); packages with no draft last.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def board(
    brief_ref: str,
    channel: str | None,
    sku: str | None,
    state: str | None,
    severity: str | None,
    sort: str,
    as_json: bool,
) -> None:
    """One row per package: where it is, who owns it, how confident, what blocks it."""
    from signoff.briefs.services import get_brief
    from signoff.packages.selectors import board as board_query
    from signoff.packages.selectors import board_row

    target = get_brief(brief_ref)
    latest = target.latest_version()
    channels = set(target.packages.values_list("channel", flat=True))
    skus = set(target.packages.values_list("sku", flat=True))
    if latest is not None:
        channels |= set(latest.data["channels"])
        skus |= set(latest.products.values_list("sku", flat=True))
    _known_value("--channel", channel, channels, "channel", target.slug)
    _known_value("--sku", sku, skus, "SKU", target.slug)
    rows = [
        board_row(p)
        for p in board_query(
            target, channel=channel, sku=sku, state=state, severity=severity, sort=sort
        )
    ]
    if as_json:
        _emit_json(rows)
        return
    _print_board(rows)


def _age(seconds: int) -> str:
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _print_board(rows: list[dict]) -> None:
    table = Table(show_lines=False, header_style="bold")
    for column in (
        "id",
        "SKU",
        "channel",
        "var",
        "stage",
        "state",
        "owner",
        "in stage",
        "conf",
        "findings b/w/i",
        "blocking",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        f = row["findings"]
        table.add_row(
            str(row["id"]),
            row["sku"],
            row["channel"],
            row["variant"],
            row["stage"],
            row["state"],
            row["owner"],
            _age(row["time_in_stage_seconds"]),
            "—" if row["confidence"] is None else str(row["confidence"]),
            f"{f['block']}/{f['warn']}/{f['info']}",
            "; ".join(r for r in (row["blocking_reason"], row.get("careful_read", "")) if r),
        )
    out.print(table)
    out.print(f"{len(rows)} packages")


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def blocking(brief_ref: str, as_json: bool) -> None:
    """What is blocking this launch? Grouped by cause, on one screen."""
    from signoff.briefs.services import get_brief
    from signoff.packages.selectors import blocking as blocking_query

    report = blocking_query(get_brief(brief_ref))
    if as_json:
        _emit_json(report)
        return
    _print_blocking(report)


def _package_list(ids: list[int], shown: int = 8) -> str:
    more = "" if len(ids) <= shown else f" +{len(ids) - shown}"
    return f"[{', '.join(str(i) for i in ids[:shown])}{more}]"


def _unblock_hint(entry: dict) -> list[str]:
    """Say who or what releases one group of blocked packages, one line per way."""
    if entry.get("claim") and entry.get("released_by"):
        keepers = "; ".join(
            f"{r['role']}: {', '.join(r['people']) or 'nobody holds this role'}"
            for r in entry["released_by"]
        )
        return [
            f"unblocked by: {keepers}, reinstating the claim with",
            f"  `signoff claim set-status {entry['claim']} approved --note ...`",
            "or by an edit that drops the claim (that package only)",
        ]
    return ["unblocked by: resolving the cause; each package then returns to where it was"]


def _missing_data_lines(entry: dict) -> list[str]:
    return [
        f"  {entry['sku']}: no {', '.join(entry['labels'])} "
        f"-> blocks {len(entry['packages'])} packages ({', '.join(entry['channels'])})"
    ]


def _other_block_lines(entry: dict) -> list[str]:
    # Claims flagged or withdrawn, and any other cause that holds packages blocked.
    return [
        f"  {entry['cause']}: {entry['example']} -> blocks {len(entry['packages'])} "
        f"packages {_package_list(entry['packages'])}",
        *(f"    {line}" for line in _unblock_hint(entry)),
    ]


def _finding_lines(entry: dict) -> list[str]:
    return [
        f"  {entry['rule_id']} ({entry['agent']}) on {len(entry['packages'])} "
        f"packages {_package_list(entry['packages'])}: {entry['example']}"
    ]


def _image_lines(entry: dict) -> list[str]:
    return [
        f"  {entry['channel']}: no {', '.join(entry['slots'])} image on "
        f"{len(entry['packages'])} packages {_package_list(entry['packages'])}"
    ]


def _gate_lines(entry: dict) -> list[str]:
    people = ", ".join(entry["people"]) or "nobody holds this role"
    return [f"  {entry['gate']} ({entry['role']}: {people}): {len(entry['packages'])} packages"]


# The blocking report's groups in the order printed: key, heading, the lines of one entry.
_BLOCKING_GROUPS = (
    (
        "missing_data",
        "[bold]Missing product data[/] (fix the product data, then run again)",
        _missing_data_lines,
    ),
    (
        "other_blocks",
        "[bold]Blocked[/] (each package returns to where it was once released)",
        _other_block_lines,
    ),
    (
        "blocking_findings",
        "[bold]Blocking findings[/] (fix the copy: `signoff show PACKAGE`)",
        _finding_lines,
    ),
    (
        "missing_images",
        "[bold]Missing images[/] (the last gate needs them: select an image per SKU, then "
        "`signoff images render BRIEF`)",
        _image_lines,
    ),
    ("waiting_on_gate", "[bold]Waiting on a gate[/]", _gate_lines),
)


def _print_blocking(report: dict) -> None:
    out.print(
        f"[bold]What is blocking {report['brief']}[/] "
        f"({report['ready']} of {report['packages']} packages ready to launch)"
    )
    for group, heading, lines in _BLOCKING_GROUPS:
        if report[group]:
            out.print(f"\n{heading}")
            for entry in report[group]:
                for line in lines(entry):
                    out.print(line, markup=False)
    if any(report[group] for group, _, _ in _BLOCKING_GROUPS):
        return
    if not report["packages"]:
        out.print(f"Nothing yet: no packages; `signoff run {report['brief']}` makes them.")
    elif report["ready"] == report["packages"]:
        out.print("Nothing: every package is approved.")
    else:
        # Drafts not yet run, rejections awaiting a new draft, published packages.
        out.print(
            f"Nothing is blocked or waiting on a gate; {report['packages'] - report['ready']} "
            "packages are drafting, rejected or published (see `signoff board`)."
        )


@main.command()
@click.argument("package_ref", metavar="PACKAGE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@click.option(
    "--token",
    envvar="SIGNOFF_TOKEN",
    default="",
    help="Your API token (default: $SIGNOFF_TOKEN): also say what you may do and would cause.",
)
@command(writes=False)
def show(package_ref: str, as_json: bool, token: str) -> None:
    """A package's current version, its origin, findings and completeness, and who can act on
    its gate (with --token: what each of your actions would cause)."""
    from signoff.packages.eligibility import eligibility_answer, package_eligibility
    from signoff.packages.selectors import get_package, package_detail

    package = get_package(package_ref)
    detail = package_detail(package)
    person = _acting_person(token) if token else None
    detail["eligibility"] = eligibility_answer(package_eligibility(package, person))
    if as_json:
        _emit_json(detail)
        return
    out.print(
        f"[bold]Package {detail['id']}[/]: {detail['sku']} x {detail['channel']} "
        f"({detail['market']}, variant {detail['variant']}) in brief {detail['brief']}"
    )
    out.print(
        f"Stage {detail['stage']}, state {detail['state']}, owner {detail['owner'] or '-'}, "
        f"confidence {'—' if detail['confidence'] is None else detail['confidence']}"
    )
    if detail.get("careful_read"):
        out.print(detail["careful_read"], markup=False)
    completeness = detail["completeness"]
    missing = completeness.get("missing", [])
    out.print(
        f"Completeness: {len(completeness.get('required', [])) - len(missing)} of "
        f"{len(completeness.get('required', []))} required facts"
        + (f"; missing {', '.join(missing)}" if missing else ""),
        markup=False,
    )
    version = detail["version"]
    if version is None:
        out.print(
            "No version yet: " + "; ".join(r["message"] for r in detail["blocked_reasons"]),
            markup=False,
        )
        return
    parent = package.current_version.parent
    out.print(
        f"\n[bold]Version {version['number']}[/] {version['content_hash'][:12]} by "
        f"{escape(version['author'])}: "
        + escape(_origin_text(version["origin"], parent.number if parent else None))
    )
    for name, value in version["fields"].items():
        out.print(f"\n[bold]{name}[/]")
        if isinstance(value, list):
            for item in value:
                out.print(f"  - {item}", markup=False)
        else:
            out.print(f"  {value}", markup=False)
    _print_findings(detail["findings"])
    _print_eligibility(detail["eligibility"], person is not None)


def _print_eligibility(answer: dict, for_you: bool) -> None:
    """Who can act on the gate, and (for the token's person) what each action would do."""
    if not answer["gate"]:
        return
    out.print(f"\n[bold]Gate {answer['gate']}[/] ({answer['gate_label']}, {answer['owner_label']})")
    out.print(f"  {answer['summary']}.", markup=False)
    for who in answer["cannot_approve"]:
        out.print(f"  {who['name']} cannot: {who['reason']}.", markup=False)
    if not for_you:
        return
    for action, verdict in answer["you"].items():
        if not verdict["allowed"]:
            out.print(f"  You cannot {action}: {verdict['reason']}", markup=False)
    for action, text in answer["consequences"].items():
        out.print(f"  If you {action}: {text}", markup=False)


def _origin_text(origin: dict, parent_number: int | None) -> str:
    """Say where a version came from in the words of its kind: an agent's draft or an edit."""
    if origin.get("kind") == "person":
        note = repr(origin["note"]) if origin.get("note") else "no note"
        parent = f"of version {parent_number}" if parent_number else "with no parent version"
        changed = ", ".join(origin.get("changed", [])) or "-"
        return f"an edit {parent} ({note}; changed {changed})"
    if origin.get("kind") == "suggestion":
        return (
            f"{origin.get('agent')}'s suggested fix ({origin.get('rule_id')}), accepted "
            f"verbatim by {origin.get('accepted_by')}"
        )
    if origin.get("kind") == "agent":
        provider = origin.get("provider") or "?"
        # The builtin composer names its template; a remote model's prompt is long text.
        label = "template" if provider == "builtin" else "prompt"
        prompt = clip(" ".join(str(origin.get("prompt") or "-").split()), 80)
        model = f" / {origin['model']}" if origin.get("model") else ""
        return f"drafted with {provider}{model}, {label} {prompt}"
    return f"origin {origin.get('kind') or 'not recorded'}"


def _print_findings(findings: list[dict]) -> None:
    out.print(f"\n[bold]Findings[/] ({len(findings)})")
    for f in findings:
        colour = {"block": "red", "warn": "yellow"}.get(f["severity"], "blue")
        out.print(f"  [{colour}]{f['severity']:<5}[/] {f['rule_id']} {f['field'] or ''}: ", end="")
        out.print(f["message"], markup=False)
        if f["suggested_fix"]:
            out.print(f"        fix: {f['suggested_fix']}", markup=False)
        # The packages it is about (the consistency auditor's disagreements), each with what
        # it says: the message names only a few.
        for other in f.get("related") or []:
            says = f" says {other['says']}" if other.get("says") else ""
            out.print(
                f"        {other['sku']} x {other['channel']} ({other['market']}, "
                f"variant {other['variant']}){says}",
                markup=False,
            )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--channel", required=True, help="The channel whose spec applies.")
@click.option(
    "--workspace",
    "workspace_slug",
    required=True,
    help="The workspace whose voice and claims apply.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def check(file: str, channel: str, workspace_slug: str, as_json: bool) -> None:
    """Check a copy file (YAML or JSON with the channel's fields) like a linter."""
    from signoff.channels.catalog import catalog_ids
    from signoff.packages.linting import lint_file
    from signoff.workspaces.models import Workspace
    from signoff.workspaces.services import get_workspace

    # Exit 1 means "blocking findings" here, so a mistyped option must not exit 1 too.
    known_workspaces = Workspace.objects.values_list("slug", flat=True)
    _known_value("--workspace", workspace_slug, set(known_workspaces), "workspace")
    workspace = get_workspace(workspace_slug)
    _known_value(
        "--channel", channel, set(catalog_ids()) | set(workspace.channel_overrides), "channel"
    )
    findings = lint_file(file, channel_id=channel, workspace_slug=workspace_slug)
    if as_json:
        _emit_json(findings)
    else:
        for f in findings:
            span = f"[{f['span'][0]}:{f['span'][1]}]" if f["span"] else ""
            err.print(
                f"{file}: {f['field'] or '-'}{span}: {f['severity']}: {f['rule_id']}: "
                f"{f['message']}",
                markup=False,
            )
            if f["suggested_fix"]:
                err.print(f"    fix: {f['suggested_fix']}", markup=False)
        counts = Counter(f["severity"] for f in findings)
        err.print(f"{counts['block']} blocking, {counts['warn']} warnings, {counts['info']} info")
    if any(f["severity"] == "block" for f in findings):
        sys.exit(1)


@main.command()
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--json", "as_json", is_flag=True)
@command(writes=False)
def sla(brief_ref: str, as_json: bool) -> None:
    """Packages waiting on a gate longer than its SLA, oldest first, with the gate owner."""
    from signoff.briefs.services import get_brief
    from signoff.packages.selectors import sla_report

    rows = sla_report(get_brief(brief_ref))
    if as_json:
        _emit_json(rows)
        return
    if not rows:
        click.echo("No package is over its gate's SLA.")
    for row in rows:
        click.echo(
            f"{row['id']} {row['sku']} x {row['channel']}: {row['gate']} "
            f"({row['owner_role']}: {', '.join(row['people']) or 'nobody'}) waiting "
            f"{row['waiting_hours']} h, SLA {row['sla_hours']:g} h "
            f"(+{row['overdue_hours']} h)"
        )

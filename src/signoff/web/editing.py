"""The copy editor and inline comments, for the screens.

The editor shows each field of the channel spec as a form control. What a person types is read
back into changes (``changes_from``) and checked by ``signoff.packages.editing.check_edit``, the
same function ``edit_package`` (CLI, API and the editor's Save) runs before it stores a version.
Nothing here stores anything; saving and commenting call the services.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from signoff.agents.context import FieldValue, field_texts
from signoff.channels.spec import ChannelSpec
from signoff.comments.services import comments_on
from signoff.core import labels
from signoff.core.errors import InputError
from signoff.packages.editing import channel_spec, check_edit, field_counts
from signoff.packages.fields import plain_newlines
from signoff.packages.models import Package

PREFIX = "field:"  # form names: "field:title"; a list field posts one value per item
SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def changes_from(spec: ChannelSpec, current: Mapping[str, FieldValue], post) -> dict:
    """Read the editor's form into changes: only the fields whose value differs.

    A list field's items come as repeated values; blank items are dropped (that is how a
    person removes one). A field the form does not carry is left as it is.
    """
    changes: dict[str, FieldValue] = {}
    for name, field_spec in spec.fields.items():
        key = PREFIX + name
        if key not in post:
            continue
        if field_spec.kind == "list":
            items = plain_newlines(post.getlist(key))
            value: FieldValue = [item for item in items if item.strip()]
            before = current.get(name) or []
        else:
            value = plain_newlines(post.get(key, ""))
            before = current.get(name)
            if before is None and not value:
                continue
        if value != before:
            changes[name] = value
    return changes


def _limits(field_spec) -> str:
    parts = []
    if field_spec.min_chars:
        parts.append(f"at least {field_spec.min_chars}")
    if field_spec.max_chars:
        parts.append(f"at most {field_spec.max_chars}")
    elif field_spec.recommended_max_chars:
        parts.append(f"up to {field_spec.recommended_max_chars} recommended")
    per_item = " per item" if field_spec.kind == "list" and parts else ""
    items = []
    if field_spec.kind == "list":
        if field_spec.min_items:
            items.append(f"{field_spec.min_items} items at least")
        if field_spec.max_items:
            items.append(f"{field_spec.max_items} at most")
    text = ", ".join(parts) + (" characters" + per_item if parts else "")
    return "; ".join(p for p in [text, ", ".join(items)] if p)


def _count_state(count: dict) -> str:
    """over, under, near or ok: how the count reads beside its limit."""
    length, most = count["length"], count["max_chars"]
    if most is not None and length > most:
        return "over"
    if count["min_chars"] is not None and 0 < length < count["min_chars"]:
        return "under"
    recommended = count["recommended_max_chars"]
    if recommended is not None and length > recommended:
        return "near"
    if most is not None and length > 0.9 * most:
        return "near"
    return "ok"


def checks(package: Package, changes: Mapping[str, FieldValue]) -> dict:
    """Run the edit's checks on ``changes`` (nothing saved): counts per path, findings."""
    checked = check_edit(package, package.current_version, changes)
    counts = field_counts(checked.spec, checked.fields)
    for count in counts:
        count["state"] = _count_state(count)
        count["label"] = labels.field_label(count["path"], _spec_labels(checked.spec))
    findings = sorted(
        (
            {
                "severity": str(f.severity),
                "rule_id": f.rule_id,
                "field": f.field or "",
                "label": labels.field_label(f.field or "", _spec_labels(checked.spec))
                if f.field
                else "",
                "message": f.message,
                "suggested_fix": f.suggested_fix or "",
            }
            for f in checked.findings
        ),
        key=lambda f: (SEVERITY_ORDER.get(f["severity"], 3), f["field"]),
    )
    tally: dict[str, int] = defaultdict(int)
    for f in findings:
        tally[f["severity"]] += 1
    return {
        "counts": counts,
        "counts_by_path": {c["path"]: c for c in counts},
        "check_findings": findings,
        "tally": dict(tally),
        "changed": checked.changed,
        "fields": checked.fields,
    }


def typed_counts(spec: ChannelSpec, post, counts: list[dict]) -> list[dict]:
    """The live counts, one per control as the form shows it.

    ``counts`` are the checked fields', where a cleared list item is already dropped, so the
    items after it moved up one place; the editor's controls did not move. Each posted list
    item gets the count of the text in its own control (a cleared one counts 0), so a count
    stays beside its field.
    """
    shown = []
    for name, field_spec in spec.fields.items():
        key = PREFIX + name
        if field_spec.kind != "list" or key not in post:
            shown += [c for c in counts if c.get("name", c["path"]) == name]
            continue
        for i, text in enumerate(plain_newlines(post.getlist(key))):
            path = f"{name}[{i}]"
            count = {**_empty_count(field_spec, path), "length": len(text)}
            count["state"] = _count_state(count)
            count["label"] = labels.field_label(path, _spec_labels(spec))
            shown.append(count)
    return shown


def _empty_count(field_spec, path: str) -> dict:
    count = {
        "path": path,
        "length": 0,
        "min_chars": field_spec.min_chars,
        "max_chars": field_spec.max_chars,
        "recommended_max_chars": field_spec.recommended_max_chars,
    }
    return {**count, "state": "ok"}


def _spec_labels(spec: ChannelSpec) -> dict[str, str]:
    return {name: f.label for name, f in spec.fields.items()}


def base_version(post) -> int | None:
    """The version number the editor was opened on (its hidden ``base_version``), if sent.

    Kept through a refused save, so saving again from a page opened on an older version is
    refused again: only reloading the editor shows, and edits, the newer version.
    """
    value = (post.get("base_version", "") if post is not None else "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def edit_page(package: Package, post=None) -> dict:
    """The editor: one control per spec field (typed values kept after a refusal), its
    count and limits, the checks on what is shown, and the package's comments."""
    spec = channel_spec(package)
    current = package.current_version.fields
    changes: dict = {}
    problems: list = []
    if post is not None:
        try:
            changes = changes_from(spec, current, post)
            shown = checks(package, changes)
        except InputError as exc:
            problems = exc.problems
            shown = checks(package, {})
    else:
        shown = checks(package, {})
    values = shown["fields"]
    by_path = shown["counts_by_path"]
    controls = []
    for name, field_spec in spec.fields.items():
        value = values.get(name)
        control = {
            "name": name,
            "input_name": PREFIX + name,
            "label": field_spec.label or labels.field_label(name),
            "kind": field_spec.kind,
            "required": field_spec.required,
            "limits": _limits(field_spec),
            "max_chars": field_spec.max_chars,
            "multiline": (field_spec.max_chars or 0) > 200 or field_spec.allow_html,
        }
        if field_spec.kind == "list":
            items = list(value or [])
            room = field_spec.max_items is None or len(items) < field_spec.max_items
            rows = [{"path": f"{name}[{i}]", "value": item} for i, item in enumerate(items)]
            if room:
                rows.append({"path": f"{name}[{len(items)}]", "value": "", "new": True})
            for row in rows:
                row["label"] = labels.field_label(row["path"], _spec_labels(spec))
                row["count"] = by_path.get(row["path"]) or _empty_count(field_spec, row["path"])
            control["items"] = rows
        else:
            control["path"] = name
            control["value"] = "" if value is None else str(value)
            control["count"] = by_path.get(name) or _empty_count(field_spec, name)
        controls.append(control)
    return {
        "package": package,
        "spec": spec,
        "controls": controls,
        "problems": problems,
        "note": post.get("note", "") if post is not None else "",
        "base_version": base_version(post) or package.current_version.number,
        **shown,
        **comments_page(package),
    }


def comments_page(package: Package) -> dict:
    """The package's comments, open ones first, with the field paths one may anchor to."""
    comments = list(comments_on(package))
    version = package.current_version
    paths = [path for path, _ in field_texts(version.fields)] if version else []
    return {
        "open_comments": [c for c in comments if not c.resolved],
        "resolved_comments": [c for c in comments if c.resolved],
        "anchor_paths": paths,
    }

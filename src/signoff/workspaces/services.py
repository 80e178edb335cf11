"""Create or update a workspace from its file, in one transaction with its audit event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction
from pydantic import ValidationError

from signoff.audit.services import record
from signoff.channels.catalog import catalog_ids, resolve_spec
from signoff.core.errors import InputError, NotFound, Problem
from signoff.core.sourcemap import SourceDocument, pydantic_problems, read_document
from signoff.outbox.destinations import destination_problems, resolve_path
from signoff.workflow import settings_problems
from signoff.workspaces.models import Claim, Person, Workspace
from signoff.workspaces.schema import DESTINATION_KINDS, WorkspaceFile
from signoff.workspaces.tokens import revoke_people_tokens


def parse_workspace(doc: SourceDocument) -> WorkspaceFile:
    """Validate a workspace document; every problem names its line and field.

    Duplicates and unknown channels are looked for in the raw data too, so one attempt
    reports every problem, not only the first kind found.
    """
    data = doc.data
    if not isinstance(data, dict):
        raise InputError([doc.problem("expected a mapping with workspace, name, people, ...")])
    problems: list[Problem] = []
    parsed = None
    try:
        parsed = WorkspaceFile.model_validate(data)
    except ValidationError as exc:
        problems += pydantic_problems(doc, _Untagged(exc))
    # A workflow setting is checked against its template here, not when a command first uses
    # it; where both see a value, the template's words (what was expected) replace pydantic's.
    workflow_problems = _workflow_problems(doc, data.get("workflows"))
    located = {p.field for p in workflow_problems}
    problems = [p for p in problems if p.field not in located] + workflow_problems
    problems += _duplicates(
        doc, "claims", [_key(c, "id") for c in _list(data, "claims")], "claim id"
    )
    emails = [str(_key(p, "email")).lower() for p in _list(data, "people")]
    problems += _duplicates(doc, "people", emails, "email")
    problems += _duplicates(doc, "channels", [str(c) for c in _list(data, "channels")], "channel")
    overrides = data.get("channel_overrides")
    problems += _channel_problems(
        doc,
        [str(c) for c in _list(data, "channels")],
        overrides if isinstance(overrides, dict) else {},
    )
    problems += [
        doc.problem(message, loc)
        for loc, message in destination_problems(
            _list(data, "destinations"),
            channels=[str(c) for c in _list(data, "channels")],
            base_dir=Path(doc.path).parent,
        )
    ]
    problems += _notification_problems(doc, data)
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    return parsed


def _notification_problems(doc: SourceDocument, data: dict) -> list[Problem]:
    # Who is escalated to, and whether the webhook's variable holds a URL here, are checked at
    # load: a reminder that cannot go out should fail now, not at 3 a.m. in the worker.
    from signoff.notifications.rules import settings_problems as notification_problems

    settings = data.get("notifications")
    workflows = data.get("workflows")
    if not isinstance(settings, dict):
        return []
    return [
        doc.problem(message, loc)
        for loc, message in notification_problems(
            settings,
            people=[str(_key(p, "email")) for p in _list(data, "people")],
            workflows=workflows if isinstance(workflows, dict) else {},
        )
    ]


class _Untagged:
    """Pydantic's errors with the destination kind it tried left out of each location:
    ``destinations.0.path``, not ``destinations.0.folder.path``."""

    def __init__(self, exc: ValidationError) -> None:
        self._exc = exc

    def errors(self) -> list[dict]:
        errors = []
        for error in self._exc.errors():
            loc = error["loc"]
            if len(loc) > 2 and loc[0] == "destinations" and loc[2] in DESTINATION_KINDS:
                error = {**error, "loc": (*loc[:2], *loc[3:])}
            errors.append(error)
        return errors


def _workflow_problems(doc: SourceDocument, workflows: object) -> list[Problem]:
    if not isinstance(workflows, dict):
        return []  # absent, or not a mapping: pydantic says so
    return [
        doc.problem(error.expected, error.path)
        for name, settings in workflows.items()
        for error in settings_problems(str(name), settings)
    ]


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    return value if isinstance(value, list) else []


def _key(item: object, key: str) -> object:
    return item.get(key) if isinstance(item, dict) else None


def _duplicates(doc: SourceDocument, key: str, values: list, what: str) -> list[Problem]:
    seen: set = set()
    problems = []
    for index, value in enumerate(values):
        if value is not None and value in seen:
            problems.append(doc.problem(f"{what} {value!r} is listed twice", (key, index)))
        seen.add(value)
    return problems


def _channel_problems(
    doc: SourceDocument, channels: list[str], overrides: dict[str, Any]
) -> list[Problem]:
    problems = []
    known = set(catalog_ids())
    for channel_id, override in overrides.items():
        try:
            resolve_spec(channel_id, override)
        except ValidationError as exc:
            problems += pydantic_problems(doc, exc, ("channel_overrides", channel_id))
        except (InputError, NotFound) as exc:
            problems.append(doc.problem(str(exc), ("channel_overrides", channel_id)))
    for index, channel_id in enumerate(channels):
        if channel_id not in known and channel_id not in overrides:
            problems.append(
                doc.problem(
                    f"unknown channel {channel_id!r}; expected one of {', '.join(sorted(known))}"
                    " or a full spec under channel_overrides",
                    ("channels", index),
                )
            )
    return problems


def load_workspace(path: str | Path, *, actor: str = "system:cli") -> tuple[Workspace, bool]:
    """Create or update the workspace a file describes; return it and whether it was created.

    People missing from the file are kept but marked inactive, so history still names them.
    """
    doc = read_document(path)
    parsed = parse_workspace(doc)
    with transaction.atomic():
        workspace, created = Workspace.objects.select_for_update().get_or_create(
            slug=parsed.workspace, defaults={"name": parsed.name}
        )
        workspace.name = parsed.name
        workspace.locale = parsed.locale
        workspace.brand = parsed.brand.model_dump(mode="json")
        workspace.channels = parsed.channels
        workspace.channel_overrides = parsed.channel_overrides
        workspace.workflows = {k: v.model_dump(mode="json") for k, v in parsed.workflows.items()}
        workspace.claim_policy = dict(parsed.claim_policy)
        workspace.policies = parsed.policies.model_dump(mode="json")
        workspace.providers = dict(parsed.providers)
        workspace.destinations = _destinations(parsed, Path(path).parent)
        workspace.notifications = parsed.notifications.model_dump(mode="json")
        workspace.metrics = parsed.metrics.model_dump(mode="json")
        workspace.save()
        _sync_people(workspace, parsed, actor=actor)
        _sync_claims(workspace, parsed, doc)
        record(
            action="workspace.loaded" if created else "workspace.updated",
            actor=actor,
            actor_kind="system",
            subject_type="workspace",
            subject_id=workspace.slug,
            workspace=workspace.slug,
            data={
                "file": str(path),
                "people": len(parsed.people),
                "claims": len(parsed.claims),
                "channels": parsed.channels,
                "destinations": [d.name for d in parsed.destinations],
            },
        )
    return workspace, created


def _destinations(parsed: WorkspaceFile, base_dir: Path) -> list[dict]:
    stored = []
    for entry in parsed.destinations:
        data = entry.model_dump(mode="json", exclude_none=True)
        if "path" in data:  # the worker and the web app may run from another folder
            data["path"] = str(resolve_path(data["path"], base_dir))
        stored.append(data)
    return stored


def _sync_people(workspace: Workspace, parsed: WorkspaceFile, *, actor: str) -> None:
    existing = {p.email.lower(): p for p in workspace.people.all()}
    listed = {entry.email.lower() for entry in parsed.people}
    # Leaving the file revokes a person's tokens, and coming back does not bring them back: the
    # inactive are swept too, before any is listed again (whatever made them inactive).
    revoke_people_tokens(
        [p for email, p in existing.items() if email not in listed or not p.active], actor=actor
    )
    for entry in parsed.people:
        email = entry.email.lower()
        person = existing.pop(email, None) or Person(workspace=workspace, email=email)
        person.name = entry.name
        person.roles = list(entry.roles)
        if entry.digest is not None:
            person.digest = entry.digest
        person.active = True
        person.save()
    for gone in existing.values():
        gone.active = False
        gone.roles = []
        gone.save(update_fields=["active", "roles"])


def _sync_claims(workspace: Workspace, parsed: WorkspaceFile, doc: SourceDocument) -> None:
    # Claims are never deleted: a claim removed from the file would silently un-block copy.
    existing = {c.claim_id: c for c in workspace.claims.all()}
    # A claim's status is compliance's decision, recorded with who and why, and it blocks or
    # releases the packages making the claim: the file may not change it on the side.
    changed = [
        doc.problem(
            f"claim {entry.id!r} is {existing[entry.id].status} in Signoff but the file says "
            f"{entry.status}: write {existing[entry.id].status} here, or have compliance run "
            f"`signoff claim set-status {entry.id} {entry.status} --note ...` (a status "
            "change blocks or releases the packages making the claim, and is recorded)",
            ("claims", index, "status"),
        )
        for index, entry in enumerate(parsed.claims)
        if entry.id in existing and existing[entry.id].status != entry.status
    ]
    if changed:
        raise InputError(changed)
    for entry in parsed.claims:
        claim = existing.get(entry.id) or Claim(
            workspace=workspace, claim_id=entry.id, status=entry.status
        )
        claim.text = entry.text or ""
        claim.pattern = entry.pattern or ""
        claim.evidence = entry.evidence or ""
        claim.reason = entry.reason or ""
        claim.save()


def get_workspace(slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist as exc:
        known = ", ".join(Workspace.objects.values_list("slug", flat=True)) or "none loaded yet"
        raise NotFound(f"no workspace {slug!r} (known: {known})") from exc

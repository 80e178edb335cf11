"""Kickoff notes read by the brief parser in the background, for the intake screen and the API.

The builtin parser reads notes by rule, instantly and offline, so a request may run it and
answer at once. A model may not be called inside a web request: ``request_notes_parse``
stores the notes in a ``NotesParse`` row and queues ``parse_notes_task`` with the row's id;
a worker runs ``read_notes``, which stores the proposed brief, or the reason it was refused,
on the row for the screen to poll and the API to return. Both steps are audited: who asked,
and what the parser answered with what it spent.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from signoff.agents.brief_parser import (
    AGENT,
    BriefParseFailed,
    ParsedBrief,
    parse_kickoff_notes,
)
from signoff.agents.providers import provider_for
from signoff.agents.providers.port import Provider
from signoff.audit.models import ActorKind
from signoff.audit.services import record
from signoff.briefs.authority import ensure_may_add_briefs
from signoff.briefs.models import NotesParse
from signoff.core.errors import InputError, NotFound
from signoff.core.text import clip
from signoff.workspaces.models import Person, Workspace
from signoff.workspaces.rules import brand_rules

PARSE_REQUESTED = "brief.notes_parse_requested"
PARSED = "brief.notes_parsed"
PARSE_REFUSED = "brief.notes_parse_refused"
PARSE_FAILED = "brief.notes_parse_failed"
PURGED = "brief.notes_purged"
_FINISHED_ACTION = {
    NotesParse.Status.DONE: PARSED,
    NotesParse.Status.REFUSED: PARSE_REFUSED,
    NotesParse.Status.FAILED: PARSE_FAILED,
}
# A row no worker finished in this long is not polled any more; the person can ask again.
STALE_AFTER = datetime.timedelta(hours=1)
# What the audit keeps of a model's record: what it was and what it spent, not the prompt.
_SPENT = ("provider", "model", "input_tokens", "output_tokens", "latency_ms", "cost")


def parses_in_background(workspace: Workspace) -> bool:
    """Return whether the workspace's brief parser is a model, read in a task, not the rules."""
    return _parser_provider(workspace).name != "builtin"


def _parser_provider(workspace: Workspace) -> Provider:
    # The workspace is in hand: its provider choice needs no second read (configured_provider
    # is for callers holding only the slug).
    return provider_for(AGENT, workspace.providers)


def draft_of(parsed: ParsedBrief, notes: str) -> dict[str, Any]:
    """Return what the parser made of the notes as the screen and the API show it."""
    return {
        "yaml": yaml.safe_dump(parsed.brief, sort_keys=False, allow_unicode=True),
        "brief": parsed.brief,
        "open_questions": list(parsed.open_questions),
        "findings": [
            {
                "rule_id": f.rule_id,
                "severity": str(f.severity),
                "message": f.message,
                # Spans of findings on the notes point into them; others are about the answer.
                "excerpt": notes[f.span[0] : f.span[1]] if f.span and f.field == "notes" else "",
            }
            for f in parsed.findings
        ],
        "mentioned_products": list(parsed.mentioned_products),
    }


def _hash(notes: str) -> str:
    return hashlib.sha256(notes.encode("utf-8")).hexdigest()


def request_notes_parse(
    *, person: Person, notes: str, today: datetime.date | None = None
) -> NotesParse:
    """Store the notes, queue the brief parser on them, and return the row to poll.

    Raises AuthorityError unless the person may add briefs. The task gets the row's id once
    the row is committed; nothing calls the parser's model here.
    """
    ensure_may_add_briefs(person)
    workspace = person.workspace
    provider = _parser_provider(workspace)
    with transaction.atomic():
        purge_old_notes(workspace)
        parse = NotesParse.objects.create(
            workspace=workspace,
            requested_by=person.email,
            notes=notes,
            notes_hash=_hash(notes),
            today=today or timezone.localdate(),
        )
        record(
            action=PARSE_REQUESTED,
            actor=person.email,
            subject_type="notes_parse",
            subject_id=parse.pk,
            workspace=workspace.slug,
            content_hash=parse.notes_hash,
            data={
                "characters": len(notes),
                "provider": provider.name,
                "model": str(getattr(provider, "model", "") or ""),
            },
        )
        from signoff.briefs.tasks import parse_notes_task

        transaction.on_commit(functools.partial(parse_notes_task.enqueue, parse.pk))
    return parse


def purge_old_notes(workspace: Workspace) -> int:
    """Delete the workspace's notes parses older than ``SIGNOFF_NOTES_KEEP_DAYS`` (0: none);
    return how many. Their audit events stay. Call inside the caller's transaction."""
    days = settings.SIGNOFF_NOTES_KEEP_DAYS
    if not days:
        return 0
    old = NotesParse.objects.filter(
        workspace=workspace, created_at__lt=timezone.now() - datetime.timedelta(days=days)
    )
    ids = list(old.values_list("pk", flat=True))
    if ids:
        NotesParse.objects.filter(pk__in=ids).delete()
        record(
            action=PURGED,
            actor="system:retention",
            actor_kind=ActorKind.SYSTEM,
            subject_type="workspace",
            subject_id=workspace.slug,
            workspace=workspace.slug,
            data={"notes_parses": ids, "kept_days": days},
        )
    return len(ids)


def read_notes(parse_id: int) -> NotesParse | None:
    """Read the row's notes with the configured parser and store its draft or its refusal.

    The task's work. Safe to run again: a finished row is returned as it is, without asking
    the model a second time; a row deleted meanwhile (past its keeping time) is ``None``. An
    error other than a refusal marks the row failed and is raised again, so the worker
    records it too.
    """
    with transaction.atomic():
        parse = (
            NotesParse.objects.select_for_update()
            .select_related("workspace")
            .filter(pk=parse_id)
            .first()
        )
        if parse is None or parse.finished:
            return parse
        parse.status = NotesParse.Status.RUNNING
        parse.started_at = timezone.now()
        parse.save(update_fields=["status", "started_at"])
    workspace = parse.workspace
    try:
        parsed = parse_kickoff_notes(
            parse.notes,
            workspace=workspace.slug,
            rules=brand_rules(workspace),
            today=parse.today,
        )
    except BriefParseFailed as exc:
        reason = "; ".join(p.message for p in exc.problems)
        return _finish(parse, NotesParse.Status.REFUSED, reason=reason, origin=exc.origin)
    except InputError as exc:
        reason = "; ".join(p.message for p in exc.problems)
        return _finish(parse, NotesParse.Status.REFUSED, reason=reason)
    except Exception as exc:
        reason = clip(f"the brief parser stopped on an error ({type(exc).__name__}: {exc})", 1000)
        _finish(parse, NotesParse.Status.FAILED, reason=reason + "; send the notes again")
        raise
    return _finish(
        parse, NotesParse.Status.DONE, draft=draft_of(parsed, parse.notes), origin=parsed.origin
    )


def _finish(
    parse: NotesParse,
    status: NotesParse.Status,
    *,
    draft: dict[str, Any] | None = None,
    reason: str = "",
    origin: dict[str, Any] | None = None,
) -> NotesParse:
    origin = {"agent": AGENT, **(origin or {})}
    data: dict[str, Any] = {
        "requested_by": parse.requested_by,
        **{key: origin[key] for key in _SPENT if origin.get(key) is not None},
    }
    if draft is not None:
        data["open_questions"] = len(draft["open_questions"])
        data["findings"] = sorted({f["rule_id"] for f in draft["findings"]})
    with transaction.atomic():
        parse.status = status
        parse.draft = draft or {}
        parse.reason = reason
        parse.origin = origin
        parse.finished_at = timezone.now()
        parse.save(update_fields=["status", "draft", "reason", "origin", "finished_at"])
        record(
            action=_FINISHED_ACTION[status],
            actor=f"agent:{AGENT}",
            actor_kind=ActorKind.AGENT,
            subject_type="notes_parse",
            subject_id=parse.pk,
            workspace=parse.workspace.slug,
            content_hash=parse.notes_hash,
            note=reason,
            data=data,
        )
    return parse


def notes_parse_for(person: Person, parse_id: int) -> NotesParse:
    """Return the person's own notes parse ``parse_id``; anyone else's does not exist."""
    parse = NotesParse.objects.filter(
        pk=parse_id, workspace_id=person.workspace_id, requested_by=person.email
    ).first()
    if parse is None:
        raise NotFound(f"no notes parse {parse_id} of yours in {person.workspace.slug}")
    return parse


def is_stale(parse: NotesParse, *, now: datetime.datetime | None = None) -> bool:
    """Return whether an unfinished row has waited too long for a worker to be polled."""
    return not parse.finished and (now or timezone.now()) - parse.created_at > STALE_AFTER

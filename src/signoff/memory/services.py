"""Memory: what people decided and said, written with each decision and read by the drafter.

Notes live in ``packages.Note``; this module writes them with the context later searches and
drafts need (SKU, channel, the rules open on the version), and reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q

from signoff.agents.context import field_texts
from signoff.audit.services import record
from signoff.core.errors import InputError, Problem
from signoff.packages.models import Finding, Note, Package, Version
from signoff.workflow import AuthorityError, ErrorCode, Role
from signoff.workspaces.models import Person, Workspace

# What the drafter reads, per package, newest first.
DRAFT_MEMORY_LIMIT = 5
# Who may turn a suggestion into a workspace rule.
RULE_KEEPERS = frozenset({Role.CONTENT_LEAD, Role.BRAND_MANAGER, Role.ADMIN})


def remember(
    *,
    kind: str,
    package: Package,
    text: str,
    person: str = "",
    version: Version | None = None,
    gate: str | None = None,
) -> Note:
    """Store what was decided or said about a package, with the rules open on its version."""
    if not connection.in_atomic_block:
        raise RuntimeError("remember() belongs inside the decision's transaction")
    rule_ids: list[str] = []
    if version is not None:
        rule_ids = sorted(
            set(Finding.objects.filter(version=version).values_list("rule_id", flat=True))
        )
    return Note.objects.create(
        package=package,
        version=version,
        person=person,
        kind=kind,
        gate=gate or "",
        sku=package.sku,
        channel=package.channel,
        rule_ids=rule_ids,
        text=text,
    )


def comment_on(
    *,
    package: Package,
    person: Person,
    text: str,
    version: Version | None = None,
    data: dict | None = None,
) -> Note:
    """Store a person's comment on a version (the current one by default), with its event.

    Comments are memory: later drafts of the same SKU or channel read them.
    """
    text = text.strip()
    if not text:
        raise InputError([Problem("a comment needs some text", field="text")])
    with transaction.atomic():
        version = version or package.current_version
        note = remember(
            kind=Note.Kind.COMMENT, package=package, text=text, person=person.email, version=version
        )
        record(
            action="package.commented",
            actor=person.email,
            subject_type="package",
            subject_id=str(package.pk),
            workspace=package.brief.workspace.slug,
            content_hash=version.content_hash if version else "",
            note=text,
            sku=package.sku,
            channel=package.channel,
            data={"note": note.pk, "version": version.number if version else None, **(data or {})},
        )
    return note


def remember_winner(*, package: Package, version: Version, person: str, gate: str) -> Note:
    """Keep a version that passed the last gate as an example for later drafts."""
    text = "\n".join(f"{name}: {value}" for name, value in field_texts(version.fields))
    return remember(
        kind=Note.Kind.WINNER, package=package, version=version, person=person, gate=gate, text=text
    )


def notes_for_drafts(
    workspace_id: int, cells: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[Note]]:
    """Return, per (SKU, channel), the newest notes on that SKU or that channel.

    Notes on the exact SKU and channel come first. One query for the whole run.
    """
    cells = list(cells)
    if not cells:
        return {}
    skus = {sku for sku, _ in cells}
    channels = {channel for _, channel in cells}
    recent = list(
        Note.objects.filter(package__brief__workspace_id=workspace_id)
        .filter(Q(sku__in=skus) | Q(channel__in=channels))
        .order_by("-created_at", "-id")[: 20 * DRAFT_MEMORY_LIMIT * max(1, len(skus))]
    )
    chosen: dict[tuple[str, str], list[Note]] = {}
    for sku, channel in cells:
        related = [n for n in recent if n.sku == sku or n.channel == channel]
        related.sort(key=lambda n: not (n.sku == sku and n.channel == channel))
        chosen[(sku, channel)] = related[:DRAFT_MEMORY_LIMIT]
    return chosen


def as_prompt_note(note: Note) -> str:
    """Return a note as the drafter reads it."""
    label = {
        Note.Kind.REJECTION: f"rejected at {note.gate}",
        Note.Kind.EDIT: "edited by a person",
        Note.Kind.APPROVAL: f"approved at {note.gate}",
        Note.Kind.COMMENT: "comment",
        Note.Kind.WINNER: "approved copy (previous winner)",
    }[note.kind]
    return f"[{label}; {note.sku} on {note.channel}] {note.text}"


def rejection_notes(workspace_id: int) -> list[tuple[int, str]]:
    """Return (package id, note) for every rejection in the workspace."""
    return list(
        Note.objects.filter(
            package__brief__workspace_id=workspace_id, kind=Note.Kind.REJECTION
        ).values_list("package_id", "text")
    )


def learn_banned_phrase(
    *, person: Person, phrase: str, suggest: str = "", reason: str = ""
) -> dict:
    """Add a banned phrase to the person's workspace rules (a person's decision, audited)."""
    phrase = " ".join(phrase.split())
    if len(phrase) < 2:
        raise InputError([Problem("give the phrase to ban", field="phrase")])
    with transaction.atomic():
        person = Person.objects.get(pk=person.pk)
        if not RULE_KEEPERS & set(person.roles):
            raise AuthorityError(
                ErrorCode.WRONG_ROLE,
                f"{person.email} may not change the brand rules: a "
                f"{', '.join(sorted(RULE_KEEPERS))} must",
                required_roles=RULE_KEEPERS,
            )
        workspace = Workspace.objects.select_for_update().get(pk=person.workspace_id)
        learned = dict(workspace.learned_rules)
        banned = list(learned.get("banned", []))
        known = {b["phrase"].lower() for b in [*banned, *workspace.brand.get("banned", [])]}
        if phrase.lower() in known:
            raise InputError([Problem(f"{phrase!r} is already banned", field="phrase")])
        rule = {
            "phrase": phrase,
            "suggest": suggest or None,
            "reason": reason or "rejected again and again",
            "accepted_by": person.email,
        }
        workspace.learned_rules = {**learned, "banned": [*banned, rule]}
        workspace.save(update_fields=["learned_rules", "updated_at"])
        record(
            action="workspace.rule_learned",
            actor=person.email,
            subject_type="workspace",
            subject_id=workspace.slug,
            workspace=workspace.slug,
            data={"banned": rule},
        )
    return rule

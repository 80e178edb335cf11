"""The compare screen: two to four candidates side by side, and the ratings people give them.

A candidate is one version of a package: the package's own current or earlier versions, or the
current version of a sibling variant (same brief, SKU, channel and market; another variant
letter). Reads take a fixed number of queries whatever the number of versions; a rating is a
comment note in memory (the drafter reads it, ``signoff memory search`` finds it) written with
its audit event in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.http import Http404

from signoff.agents.context import field_texts
from signoff.core import labels
from signoff.core.errors import InputError, Problem
from signoff.core.phrases import word_marks
from signoff.memory.services import comment_on
from signoff.packages.models import Finding, Note, Package, Version
from signoff.web.fieldtext import field_names
from signoff.web.pages import SEVERITY_ORDER, FieldView, preview
from signoff.workspaces.models import Person

MIN_CANDIDATES = 2
MAX_CANDIDATES = 4
RATINGS = (1, 2, 3, 4, 5)
# Structured feedback: fixed words, so memory search and later reports can count them.
TAGS = (
    "on brand",
    "off brand",
    "great headline",
    "clear benefit",
    "too long",
    "too short",
    "wrong tone",
    "factual error",
    "missing key message",
)


class CompareError(ValueError):
    """The candidates asked for cannot be compared (too many, malformed): a 400."""


@dataclass
class Candidate:
    key: str  # "<package id>:<version number>": what the rating form sends back
    package: Package
    version: Version
    current: bool  # the package's current version
    base: bool  # the package the screen was opened from
    rows: dict[str, FieldView] = field(default_factory=dict)  # field path -> text with marks
    findings: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    ratings: list[Note] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Variant {self.package.variant} · v{self.version.number}"


def siblings(package: Package) -> list[Package]:
    """Return the other variants of the package's cell (same brief, SKU, channel, market)."""
    return list(
        Package.objects.filter(
            brief_id=package.brief_id,
            sku=package.sku,
            channel=package.channel,
            market=package.market,
        )
        .exclude(pk=package.pk)
        .select_related("current_version")
        .order_by("variant")
    )


def _ints(values: list[str], name: str) -> list[int]:
    out = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                raise CompareError(f"{name} takes numbers, got {part!r}")
            out.append(int(part))
    return list(dict.fromkeys(out))


def choose(package: Package, with_ids: list[str], versions: list[str]) -> list[tuple[int, int]]:
    """Return the (package id, version number) pairs to compare, the base package's first.

    ``with_ids`` names sibling packages (their current versions), ``versions`` earlier
    versions of this package. With neither, the current version and every sibling (up to four
    in all), or the previous version when the package has no siblings.
    """
    others = siblings(package)
    by_id = {p.pk: p for p in others}
    wanted_ids = _ints(with_ids, "with")
    wanted_versions = _ints(versions, "version")
    current = package.current_version.number if package.current_version else None
    pairs: list[tuple[int, int]] = []
    if current is not None:
        pairs.append((package.pk, current))
    for number in wanted_versions:
        if (package.pk, number) not in pairs:
            pairs.append((package.pk, number))
    for package_id in wanted_ids:
        sibling = by_id.get(package_id)
        if sibling is None:
            # Not a sibling, or not in this workspace: it does not exist for this screen.
            raise Http404(f"package {package_id} is not a variant of package {package.pk}")
        if sibling.current_version is not None:
            pairs.append((sibling.pk, sibling.current_version.number))
    if not wanted_ids and not wanted_versions:
        pairs += [(p.pk, p.current_version.number) for p in others if p.current_version]
        if len(pairs) < MIN_CANDIDATES and current is not None and current > 1:
            pairs.append((package.pk, current - 1))
        pairs = pairs[:MAX_CANDIDATES]
    if len(pairs) > MAX_CANDIDATES:
        raise CompareError(f"compare at most {MAX_CANDIDATES} candidates, not {len(pairs)}")
    return pairs


def _findings(version_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for f in Finding.objects.filter(version_id__in=version_ids).order_by("id"):
        out[f.version_id].append(
            {
                "id": f.pk,
                "agent": f.agent,
                "rule_id": f.rule_id,
                "severity": f.severity,
                "field": f.field,
                "span": [f.span_start, f.span_end] if f.span_start is not None else None,
                "message": f.message,
                "suggested_fix": f.suggested_fix,
            }
        )
    for items in out.values():
        items.sort(key=lambda f: (SEVERITY_ORDER.get(f["severity"], 9), f["id"]))
    return out


def compare_page(package: Package, person: Person, pairs: list[tuple[int, int]]) -> dict:
    """Return the candidates with their fields (findings marked in place), findings, ratings."""
    wanted = set(pairs)
    package_ids = {pid for pid, _ in pairs}
    versions = {
        (v.package_id, v.number): v
        for v in Version.objects.filter(package_id__in=package_ids).select_related(
            "package", "package__brief", "package__brief__workspace"
        )
        if (v.package_id, v.number) in wanted
    }
    missing = [f"{pid} v{number}" for pid, number in pairs if (pid, number) not in versions]
    if missing:
        raise Http404(f"no version {', '.join(missing)}")
    findings = _findings([v.pk for v in versions.values()])
    notes: dict[int, list[Note]] = defaultdict(list)
    for note in Note.objects.filter(
        version_id__in=[v.pk for v in versions.values()], kind=Note.Kind.COMMENT
    ).order_by("-created_at", "-id"):
        notes[note.version_id].append(note)
    workspace = package.brief.workspace
    candidates = []
    for pid, number in pairs:
        version = versions[(pid, number)]
        owner = version.package
        owner.brief.workspace = workspace  # one workspace object for every preview
        found = findings.get(version.pk, [])
        view = preview(owner, version.fields, found)
        rows: dict[str, FieldView] = {}
        for fv in view["all"]:
            if fv.items:
                for item in fv.items:
                    rows[item.path] = item
            else:
                rows[fv.path] = fv
        candidates.append(
            Candidate(
                key=f"{pid}:{number}",
                package=owner,
                version=version,
                current=owner.current_version_id == version.pk,
                base=pid == package.pk,
                rows=rows,
                findings=found,
                counts={s: sum(1 for f in found if f["severity"] == s) for s in SEVERITY_ORDER},
                ratings=notes.get(version.pk, []),
            )
        )
    paths: list[str] = []
    for candidate in candidates:
        for path, _ in field_texts(candidate.version.fields):
            if path not in paths:
                paths.append(path)
    names = field_names(package)
    table = []
    for path in paths:
        texts = [_plain(c.rows.get(path)) for c in candidates]
        differs = len(set(texts)) > 1
        table.append(
            {
                "path": path,
                "label": labels.field_label(path, names),
                "cells": [c.rows.get(path) for c in candidates],
                "differs": differs,
                # Each candidate's words that differ from the first (the first: from the
                # first that differs from it), to highlight only what changed.
                "marks": [_marks(texts, i) for i in range(len(texts))] if differs else [],
            }
        )
    chosen = set(pairs)
    return {
        "package": package,
        "candidates": candidates,
        "table": table,
        "enough": len(candidates) >= MIN_CANDIDATES,
        "siblings": [
            {"package": s, "chosen": any(pid == s.pk for pid, _ in chosen)}
            for s in siblings(package)
        ],
        "versions": [
            {"number": n, "chosen": (package.pk, n) in chosen}
            for n in package.versions.order_by("-number").values_list("number", flat=True)
            if n != (package.current_version.number if package.current_version else None)
        ],
        "ratings": RATINGS,
        "tags": TAGS,
        "max": MAX_CANDIDATES,
    }


def _marks(texts: list[str], index: int) -> list[tuple[bool, str]]:
    if index:
        return word_marks(texts[index], texts[0])
    other = next((t for t in texts[1:] if t != texts[0]), texts[0])
    return word_marks(texts[0], other)


def _plain(fv: FieldView | None) -> str:
    return "".join(s.text for s in fv.segments) if fv else ""


def rating_text(rating: int, tags: list[str], text: str) -> str:
    """Return the note as memory keeps it: "rating 4/5; tags: on brand, great headline; ..."."""
    parts = [f"rating {rating}/5"]
    if tags:
        parts.append(f"tags: {', '.join(tags)}")
    text = " ".join(text.split())
    if text:
        parts.append(text)
    return "; ".join(parts)


def rate_candidate(
    *,
    person: Person,
    package: Package,
    version_number: int,
    rating: int,
    tags: list[str],
    text: str = "",
) -> Note:
    """Store a person's 1-5 rating and feedback tags on one version, as a comment in memory.

    ``package`` must already be scoped to the person's workspace (``scope.package_for``).
    Raises InputError for a rating outside 1-5 or an unknown tag; nothing is stored then.
    """
    problems = []
    if rating not in RATINGS:
        problems.append(Problem("rating must be a whole number from 1 to 5", field="rating"))
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        problems.append(Problem(f"unknown tags: {', '.join(unknown)}", field="tags"))
    if problems:
        raise InputError(problems)
    tags = [t for t in TAGS if t in tags]  # the fixed order, once each
    note_text = rating_text(rating, tags, text)
    with transaction.atomic():
        version = Version.objects.filter(package=package, number=version_number).first()
        if version is None or package.brief.workspace_id != person.workspace_id:
            raise Http404(f"no version {version_number} of package {package.pk}")
        note = comment_on(
            package=package,
            person=person,
            text=note_text,
            version=version,
            data={"variant": package.variant, "rating": rating, "tags": tags, "via": "compare"},
        )
    return note

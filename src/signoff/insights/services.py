"""Importing a channel performance export, and turning what won into memory.

One transaction: the import's rows, the learnings recomputed for every brief it touched and
the audit event commit together, or (any located problem in the file) nothing is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction

from signoff.audit.services import record
from signoff.briefs.authority import INTAKE_ROLES
from signoff.briefs.models import Brief
from signoff.core.errors import InputError, Problem
from signoff.core.rows import insert_rows
from signoff.insights import csvfile, stats
from signoff.insights.attributes import LABELS
from signoff.insights.models import Learning, PerformanceImport, PerformanceRow
from signoff.insights.selectors import brief_report, launch_index
from signoff.workflow import AuthorityError, ErrorCode
from signoff.workspaces.models import Person

MAX_BYTES = 512 * 1024 * 1024  # a file larger than this is refused before it is read


@dataclass
class ImportResult:
    file: str
    sha256: str
    rows: int  # data rows in the file
    new_rows: int  # stored now (0 on a re-import)
    unchanged: int  # already stored with the same values
    briefs: list[str] = field(default_factory=list)  # slugs of the briefs measured
    learnings: int = 0  # winners now in memory for those briefs
    import_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "rows": self.rows,
            "new_rows": self.new_rows,
            "unchanged": self.unchanged,
            "briefs": self.briefs,
            "learnings": self.learnings,
            "import_id": self.import_id,
        }


def ensure_may_import(person: Person) -> None:
    """Raise AuthorityError unless the person works on briefs (operator or gate owner)."""
    if not INTAKE_ROLES.intersection(person.roles):
        raise AuthorityError(
            ErrorCode.WRONG_ROLE,
            f"{person.email} may not import performance data: only an operator or a gate owner may",
            required_roles=INTAKE_ROLES,
        )


def import_file(*, path: Path, person: Person, brief: Brief | None = None) -> ImportResult:
    """Import a performance CSV file from disk (see :func:`import_performance`)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError.single(f"cannot read the file: {exc.strerror}", file=str(path)) from exc
    if size > MAX_BYTES:
        raise InputError.single(
            f"expected a file of at most {MAX_BYTES // 1024 // 1024} MiB", file=str(path)
        )
    return import_performance(data=path.read_bytes(), name=str(path), person=person, brief=brief)


def import_performance(
    *, data: bytes, name: str, person: Person, brief: Brief | None = None
) -> ImportResult:
    """Store the rows of a performance export that are not stored yet, each matched to the
    launched package version it measures; recompute the winners of the briefs measured.

    Raises InputError (every problem located as ``file:line: column``) and stores nothing
    when any row is bad; importing the same file again stores nothing and records nothing.
    """
    ensure_may_import(person)
    if brief is not None and brief.workspace_id != person.workspace_id:
        raise InputError.single(f"no brief {brief.slug!r} in your workspace", field="brief")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.single(
            f"expected UTF-8 text; byte {exc.start} is not", file=name, line=1
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    # Every launch of the workspace, even with a brief: which launch a day measures (the row's
    # identity, package and date) must not depend on the brief given.
    index = launch_index(person.workspace_id)
    parsed = csvfile.read(text, name, index, brief.pk if brief else None)
    fresh, unchanged = _new_rows(parsed.rows, name)
    while True:
        result = ImportResult(name, digest, parsed.count, len(fresh), unchanged)
        if not fresh:
            return result  # a re-import: nothing new, nothing recorded
        try:
            _store(result, parsed, fresh, person=person, brief=brief)
        except IntegrityError:
            # Another import stored some of these days after they were matched above and the
            # unique key (package, date) refused them; this transaction stored nothing. Match
            # again against what it stored and store only what is still new (each round has
            # fewer rows). Anything else refused is not that race: let it be seen.
            again, unchanged = _new_rows(parsed.rows, name)
            if len(again) >= len(fresh):
                raise
            fresh = again
            continue
        return result


def _store(
    result: ImportResult,
    parsed: csvfile.Parsed,
    fresh: list[tuple],
    *,
    person: Person,
    brief: Brief | None,
) -> None:
    """Store the new rows, the learnings of the briefs they measure and the audit event: one
    transaction. Raises IntegrityError (and stores nothing) when a row's day is stored by now."""
    name, digest, unchanged = result.file, result.sha256, result.unchanged
    brief_ids = sorted({row[2] for row in fresh})
    with transaction.atomic():
        source = PerformanceImport.objects.create(
            workspace_id=person.workspace_id,
            brief=brief,
            person=person.email,
            file_name=name[-300:],
            sha256=digest,
            rows=parsed.count,
            new_rows=len(fresh),
        )
        insert_rows(PerformanceRow, PerformanceRow.ROW_COLUMNS, ((source.pk, *r) for r in fresh))
        briefs = list(Brief.objects.filter(pk__in=brief_ids).order_by("slug"))
        result.learnings = sum(_relearn(b) for b in briefs)
        result.briefs = [b.slug for b in briefs]
        result.import_id = source.pk
        record(
            action="performance.imported",
            actor=person.email,
            subject_type="workspace",
            subject_id=person.workspace.slug,
            workspace=person.workspace.slug,
            content_hash=digest,
            data={
                "import": source.pk,
                "file": Path(name).name,
                "rows": parsed.count,
                "new_rows": len(fresh),
                "unchanged": unchanged,
                "briefs": result.briefs,
                "learnings": result.learnings,
            },
        )


def _new_rows(rows: list[tuple], name: str) -> tuple[list[tuple], int]:
    """Split parsed rows into those not stored yet and the count already stored the same.

    A stored row with other values for the same package and day is an error: the export
    disagrees with what was imported before, and silently keeping either would be wrong.
    """
    if not rows:
        return [], 0
    packages = {row[0] for row in rows}
    first = min(row[3] for row in rows)
    stored: dict[tuple, tuple] = {}
    ids = list(packages)
    for start in range(0, len(ids), 500):
        query = PerformanceRow.objects.filter(
            package_id__in=ids[start : start + 500], date__gte=first
        ).values_list("package_id", "date", *PerformanceRow.COMPARED)
        for package_id, day, *values in query.iterator(chunk_size=5000):
            stored[(package_id, day)] = tuple(values)
    if not stored:
        return rows, 0
    fresh, unchanged, problems = [], 0, []
    for row in rows:
        before = stored.get((row[0], row[3]))
        if before is None:
            fresh.append(row)
        elif before == tuple(row[5:]):
            unchanged += 1
        elif len(problems) < csvfile.MAX_PROBLEMS:
            problems.append(
                Problem(
                    f"expected the values imported before for this package and date "
                    f"{row[3].isoformat()} (an import never overwrites), got other ones",
                    file=name,
                    line=row[4],
                )
            )
    if problems:
        raise InputError(problems)
    return fresh, unchanged


def _relearn(brief: Brief) -> int:
    """Replace the brief's learnings with the winners its performance supports now."""
    Learning.objects.filter(brief=brief).delete()
    learnings = []
    for channel in brief_report(brief):
        for attribute in channel.attributes:
            for comparison in (attribute.ctr, attribute.conversion):
                winner, runner_up = comparison.winner, comparison.runner_up
                if winner is None or runner_up is None:
                    continue
                learnings.append(
                    Learning(
                        workspace_id=brief.workspace_id,
                        brief=brief,
                        channel=channel.channel,
                        attribute=attribute.attribute,
                        metric=comparison.metric,
                        winner=winner.label[:300],
                        runner_up=runner_up.label[:300],
                        numbers=_numbers(comparison),
                        text=stats.reason(comparison, channel.channel, LABELS[attribute.attribute]),
                    )
                )
    Learning.objects.bulk_create(learnings)
    return len(learnings)


def _numbers(comparison: stats.Comparison) -> dict:
    return {
        "method": stats.METHOD,
        "alpha": comparison.alpha,
        "min_trials": comparison.min_trials,
        "trial_unit": comparison.trial_unit,
        "arms": [
            {
                "label": a.label,
                "trials": a.trials,
                "successes": a.successes,
                "rate": round(a.rate, 6),
                "low": round(a.low, 6),
                "high": round(a.high, 6),
                "verdict": a.verdict.value,
                "z": None if a.z is None else round(a.z, 4),
                "p_value": None if a.p_value is None else float(f"{a.p_value:.4g}"),
            }
            for a in comparison.arms
        ],
    }

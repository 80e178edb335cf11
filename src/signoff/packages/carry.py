"""A person's edit survives a brief update: carried onto the redraft, or flagged for a person.

A brief change after G1 sends the packages it touches back to S2 for a new draft. A package
whose current version a person made (an edit, an applied fix) is not silently redrafted: the
run drafts it from the new brief version and then

- **carries** the edit, field by field, onto the new draft when no edited field states a fact
  the change altered (``signoff.briefs.impact.edit_conflicts``): the version's origin records
  ``carried_edit`` and an info finding ``feedback.edit_carried`` says what was kept; or
- **flags** it: the new draft is stored as it came, with a blocking ``feedback.edit_conflict``
  finding that names the person's version, the fields and the facts in the way, and where to
  see both versions side by side. A person settles it with an edit (which clears the finding).

A drafter's version that carried or flagged an edit still holds a person's text: the next
update treats it as that person's edit (from the person's own version and the brief version
they wrote against), so it is carried or flagged again, never redrafted away.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from signoff.agents.context import BrandRules, CheckFinding, FieldValue, Severity
from signoff.briefs.approval import product_facts
from signoff.briefs.impact import edit_conflicts, fact_changes
from signoff.briefs.models import BriefVersion
from signoff.packages.models import Version

if TYPE_CHECKING:
    from signoff.packages.planning import PlannedPackage

AGENT = "feedback_guard"
# The copy drafter's versions are redrafted freely (unless they carry a person's edit); any
# other author's (a person, a checker's fix a person accepted) is a person's change to keep.
DRAFTER = "agent:copy_drafter"
# Brief texts the drafter writes from: an edit that quotes their old wording is stale.
BRIEF_TEXTS = ("audience", "key_messages")


def plan_carries(plans: Iterable[PlannedPackage], version: BriefVersion, rules: BrandRules) -> None:
    """Set ``carry`` or ``conflict`` on each plan whose package a person edited under an older
    brief version. Three queries, plus one per older brief version involved (and one more when
    an edit was already carried or flagged by an earlier update)."""
    edited = [
        plan
        for plan in plans
        if plan.existing is not None
        and plan.existing.current_version is not None
        and plan.existing.current_version.brief_version_id != version.pk
        and (plan.existing.current_version.author != DRAFTER or _inherited(plan))
    ]
    if not edited:
        return
    persons = _persons_versions(edited)
    bases = _agent_versions({pk: v.number for pk, v in persons.items()})
    new_facts = product_facts(version)
    old_versions: dict[int, dict[str, dict]] = {}
    old_data: dict[int, dict] = {}
    for plan in edited:
        current = persons.get(plan.existing.pk)
        if current is None:
            continue
        base = bases.get(plan.existing.pk)
        fields = _edited_fields(current.fields, base.fields if base else {})
        if not fields:
            continue
        # The facts the person wrote against: their own version's brief version, so changes
        # of every update since then count (a carried edit was only checked against the first).
        old_id = current.brief_version_id
        if old_id not in old_versions:
            old = BriefVersion.objects.get(pk=old_id)
            old_versions[old_id], old_data[old_id] = product_facts(old), old.data
        sku = plan.cell.sku
        changes = fact_changes(
            {sku: old_versions[old_id].get(sku, {})}, {sku: new_facts.get(sku, {})}
        ).get(sku)
        changed = _changed_values(changes or [], old_data[old_id], version.data, rules)
        record = {
            "from_version": current.number,
            "person": current.origin.get("accepted_by") or current.author,
            "fields": sorted(fields),
        }
        reasons = edit_conflicts(fields, changed)
        if reasons:
            plan.conflict = {**record, "reasons": reasons, "package": plan.existing.pk}
        else:
            plan.carry = {**record, "values": fields}


def _inherited(plan: PlannedPackage) -> dict | None:
    """The person's edit a drafter's version holds: carried onto it, or flagged on it and not
    yet settled. That text is still the person's, whoever stored the version."""
    origin = plan.existing.current_version.origin or {}
    return origin.get("carried_edit") or origin.get("edit_conflict")


def _persons_versions(edited: list[PlannedPackage]) -> dict[int, Version]:
    """Each package's version the person made: the current one, or (for a drafter's version
    that carried or flagged an edit) the person's version it names. One query at most."""
    out: dict[int, Version] = {}
    wanted: dict[int, int] = {}
    for plan in edited:
        current = plan.existing.current_version
        if current.author != DRAFTER:
            out[plan.existing.pk] = current
        else:
            wanted[plan.existing.pk] = int(_inherited(plan)["from_version"])
    if wanted:
        rows = Version.objects.filter(package_id__in=wanted, number__in=set(wanted.values()))
        for row in rows.exclude(author=DRAFTER):
            if wanted[row.package_id] == row.number:
                out[row.package_id] = row
    return out


def _agent_versions(current: dict[int, int]) -> dict[int, Version]:
    """Each package's newest version an agent drafted before its current one."""
    out: dict[int, Version] = {}
    rows = (
        Version.objects.filter(package_id__in=current)
        .filter(author=DRAFTER)
        .order_by("package_id", "number")
    )
    for row in rows:
        if row.number < current[row.package_id]:
            out[row.package_id] = row
    return out


def _edited_fields(
    fields: dict[str, FieldValue], base: dict[str, FieldValue]
) -> dict[str, FieldValue]:
    return {name: value for name, value in fields.items() if base.get(name) != value}


def _changed_values(
    changes: list, old: dict, new: dict, rules: BrandRules
) -> list[tuple[str, Any]]:
    """(what changed, its old value) for every fact and brief text that changed."""
    out: list[tuple[str, Any]] = []
    for change in changes:
        if change.fact == "claims":
            dropped = set(change.old or []) - set(change.new or [])
            for claim_id in sorted(dropped):
                claim = rules.claim(claim_id)
                if claim is not None and claim.text:
                    out.append((f"claim {claim_id}", claim.text))
        elif change.fact != "images":
            out.append((change.fact, change.old))
    for key in BRIEF_TEXTS:
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        items = was if isinstance(was, list) else [was]
        kept = now if isinstance(now, list) else [now]
        out += [(f"brief {key}", item) for item in items if item and item not in kept]
    return out


def carry_onto(fields: dict[str, FieldValue], carry: dict) -> dict[str, FieldValue]:
    """The new draft with the person's edited fields in place of the drafter's."""
    return {**fields, **{k: v for k, v in carry["values"].items() if k in fields}}


def carry_findings(plan: PlannedPackage) -> list[CheckFinding]:
    """The finding that says what happened to a person's edit, if there was one."""
    if plan.carry:
        c = plan.carry
        return [
            CheckFinding(
                agent=AGENT,
                rule_id="feedback.edit_carried",
                severity=Severity.INFO,
                message=f"kept {c['person']}'s edit of {', '.join(c['fields'])} from version "
                f"{c['from_version']}: the brief change does not touch it",
            )
        ]
    if plan.conflict:
        c = plan.conflict
        return [
            CheckFinding(
                agent=AGENT,
                rule_id="feedback.edit_conflict",
                severity=Severity.BLOCK,
                field=c["fields"][0],
                message=f"{c['person']} edited {', '.join(c['fields'])} in version "
                f"{c['from_version']}, and the brief change touches that edit "
                f"({'; '.join(c['reasons'])}); this is a new draft from the new facts. Compare "
                f"the two side by side (web: Compare on the package page; API: GET "
                f"/api/packages/{c['package']}/compare?versions={c['from_version']}) and "
                "edit to keep what still holds",
            )
        ]
    return []

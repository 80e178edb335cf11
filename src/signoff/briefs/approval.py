"""G1: a person approves a brief version (locking it), and brief changes after G1.

A change after G1 makes a new brief version that needs G1 again; the impact analysis says
which packages the change touches and why. Those go back to S2/draft with their approvals
voided (they will be re-drafted from the new version once it passes G1); the others keep
their versions and approvals.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.utils import timezone

from signoff.audit.services import record
from signoff.briefs import hooks
from signoff.briefs.authority import ensure_may_run
from signoff.briefs.completeness import family_attributes
from signoff.briefs.impact import fact_changes, why_touched
from signoff.briefs.models import Brief, BriefApproval, BriefVersion
from signoff.briefs.services import BriefReport, add_brief
from signoff.briefs.workflow import brief_gate, first_package_position, template_for
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.core.errors import NotFound
from signoff.packages.decisions import person_actor
from signoff.packages.refusals import records_refusals
from signoff.workflow import (
    Action,
    ErrorCode,
    Facts,
    PackageState,
    Position,
    StateError,
    decide,
)
from signoff.workspaces.models import Person

# Brief keys whose change touches every package (everything the drafter reads).
BRIEF_WIDE_KEYS = (
    "audience",
    "key_messages",
    "acceptance_criteria",
    "references",
    "hypothesis",
    "required_attributes",
    "content_type",
    "template",
)


def _brief_position(brief: Brief) -> Position:
    return Position.parse(brief.position)


def _locked_brief(brief: Brief, person: Person) -> Brief:
    """Lock the brief; one in another workspace does not exist for this person."""
    try:
        return (
            Brief.objects.select_for_update(of=("self",))
            .select_related("workspace")
            .get(pk=brief.pk, workspace_id=person.workspace_id)
        )
    except Brief.DoesNotExist as exc:
        raise NotFound(f"no brief {brief.slug!r} in {person.workspace.slug}") from exc


def enriched_view(version: BriefVersion) -> dict:
    """The brief as Signoff will draft from it: the file's keys plus the merged product facts."""
    data = dict(version.data)
    data["products"] = [
        {
            "sku": p.sku,
            "name": p.name,
            "gtin": p.gtin or None,
            "price": None if p.price is None else f"{p.price:.2f} {p.currency}",
            "attributes": p.attributes,
            "claims": p.claims,
            "images": p.images,
            "sources": p.field_sources,
        }
        for p in version.products.all()
    ]
    return data


def brief_diff(version: BriefVersion) -> list[str]:
    """Unified diff of what the person wrote (the file) against what Signoff will use."""
    try:
        given = Path(version.source_path).read_text(encoding="utf-8").splitlines()
    except OSError:
        given = ["# (the original file is no longer on disk)"]
    enriched = yaml.safe_dump(enriched_view(version), sort_keys=False, allow_unicode=True)
    return list(
        difflib.unified_diff(
            given, enriched.splitlines(), "user brief", "enriched brief", lineterm=""
        )
    )


@records_refusals("brief", "approve")
def approve_brief(*, brief: Brief, person: Person, note: str = "") -> BriefApproval:
    """Pass G1 for the brief's latest version, which drafting then uses."""
    with transaction.atomic():
        person = Person.objects.get(pk=person.pk)
        brief = _locked_brief(brief, person)
        template = template_for(brief)
        if brief_gate(template) is None:
            raise StateError(
                ErrorCode.INVALID_STATE, f"the {template.name} workflow has no brief gate"
            )
        version = brief.latest_version()
        done = version.approvals.filter(gate=brief_gate(template).id).first()
        if done is not None:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"brief {brief.slug} version {version.number} has passed "
                f"{done.gate} already (approved by {done.person} on "
                f"{done.created_at:%Y-%m-%d %H:%M} UTC); a change is a new version: "
                f"signoff brief update {brief.slug} FILE",
                gate=done.gate,
            )
        # Maker-checker at G1: whoever added this brief version may not approve it.
        makers = frozenset({version.added_by}) if "@" in version.added_by else frozenset()
        # The input guard's blocks (an instruction, personal data in the brief's texts): G1
        # waits for a version without them, like a package's gate waits for its findings.
        blocking = version.screen().blocking
        decision = decide(
            _brief_position(brief),
            Action.APPROVE,
            person_actor(person),
            Facts(
                version_makers=makers,
                note=note,
                blocking_findings=len(blocking),
                blocking_rules=tuple(f"{f.field}: {f.rule_id}" for f in blocking),
                # One gate per brief version today (G1); kept so a template with two brief
                # gates would get separation of duties too. A package is another object: its
                # G1 approver may approve it at G2.
                gates_approved_by_actor=frozenset(
                    version.approvals.filter(person=person.email).values_list("gate", flat=True)
                ),
            ),
            template,
        )
        approval = BriefApproval.objects.create(
            brief_version=version,
            person=person.email,
            gate=decision.gate,
            content_hash=version.content_hash,
            note=note,
        )
        before = brief.position
        brief.stage, brief.state = decision.next_position.stage, decision.next_position.state
        brief.approved_version = version
        brief.save(update_fields=["stage", "state", "approved_version"])
        record(
            action=decision.audit_action,
            actor=person.email,
            subject_type="brief",
            subject_id=str(brief.pk),
            workspace=brief.workspace.slug,
            from_position=before,
            to_position=brief.position,
            content_hash=version.content_hash,
            note=note,
            gate=decision.gate,
            data={
                "brief": brief.slug,
                "version": version.number,
                # What else the version was approved with (its references, by hash).
                **{k: v for facts in hooks.approval_facts for k, v in facts(brief).items()},
            },
        )
    return approval


@dataclass
class Impact:
    package_id: int
    sku: str
    channel: str
    reasons: list[str]


@dataclass
class UpdateReport:
    brief: BriefReport
    impacts: list[Impact] = field(default_factory=list)
    untouched: int = 0
    # Packages of a SKU whose facts changed that the change leaves alone, each with why.
    spared: list[Impact] = field(default_factory=list)
    new_cells: list[str] = field(default_factory=list)  # SKU x channel cells the next run adds


def product_facts(version: BriefVersion) -> dict[str, dict]:
    return {
        p.sku: {
            "name": p.name,
            "gtin": p.gtin,
            "price": None if p.price is None else str(p.price),
            "currency": p.currency,
            "claims": p.claims,
            "images": p.images,
            **{f"attributes.{k}": v for k, v in p.attributes.items()},
        }
        for p in version.products.all()
    }


def analyse_impact(
    brief: Brief, old: BriefVersion, new: BriefVersion
) -> tuple[list[Impact], list[Impact]]:
    """Say which existing packages a new brief version touches, and why; and which packages
    of a SKU whose facts changed it leaves alone, and why (see ``signoff.briefs.impact``)."""
    wide = [k for k in BRIEF_WIDE_KEYS if old.data.get(k) != new.data.get(k)]
    products = fact_changes(product_facts(old), product_facts(new))
    channels, markets = set(new.data["channels"]), set(new.data["markets"])
    variants = new.data["variants"]
    family = family_attributes([p.facts() for p in new.products.all()])
    required_attributes = new.data.get("required_attributes", [])
    overrides = brief.workspace.channel_overrides
    specs: dict[str, ChannelSpec] = {}
    impacts, spared = [], []
    packages = brief.packages.exclude(state="published").select_related("current_version")
    for package in packages.order_by("id"):
        reasons = [f"brief {k} changed" for k in wide]
        if package.channel not in channels:
            reasons.append(f"channel {package.channel} removed from the brief")
        if package.market not in markets:
            reasons.append(f"market {package.market} removed from the brief")
        if ord(package.variant) - ord("A") >= variants:
            reasons.append(f"variant {package.variant} no longer asked for")
        left_alone: list[str] = []
        if package.sku in products and package.channel in channels:
            if package.channel not in specs:
                specs[package.channel] = resolve_spec(
                    package.channel, overrides.get(package.channel)
                )
            version = package.current_version
            touched, left_alone = why_touched(
                package.sku,
                specs[package.channel],
                products[package.sku],
                version.fields if version else None,
                family,
                required_attributes,
            )
            reasons += touched
        elif package.sku in products:
            reasons += [c.describe(package.sku) for c in products[package.sku] or []]
        if reasons:
            impacts.append(Impact(package.pk, package.sku, package.channel, reasons))
        elif left_alone:
            spared.append(Impact(package.pk, package.sku, package.channel, left_alone))
    return impacts, spared


@records_refusals("brief", "edit")
def update_brief(
    *,
    brief: Brief,
    path: str | Path,
    products_csv: str | Path | None = None,
    person: Person,
) -> UpdateReport:
    """Store a new brief version; after G1, reset the packages it touches and require G1 again.

    All in one transaction: the new version, the brief's return to G1, every reset package
    and their audit events land together or not at all.
    """
    from signoff.packages.models import Approval, Package

    who = person.email
    with transaction.atomic():
        # The roles as they are now, not as the caller's object remembers them.
        person = Person.objects.get(pk=person.pk)
        ensure_may_run(person, brief, doing="change")
        locked = brief.approved_version
        report = add_brief(path, products_csv=products_csv, actor=who, after_g1=True)
        if report.brief.pk != brief.pk:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"the file describes brief {report.brief.slug!r}, not {brief.slug!r}",
            )
        update = UpdateReport(brief=report)
        if locked is None or not report.created_version:
            return update
        brief = _locked_brief(brief, person)
        template = template_for(brief)
        before = brief.position
        decision = decide(
            _brief_position(brief), Action.EDIT, person_actor(person), Facts(), template
        )
        brief.stage, brief.state = decision.next_position.stage, decision.next_position.state
        brief.save(update_fields=["stage", "state"])
        record(
            action=decision.audit_action,
            actor=who,
            subject_type="brief",
            subject_id=str(brief.pk),
            workspace=brief.workspace.slug,
            from_position=before,
            to_position=brief.position,
            content_hash=report.version.content_hash,
            data={
                "brief": brief.slug,
                "version": report.version.number,
                "replaces": locked.number,
                "voids": list(decision.voids),
            },
        )
        update.impacts, update.spared = analyse_impact(brief, locked, report.version)
        start = first_package_position(template)
        now = timezone.now()
        touched = {i.package_id: i for i in update.impacts}
        for package in Package.objects.select_for_update(of=("self",)).filter(pk__in=touched):
            was = package.position
            voided = list(
                Approval.objects.filter(package=package, voided_at__isnull=True).values_list(
                    "gate", flat=True
                )
            )
            Approval.objects.filter(package=package, voided_at__isnull=True).update(voided_at=now)
            # Re-drafting from the new version settles missing data (the run checks it again),
            # not a withdrawn or flagged claim the copy still makes: that block stays, and its
            # release returns the package to the start for its new draft.
            held = [r for r in package.blocked_reasons if r.get("kind") != "missing_data"]
            if held:
                package.stage, package.state = start.stage.value, PackageState.BLOCKED.value
                package.blocked_from = str(start)
            else:
                package.stage, package.state = start.stage.value, start.state.value
                package.blocked_from = ""
            package.blocked_reasons = held
            package.stage_entered_at = now
            package.save(
                update_fields=[
                    "stage",
                    "state",
                    "blocked_from",
                    "blocked_reasons",
                    "stage_entered_at",
                ]
            )
            record(
                action="package.reset",
                actor=who,
                subject_type="package",
                subject_id=str(package.pk),
                workspace=brief.workspace.slug,
                from_position=was,
                to_position=package.position,
                sku=package.sku,
                channel=package.channel,
                data={
                    "brief_version": report.version.number,
                    "reasons": touched[package.pk].reasons,
                    "voided": voided,
                },
            )
        record(
            action="brief.impact_assessed",
            actor=who,
            subject_type="brief",
            subject_id=str(brief.pk),
            workspace=brief.workspace.slug,
            data={
                "version": report.version.number,
                "touched": sorted(touched),
                "untouched": brief.packages.count() - len(touched),
                # Why each package of a changed SKU was left alone (its channel does not use
                # the fact and its copy does not state it).
                "spared": {str(i.package_id): i.reasons for i in update.spared},
            },
        )
        update.untouched = brief.packages.count() - len(touched)
    return update

"""What a run of a brief does to each package: the plan, before anything is drafted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from signoff.agents.checking import check_product_images
from signoff.agents.context import CheckFinding, InputSignals, ProductFacts
from signoff.agents.providers.port import DraftFailed
from signoff.briefs.completeness import Gap, family_attributes, find_gaps
from signoff.briefs.models import Brief, BriefVersion
from signoff.briefs.workflow import brief_gate, first_package_position
from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import ChannelSpec
from signoff.core.paths import confined
from signoff.packages.confidence import Evidence
from signoff.packages.matrix import Cell, expand
from signoff.packages.models import Package
from signoff.workflow import (
    Action,
    Actor,
    ActorKind,
    ErrorCode,
    Facts,
    PackageState,
    Position,
    StateError,
    Template,
    decide,
)
from signoff.workspaces.selectors import role_holders

STEPS = (
    "Reading product context",
    "Analysing references",
    "Generating options",
    "Checking brand fit",
)


DRAFTER = Actor(id="agent:copy_drafter", kind=ActorKind.AGENT)


Progress = Callable[[str, int, int], None]  # (step, done, total)


@dataclass
class PlannedPackage:
    cell: Cell
    product: ProductFacts
    channel: ChannelSpec
    needed: list[str]
    gaps: list[Gap]
    position: Position  # where the package is now (a new one: the template's start)
    existing: Package | None = None
    moves: list[tuple[str, Position, Position]] = field(default_factory=list)  # action, from, to
    draft_move: tuple[str, Position, Position] | None = None  # taken only if the draft succeeds
    draft_fields: dict | None = None
    origin: dict | None = None
    failure: DraftFailed | None = None
    findings: list[CheckFinding] = field(default_factory=list)
    evidence: Evidence | None = None  # what the draft rests on, for its confidence
    # A person's edit of the package under an older brief version (signoff.packages.carry):
    # carried onto the redraft, or in conflict with the change and flagged for a person.
    carry: dict | None = None
    conflict: dict | None = None
    # Set when stored: the package row, and the version the draft became.
    package_id: int | None = None
    version_number: int | None = None
    content_hash: str = ""
    images: dict = field(default_factory=dict)
    # What the checks compare the draft with: the brief's other products, and what the input
    # guard found in the brief (flagged instructions, personal data).
    siblings: tuple[ProductFacts, ...] = ()
    inputs: InputSignals | None = None

    @property
    def all_moves(self) -> list[tuple[str, Position, Position]]:
        drafted = self.draft_move is not None and self.draft_fields is not None
        return [*self.moves, self.draft_move] if drafted else list(self.moves)

    @property
    def target(self) -> Position:
        moves = self.all_moves
        return moves[-1][2] if moves else self.position


def drafting_version(brief: Brief, template: Template) -> BriefVersion:
    """Return the brief version to draft from: the one G1 locked, where there is a G1."""
    gate = brief_gate(template)
    if gate is None:
        return brief.latest_version()
    if brief.approved_version_id is None or brief.state != PackageState.APPROVED:
        holders = role_holders(brief.workspace_id).get(gate.owner, [])
        who = ", ".join(holders) or "nobody holds that role yet"
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"brief {brief.slug} has not passed {gate.id} ({gate.label}) for its current "
            f"version; a {gate.owner} ({who}) can approve it: signoff brief approve {brief.slug}",
            gate=gate.id,
            required_roles=[gate.owner],
        )
    return brief.approved_version


def plan_cell(
    cell: Cell,
    package: Package | None,
    product: ProductFacts,
    channel: ChannelSpec,
    needed: list[str],
    gaps: list[Gap],
    template: Template,
) -> PlannedPackage | None:
    """Decide what the run does to one cell; None when there is nothing to do."""
    if package is None:
        position = first_package_position(template)
    else:
        position = Position.parse(package.position, blocked_from=package.blocked_from)
    plan = PlannedPackage(cell, product, channel, needed, gaps, position, package)
    system = Actor(id="system:run", kind=ActorKind.SYSTEM)
    start = position
    if position.state is PackageState.BLOCKED:
        reasons = package.blocked_reasons if package else []
        if any(r.get("kind") != "missing_data" for r in reasons) or gaps:
            return None  # blocked for another cause, or the data is still missing
        unblocked = decide(position, Action.UNBLOCK, system, Facts(), template)
        plan.moves.append((unblocked.audit_action, position, unblocked.next_position))
        start = unblocked.next_position
    try:
        drafted = decide(start, Action.DRAFT, DRAFTER, Facts(), template)
    except StateError:
        return None  # drafted already, or waiting on people
    if gaps:
        blocked = decide(start, Action.BLOCK, system, Facts(), template)
        plan.moves.append((blocked.audit_action, start, blocked.next_position))
    else:
        plan.draft_move = (drafted.audit_action, start, drafted.next_position)
    return plan


def plan_run(
    brief: Brief, version: BriefVersion, template: Template, progress: Progress
) -> tuple[list[PlannedPackage], int, dict[tuple[str, str], list[CheckFinding]]]:
    """Steps 1 and 2: what each package needs and lacks, and its product images' findings.

    Returns the plans, how many packages need nothing, and the image findings per channel and
    SKU.
    """
    workspace = brief.workspace
    data = version.data
    products = [p.facts() for p in version.products.all()]
    by_sku = {p.sku: p for p in products}
    channels = {
        cid: resolve_spec(cid, workspace.channel_overrides.get(cid)) for cid in data["channels"]
    }
    existing = {
        Cell(p.sku, p.channel, p.market, p.variant): p
        for p in brief.packages.select_related("current_version")
    }
    cells = expand(list(by_sku), data["channels"], data["markets"], data["variants"])

    # 1. Product context: which facts each package needs and lacks, and what to do with it.
    family = family_attributes(products)
    required_attributes = data.get("required_attributes", [])
    plans: list[PlannedPackage] = []
    # One tuple for the run: the checks index the siblings once per tuple.
    siblings, signals = tuple(products), version.screen().signals
    for i, cell in enumerate(cells, 1):
        product, channel = by_sku[cell.sku], channels[cell.channel]
        needed, gaps = find_gaps(product, channel, family, required_attributes)
        plan = plan_cell(cell, existing.get(cell), product, channel, needed, gaps, template)
        if plan is not None:
            plan.siblings, plan.inputs = siblings, signals
            plans.append(plan)
        progress(STEPS[0], i, len(cells))

    # 2. References: the product images, checked once per channel and SKU.
    base_dir = Path(version.base_dir or ".")
    image_findings: dict[tuple[str, str], list[CheckFinding]] = {}
    for i, plan in enumerate(plans, 1):
        key = (plan.cell.channel, plan.cell.sku)
        if key not in image_findings:
            # Checked at intake too; a version stored before paths were confined is held to
            # the same rule, so a path that leads out of its folder reads as a missing file.
            paths = [
                confined(base_dir, image) or base_dir / "missing" / Path(image).name
                for image in plan.product.images
            ]
            image_findings[key] = check_product_images(plan.channel, paths)
        progress(STEPS[1], i, len(plans))
    return plans, len(cells) - len(plans), image_findings

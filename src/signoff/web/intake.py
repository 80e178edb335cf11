"""Brief intake, run progress and data requests for the screens.

Each function calls the same services as the CLI (``add_brief``, ``parse_kickoff_notes``,
``request_notes_parse``, ``run_brief_task``, ``remember`` and ``record``) and turns their
answers into what a page shows. Nothing here decides whether a brief is valid or may run:
the services do.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from signoff.agents.brief_parser import parse_kickoff_notes
from signoff.agents.providers import provider_from_spec
from signoff.audit.registry import register_action
from signoff.audit.services import record
from signoff.briefs import notes
from signoff.briefs.authority import ensure_may_run, may_run
from signoff.briefs.completeness import fact_label
from signoff.briefs.models import Brief, NotesParse
from signoff.briefs.services import add_brief
from signoff.core.errors import InputError, NotFound, Problem
from signoff.core.sourcemap import parse_yaml
from signoff.memory.services import remember
from signoff.packages.models import Note, Package, Version
from signoff.packages.planning import STEPS
from signoff.packages.runlock import runs_as_they_stand
from signoff.packages.services import ensure_may_queue_run
from signoff.packages.tasks import queued_run, run_brief_task
from signoff.workflow import AuthorityError, WorkflowError
from signoff.workspaces.models import Person
from signoff.workspaces.rules import brand_rules

DATA_REQUESTED = register_action("brief.data_requested", "Missing product data requested")
REQUEST_PREFIX = "data request to "


@dataclass
class Intake:
    """The result of adding a brief: the brief, or the problems that stopped it."""

    brief: Brief | None = None
    problems: list[Problem] = field(default_factory=list)
    report: object = None


def workspace_channels(person: Person) -> list[str]:
    return list(person.workspace.channels or [])


# --- intake ---------------------------------------------------------------------------------


def _upload_dir(person: Person) -> Path:
    folder = Path(settings.SIGNOFF_HOME) / "uploads" / person.workspace.slug / secrets.token_hex(8)
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def add_uploaded_brief(
    person: Person, brief_text: str, csv_text: str | None = None, *, name: str = "brief.yaml"
) -> Intake:
    """Write the brief (and CSV) to a private upload folder and add it as the brief's next version.

    A brief naming another workspace is refused like any bad field: a person adds briefs to
    their own workspace only.
    """
    folder = _upload_dir(person)
    try:
        intake = _add_from_folder(person, folder, brief_text, csv_text, name)
    except BaseException:
        # add_brief's transaction rolled back: its files go with it, whatever stopped it.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if intake.problems:
        shutil.rmtree(folder, ignore_errors=True)  # a refused upload leaves nothing behind
    return intake


class _Refused(Exception):
    def __init__(self, intake: Intake) -> None:
        self.intake = intake


def add_reviewed_brief(
    person: Person,
    brief_text: str,
    csv_text: str | None,
    *,
    packshots: list[tuple[str, bytes]],
    references: list[tuple[str, bytes]],
    reference_kind: str,
    reference_note: str = "",
) -> Intake:
    """Add a reviewed brief and its images as one change: the brief version, its products,
    its packshots (each file's name starts with its SKU) and reference images, with their
    events, or nothing at all. Files are read from the request, never from a server path."""
    from signoff.visuals.references import ReferenceFile, add_references
    from signoff.web.intake_form import packshot_sku

    folder = _upload_dir(person)
    try:
        with transaction.atomic():
            intake = _add_from_folder(person, folder, brief_text, csv_text, "brief.yaml")
            if intake.problems:
                raise _Refused(intake)
            version = intake.report.version
            skus = list(version.products.values_list("sku", flat=True))
            files, problems = [], []
            for name, data in packshots:
                name = Path(name).name
                sku = packshot_sku(name, skus)
                if sku is None:
                    problems.append(
                        Problem(
                            f"the packshot's name starts with none of the brief's SKUs "
                            f"({', '.join(skus)}): name it after its SKU, e.g. {skus[0]}.png"
                            if skus
                            else "the brief has no products for a packshot to show",
                            file=name,
                            field="packshots",
                        )
                    )
                else:
                    files.append(ReferenceFile(data, name, "packshot", sku=sku))
            files += [
                ReferenceFile(data, Path(name).name, reference_kind, note=reference_note)
                for name, data in references
            ]
            if problems:
                raise _Refused(Intake(problems=problems))
            if files:
                add_references(
                    brief=intake.brief, files=files, actor=person.email, brief_version=version
                )
    except _Refused as refused:
        shutil.rmtree(folder, ignore_errors=True)
        return refused.intake
    except InputError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return Intake(problems=[_shown(p, folder) for p in exc.problems])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return intake


def _add_from_folder(
    person: Person, folder: Path, brief_text: str, csv_text: str | None, name: str
) -> Intake:
    brief_path = folder / (Path(name).name or "brief.yaml")
    if brief_path.suffix not in {".yaml", ".yml"}:
        brief_path = brief_path.with_suffix(".yaml")
    brief_path.write_text(brief_text, encoding="utf-8")
    csv_path = None
    if csv_text is not None:
        csv_path = folder / "products.csv"
        csv_path.write_text(csv_text, encoding="utf-8")
    try:
        data = parse_yaml(brief_text, brief_path.name).data
    except InputError:
        data = None  # add_brief reports the problem with its line
    if isinstance(data, dict) and data.get("workspace") != person.workspace.slug:
        problem = Problem(
            f"the brief must name this workspace ({person.workspace.slug!r})",
            file=brief_path.name,
            field="workspace",
        )
        return Intake(problems=[problem])
    taken = _taken(person, data, brief_path.name)
    if taken is not None:
        return Intake(problems=[taken])
    try:
        report = add_brief(brief_path, products_csv=csv_path, actor=person.email)
    except InputError as exc:
        return Intake(problems=[_shown(p, folder) for p in exc.problems])
    except WorkflowError as exc:
        return Intake(problems=[Problem(exc.message, file=brief_path.name)])
    return Intake(brief=report.brief, report=report)


def _taken(person: Person, data: object, file: str) -> Problem | None:
    """Refuse a brief id that another person's brief has: adding it would make a new version
    of their brief (its name, owner and content replaced). Only its owner adds versions of
    a brief here; the id is named so the person can choose another."""
    slug = data.get("brief") if isinstance(data, dict) else None
    if not isinstance(slug, str):
        return None
    existing = Brief.objects.filter(workspace_id=person.workspace_id, slug=slug).first()
    if existing is None or (existing.owner and existing.owner == person.email):
        return None
    owner = f"owned by {existing.owner}" if existing.owner else "with no owner"
    return Problem(
        f"a brief with the id {slug!r} exists already ({existing.name!r}, {owner}): choose "
        f"another id; only its owner adds new versions of it here",
        file=file,
        field="brief",
    )


def _shown(problem: Problem, folder: Path) -> Problem:
    """Name the uploaded files as the person named them, not where the server keeps them."""
    message = problem.message
    for place, name in ((folder, "the upload"), (folder.parent, "the uploads folder")):
        message = message.replace(f"{place}/", "").replace(str(place), name)
    file = problem.file
    if file and Path(file).parent == folder:
        file = Path(file).name
    return dataclasses.replace(problem, file=file, message=message)


@dataclass
class ProposedBrief:
    """What the brief parser made of kickoff notes, for a person to review and complete."""

    yaml: str
    open_questions: list[str]
    findings: list[dict]  # rule_id, severity, message and the flagged words
    mentioned_products: list[dict]
    brief: dict = field(default_factory=dict)  # the proposal itself, for the review form

    @classmethod
    def from_draft(cls, draft: dict) -> ProposedBrief:
        brief = draft.get("brief")
        if not isinstance(brief, dict):  # a draft stored before it carried the dict
            loaded = yaml.safe_load(draft["yaml"])
            brief = loaded if isinstance(loaded, dict) else {}
        return cls(
            yaml=draft["yaml"],
            open_questions=list(draft["open_questions"]),
            findings=list(draft["findings"]),
            mentioned_products=list(draft["mentioned_products"]),
            brief=brief,
        )


def parses_in_background(person: Person) -> bool:
    """Whether the person's workspace reads notes with a model (a task), not the rules."""
    return notes.parses_in_background(person.workspace)


def propose_from_notes(person: Person, text: str, *, today: datetime.date | None = None):
    """Read kickoff notes with the builtin rules, in the request; nothing is stored.

    Always the rules, never a model: where the workspace's brief parser is a model
    (``parses_in_background``), callers use ``queue_notes_parse`` instead.
    """
    workspace = person.workspace
    parsed = parse_kickoff_notes(
        text,
        workspace=workspace.slug,
        rules=brand_rules(workspace),
        today=today or timezone.localdate(),
        provider=provider_from_spec("builtin"),
    )
    return ProposedBrief.from_draft(notes.draft_of(parsed, text))


def queue_notes_parse(person: Person, text: str) -> NotesParse:
    """Queue the brief parser's model on kickoff notes; return the row the screen polls."""
    return notes.request_notes_parse(person=person, notes=text)


def notes_parse_page(person: Person, parse_id: int) -> dict:
    """Return one of the person's notes parses and what the screen shows of it.

    Raises Http404 for a parse that is not theirs. ``polling`` while a worker may still
    finish it; ``proposed`` once it has a draft.
    """
    try:
        parse = notes.notes_parse_for(person, parse_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    stale = notes.is_stale(parse)
    return {
        "parse": parse,
        "polling": not parse.finished and not stale,
        "stale": stale,
        "proposed": (
            ProposedBrief.from_draft(parse.draft)
            if parse.status == NotesParse.Status.DONE
            else None
        ),
    }


def brief_yaml_from_fields(person: Person, data: dict) -> str:
    """Build a brief file from the intake form's main fields (products come from the CSV)."""
    brief = {
        "brief": data["slug"],
        "name": data["name"],
        "workspace": person.workspace.slug,
        "content_type": "ecommerce",
        "owner": person.email,
        "markets": ["en-US"],
        "channels": list(data["channels"]),
        "variants": 1,
        "audience": data["audience"],
        "key_messages": [
            line.strip() for line in data["key_messages"].splitlines() if line.strip()
        ],
    }
    if data.get("deadline"):
        brief["deadline"] = data["deadline"].isoformat()
    return yaml.safe_dump(brief, sort_keys=False, allow_unicode=True)


# --- runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    ok: bool
    message: str
    code: str = ""


def queue_run(brief: Brief, person: Person) -> Queued:
    """Queue a run of the brief once it may draft (G1 passed where the template has G1)."""
    try:
        ensure_may_run(person, brief)
        ensure_may_queue_run(brief)
    except WorkflowError as exc:  # wrong role (403), not past G1 or a run in progress (409)
        return Queued(False, exc.message, exc.code.value)
    run_brief_task.enqueue(brief.pk)
    return Queued(True, "Run queued: drafting and checking what the brief needs.")


def run_progress(brief: Brief) -> dict:
    """Return the brief's latest run and how far it got; ``polling`` while it is not done.

    Read from the database alone (the run rows and the task queue), so every signed-in person
    sees the same progress, whoever clicked Run. ``stale`` when a queued run has waited over
    an hour: no worker is taking work, and the page polls slowly.
    """
    run = next(iter(runs_as_they_stand(brief, limit=1)), None)
    waiting = queued_run(brief)
    queued = waiting is not None and (run is None or run.started_at < waiting.queued_at)
    stale = (
        queued
        and not waiting.taken
        and timezone.now() - waiting.queued_at > datetime.timedelta(hours=1)
    )
    running = run is not None and run.status == "running" and not queued
    planned = drafted = 0
    steps: list[tuple[str, str]] = []
    if run is not None and running:
        version = run.brief_version
        cells = (
            version.products.count()
            * len(version.data.get("channels", []))
            * len(version.data.get("markets", []) or [1])
            * int(version.data.get("variants", 1) or 1)
        )
        planned = max(cells, Package.objects.filter(brief=brief).count())
        drafted = Version.objects.filter(
            package__brief=brief, created_at__gte=run.started_at
        ).count()
        # Steps 1 and 2 finish before the run row exists; 3 and 4 run together per SKU.
        steps = [(STEPS[0], "done"), (STEPS[1], "done"), (STEPS[2], "active"), (STEPS[3], "active")]
    return {
        "brief": brief,
        "run": run,
        "queued": queued,
        "queued_at": waiting.queued_at if queued else None,
        "starting": queued and waiting.taken,
        "stale": stale,
        "running": running,
        "polling": queued or running,
        "steps": steps,
        "drafted": drafted,
        "planned": planned,
        "summary": run.summary if run is not None and not running else {},
    }


# --- data requests --------------------------------------------------------------------------


def operators(person: Person) -> list[Person]:
    people = Person.objects.filter(workspace_id=person.workspace_id, active=True).order_by("name")
    return [p for p in people if "operator" in p.roles]


def missing_facts(brief: Brief) -> dict[str, dict[str, list[int]]]:
    """Return {sku: {fact: [blocked package ids]}} from the packages' completeness."""
    gaps: dict[str, dict[str, list[int]]] = {}
    packages = Package.objects.filter(brief=brief, state=Package.State.BLOCKED).order_by("id")
    for package in packages.only("id", "sku", "completeness"):
        for fact in (package.completeness or {}).get("missing", []):
            gaps.setdefault(package.sku, {}).setdefault(fact, []).append(package.pk)
    return gaps


# SKUs per page of the data requests panel (a brief may have thousands missing facts).
REQUESTS_PER_PAGE = 100


def data_requests_page(brief: Brief, person: Person, page_number: object = 1) -> dict:
    """Missing facts per SKU with the open requests for each, one page of SKUs at a time."""
    gaps = missing_facts(brief)
    paginator = Paginator(sorted(gaps), REQUESTS_PER_PAGE)
    page = paginator.get_page(page_number)
    gaps = {sku: gaps[sku] for sku in page.object_list}
    notes = Note.objects.filter(
        package__brief=brief,
        kind=Note.Kind.COMMENT,
        text__startswith=REQUEST_PREFIX,
        sku__in=list(gaps),
    ).order_by("created_at", "id")
    requests: dict[str, list[Note]] = {}
    for note in notes:
        requests.setdefault(note.sku, []).append(note)
    rows = [
        {
            "sku": sku,
            "facts": [(fact, fact_label(fact)) for fact in sorted(facts)],
            "requests": requests.get(sku, []),
        }
        for sku, facts in sorted(gaps.items())
    ]
    return {
        "brief": brief,
        "rows": rows,
        "operators": operators(person),
        "may_request": may_run(person, brief),
        "requests_page": page,
    }


def assign_data_request(
    brief: Brief, person: Person, *, sku: str, fact: str, operator: str
) -> Note:
    """Assign one missing fact of one SKU to an operator: a note and an audit event.

    Raises AuthorityError unless the person may run the brief, and InputError (at ``operator``,
    ``sku`` or ``fact``) for a person who is not an operator or a fact the SKU is not missing.
    """
    ensure_may_run(person, brief, "request data for")
    if operator not in {p.email for p in operators(person)}:
        raise InputError.single(
            f"{operator} is not an operator of this workspace", field="operator"
        )
    gaps = missing_facts(brief)
    if sku not in gaps:
        raise InputError.single(f"{sku} is not missing any data", field="sku")
    blocked = gaps[sku].get(fact)
    if not blocked:
        raise InputError.single(f"{sku} is not missing {fact}", field="fact")
    package = Package.objects.get(pk=blocked[0])
    with transaction.atomic():
        note = remember(
            kind=Note.Kind.COMMENT,
            package=package,
            text=f"{REQUEST_PREFIX}{operator}: {sku} {fact}",
            person=person.email,
        )
        record(
            action=DATA_REQUESTED,
            actor=person.email,
            subject_type="package",
            subject_id=package.pk,
            workspace=brief.workspace.slug,
            data={
                "brief": brief.slug,
                "sku": sku,
                "fact": fact,
                "operator": operator,
                "note": note.pk,
                "channel": package.channel,
            },
        )
    return note


def request_data(brief: Brief, person: Person, *, sku: str, fact: str, operator: str) -> Queued:
    """Assign a missing fact to an operator (``assign_data_request``), as the screen says it."""
    try:
        assign_data_request(brief, person, sku=sku, fact=fact, operator=operator)
    except AuthorityError as exc:
        return Queued(False, exc.message, exc.code.value)
    except InputError as exc:
        return Queued(False, "; ".join(p.message for p in exc.problems), InputError.code)
    return Queued(True, f"Asked {operator} for {fact} of {sku}.")

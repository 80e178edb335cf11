"""Briefs: intake (a document, or kickoff notes to draft one), the enricher's proposals, G1,
changes after G1, runs, data requests, the board, what is blocking, SLA, launch, and the
launches' manifests and bundles."""

import dataclasses
import datetime
import json
from typing import Literal

import yaml
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from signoff.api import queries
from signoff.api.errors import error_responses
from signoff.api.schemas import (
    AcceptProposalsIn,
    BlockingOut,
    BoardPageOut,
    BriefAddedOut,
    BriefApprovalOut,
    BriefDetailOut,
    BriefDiffOut,
    BriefDraftOut,
    BriefOut,
    BriefUpdateOut,
    DataRequestIn,
    DataRequestsOut,
    EnrichedOut,
    LaunchIn,
    LaunchOut,
    LaunchRecordOut,
    ManifestOut,
    NoteIn,
    NoteOut,
    NotesIn,
    PackageStateName,
    ProposalOut,
    RunQueuedOut,
    RunRecordOut,
    Severity,
    SlaRowOut,
)
from signoff.api.scope import brief_for
from signoff.api.uploads import BriefIn, staged_brief
from signoff.briefs.approval import approve_brief, brief_diff, update_brief
from signoff.briefs.authority import ensure_may_add_briefs, ensure_may_run
from signoff.briefs.enrichment import accept_proposals, proposals_for
from signoff.briefs.models import NotesParse
from signoff.briefs.notes import notes_parse_for
from signoff.briefs.services import add_brief
from signoff.briefs.version_changes import brief_changes_report
from signoff.core.errors import NotFound
from signoff.delivery.bundles import bundle_zip, manifest_bytes
from signoff.delivery.models import Launch
from signoff.delivery.services import launch_channel
from signoff.packages.models import Note, Run
from signoff.packages.runlock import runs_as_they_stand
from signoff.packages.selectors import blocking, sla_report
from signoff.packages.services import ensure_may_queue_run
from signoff.packages.tasks import run_brief_task
from signoff.web import intake

router = Router(tags=["briefs"])
NotesParseStatus = Literal["queued", "running", "done", "refused", "failed"]


class BoardFilters(Schema):
    channel: str | None = None
    sku: str | None = None
    state: PackageStateName | None = None
    severity: Severity | None = None  # only packages with at least one finding of it
    gate: str | None = Field(None, max_length=50)  # only packages waiting on this gate, e.g. G3
    owner: str | None = Field(None, max_length=254)  # only packages this person owns (email)
    mine: bool = False  # only packages waiting on a gate one of your roles owns
    claim: str | None = Field(None, max_length=100)  # only packages whose copy makes this claim
    # id (default), or confidence: lowest first, packages with no draft (no score) last
    sort: Literal["id", "confidence"] = "id"
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10**9)


@router.get("", response={200: list[BriefOut], **error_responses()})
def list_briefs(request: HttpRequest) -> list[dict]:
    """The briefs of your workspace, newest first."""
    return queries.briefs_of(request.auth)


@router.post(
    "", response={200: BriefAddedOut, 201: BriefAddedOut, **error_responses(400, 403, 409)}
)
def add(request: HttpRequest, payload: BriefIn) -> Status[dict]:
    """Add a brief, or its next version before G1 (201; 200 when nothing changed).

    The body is a brief document as in a brief file; ``products_csv`` is an optional PIM export
    as text (the CSV wins on conflicts). Problems come back as 422 with field paths. Operators
    and gate owners may add briefs; anyone else is refused (403 ``wrong_role``).
    """
    ensure_may_add_briefs(request.auth)
    with staged_brief(payload, request.auth) as files:
        report = add_brief(files.brief, products_csv=files.products_csv, actor=request.auth.email)
    return Status(
        201 if report.created_version else 200,
        {
            "brief": queries.brief_summary(report.brief),
            "version": report.version.number,
            "created_version": report.created_version,
            "sources": [{"sku": s, "field": f, "source": o} for s, f, o in report.sources],
            "conflicts": [
                {"sku": s, "field": f, "brief": b, "csv": c} for s, f, b, c in report.conflicts
            ],
            "warnings": report.warnings,
            "input_findings": queries.input_findings(report.findings),
        },
    )


class NotesParseQueuedOut(Schema):
    """Kickoff notes queued for the brief parser's model: GET ``location`` for the result."""

    id: int
    status: NotesParseStatus
    location: str  # the notes parse, also in the Location header


class NotesParseOut(Schema):
    """Kickoff notes the brief parser's model reads in a worker, and what it made of them."""

    id: int
    status: NotesParseStatus  # queued | running | done | refused | failed
    requested_by: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    draft: BriefDraftOut | None  # once done: as POST /briefs/parse-notes answers with the rules
    reason: str  # why it was refused or failed ("" otherwise)
    provider: str  # who read the notes ("" until a worker has)
    model: str


def _draft_out(draft: dict) -> dict:
    return {key: draft[key] for key in BriefDraftOut.model_fields}


@router.post(
    "/parse-notes",
    response={200: BriefDraftOut, 202: NotesParseQueuedOut, **error_responses(400, 403)},
)
def parse_notes(request: HttpRequest, response: HttpResponse, payload: NotesIn) -> Status[dict]:
    """Draft a brief from kickoff notes, with the questions they leave open. Nothing is
    stored as a brief: complete the document and POST it to ``/briefs``. Operators and gate
    owners may (403 ``wrong_role`` otherwise), as they may add briefs.

    With the builtin parser (rules, the default) the draft comes back at once (200). Where
    the brief parser is a model, a worker reads the notes, never this request: 202 with the
    notes parse's ``location`` (also the Location header); GET it until its status is
    ``done`` (its ``draft``), ``refused`` or ``failed`` (its ``reason``)."""
    person = request.auth
    ensure_may_add_briefs(person)
    if not intake.parses_in_background(person):
        proposed = intake.propose_from_notes(person, payload.notes)
        return Status(200, {"brief": yaml.safe_load(proposed.yaml), **dataclasses.asdict(proposed)})
    parse = intake.queue_notes_parse(person, payload.notes)
    location = f"{request.path.rstrip('/')}/{parse.pk}"
    response["Location"] = location
    return Status(202, {"id": parse.pk, "status": parse.status, "location": location})


@router.get("/parse-notes/{parse_id}", response={200: NotesParseOut, **error_responses()})
def notes_parse(request: HttpRequest, parse_id: int) -> dict:
    """A notes parse you asked for, with its draft once done or the reason it was refused.

    Only the person who sent the notes sees it (404 for anyone else)."""
    parse = notes_parse_for(request.auth, parse_id)
    done = parse.status == NotesParse.Status.DONE
    return {
        "id": parse.pk,
        "status": parse.status,
        "requested_by": parse.requested_by,
        "created_at": parse.created_at,
        "finished_at": parse.finished_at,
        "draft": _draft_out(parse.draft) if done else None,
        "reason": parse.reason,
        "provider": parse.origin.get("provider") or "",
        "model": parse.origin.get("model") or "",
    }


@router.get("/{slug}", response={200: BriefDetailOut, **error_responses()})
def detail(request: HttpRequest, slug: str) -> dict:
    """The brief, its latest version's document and products."""
    return queries.brief_detail(brief_for(request.auth, slug))


@router.get("/{slug}/diff", response={200: BriefDiffOut, **error_responses()})
def diff(request: HttpRequest, slug: str) -> dict:
    """What G1 approves: the user's brief against the enriched brief Signoff drafts from."""
    version = brief_for(request.auth, slug).latest_version()
    return {"brief": slug, "version": version.number, "lines": brief_diff(version)}


@router.get("/{slug}/proposals", response={200: list[ProposalOut], **error_responses()})
def proposals(request: HttpRequest, slug: str) -> list[dict]:
    """The enricher's proposals for the latest version: key messages per channel, facts to
    request, past winners to reuse. Nothing changes until a person accepts some."""
    return [dataclasses.asdict(p) for p in proposals_for(brief_for(request.auth, slug))]


@router.post(
    "/{slug}/proposals/accept",
    response={201: EnrichedOut, **error_responses(400, 403, 409)},
)
def accept(request: HttpRequest, slug: str, payload: AcceptProposalsIn) -> Status[dict]:
    """Accept proposals as they are (``proposals``) or in your words (``edits``: id -> text)
    into a new brief version for G1. Before G1 only (409 after); operators and gate owners of
    the brief (403 otherwise); unknown ids are a 422 at ``proposals``."""
    version = accept_proposals(
        brief=brief_for(request.auth, slug),
        person=request.auth,
        ids=list(payload.proposals),
        edits=payload.edits,
    )
    return Status(
        201,
        {
            "brief": slug,
            "version": version.number,
            "content_hash": version.content_hash,
            "added_by": version.added_by,
        },
    )


@router.post("/{slug}/approve", response={200: BriefApprovalOut, **error_responses(400, 403, 409)})
def approve(request: HttpRequest, slug: str, payload: NoteIn) -> dict:
    """G1: approve the brief's latest version (content_lead; not whoever added it)."""
    approval = approve_brief(
        brief=brief_for(request.auth, slug), person=request.auth, note=payload.note
    )
    return {
        "brief": slug,
        "version": approval.brief_version.number,
        "gate": approval.gate,
        "person": approval.person,
        "content_hash": approval.content_hash,
        "note": approval.note,
        "approved_at": approval.created_at,
    }


@router.post("/{slug}/update", response={200: BriefUpdateOut, **error_responses(400, 403, 409)})
def update(request: HttpRequest, slug: str, payload: BriefIn) -> dict:
    """Store a new version; after G1 the packages it touches go back to draft and G1 reopens.

    Operators and gate owners of the brief's template may (403 ``wrong_role`` otherwise)."""
    brief = brief_for(request.auth, slug)
    ensure_may_run(request.auth, brief, "change")
    with staged_brief(payload, request.auth) as files:
        report = update_brief(
            brief=brief, path=files.brief, products_csv=files.products_csv, person=request.auth
        )
    return {
        "version": report.brief.version.number,
        "created_version": report.brief.created_version,
        "touched": [
            {"package": i.package_id, "sku": i.sku, "channel": i.channel, "reasons": i.reasons}
            for i in report.impacts
        ],
        "untouched": report.untouched,
        "spared": [
            {"package": i.package_id, "sku": i.sku, "channel": i.channel, "reasons": i.reasons}
            for i in report.spared
        ],
    }


@router.post("/{slug}/runs", response={202: RunQueuedOut, **error_responses(403, 409)})
def run(request: HttpRequest, slug: str) -> Status[dict]:
    """Queue a run: expand, check completeness, draft and check every package that needs it.

    Drafting happens in the background worker (`signoff serve` runs one), never in this
    request. Only an operator or a gate owner of the brief may run it (403 ``wrong_role``);
    refused (409) before G1, saying who can approve it, and while another run of the brief is
    in progress (``run_in_progress``).
    """
    brief = brief_for(request.auth, slug)
    ensure_may_run(request.auth, brief)
    ensure_may_queue_run(brief)
    queued = run_brief_task.enqueue(brief.pk)
    return Status(202, {"task_id": str(queued.id), "status": str(queued.status)})


@router.get("/{slug}/runs", response={200: list[RunRecordOut], **error_responses()})
def runs(request: HttpRequest, slug: str) -> list[Run]:
    """The brief's runs, newest first, with what each did; ``interrupted`` for a run whose
    worker died before it finished (the next run drafts what it left)."""
    return runs_as_they_stand(brief_for(request.auth, slug))


def _request_row(note: Note) -> dict:
    return {
        "id": note.pk,
        "kind": note.kind,
        "person": note.person,
        "text": note.text,
        "version": None,
        "gate": note.gate,
        "created_at": note.created_at,
    }


@router.get("/{slug}/data-requests", response={200: DataRequestsOut, **error_responses()})
def data_requests(request: HttpRequest, slug: str) -> dict:
    """The product facts blocked packages miss, per SKU, with the requests already made."""
    page = intake.data_requests_page(brief_for(request.auth, slug), request.auth)
    return {
        "brief": slug,
        "rows": [
            {
                "sku": row["sku"],
                "facts": [{"fact": fact, "label": label} for fact, label in row["facts"]],
                "requests": [_request_row(n) for n in row["requests"]],
            }
            for row in page["rows"]
        ],
        "operators": [p.email for p in page["operators"]],
        "may_request": page["may_request"],
    }


@router.post("/{slug}/data-requests", response={201: NoteOut, **error_responses(400, 403)})
def request_data(request: HttpRequest, slug: str, payload: DataRequestIn) -> Status[dict]:
    """Assign one missing fact of one SKU to an operator: a note on a blocked package and an
    audit event. Operators and gate owners of the brief may (403 otherwise); a person who is
    not an operator, or a fact the SKU is not missing, is a 422 at its field."""
    brief = brief_for(request.auth, slug)
    note = intake.assign_data_request(brief, request.auth, **payload.dict())
    return Status(201, _request_row(note))


@router.get("/{slug}/board", response={200: BoardPageOut, **error_responses()})
def board(request: HttpRequest, slug: str, filters: Query[BoardFilters]) -> dict:
    """One row per package, filtered and paginated; the same number of queries at any size."""
    return queries.board_page(brief_for(request.auth, slug), request.auth, **filters.dict())


@router.get("/{slug}/blocking", response={200: BlockingOut, **error_responses()})
def what_is_blocking(request: HttpRequest, slug: str) -> dict:
    """What is blocking this launch, grouped by cause."""
    return blocking(brief_for(request.auth, slug))


@router.get("/{slug}/sla", response={200: list[SlaRowOut], **error_responses()})
def sla(request: HttpRequest, slug: str) -> list[dict]:
    """Packages waiting on a gate longer than its SLA, oldest first."""
    return sla_report(brief_for(request.auth, slug))


@router.post("/{slug}/launch", response={200: LaunchOut, **error_responses(400, 403, 409)})
def launch(request: HttpRequest, slug: str, payload: LaunchIn) -> dict:
    """Publish one channel whose packages all passed the last gate. The point of no return."""
    result = launch_channel(
        brief=brief_for(request.auth, slug), channel=payload.channel, person=request.auth
    )
    return {
        "channel": result.channel,
        "packages": result.packages,
        "manifest_hash": result.manifest_hash,
        "bundle": result.bundle_name,
        "launched_at": result.launched_at,
        "launched_by": result.launched_by,
    }


@router.get("/{slug}/launches", response={200: list[LaunchRecordOut], **error_responses()})
def launches(request: HttpRequest, slug: str) -> list[dict]:
    """The brief's launched channels, oldest first: who launched each, when, which packages,
    and the hash of the manifest written then."""
    brief = brief_for(request.auth, slug)
    return [
        {
            "channel": launch.channel,
            "person": launch.person,
            "launched_at": launch.created_at,
            "manifest_hash": launch.manifest_hash,
            "packages": launch.packages,
        }
        for launch in Launch.objects.filter(brief=brief).order_by("created_at", "id")
    ]


@router.get("/{slug}/launches/{channel}/manifest", response={200: ManifestOut, **error_responses()})
def manifest(request: HttpRequest, slug: str, channel: str) -> dict:
    """The manifest.json of a launched channel's bundle: content and provenance of every
    package. 404 if the channel was not launched or its bundle is gone."""
    brief = brief_for(request.auth, slug)
    launch = Launch.objects.filter(brief=brief, channel=channel).first()
    if launch is None:
        raise NotFound(f"{channel!r} of {slug!r} was not launched")
    # The web's download, confined to the workspace's export folder (never the stored path).
    return json.loads(manifest_bytes(launch))


BUNDLE = {
    "description": "The bundle as a zip: manifest.json and one JSON file per package",
    "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
}


@router.get(
    "/{slug}/launches/{channel}/bundle",
    response=error_responses(),
    openapi_extra={"responses": {200: BUNDLE}},
)
def bundle(request: HttpRequest, slug: str, channel: str) -> HttpResponse:
    """Download a launched channel's export bundle as a zip (the manifest and each package's
    content). The ``Signoff-Manifest-Hash`` header is the launch's receipt, the SHA-256 of
    its manifest. 404 if the channel was not launched or its bundle is gone."""
    brief = brief_for(request.auth, slug)
    launch = Launch.objects.filter(brief=brief, channel=channel).first()
    if launch is None:
        raise NotFound(f"{channel!r} of {slug!r} was not launched")
    # The web's zip: only the bundle in its place under the export root, links skipped.
    response = HttpResponse(bundle_zip(launch), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{channel}.zip"'
    response["Signoff-Manifest-Hash"] = launch.manifest_hash
    return response


class FieldChangeOut(Schema):
    field: str
    label: str
    before: str
    after: str
    added: list[str] | None = None  # for a list field: its items added and removed
    removed: list[str] | None = None


class FactChangeOut(Schema):
    fact: str
    before: str
    after: str


class ProductChangeOut(Schema):
    sku: str
    changes: list[FactChangeOut]


class VersionChangesOut(Schema):
    previous: int
    fields: list[FieldChangeOut]
    added: list[str]  # SKUs
    removed: list[str]
    products: list[ProductChangeOut]  # the first 500 products' changed facts


class RecordedConflictOut(Schema):
    sku: str
    fact: str
    brief: str
    csv: str  # the CSV wins


class RecordedConflictsOut(Schema):
    rows: list[RecordedConflictOut]  # the first 500
    total: int
    recorded: bool  # false for a version added before conflicts were kept


class BriefChangesOut(Schema):
    brief: str
    version: int | None
    changes: VersionChangesOut | None  # null for a first version
    conflicts: RecordedConflictsOut


@router.get("/{slug}/changes", response={200: BriefChangesOut, **error_responses()})
def changes(request: HttpRequest, slug: str) -> dict:
    """What G1 shows: the latest version's changes from the previous one, field by field
    (and the products added, removed and changed), and each conflict between the products
    CSV and the brief recorded when it was added."""
    return brief_changes_report(brief_for(request.auth, slug))

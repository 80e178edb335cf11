"""Briefs: intake, G1, changes after G1, runs, the board, what is blocking, SLA, launch, and
the launches' manifests."""

import json
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from signoff.api import queries
from signoff.api.errors import error_responses
from signoff.api.schemas import (
    BlockingOut,
    BoardPageOut,
    BriefAddedOut,
    BriefApprovalOut,
    BriefDetailOut,
    BriefDiffOut,
    BriefOut,
    BriefUpdateOut,
    LaunchIn,
    LaunchOut,
    LaunchRecordOut,
    ManifestOut,
    NoteIn,
    PackageStateName,
    RunQueuedOut,
    RunRecordOut,
    Severity,
    SlaRowOut,
)
from signoff.api.scope import brief_for
from signoff.api.uploads import BriefIn, staged_brief
from signoff.briefs.approval import approve_brief, brief_diff, update_brief
from signoff.briefs.authority import ensure_may_add_briefs, ensure_may_run
from signoff.briefs.services import add_brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import NotFound
from signoff.delivery.models import Launch
from signoff.delivery.services import launch_channel
from signoff.packages.models import Run
from signoff.packages.selectors import blocking, sla_report
from signoff.packages.services import drafting_version
from signoff.packages.tasks import run_brief_task

router = Router(tags=["briefs"])


class BoardFilters(Schema):
    channel: str | None = None
    sku: str | None = None
    state: PackageStateName | None = None
    severity: Severity | None = None  # only packages with at least one finding of it
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
        },
    )


@router.get("/{slug}", response={200: BriefDetailOut, **error_responses()})
def detail(request: HttpRequest, slug: str) -> dict:
    """The brief, its latest version's document and products."""
    return queries.brief_detail(brief_for(request.auth, slug))


@router.get("/{slug}/diff", response={200: BriefDiffOut, **error_responses()})
def diff(request: HttpRequest, slug: str) -> dict:
    """What G1 approves: the user's brief against the enriched brief Signoff drafts from."""
    version = brief_for(request.auth, slug).latest_version()
    return {"brief": slug, "version": version.number, "lines": brief_diff(version)}


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
    }


@router.post("/{slug}/runs", response={202: RunQueuedOut, **error_responses(403, 409)})
def run(request: HttpRequest, slug: str) -> Status[dict]:
    """Queue a run: expand, check completeness, draft and check every package that needs it.

    Drafting happens in a worker (`signoff worker`), never in this request. Only an operator or
    a gate owner of the brief may run it (403 ``wrong_role``); refused (409) before G1, saying
    who can approve it.
    """
    brief = brief_for(request.auth, slug)
    ensure_may_run(request.auth, brief)
    drafting_version(brief, template_for(brief))
    queued = run_brief_task.enqueue(brief.pk)
    return Status(202, {"task_id": str(queued.id), "status": str(queued.status)})


@router.get("/{slug}/runs", response={200: list[RunRecordOut], **error_responses()})
def runs(request: HttpRequest, slug: str) -> list[Run]:
    """The brief's runs, newest first, with what each did."""
    return list(brief_for(request.auth, slug).runs.order_by("-started_at", "-id")[:50])


@router.get("/{slug}/board", response={200: BoardPageOut, **error_responses()})
def board(request: HttpRequest, slug: str, filters: Query[BoardFilters]) -> dict:
    """One row per package, filtered and paginated; the same number of queries at any size."""
    return queries.board_page(brief_for(request.auth, slug), **filters.dict())


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
        brief=brief_for(request.auth, slug),
        channel=payload.channel,
        person=request.auth,
        out_dir=Path(settings.SIGNOFF_HOME) / "exports",
    )
    return {
        "channel": result.channel,
        "packages": result.packages,
        "manifest_hash": result.manifest_hash,
        "bundle": str(result.bundle),
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
    path = Path(launch.bundle_path) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFound(f"the manifest of {slug}/{channel} is missing from its bundle") from exc

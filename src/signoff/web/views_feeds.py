"""Downloads from the approval matrix: a launched channel in a retailer's format, and its
export bundle (zip) and manifest."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from signoff.core.errors import InputError, NotFound
from signoff.delivery.bundles import bundle_zip, manifest_bytes
from signoff.delivery.models import Launch
from signoff.feeds.items import feed_response, launched_channel_feed
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.workspaces.models import Person


@require_GET
@with_person
def channel_feed(request: HttpRequest, person: Person, slug: str, channel: str) -> HttpResponse:
    """The feed file; the ``Signoff-Feed-Problems`` header counts the packages left out
    (``signoff export`` lists them with their fields)."""
    brief = brief_for(person, slug)
    try:
        feed = launched_channel_feed(brief, channel, request.GET.get("format", ""))
    except InputError as exc:
        return HttpResponseBadRequest(
            "\n".join(p.message for p in exc.problems), content_type="text/plain; charset=utf-8"
        )
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    return feed_response(brief, channel, feed)


def _launch(person: Person, slug: str, channel: str) -> Launch:
    """The brief's launch of ``channel``, for a member of the brief's workspace only."""
    brief = brief_for(person, slug)  # another workspace's brief is a 404
    launch = (
        Launch.objects.select_related("brief__workspace")
        .filter(brief=brief, channel=channel)
        .first()
    )
    if launch is None:
        raise Http404(f"{channel} of {slug} was not launched")
    return launch


@require_GET
@with_person
def launch_bundle(request: HttpRequest, person: Person, slug: str, channel: str) -> HttpResponse:
    """The launched channel's export bundle as a zip, as `signoff launch` wrote it."""
    launch = _launch(person, slug, channel)
    try:
        body = bundle_zip(launch)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{channel}.zip"'
    response["Signoff-Manifest-Hash"] = launch.manifest_hash
    return response


@require_GET
@with_person
def launch_manifest(request: HttpRequest, person: Person, slug: str, channel: str) -> HttpResponse:
    """The bundle's manifest.json (content and provenance of every package), as written."""
    launch = _launch(person, slug, channel)
    try:
        body = manifest_bytes(launch)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{channel}-manifest.json"'
    response["Signoff-Manifest-Hash"] = launch.manifest_hash
    return response

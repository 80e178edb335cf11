"""Feed downloads from the approval matrix: a launched channel in a retailer's format."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from signoff.core.errors import InputError, NotFound
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

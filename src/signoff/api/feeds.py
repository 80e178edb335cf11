"""Feeds: a launched channel's published packages as a retailer's feed file."""

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from signoff.api.errors import error_responses
from signoff.api.scope import brief_for
from signoff.feeds import FORMATS
from signoff.feeds.items import feed_response, launched_channel_feed

router = Router(tags=["feeds"])


class FeedQuery(Schema):
    # Checked by the service, so an unknown one is a 422 that names the known formats.
    format: str = Field(max_length=50, json_schema_extra={"enum": list(FORMATS)})
    # Where the renditions are published (default: SIGNOFF_FEED_IMAGE_BASE_URL).
    image_base_url: str | None = Field(None, max_length=2000)


FEED = {
    "description": "The feed file in the format asked for (docs/formats.md, Feeds). The "
    "Signoff-Feed-Problems header counts the packages left out of it.",
    "headers": {
        "Signoff-Feed-Problems": {
            "description": "How many packages the format could not express and left out",
            "schema": {"type": "integer"},
        }
    },
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in sorted({f.media_type for f in FORMATS.values()})
    },
}


@router.get(
    "/briefs/{slug}/feeds/{channel}",
    response=error_responses(),
    openapi_extra={"responses": {200: FEED}},
)
def channel_feed(
    request: HttpRequest, slug: str, channel: str, query: Query[FeedQuery]
) -> HttpResponse:
    """Download a launched channel's published packages as a feed: ``google_merchant_tsv``,
    ``google_merchant_xml``, ``meta_catalog_csv``, ``amazon_listings_json``,
    ``shopify_jsonl``, ``csv`` or ``json``. A package the format cannot express (a field over
    its limit, a required product fact missing) is left out, never cut; the
    ``Signoff-Feed-Problems`` header counts them and ``signoff export`` lists them. An unknown
    format is a 422 at ``format``; a channel that is not the brief's or has not launched is
    a 404."""
    brief = brief_for(request.auth, slug)
    feed = launched_channel_feed(brief, channel, query.format, base_url=query.image_base_url)
    return feed_response(brief, channel, feed)

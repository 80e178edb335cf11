"""Feeds: `export`, a launched channel's packages as a retailer's feed file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from signoff.cli.base import _known_value, command, main


@main.command("export")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--channel", required=True, help="A launched channel of the brief.")
@click.option(
    "--format",
    "format_id",
    required=True,
    metavar="FORMAT",
    help="google_merchant_tsv, google_merchant_xml, meta_catalog_csv, amazon_listings_json, "
    "shopify_jsonl, csv or json (docs/formats.md, Feeds).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the feed to this file (default: stdout).",
)
@click.option(
    "--image-base-url",
    default=None,
    help="Where the renditions are published; image URLs are this plus each file name "
    "(default: $SIGNOFF_FEED_IMAGE_BASE_URL).",
)
@command(writes=False)
def export(
    brief_ref: str, channel: str, format_id: str, output: str | None, image_base_url: str | None
) -> None:
    """Write a launched channel's published packages as a feed.

    A package the format cannot express (a field over its limit, a product fact it requires
    and the product data lacks) is left out and reported on stderr as
    `package N (SKU): field: message`; the command then exits 1. Bad input exits 2.
    """
    from signoff.briefs.services import get_brief
    from signoff.core.errors import NotFound
    from signoff.feeds import FORMATS
    from signoff.feeds.items import image_base_url as base_url_option
    from signoff.feeds.items import launched_channel_feed
    from signoff.packages.models import Package

    _known_value("--format", format_id, FORMATS, "feed format")
    image_base_url = base_url_option(image_base_url, where="--image-base-url")
    try:
        target = get_brief(brief_ref)
        feed = launched_channel_feed(target, channel, format_id, base_url=image_base_url)
    except NotFound as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if output:
        _write(Path(output), feed.content)
    else:
        click.echo(feed.content, nl=False)  # bytes: written as they are
    skus = dict(
        Package.objects.filter(pk__in={p.package_id for p in feed.problems}).values_list(
            "pk", "sku"
        )
    )
    for problem in feed.problems:
        sku = skus.get(problem.package_id, "?")
        click.echo(
            f"package {problem.package_id} ({sku}): {problem.field}: {problem.message}", err=True
        )
    left_out = len({p.package_id for p in feed.problems})
    where = f" to {output}" if output else ""
    click.echo(
        f"{channel}: {feed.items} package{'s' if feed.items != 1 else ''} exported as "
        f"{format_id}{where}; {left_out} left out",
        err=True,
    )
    if left_out:
        sys.exit(1)


def _write(path: Path, content: bytes) -> None:
    """Replace ``path`` in one step: a reader never sees half a feed."""
    from signoff.core.errors import InputError

    folder = path.parent if str(path.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise InputError.single(
            f"cannot write {path}: {exc.strerror}", file="<command line>", field="--output"
        ) from exc
    try:
        os.fchmod(handle, 0o644)  # as an ordinary new file: a feed is read by others
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

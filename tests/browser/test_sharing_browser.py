"""A stakeholder review link in a real browser: a content lead sends a channel, a guest with
no account reads and comments, and nothing else opens (Debian's chromium, no download)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fakes.browsing import Watched, shot, sign_in

SLUG = "spring-candles-2027"
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


@pytest.fixture
def guest(browser) -> Iterator[Watched]:
    """A second browser with no session: the person the link was sent to."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    watched = Watched(context.new_page())
    watched.page.set_default_timeout(10_000)
    yield watched
    context.close()
    assert watched.dialogs == [], "a dialog opened: something executed"
    assert watched.csp_errors == [], "the Content-Security-Policy refused something"


def test_a_guest_reads_a_channel_through_a_review_link(site, watched, guest) -> None:
    from signoff.audit.models import Event
    from signoff.packages.models import Package

    page = watched.page
    sign_in(page, site, "maya")
    page.goto(f"{site}/review-links/")
    page.fill("input[name=brief]", SLUG)
    page.fill("input[name=channel]", "meta_feed_ad")
    page.fill("input[name=note]", "Do the spring ads read calm to you?")
    page.click("form[action='/review-links/'] button[type=submit]")
    link = page.locator("#new-link").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(site)}/review/[\w-]+/", link), link
    expect(page.locator("table tbody tr")).to_have_count(1)
    shot(page, "15-review-links")

    gpage = guest.page
    gpage.goto(link)
    expect(gpage.locator("h1")).to_have_text("6 packages to review")
    assert "Do the spring ads read calm to you?" in gpage.inner_text("main")
    assert gpage.locator("header .who").count() == 0  # nobody is signed in
    shot(gpage, "15-review-guest")
    first = Package.objects.filter(channel="meta_feed_ad").order_by("id").first()
    gpage.click(f"a[href$='/packages/{first.pk}/']")
    expect(gpage.locator(".preview")).to_be_visible()
    assert gpage.locator("#gate-panel").count() == 0  # viewing and commenting only
    shot(gpage, "15-review-guest-package")
    # The link opens nothing else: the team's package page wants a sign-in.
    gpage.goto(f"{site}/packages/{first.pk}/")
    assert "/sign-in/" in gpage.url

    actions = list(
        Event.objects.filter(action__startswith="link.").values_list("action", flat=True)
    )
    # every use is audited: one event per link and hour, the later views counted beside it
    assert actions == ["link.created", "link.viewed"]


def test_a_guest_comments_through_a_review_link(site, guest, person) -> None:
    from signoff.packages.models import Note, Package
    from signoff.sharing.services import create_review_link

    package = Package.objects.filter(channel="meta_feed_ad").order_by("id").first()
    _, token = create_review_link(person("maya"), [package.pk])
    gpage = guest.page
    gpage.goto(f"{site}/review/{token}/packages/{package.pk}/")
    gpage.fill("input[name=name]", "Jo from the agency")
    gpage.fill("textarea[name=text]", "The headline is lovely; the body runs long")
    gpage.click("main button[type=submit]")
    gpage.locator(".messages .success").wait_for(timeout=3_000)
    expect(gpage.locator(".timeline")).to_contain_text("Jo from the agency")
    note = Note.objects.get(package=package, kind="comment")
    assert note.text == "The headline is lovely; the body runs long"

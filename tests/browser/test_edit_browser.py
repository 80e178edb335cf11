"""Editing copy in a real browser: counts and checks as you type (htmx, focus kept), saving a
new version with a note, and an inline comment anchored by selecting words, with a mention
that reaches the mentioned person's dashboard and is resolved there."""

from __future__ import annotations

import pytest
from fakes.browsing import shot, sign_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def test_live_editing_save_and_an_anchored_comment(site, watched) -> None:
    from signoff.comments.models import Comment
    from signoff.packages.models import Package

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    before = package.current_version
    title = before.fields["title"]
    page = watched.page
    sign_in(page, site, "lena")
    page.goto(f"{site}/packages/{package.pk}/")
    page.click("#edit-copy")
    page.wait_for_url(f"{site}/packages/{package.pk}/edit/")

    box = page.locator("#in-title")
    box.click()
    box.press("End")
    box.press_sequentially(" with a very long tail" * 10, delay=0)
    # The server's count (out of band) and its findings arrive; the caret stays in the field.
    expect(page.locator("#count-title.count-over")).to_be_visible()
    expect(page.locator("#edit-checks")).to_contain_text("spec.max_chars")
    assert page.evaluate("document.activeElement.id") == "in-title"
    shot(page, "20-edit-live-checks")
    package.refresh_from_db()
    assert package.current_version_id == before.pk  # checking saves nothing

    box.fill(title + " Gift")
    expect(page.locator("#edit-checks")).not_to_contain_text("spec.max_chars")
    page.fill("#edit-note", "gift angle for spring")
    page.click("button:has-text('Save as a new version')")
    page.wait_for_url(f"{site}/packages/{package.pk}/")
    expect(page.locator(".messages .success")).to_contain_text(f"version {before.number + 1}")
    package.refresh_from_db()
    assert package.current_version.fields["title"] == title + " Gift"
    assert package.current_version.origin["note"] == "gift angle for spring"

    # Select a word in the title: the comment form anchors to it.
    page.goto(f"{site}/packages/{package.pk}/edit/")
    word = title.split()[0]
    page.locator("#in-title").evaluate(
        "(el, n) => { el.focus(); el.setSelectionRange(0, n); }", len(word)
    )
    page.locator("#in-title").dispatch_event("mouseup")
    expect(page.locator("#comment-quote")).to_have_value(word)
    assert page.locator("#comment-field").input_value() == "title"
    page.fill("#comment-text", "@omar is this wording cleared?")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#comments .comment q")).to_have_text(word)
    shot(page, "20-edit-comment")
    comment = Comment.objects.get()
    assert (comment.field, comment.start, comment.end) == ("title", 0, len(word))

    sign_in(page, site, "omar")
    page.goto(f"{site}/dashboard/")
    expect(page.locator("#mentions")).to_contain_text("is this wording cleared?")
    page.click("#mentions a")
    resolve = page.locator(f"#comment-{comment.pk} button", has_text="Resolve")
    resolve.click()
    expect(page.locator("#comments")).to_contain_text("1 resolved")
    page.goto(f"{site}/dashboard/")
    expect(page.locator("#mentions")).to_contain_text("Nobody is waiting on you")
    page.goto(f"{site}/claims/?use=in_use")
    expect(page.locator(".claim").first).to_be_visible()
    shot(page, "20-claims-registry")
    sign_in(page, site, "daniel")
    page.goto(f"{site}/dashboard/")
    expect(page.locator("#ceo-set")).to_contain_text("Spring Candles 2027 launch")
    shot(page, "20-dashboard-ceo")
    assert not watched.dialogs
    assert not watched.csp_errors

"""The review flow from the keyboard (issue 17, point 4), in Debian's chromium.

One test covers the board (j/k/x to select, m to mark reviewed with the selection kept, a to
approve the same selection; Enter on a focused button is the button's, not "open the row") and
the package page (? for the help overlay, j for the next package in the queue, a to approve and
land on the next one, r then Ctrl+Enter in the note to reject with it; Approve disabled with the
reason for a person the gate would refuse).
"""

from __future__ import annotations

import pytest
from fakes.browsing import shot, sign_in

SLUG = "spring-candles-2027"
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


def arrive(page, url: str) -> None:
    """Wait until the key's navigation to ``url`` is committed and the page's script runs.

    Not until "load": on a loaded machine the page's thumbnails (made on request) can hold
    the load event past the default timeout although the key did its work.
    """
    page.wait_for_url(url, wait_until="commit", timeout=30_000)
    page.wait_for_load_state("domcontentloaded")


def test_review_then_approve_from_the_keyboard(site, watched) -> None:
    from signoff.audit.models import Event
    from signoff.packages.models import Package

    page = watched.page
    sign_in(page, site, "maya")
    page.goto(f"{site}/briefs/{SLUG}/?mine=on")
    rows = page.locator("#board-table tbody tr[data-package]")
    first, second = (
        rows.nth(0).get_attribute("data-package"),
        rows.nth(1).get_attribute("data-package"),
    )

    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("input.row-check:checked")).to_have_count(2)
    page.keyboard.press("m")  # mark the selection reviewed
    page.locator("#batch-results .results").wait_for()
    expect(page.locator("#batch-results .results li")).to_have_count(2)
    page.wait_for_load_state("networkidle")  # the table refreshed itself after the batch
    # The selection survived the refresh: approve the same packages in the same pass.
    expect(page.locator("input.row-check:checked")).to_have_count(2)
    page.keyboard.press("a")
    expect(page.locator("#batch-results .results li", has_text="approved")).to_have_count(2)
    shot(page, "12-board-keyboard-review-then-approve")
    moved = Package.objects.filter(pk__in=[first, second]).values_list("stage", flat=True)
    assert set(moved) == {"S5"}

    # Enter on a focused button presses it (here: the shortcuts list), even with a current
    # row that a bare Enter would open; Alt+j is not j.
    board_url = f"{site}/briefs/{SLUG}/"
    page.goto(board_url)
    page.keyboard.press("j")
    expect(page.locator("#board-table tr.kb-current")).to_have_count(1)
    current = page.locator("#board-table tr.kb-current").get_attribute("data-package")
    page.keyboard.press("Alt+j")
    assert page.locator("#board-table tr.kb-current").get_attribute("data-package") == current
    page.focus("button[data-shortcut=help]")
    page.keyboard.press("Enter")
    expect(page.locator("#shortcuts")).to_be_visible()
    assert page.url == board_url
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()

    # The package page: the shortcuts overlay, then j to the next package, a to approve.
    queue = list(
        Package.objects.filter(brief__slug=SLUG, stage="S3", state="in_review")
        .order_by("id")
        .values_list("id", flat=True)
    )
    page.goto(f"{site}/packages/{queue[0]}/")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()
    shot(page, "13-package-shortcuts")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts")).to_be_hidden()
    # The queue's next link is the test's next package, said before j is pressed, so a
    # different queue and a lost key press fail apart.
    expect(page.locator("a[data-shortcut=next]")).to_have_attribute(
        "href", f"/packages/{queue[1]}/"
    )
    page.keyboard.press("j")
    arrive(page, f"{site}/packages/{queue[1]}/")
    page.keyboard.press("a")
    arrive(page, f"{site}/packages/{queue[2]}/")
    assert "G2 approved" in page.inner_text(".messages")
    assert Package.objects.get(pk=queue[1]).stage == "S5"

    # r with no note puts the focus in the note; Enter there is a new line, Ctrl+Enter rejects.
    page.keyboard.press("r")
    expect(page.locator("#gate-note")).to_be_focused()
    page.keyboard.type("Too cold:")
    page.keyboard.press("Enter")
    page.keyboard.type("warm it up.")
    assert page.url == f"{site}/packages/{queue[2]}/"
    page.keyboard.press("Control+Enter")
    page.wait_for_url(lambda url: url != f"{site}/packages/{queue[2]}/")
    rejected = Event.objects.filter(action="package.gate.rejected", subject_id=str(queue[2])).get()
    assert (rejected.actor, rejected.note) == ("maya@lumen.example", "Too cold:\nwarm it up.")

    # Omar holds no G2 role: "a" does nothing, and the panel says why and who can.
    sign_in(page, site, "omar")
    page.goto(f"{site}/packages/{queue[3]}/")
    expect(page.locator("#gate-panel button[value=approve]")).to_be_disabled()
    assert "Maya Chen can approve" in page.inner_text("#gate-panel")
    page.keyboard.press("a")
    page.wait_for_timeout(300)
    assert page.url == f"{site}/packages/{queue[3]}/"
    assert Package.objects.get(pk=queue[3]).stage == "S3"

"""Compare two variants in a real browser and rate one (Debian's chromium, no download).

Same setup as ``test_browser.py``: chromium at ``/usr/bin/chromium`` started by Playwright,
skipped with the reason when missing. The screenshot goes to ``docs/screenshots/13-compare.png``.
"""

from __future__ import annotations

import pytest
import yaml
from fakes.browsing import PASSWORD, shot

SLUG = "spring-variants-2027"
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


@pytest.fixture
def site(live_server, lumen_workspace, example_dir, person):
    """The spring brief with ``variants: 2`` (two SKUs, two channels), G1 approved, run."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief
    from signoff.web.accounts import ensure_users

    data = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    data.update(
        brief=SLUG,
        name="Spring variants",
        variants=2,
        channels=["amazon_us_pdp", "meta_feed_ad"],
        products=data["products"][:2],
    )
    path = example_dir / "briefs" / "spring-variants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    brief = add_brief(path).brief
    approve_brief(brief=brief, person=person("maya"))
    brief.refresh_from_db()
    run_brief(brief)
    ensure_users(lumen_workspace, PASSWORD)
    return live_server.url


def test_compare_two_variants_and_rate_one(site, page) -> None:
    from signoff.memory.search import search_notes
    from signoff.packages.models import Note, Package

    a, b = (
        Package.objects.get(
            brief__slug=SLUG, sku="LUM-SPR-LAV-08", channel="amazon_us_pdp", variant=v
        )
        for v in "AB"
    )
    page.goto(f"{site}/sign-in/")
    page.fill("input[name=username]", "maya@lumen.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")

    page.goto(f"{site}/packages/{a.pk}/")
    page.click("text=Compare variants and versions")
    page.wait_for_url(f"{site}/packages/{a.pk}/compare/")
    expect(page.locator("table.compare thead th[id^=candidate-]")).to_have_count(2)
    expect(page.locator("table.compare thead")).to_contain_text("Variant A · v1")
    expect(page.locator("table.compare thead")).to_contain_text("Variant B · v1")

    form = page.locator(f"form.rate:has(input[name=candidate][value='{b.pk}:1'])")
    form.locator("input[name=rating][value='4']").check()
    form.locator("input[name=tags][value='on brand']").check()
    form.locator("input[name=tags][value='great headline']").check()
    form.locator("input[name=text]").fill("Headline leads with the scent")
    form.locator("button[type=submit]").click()
    status = page.locator(f"#rating-status-{b.pk}-1 .notice.ok")
    status.wait_for()
    assert "rating 4/5; tags: on brand, great headline" in status.inner_text()
    page.locator(f"#candidate-{b.pk}-1").scroll_into_view_if_needed()
    shot(page, "13-compare")

    note = Note.objects.get(package=b, kind="comment")
    assert note.text == "rating 4/5; tags: on brand, great headline; Headline leads with the scent"
    assert [n.pk for n in search_notes(workspace_id=b.brief.workspace_id, query="scent")] == [
        note.pk
    ]
    # After a reload the rating is listed under the variant it was given to.
    page.reload()
    expect(page.locator("table.compare .past-ratings")).to_contain_text("rating 4/5")

"""Images in a real browser (Debian's chromium, no download): an operator generates a batch,
the CMO rates and selects an option, the operator renders it into every slot, and the CMO
approves a package that now shows the rendition. The screens behind docs/screenshots/1[0-2]."""

from __future__ import annotations

import pytest
from fakes.browsing import PASSWORD, shot, sign_in

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


@pytest.fixture
def campaign_site(live_server, lumen_workspace, example_dir, settings, tmp_path) -> str:
    """The cozy-season campaign drafted and served live; batches run at once (no worker)."""
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief
    from signoff.web.accounts import ensure_users

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024
    settings.SIGNOFF_EXPORT_DIR = tmp_path / "exports"
    brief = add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief
    run_brief(brief)
    ensure_users(lumen_workspace, PASSWORD)
    return live_server.url


def test_generate_rate_select_render_and_approve(campaign_site, watched) -> None:
    from signoff.packages.models import Package
    from signoff.visuals.models import ImageVersion, Rendition, Selection

    site, page = campaign_site, watched.page

    # The operator asks for a batch of two options per SKU.
    sign_in(page, site, "ari")
    page.goto(f"{site}/briefs/{CAMPAIGN}/images/")
    page.fill("input[name=n]", "2")
    page.fill("textarea[name=hypothesis]", "Evening ritual by the window")
    page.click("form.generate-form button[type=submit]")
    expect(page.locator("li.tile.option")).to_have_count(2)
    assert "No packshot" in page.inner_text("main")  # the gift set has none: no option
    shot(page, "10-image-options")
    first = ImageVersion.objects.filter(sku=EMBER).order_by("number").first()

    # The CMO rates the first option and selects it.
    sign_in(page, site, "sofia")
    page.goto(f"{site}/images/{first.pk}/")
    page.check("form.rate-form input[name=stars][value='5']")
    page.fill("#rate-tags", "warm, calm")
    page.click("form.rate-form button[type=submit]")
    page.locator(".messages .success").wait_for()
    page.click(f"text=Select option {first.number}")
    page.locator(".messages .success").wait_for()
    assert Selection.objects.get(replaced_at__isnull=True).image_id == first.pk
    shot(page, "11-image-option")

    # The operator renders every slot and attaches them to the packages.
    sign_in(page, site, "ari")
    page.goto(f"{site}/briefs/{CAMPAIGN}/images/")
    page.click("text=Render and attach")
    page.locator(".messages .success").wait_for()
    assert Rendition.objects.filter(image=first, channel="instagram_post").count() == 3

    # The CMO sees the rendition on the package and approves it at the asset gate.
    package = Package.objects.get(
        brief__slug=CAMPAIGN, sku=EMBER, channel="instagram_post", variant="A"
    )
    sign_in(page, site, "sofia")
    page.goto(f"{site}/packages/{package.pk}/")
    rendition = Rendition.objects.get(image=first, channel="instagram_post", slot="feed_4x5")
    expect(page.locator("main")).to_contain_text(rendition.filename)
    assert page.locator(f"img[src*='/files/renditions/{rendition.pk}/']").count() >= 1
    page.click("#gate-panel button[value=approve]")
    page.locator(".messages .success").wait_for()
    package.refresh_from_db()
    assert package.position == "C3/in_review"
    shot(page, "12-package-images")

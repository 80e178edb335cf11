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


def test_the_print_proof_shows_true_size_and_a_100_percent_loupe(campaign_site, watched) -> None:
    from signoff.visuals.decisions import select_image
    from signoff.visuals.generation import queue_image_run
    from signoff.visuals.models import ImageVersion, Rendition
    from signoff.visuals.rendering import render_brief
    from signoff.visuals.tasks import generate_images_task
    from signoff.workspaces.models import Person

    site, page = campaign_site, watched.page
    ari = Person.objects.get(email="ari@lumen.example")
    brief = ari.workspace.briefs.get(slug=CAMPAIGN)
    run = queue_image_run(brief=brief, person=ari, skus=[EMBER], n=1, hypothesis="")
    generate_images_task.enqueue(run.pk)
    option = ImageVersion.objects.get(sku=EMBER, status="ready")
    select_image(image=option, person=Person.objects.get(email="sofia@lumen.example"))
    render_brief(brief=brief, person=ari)
    poster = Rendition.objects.get(image=option, channel="print_poster_a2")

    # The art director follows the poster's Proof link from the option page.
    sign_in(page, site, "sofia")
    page.goto(f"{site}/images/{option.pk}/")
    page.click(f"a[href='/renditions/{poster.pk}/proof/']")
    expect(page.locator("h1")).to_contain_text("Print proof")
    expect(page.locator(".facts")).to_contain_text("426 × 600 mm")
    for tile in page.locator(".crop-tile img").all():
        tile.scroll_into_view_if_needed()
        expect(tile).to_have_js_property("complete", True)
        assert tile.evaluate("img => img.naturalWidth") == 300
    shot(page, "13-image-proof")

    # At print size: 426 mm in CSS mm (96 px per inch) until the screen is calibrated.
    page.click("#print-size-title")
    shown = page.locator(".print-view img")
    css_px = 426.04 / 25.4 * 96
    assert abs(shown.evaluate("img => img.getBoundingClientRect().width") - css_px) < 1
    page.fill("#screen-ppi-value", "192")  # a screen with twice CSS's 96 px per inch
    assert abs(shown.evaluate("img => img.getBoundingClientRect().width") - 2 * css_px) < 2
    page.reload()  # kept in this browser
    page.click("#print-size-title")
    assert page.input_value("#screen-ppi") == "192"
    page.click("[data-reset]")
    assert abs(shown.evaluate("img => img.getBoundingClientRect().width") - css_px) < 1

    # A click on the fitted image opens the 100 % loupe there: one image px per screen px.
    page.click(".proof-stage .frame", position={"x": 30, "y": 30})
    expect(page.locator("#pixel-loupe")).to_have_attribute("open", "")
    loupe = page.locator("#pixel-loupe img")
    expect(loupe).to_have_js_property("complete", True)
    assert loupe.evaluate("img => img.getBoundingClientRect().width") == pytest.approx(2516, abs=1)

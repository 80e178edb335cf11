"""The screens in a real browser: Debian's chromium driven by Playwright, no browser download.

The tests start chromium themselves (``/usr/bin/chromium``) and skip with the reason when it
is not installed. Each screen is saved to ``docs/screenshots/`` as it is exercised.
"""

from __future__ import annotations

import re

import pytest
from fakes.browsing import PASSWORD, shot, sign_in

SLUG = "spring-candles-2027"
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


ROLES = [
    ("maya", "Maya Chen", "content_lead"),
    ("omar", "Omar Haddad", "compliance"),
    ("lena", "Lena Park", "brand_manager"),
    ("ari", "Ari Novak", "operator"),
    ("sofia", "Sofia Reyes", "cmo"),
    ("daniel", "Daniel Brooks", "ceo"),
    ("ines", "Ines Duval", "admin"),  # not in the demo file: an admin added by `signoff init`
]


def test_each_role_signs_in(live_server, spring_brief, lumen_workspace, watched) -> None:
    from signoff.web.accounts import ensure_users
    from signoff.workspaces.models import Person

    Person.objects.create(
        workspace=lumen_workspace, email="ines@lumen.example", name="Ines Duval", roles=["admin"]
    )
    ensure_users(lumen_workspace, PASSWORD)
    page = watched.page
    for name, display, role in ROLES:
        sign_in(page, live_server.url, name)
        assert page.inner_text("header .who span") == f"{display} · {role}", name
        assert "Spring Candles 2027 launch" in page.inner_text("main"), name
        if role in ("ceo", "admin"):
            page.goto(f"{live_server.url}/dashboard/")
            widgets = page.locator("#dashboard-widgets section.widget").evaluate_all(
                "sections => sections.map(s => s.dataset.widget)"
            )
            # The CEO opens on the operations numbers; an admin with no other role on the
            # pipeline.
            assert widgets[0] == ("operations" if role == "ceo" else "pipeline"), name
            assert len(widgets) == (5 if role == "ceo" else 2), name
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/sign-in/")
    page.fill("input[name=username]", "ines@lumen.example")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "correct" in page.inner_text("main").lower()  # Django: enter a correct email ...


def test_content_lead_at_g1_and_g2_and_ari_is_refused(site, watched, example_dir) -> None:
    from signoff.packages.models import Package

    page = watched.page
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")

    sign_in(page, site, "ari", screenshot="01-sign-in")
    page.goto(f"{site}/packages/{package.pk}/")
    # The gate would refuse Ari: Approve is disabled, with the reason, before any click.
    expect(page.locator("#gate-panel button[value=approve]")).to_be_disabled()
    reason = page.inner_text("#why-approve")
    assert "may not approve at G2" in reason
    assert "content lead" in reason
    assert "Maya Chen can approve" in page.inner_text("#gate-panel")
    shot(page, "05-package-refused")

    sign_in(page, site, "maya")
    page.goto(f"{site}/briefs/{SLUG}/")
    assert page.locator("table.board tbody tr").count() == 36
    assert "What's blocking this launch" in page.inner_text("main")
    shot(page, "02-board")
    page.click(f"a[href='/packages/{package.pk}/'] >> nth=0")
    page.wait_for_url(f"{site}/packages/{package.pk}/")
    page.fill("#gate-note", "reads well")
    shot(page, "04-package")
    page.click("#gate-panel button[value=approve]")
    page.locator(".messages .success").wait_for()
    assert "G2 approved" in page.inner_text(".messages")
    assert "Next in your queue" in page.inner_text(".messages")  # the next package opened
    package.refresh_from_db()
    assert package.position == "S5/in_review"

    # G2 reject, with the note the next draft reads.
    other = Package.objects.get(sku="LUM-SPR-LAV-08", channel="walmart_us")
    page.goto(f"{site}/packages/{other.pk}/")
    page.fill("#gate-note", "Lead with the scent, not the vessel")
    page.click("#gate-panel button[value=reject]")
    page.locator(".messages .success").wait_for()
    assert "G2 rejected" in page.inner_text(".messages")
    other.refresh_from_db()
    assert other.position == "S2/rejected"

    # G1 on a new brief: the content lead approves it, which locks the version for drafting.
    from signoff.briefs.models import Brief
    from signoff.briefs.services import add_brief

    text = (example_dir / "briefs" / "spring-candles.yaml").read_text()
    summer = example_dir / "briefs" / "summer-candles.yaml"
    summer.write_text(text.replace(f"brief: {SLUG}", "brief: summer-candles-2027", 1))
    add_brief(summer, products_csv=example_dir / "products.csv")
    page.goto(f"{site}/briefs/summer-candles-2027/brief/")
    assert "Waiting on G1" in page.inner_text(".gate-panel")
    page.fill("#id_note", "Go: same facts as spring")
    page.click("text=Approve brief version 1")
    page.locator(".messages .success").wait_for()
    assert "G1 approved" in page.inner_text(".messages")
    assert "Approved by maya@lumen.example" in page.inner_text(".gate-panel")
    assert Brief.objects.get(slug="summer-candles-2027").approved_version is not None


def test_board_filters_and_batch_approve_with_a_mixed_selection(site, watched) -> None:
    from signoff.packages.decisions import review_package
    from signoff.packages.models import Package
    from signoff.workspaces.models import Person

    maya = Person.objects.get(email="maya@lumen.example")
    meta = list(Package.objects.filter(channel="meta_feed_ad").order_by("id"))
    for package in meta[:3]:
        review_package(package_id=package.pk, person=maya)
    page = watched.page
    sign_in(page, site, "maya")
    page.goto(f"{site}/briefs/{SLUG}/")

    # Filtering swaps the table in place (htmx) and keeps the address shareable.
    page.select_option("select[name=channel]", "meta_feed_ad")
    page.wait_for_url(re.compile(r"channel=meta_feed_ad"))
    expect(page.locator("table.board tbody tr")).to_have_count(6)

    for package in meta[:4]:  # three reviewed, one not
        page.check(f"input.row-check[value='{package.pk}']")
    page.select_option("#batch-form select[name=action]", "approve")
    page.fill("#batch-form input[name=note]", "spring set reads well")
    page.click("#batch-form button[type=submit]")
    page.locator("#batch-results .results").wait_for()
    results = page.locator("#batch-results .results li")
    assert results.count() == 4
    texts = [results.nth(i).inner_text() for i in range(4)]
    assert all(t.startswith("approved") for t in texts[:3]), texts
    assert texts[3].startswith("refused")
    assert "reviewed" in texts[3]
    # The table refreshes itself after the batch: three packages moved on to S5.
    stage_cells = page.locator("table.board tbody td:nth-child(6)")
    expect(stage_cells.filter(has_text=re.compile(r"^Compliance review$"))).to_have_count(3)
    expect(page.locator("#blocking")).to_contain_text("G3")
    shot(page, "03-board-batch-result")


def test_apply_a_suggested_fix(site, watched) -> None:
    from signoff.packages.authoring import edit_package
    from signoff.packages.models import Package
    from signoff.workspaces.models import Person

    ari = Person.objects.get(email="ari@lumen.example")
    package = Package.objects.get(sku="LUM-SPR-NER-08", channel="amazon_us_pdp")
    bullets = list(package.current_version.fields["bullet_points"])
    bullets[2] = "Phthalate-free fragrance, hand poured in Vermont"
    edit_package(
        package_id=package.pk,
        person=ari,
        changes={
            "bullet_points[2]": bullets[2],
            "title": package.current_version.fields["title"] + " Cheap",
        },
        note="ari's edit",
    )
    page = watched.page
    sign_in(page, site, "maya")
    page.goto(f"{site}/packages/{package.pk}/")
    assert page.locator("mark.sev-block").count() >= 1
    shot(page, "06-package-findings")
    terminology = page.locator(".findings li", has_text="voice.terminology")
    terminology.locator("button", has_text="Apply fix").click()
    page.locator(".messages .success").wait_for()
    assert "version 3 saved" in page.inner_text(".messages")
    assert page.locator(".diff del").count() >= 1
    assert page.locator(".diff ins").count() >= 1
    shot(page, "07-package-diff")
    package.refresh_from_db()
    # An accepted suggestion is the checker's (the default policy), accepted by Maya.
    assert package.current_version.author == "agent:brand_voice"
    assert package.current_version.origin["accepted_by"] == "maya@lumen.example"
    assert "hand-poured" in package.current_version.fields["bullet_points"][2]


def test_g3_by_compliance_g4_on_the_matrix_then_launch(site, watched) -> None:
    """G2 passes through the services; G3, G4 (per cell and per channel) and launch in the
    browser, each by the role that owns it."""
    from image_helpers import give_images

    from signoff.packages.decisions import approve_package, review_package
    from signoff.packages.models import Package
    from signoff.workspaces.models import Person

    people = {p.email.split("@")[0]: p for p in Person.objects.all()}
    instagram = list(Package.objects.filter(channel="instagram_post").order_by("id"))
    give_images(instagram)  # the last gate refuses empty required image slots
    for package in instagram:
        assert approve_package(package_id=package.pk, person=people["maya"]).ok
    for package in instagram[1:]:
        assert approve_package(package_id=package.pk, person=people["omar"]).ok
    for package in instagram[2:]:
        assert review_package(package_id=package.pk, person=people["lena"]).ok
    first, unreviewed = instagram[0], instagram[1]
    page = watched.page

    # G3: compliance approves on the package page.
    sign_in(page, site, "omar")
    page.goto(f"{site}/packages/{first.pk}/")
    assert "G3" in page.inner_text("#gate-title")
    page.click("#gate-panel button[value=approve]")
    page.locator(".messages .success").wait_for()
    assert "G3 approved" in page.inner_text(".messages")

    # G4: the brand manager approves one cell, then the channel for launch as a batch.
    sign_in(page, site, "lena")
    page.goto(f"{site}/briefs/{SLUG}/matrix/")
    main = page.inner_text("main")
    assert "point of no return" in main
    assert "You hold Brand manager" in main
    expect(page.locator(".cell-approve button", has_text="Approve G4")).to_have_count(6)
    page.click(f".cell[data-package='{first.pk}'] .cell-approve button")
    page.locator(".messages .success").wait_for()
    assert "G4 approved" in page.inner_text(".messages")
    column = page.locator("td[data-channel=instagram_post]")
    assert "5 at G4, 4 reviewed by you" in column.inner_text()
    column.locator("button", has_text="for launch").click()
    results = page.locator("#matrix-results .results li")
    expect(results).to_have_count(5)
    refused = results.filter(has_text="refused")
    expect(refused).to_have_count(1)
    assert refused.get_attribute("data-package") == str(unreviewed.pk)
    assert "has not marked this version reviewed" in refused.inner_text()
    shot(page, "08-approval-matrix-g4")

    # The refused one: review it on its page, then approve the channel for launch again.
    page.goto(f"{site}/packages/{unreviewed.pk}/")
    page.click("#gate-panel button[value=review]")
    page.locator(".messages .success").wait_for()
    page.goto(f"{site}/briefs/{SLUG}/matrix/")
    column.locator("button", has_text="for launch").click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("G4 approved")

    # Launch: the point of no return, confirmed.
    column.locator("input[name=confirm]").check()
    shot(page, "08-approval-matrix")
    column.locator("button", has_text="Launch").click()
    page.locator(".messages .success").wait_for()
    assert "instagram_post launched: 6 packages published" in page.inner_text(".messages")
    assert "launched" in column.inner_text()
    shot(page, "09-launched")
    assert Package.objects.filter(channel="instagram_post", state="published").count() == 6


def test_script_tags_in_content_execute_nothing(site, watched) -> None:
    from signoff.packages.authoring import edit_package
    from signoff.packages.models import Package
    from signoff.workspaces.models import Person

    ari = Person.objects.get(email="ari@lumen.example")
    package = Package.objects.get(sku="LUM-SPR-FIG-08", channel="meta_feed_ad")
    edit_package(
        package_id=package.pk,
        person=ari,
        changes={
            "headline": "<script>alert(1)</script>",
            "primary_text": "Calm <img src=x onerror=alert(1)> evenings",
        },
        note="<script>alert('note')</script>",
    )
    page = watched.page
    sign_in(page, site, "maya")
    page.goto(f"{site}/packages/{package.pk}/")
    page.wait_for_load_state("networkidle")
    assert "<script>alert(1)</script>" in page.inner_text(".preview")
    assert page.locator(".preview img").count() == 0
    # Only our own static files (the review shortcuts) are scripts in the page's content.
    assert page.locator("main script:not([src^='/static/web/'])").count() == 0
    shot(page, "11-package-escaped-feed-card")
    page.goto(f"{site}/briefs/{SLUG}/brief/")
    shot(page, "10-brief-g1")
    # `watched` asserts on teardown that no dialog opened and no CSP violation happened.


def test_compliance_rejects_at_g3_with_a_note(site, watched, person) -> None:
    from signoff.packages.decisions import approve_package
    from signoff.packages.models import Package

    page = watched.page
    package = Package.objects.get(sku="LUM-SPR-NER-08", channel="walmart_us")
    assert approve_package(package_id=package.pk, person=person("maya")).ok

    sign_in(page, site, "omar")
    page.goto(f"{site}/packages/{package.pk}/")
    assert "G3" in page.inner_text("#gate-title")
    page.click("#gate-panel button[value=reject]")  # no note yet: refused, says why
    refusal = page.locator("#gate-panel .notice.refused")
    refusal.wait_for()
    assert "note_required" in refusal.inner_text()
    page.fill("#gate-note", "Say 'phthalate-free fragrance' exactly as the registry words it")
    page.click("#gate-panel button[value=reject]")
    page.locator(".messages .success").wait_for()  # on to the next package in the queue
    assert "G3 rejected" in page.inner_text(".messages")
    package.refresh_from_db()
    assert package.position == "S3/rejected"

"""The dashboard in a real browser: arrange it, reload, find it the same.

The same setup as ``test_browser.py``: Debian's chromium at ``/usr/bin/chromium`` driven by
Playwright (no browser download), skipped with the reason when it is missing; the Django
live server; any dialog or Content-Security-Policy refusal fails the test.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes.browsing import PASSWORD, shot

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect


@pytest.fixture
def site(live_server, spring_run, lumen_workspace, person) -> str:
    """The spring run with a little history, so every widget has something to say."""
    from django.utils import timezone

    from signoff.packages.decisions import approve_package, reject_package
    from signoff.packages.models import Package
    from signoff.web.accounts import ensure_users

    ensure_users(lumen_workspace, PASSWORD)
    maya = person("maya")
    g2 = list(Package.objects.filter(stage="S3", state="in_review").order_by("id"))
    for package in g2[:3]:
        assert approve_package(package_id=package.pk, person=maya, note="reads well").ok
    assert approve_package(package_id=g2[0].pk, person=person("omar")).ok
    assert reject_package(package_id=g2[3].pk, person=maya, note="lead with the scent").ok
    # Two packages have waited past G2's 48-hour SLA.
    for hours, package in zip([70, 52], g2[4:6], strict=True):
        Package.objects.filter(pk=package.pk).update(
            stage_entered_at=timezone.now() - timedelta(hours=hours)
        )
    return live_server.url


def order(page: object) -> list[str]:
    return page.locator("#dashboard-widgets section.widget").evaluate_all(
        "sections => sections.map(s => s.dataset.widget)"
    )


def test_maya_arranges_her_dashboard_and_finds_it_the_same_after_reloading(site, page) -> None:
    page.goto(f"{site}/sign-in/")
    page.fill("input[name=username]", "maya@lumen.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    page.click("nav.topnav >> text=Dashboard")  # reachable from every page
    page.wait_for_url(f"{site}/dashboard/")
    assert order(page) == ["my_queue", "sla_breaches", "pipeline", "recent_decisions"]
    assert page.inner_text("#widget-my_queue .count") == "28"  # 32 - 3 approved - 1 rejected

    widgets = page.locator("#dashboard-widgets section.widget")
    # Move: recent decisions up one place (htmx swaps the widgets in place, no reload).
    page.click("button[aria-label='Move Recent decisions up']")
    expect(widgets.nth(2)).to_have_attribute("data-widget", "recent_decisions")
    # Remove: the pipeline.
    page.click("button[aria-label='Remove Pipeline by stage']")
    expect(widgets).to_have_count(3)
    # Add: gate throughput, from the menu of widgets not shown yet.
    page.select_option("#add-widget", "gate_throughput")
    page.click(".widget-add button[value=add]")
    expect(widgets).to_have_count(4)
    arranged = ["my_queue", "sla_breaches", "recent_decisions", "gate_throughput"]
    assert order(page) == arranged
    assert page.url == f"{site}/dashboard/"

    page.reload()
    assert order(page) == arranged
    assert page.locator("button[aria-label='Move My queue up']").is_disabled()
    assert page.locator("button[aria-label='Move Gate throughput down']").is_disabled()
    assert "lead with the scent" in page.inner_text("#widget-recent_decisions")
    assert "2" in page.inner_text("#widget-sla_breaches .count")
    shot(page, "12-dashboard")

    # Signed out and in again, in a fresh browser session: still the same.
    page.context.clear_cookies()
    page.goto(f"{site}/sign-in/")
    page.fill("input[name=username]", "maya@lumen.example")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
    page.goto(f"{site}/dashboard/")
    assert order(page) == arranged


def test_each_role_sees_its_own_defaults(site, page) -> None:
    for name, first in [("ari", "blocked"), ("sofia", "operations"), ("omar", "my_queue")]:
        page.context.clear_cookies()
        page.goto(f"{site}/sign-in/")
        page.fill("input[name=username]", f"{name}@lumen.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{site}/")
        page.goto(f"{site}/dashboard/")
        assert order(page)[0] == first, name
        if name == "ari":
            shot(page, "12-dashboard-operator")

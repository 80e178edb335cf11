"""Every screen against WCAG 2.2 AA and at a phone's width, in one browser (Debian's chromium).

axe-core comes from the PyPI package ``axe-playwright-python`` (a dev dependency, so
``pip install -e '.[dev]'`` brings it: no npm and no download when the tests run). Its
``axe.min.js`` is evaluated in each page through Playwright, which the CSP does not govern.

Each run visits every screen (``SCREENS``) once per width: at 1440 px and at 390 px. At both,
axe must report no serious or critical violation and no heading out of order; at 390 px the
page must not scroll sideways. Then it checks that focus stays where it belongs after an htmx
swap. Failures are collected over all screens and reported together.
"""

from __future__ import annotations

from importlib.resources import files

import pytest
from fakes.browsing import Watched, shot, sign_in

SLUG = "spring-candles-2027"
CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
axe_package = pytest.importorskip(
    "axe_playwright_python", reason="axe-playwright-python is not installed: pip install -e .[dev]"
)
PlaywrightTimeout = pytest.importorskip("playwright.sync_api").TimeoutError
AXE_JS = (files(axe_package) / "axe.min.js").read_text(encoding="utf-8")
# Impacts that fail the test, and the moderate rules the issue names (headings in order, one
# main landmark and a first-level heading per screen).
FAILING_IMPACTS = {"serious", "critical"}
FAILING_RULES = {"heading-order", "page-has-heading-one", "landmark-one-main", "bypass"}

# (name, who signs in, path): every screen of signoff.web and signoff.sharing, grouped by
# person so that each signs in once.
SCREENS = [
    ("sign-in", None, "/sign-in/"),
    ("review-guest", None, "/review/{token}/"),
    ("review-guest-package", None, "/review/{token}/packages/{package}/"),
    ("review-refused", None, "/review/not-a-token/"),
    ("briefs", "maya", "/"),
    ("board", "maya", "/briefs/{slug}/"),
    ("board-filtered", "maya", "/briefs/{slug}/?severity=block"),
    ("brief-g1", "maya", "/briefs/{slug}/brief/"),
    ("package", "maya", "/packages/{package}/"),
    ("package-edit", "maya", "/packages/{package}/edit/"),
    ("compare-refused", "maya", "/packages/{package}/compare/"),
    ("intake", "maya", "/briefs/new/"),
    ("data-requests", "maya", "/briefs/{slug}/data-requests/"),
    ("review-links", "maya", "/review-links/"),
    ("dashboard-maya", "maya", "/dashboard/"),
    ("matrix", "lena", "/briefs/{slug}/matrix/"),
    ("dashboard-lena", "lena", "/dashboard/"),
    ("package-refused", "ari", "/packages/{package}/"),
    ("images", "ari", "/briefs/{campaign}/images/"),
    ("image-compare", "ari", "/briefs/{campaign}/images/compare/"),
    ("run-progress", "ari", "/briefs/{slug}/run/progress/"),
    ("tokens", "ari", "/tokens/"),
    ("performance", "ari", "/briefs/{slug}/performance/"),
    ("dashboard-ari", "ari", "/dashboard/"),
    ("compare", "sofia", "/packages/{variant}/compare/"),
    ("campaign-board", "sofia", "/briefs/{campaign}/"),
    ("image", "sofia", "/images/{image}/"),
    ("rendition-proof", "sofia", "/renditions/{poster}/proof/"),
    ("image-proof", "sofia", "/images/{image}/proof/"),
    ("dashboard-sofia", "sofia", "/dashboard/"),
    ("dashboard-omar", "omar", "/dashboard/"),
    ("claims", "omar", "/claims/"),
    ("dashboard-daniel", "daniel", "/dashboard/"),
]

# The phone screenshots in docs/screenshots/ (SIGNOFF_SCREENSHOTS=1), by screen.
PHONE_SHOTS = {
    "board": "16-phone-board",
    "package": "16-phone-package",
    "dashboard-maya": "16-phone-dashboard",
}


@pytest.fixture
def screens(site, person, example_dir, settings) -> dict[str, object]:
    """Demo-like data behind every screen: the spring run with decisions, the cozy campaign
    with an image option rendered into its slots, and a review link."""
    from signoff.briefs.services import add_brief
    from signoff.packages.models import Package
    from signoff.packages.services import run_brief
    from signoff.sharing.services import create_review_link
    from signoff.visuals.decisions import select_image
    from signoff.visuals.generation import queue_image_run
    from signoff.visuals.models import ImageVersion, Rendition
    from signoff.visuals.rendering import render_brief
    from signoff.visuals.tasks import generate_images_task

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 512
    campaign = add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief
    run_brief(campaign)
    run = queue_image_run(brief=campaign, person=person("ari"), skus=[EMBER], n=1, hypothesis="")
    generate_images_task.enqueue(run.pk)
    option = ImageVersion.objects.get(sku=EMBER, status="ready")
    select_image(image=option, person=person("sofia"))
    render_brief(brief=campaign, person=person("ari"))

    package = Package.objects.get(brief__slug=SLUG, sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    variant = Package.objects.filter(brief=campaign, variant="A").order_by("id").first()
    _, token = create_review_link(person("maya"), [package.pk], note="Calm enough?")
    return {
        "site": site,
        "slug": SLUG,
        "campaign": CAMPAIGN,
        "package": package.pk,
        "variant": variant.pk,
        "image": option.pk,
        "poster": Rendition.objects.get(image=option, channel="print_poster_a2").pk,
        "token": token,
    }


def _axe_problems(page: object) -> list[str]:
    """Run axe-core on the page; return its failing violations, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    problems = []
    for rule in result["violations"]:
        if rule["impact"] in FAILING_IMPACTS or rule["id"] in FAILING_RULES:
            targets = ", ".join(str(n["target"][-1]) for n in rule["nodes"][:3])
            summary = rule["nodes"][0].get("failureSummary", "").splitlines()[-1:]
            problems.append(
                f"{rule['id']} ({rule['impact']}) x{len(rule['nodes'])}: {targets} {summary}"
            )
    return problems


def _widest(page: object) -> str:
    """Name the elements that stick out past the viewport (what makes a page scroll sideways)."""
    return page.evaluate(
        """() => {
          const w = document.documentElement.clientWidth, out = [];
          const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (typeof el.className === 'string' && el.className.trim()
              ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            const parentOut = el.parentElement.getBoundingClientRect().right > w + 0.5;
            if (r.right > w + 0.5 && r.width > 0 && !parentOut) {
              out.push(name(el) + ' ' + Math.round(r.right));
            }
          }
          return out.slice(0, 6).join('; ');
        }"""
    )


@pytest.mark.parametrize("width", [1440, 390], ids=["desktop-1440", "phone-390"])
def test_every_screen_is_accessible_and_fits(screens, browser, width) -> None:
    site = screens["site"]
    context = browser.new_context(viewport={"width": width, "height": 900})
    watched = Watched(context.new_page())
    page = watched.page
    page.set_default_timeout(10_000)
    failures: list[str] = []
    signed_in: str | None = None
    try:
        for name, who, path in SCREENS:
            if who != signed_in:
                if who is None:
                    context.clear_cookies()
                else:
                    sign_in(page, site, who)
                signed_in = who
            response = page.goto(site + path.format(**screens))
            # The parts an hx-trigger="load" fetches replace themselves: wait for them.
            page.wait_for_function(
                "() => !document.querySelector('[hx-trigger=load], .htmx-request')"
            )
            if response is None or response.status >= 500:
                failures.append(f"{name}: HTTP {response and response.status}")
                continue
            failures += [f"{name}: {problem}" for problem in _axe_problems(page)]
            if page.locator("a.skip-link[href='#main']").count() != 1:
                failures.append(f"{name}: no skip link to #main")
            scroll_width = page.evaluate("() => document.scrollingElement.scrollWidth")
            # Every widget fits its card (the pipeline's table once overflowed at 1440 px).
            crammed = page.evaluate(
                "() => [...document.querySelectorAll('section.widget')]"
                ".filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.dataset.widget)"
            )
            if crammed:
                failures.append(f"{name}: widgets wider than their card at {width}: {crammed}")
            if width == 390 and name in PHONE_SHOTS:
                shot(page, PHONE_SHOTS[name])
            if scroll_width > width:
                failures.append(f"{name}: {scroll_width} px wide at {width}: {_widest(page)}")
        try:
            _focus_stays_after_htmx_swaps(page, site, screens, failures)
        except PlaywrightTimeout as error:
            failures.append(f"focus after htmx swaps: {error.message.splitlines()[0]}")
    finally:
        context.close()
    assert failures == [], "\n".join(failures)
    assert watched.dialogs == [], "a dialog opened: something executed"
    assert watched.csp_errors == [], "the Content-Security-Policy refused something"


def _focus_stays_after_htmx_swaps(page, site, screens, failures: list[str]) -> None:
    """A keyboard user acts in a part that htmx replaces: focus stays in that part."""
    # A refusal swaps the gate panel whole (a rejection needs a note): focus goes to the
    # refusal, which is then read out.
    sign_in(page, site, "maya")
    page.goto(f"{site}/packages/{screens['package']}/")
    button = page.locator("#gate-panel button[value=reject]")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    viewport = page.viewport_size["width"]
    if box is None or box["x"] < 0 or box["x"] + box["width"] > viewport:
        failures.append(f"gate panel: Reject is out of reach at {viewport} px: {box}")
    button.focus()
    page.keyboard.press("Enter")
    page.locator("#gate-panel .notice.refused").wait_for()
    page.wait_for_function("() => document.activeElement !== document.body")
    focused = page.evaluate(
        "() => document.activeElement.closest('#gate-panel') ? "
        "document.activeElement.className : 'outside: ' + document.activeElement.tagName"
    )
    if "notice" not in focused:
        failures.append(f"gate panel: after the swap focus is on {focused!r}, not its outcome")

    # A dashboard widget moves: focus follows it, on the same control.
    sign_in(page, site, "daniel")
    page.goto(f"{site}/dashboard/")
    down = page.locator("section[data-widget=pipeline] button[value=down]")
    label = down.get_attribute("aria-label")
    order = "() => [...document.querySelectorAll('section.widget')].map(w => w.dataset.widget)"
    before = page.evaluate(order)
    down.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => ({order})().join() !== {','.join(before)!r}")
    page.wait_for_function("() => document.activeElement !== document.body")
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    if focused != label:
        failures.append(f"dashboard: after moving a widget focus is on {focused!r}, not {label!r}")

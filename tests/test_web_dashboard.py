"""Dashboards per role through Django's test client: defaults, layout changes, scope, queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from fakes.browsing import PASSWORD

from signoff.packages.decisions import approve_package, reject_package
from signoff.packages.models import Package
from signoff.web import dashboards
from signoff.web.accounts import ensure_user
from signoff.web.models import DashboardLayout
from signoff.workspaces.models import Person, Workspace

DASHBOARD = "/dashboard/"
LAYOUT = "/dashboard/layout/"


def widgets(response) -> list[str]:
    """Return the widget names on the page, in the order they are shown."""
    assert response.status_code == 200, response.text[:500]
    return re.findall(
        r'<section class="card widget" id="widget-\w+" data-widget="(\w+)"', response.text
    )


def queue_ids(response) -> list[int]:
    section = re.search(r'data-widget="my_queue".*?</section>', response.text, re.S)
    assert section, "no my_queue widget"
    return [int(i) for i in re.findall(r'<tr data-package="(\d+)">', section.group(0))]


def figure(response, name: str) -> int:
    section = re.search(rf'data-widget="{name}".*?</section>', response.text, re.S)
    assert section, f"no {name} widget"
    return int(re.search(r'<strong class="count[^"]*">(\d+)</strong>', section.group(0)).group(1))


# --- urls and reachability ----------------------------------------------------------------


def test_the_dashboard_lives_at_slash_dashboard() -> None:
    assert reverse("web:dashboard") == DASHBOARD
    assert reverse("web:dashboard-layout") == LAYOUT


@pytest.mark.django_db
def test_dashboard_needs_sign_in_and_is_linked_from_every_page(client, as_person, spring_run):
    assert client.get(DASHBOARD)["Location"].startswith(reverse("web:sign-in"))
    assert client.post(LAYOUT, {"action": "reset"})["Location"].startswith(reverse("web:sign-in"))
    home = as_person("maya").get(reverse("web:home"))
    assert f'href="{DASHBOARD}"' in home.text


# --- defaults per role --------------------------------------------------------------------


@pytest.mark.django_db
def test_defaults_differ_per_role(as_person, spring_run):
    expected = {
        "maya": ["my_queue", "sla_breaches", "pipeline", "recent_decisions"],  # content_lead
        "omar": ["my_queue", "blocked", "recent_decisions"],  # compliance
        "lena": ["my_queue", "pipeline", "gate_throughput"],  # brand_manager
        "ari": ["blocked", "pipeline", "agent_activity", "sla_breaches"],  # operator
        # cmo and ceo: the operations metrics first (issue 15)
        "sofia": [
            "operations",
            "operations_weekly",
            "pipeline",
            "gate_throughput",
            "recent_decisions",
        ],
        "daniel": [
            "operations",
            "operations_weekly",
            "pipeline",
            "gate_throughput",
            "recent_decisions",
        ],
    }
    for name, names in expected.items():
        assert widgets(as_person(name).get(DASHBOARD)) == names, name
    assert DashboardLayout.objects.count() == 0  # looking saves nothing


@pytest.mark.django_db
def test_several_roles_merge_their_defaults_and_an_admin_gets_a_fallback(person):
    both = person("maya")
    both.roles = ["content_lead", "compliance"]
    assert dashboards.default_layout(both) == [
        "my_queue",
        "sla_breaches",
        "pipeline",
        "recent_decisions",
        "blocked",
    ]
    both.roles = ["admin"]
    assert dashboards.default_layout(both) == dashboards.FALLBACK


# --- arranging ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_add_remove_and_move_persist_across_requests(as_person, users, spring_run):
    maya = as_person("maya")
    start = ["my_queue", "sla_breaches", "pipeline", "recent_decisions"]
    assert widgets(maya.get(DASHBOARD)) == start

    # Without JavaScript a change redirects back to the page (post/redirect/get).
    moved = maya.post(LAYOUT, {"action": "down", "widget": "my_queue"})
    assert moved.status_code == 302
    assert moved["Location"] == DASHBOARD
    assert widgets(maya.get(DASHBOARD)) == [
        "sla_breaches",
        "my_queue",
        "pipeline",
        "recent_decisions",
    ]
    maya.post(LAYOUT, {"action": "up", "widget": "recent_decisions"})
    maya.post(LAYOUT, {"action": "remove", "widget": "sla_breaches"})
    maya.post(LAYOUT, {"action": "add", "widget": "gate_throughput"})
    final = ["my_queue", "recent_decisions", "pipeline", "gate_throughput"]
    assert widgets(maya.get(DASHBOARD)) == final
    assert DashboardLayout.objects.get(person__email="maya@lumen.example").widgets == final

    # Edges and repeats change nothing: up at the top, down at the bottom, add twice.
    maya.post(LAYOUT, {"action": "up", "widget": "my_queue"})
    maya.post(LAYOUT, {"action": "down", "widget": "gate_throughput"})
    maya.post(LAYOUT, {"action": "add", "widget": "pipeline"})
    maya.post(LAYOUT, {"action": "remove", "widget": "blocked"})  # not there
    assert widgets(maya.get(DASHBOARD)) == final

    # A fresh session (sign out, sign in again) sees the same layout.
    maya.logout()
    again = Client()
    again.post(reverse("web:sign-in"), {"username": "maya@lumen.example", "password": PASSWORD})
    assert widgets(again.get(DASHBOARD)) == final

    # Another person's layout is untouched; reset goes back to the role defaults.
    assert widgets(as_person("omar").get(DASHBOARD)) == ["my_queue", "blocked", "recent_decisions"]
    maya = as_person("maya")
    maya.post(LAYOUT, {"action": "reset"})
    assert widgets(maya.get(DASHBOARD)) == start
    assert not DashboardLayout.objects.filter(person__email="maya@lumen.example").exists()


@pytest.mark.django_db
def test_removing_every_widget_is_kept_as_an_empty_dashboard(as_person, spring_run):
    omar = as_person("omar")
    for name in ["my_queue", "blocked", "recent_decisions"]:
        omar.post(LAYOUT, {"action": "remove", "widget": name})
    page = omar.get(DASHBOARD)
    assert widgets(page) == []
    assert "Your dashboard is empty" in page.text
    omar.post(LAYOUT, {"action": "add", "widget": "agent_activity"})
    assert widgets(omar.get(DASHBOARD)) == ["agent_activity"]


@pytest.mark.django_db
def test_htmx_change_returns_the_widgets_partial(as_person, spring_run):
    maya = as_person("maya")
    response = maya.post(
        LAYOUT,
        {"action": "add", "widget": "blocked"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="dashboard-widgets",
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert '<div id="dashboard-widgets"' in response.text
    assert widgets(response)[-1] == "blocked"
    partial = maya.get(DASHBOARD, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="dashboard-widgets")
    assert "<html" not in partial.text
    assert widgets(partial)[-1] == "blocked"


@pytest.mark.django_db
def test_unknown_widget_or_action_is_refused_with_a_message(as_person, spring_run):
    maya = as_person("maya")
    before = widgets(maya.get(DASHBOARD))
    for data in [
        {"action": "add", "widget": "stock_ticker"},
        {"action": "remove", "widget": "<script>alert(1)</script>"},
        {"action": "add"},
    ]:
        refused = maya.post(LAYOUT, data)
        assert refused.status_code == 400, data
        assert "Unknown widget" in refused.text
        assert "my_queue" in refused.text  # the message lists the known widgets
        assert "<script>alert(1)</script>" not in refused.text  # escaped
    bad_action = maya.post(LAYOUT, {"action": "explode", "widget": "pipeline"})
    assert bad_action.status_code == 400
    assert "Choose add, remove, up, down or reset" in bad_action.text
    htmx = maya.post(LAYOUT, {"action": "add", "widget": "stock_ticker"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400
    assert "Unknown widget &#x27;stock_ticker&#x27;" in htmx.text
    assert not DashboardLayout.objects.exists()
    assert widgets(maya.get(DASHBOARD)) == before


@pytest.mark.django_db
def test_layout_changes_need_post_and_csrf(person, as_person, spring_run):
    assert as_person("maya").get(LAYOUT).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(ensure_user(person("maya")))
    assert strict.post(LAYOUT, {"action": "add", "widget": "blocked"}).status_code == 403
    page = strict.get(DASHBOARD)
    # Every form on the page carries the token.
    assert page.text.count("<form") == page.text.count('name="csrfmiddlewaretoken"')
    assert not DashboardLayout.objects.exists()


# --- what the widgets show ----------------------------------------------------------------


@pytest.mark.django_db
def test_my_queue_is_maya_s_32_g2_packages_and_empty_for_omar_until_g3(
    as_person, person, spring_run
):
    maya, omar = person("maya"), person("omar")
    waiting = dashboards.my_queue(maya, maya.workspace)
    assert waiting["total"] == 32
    assert all(row["gate"].id == "G2" for row in waiting["rows"])
    g2 = set(Package.objects.filter(stage="S3", state="in_review").values_list("id", flat=True))
    assert len(g2) == 32

    page = as_person("maya").get(DASHBOARD)
    assert figure(page, "my_queue") == 32
    shown = queue_ids(page)
    assert len(shown) == dashboards.ROWS
    assert set(shown) <= g2
    assert "32 in Spring Candles 2027 launch" in page.text  # the link to the rest
    assert "/briefs/spring-candles-2027/?mine=on" in page.text

    empty = as_person("omar").get(DASHBOARD)
    assert figure(empty, "my_queue") == 0
    assert queue_ids(empty) == []
    assert "Nothing is waiting on you" in empty.text

    first = Package.objects.filter(stage="S3", state="in_review").order_by("id").first()
    assert approve_package(package_id=first.pk, person=maya).ok  # on to G3 (compliance)
    now_waiting = as_person("omar").get(DASHBOARD)
    assert figure(now_waiting, "my_queue") == 1
    assert queue_ids(now_waiting) == [first.pk]
    assert figure(as_person("maya").get(DASHBOARD), "my_queue") == 31
    assert dashboards.my_queue(omar, omar.workspace)["rows"][0]["gate"].id == "G3"


@pytest.mark.django_db
def test_the_other_widgets_show_the_spring_run(as_person, person, spring_run):
    maya = person("maya")
    ids = list(
        Package.objects.filter(stage="S3", state="in_review")
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert approve_package(package_id=ids[0], person=maya, note="reads well").ok
    assert reject_package(package_id=ids[1], person=maya, note="lead with the scent").ok
    for name in ["blocked", "gate_throughput", "agent_activity"]:
        as_person("maya").post(LAYOUT, {"action": "add", "widget": name})
    page = as_person("maya").get(DASHBOARD)

    assert figure(page, "blocked") == 4
    assert "missing GTIN" in page.text
    assert figure(page, "pipeline") == 36
    assert '<tr data-stage="S3">' in page.text
    assert '<tr data-stage="S5">' in page.text
    assert figure(page, "gate_throughput") == 1  # one approval at G2 this week
    throughput = dashboards.gate_throughput(maya, maya.workspace)
    g2 = next(r for r in throughput["rows"] if r["gate"] == "G2")
    assert (g2["approved"], g2["rejected"], g2["role"]) == (1, 1, "content_lead")
    assert [r["gate"] for r in throughput["rows"]] == ["G2", "G3", "G4"]
    agents = {r["agent"]: r for r in dashboards.agent_activity(maya, maya.workspace)["rows"]}
    assert agents["copy_drafter"]["drafts"] == 32  # the four blocked packages were not drafted
    assert sum(r["findings"] for r in agents.values()) > 0
    decisions = dashboards.recent_decisions(maya, maya.workspace)["rows"]
    assert [r["event"].action for r in decisions[:3]] == [
        "package.gate.rejected",
        "package.gate.approved",
        "brief.gate.approved",
    ]
    assert "lead with the scent" in page.text
    assert "Maya Chen" in page.text
    assert figure(page, "sla_breaches") == 0
    assert "Every package is within its gate" in page.text


@pytest.mark.django_db
def test_sla_breaches_lists_overdue_packages_most_overdue_first(as_person, person, spring_run):
    now = timezone.now()
    late = list(Package.objects.filter(stage="S3", state="in_review").order_by("id")[:3])
    for hours, package in zip([50, 96, 60], late, strict=True):  # G2's SLA is 48 hours
        Package.objects.filter(pk=package.pk).update(stage_entered_at=now - timedelta(hours=hours))
    maya = person("maya")
    report = dashboards.sla_breaches(maya, maya.workspace)
    assert report["total"] == 3
    assert [r["id"] for r in report["rows"]] == [late[1].pk, late[2].pk, late[0].pk]
    assert report["rows"][0]["people"] == ["maya@lumen.example"]
    page = as_person("maya").get(DASHBOARD)
    assert figure(page, "sla_breaches") == 3
    assert "2 d 0 h" in page.text  # 96 h waited, 48 h over


# --- scope --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_another_workspace_s_data_never_shows(client, person, spring_run):
    maya = person("maya")
    ids = list(
        Package.objects.filter(state="in_review").order_by("id").values_list("id", flat=True)
    )
    approve_package(package_id=ids[0], person=maya, note="lumen-only note")
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    zoe = Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["content_lead"]
    )
    client.force_login(ensure_user(zoe, PASSWORD))
    for name in dashboards.WIDGETS:
        client.post(LAYOUT, {"action": "add", "widget": name})
    page = client.get(DASHBOARD)
    assert widgets(page) == [
        "my_queue",
        "sla_breaches",
        "pipeline",
        "recent_decisions",
        "blocked",
        "gate_throughput",
        "agent_activity",
        "operations",
        "operations_weekly",
    ]
    for name in ["my_queue", "sla_breaches", "pipeline", "blocked", "gate_throughput"]:
        assert figure(page, name) == 0, name
    for leak in ["LUM-SPR", "Spring Candles", "lumen-only note", "Maya Chen", "spring-candles"]:
        assert leak not in page.text, leak
    assert "data-package=" not in page.text
    for builder in (w.builder for w in dashboards.WIDGETS.values()):
        data = builder(zoe, other)
        assert not data.get("rows"), builder.__name__
    # Lumen's people never see Zoe's layout, and Zoe cannot change theirs.
    assert DashboardLayout.objects.filter(person__workspace=other).count() == 1
    assert not DashboardLayout.objects.filter(person=maya).exists()


# --- cost ---------------------------------------------------------------------------------


def _more_packages(brief, copies: int) -> None:
    """Add ``copies`` variants of every package (same current version) to grow the workspace."""
    originals = list(Package.objects.filter(brief=brief))
    Package.objects.bulk_create(
        Package(
            brief=brief,
            sku=p.sku,
            channel=p.channel,
            market=p.market,
            variant=chr(ord("B") + n),
            stage=p.stage,
            state=p.state,
            owner=p.owner,
            stage_entered_at=p.stage_entered_at - timedelta(hours=100),  # all over the SLA
            blocked_from=p.blocked_from,
            blocked_reasons=p.blocked_reasons,
            completeness=p.completeness,
            confidence=p.confidence,
            current_version=p.current_version,
        )
        for n in range(copies)
        for p in originals
    )


@pytest.mark.django_db
def test_dashboard_query_count_does_not_grow_with_packages(as_person, spring_run, spring_brief):
    client = as_person("ari")  # operator defaults, plus every other widget
    for name in dashboards.WIDGETS:
        client.post(LAYOUT, {"action": "add", "widget": name})
    # One package over its SLA first, so the SLA widget pays for its brief from the start.
    Package.objects.filter(pk=Package.objects.filter(state="in_review").first().pk).update(
        stage_entered_at=timezone.now() - timedelta(hours=100)
    )

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(DASHBOARD)
        assert len(widgets(response)) == len(dashboards.WIDGETS)
        return len(ctx.captured_queries)

    queries()  # warm the session
    small = queries()
    _more_packages(spring_brief, copies=10)  # 396 packages
    large = queries()
    assert Package.objects.count() == 396
    assert large == small
    assert small < 30


# --- the home page's list of briefs -----------------------------------------------------------


def _status_of(response, slug: str) -> str:
    assert response.status_code == 200, response.text[:500]
    item = re.search(
        rf'<li>.*?{re.escape(slug)}.*?<span class="chip [^"]*">([^<]*)</span>', response.text, re.S
    )
    assert item, f"{slug} is not listed"
    return item.group(1)


@pytest.mark.django_db
def test_each_brief_on_the_home_page_says_where_it_stands_in_words(
    as_person, spring_brief, person, example_dir
):
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief

    maya = as_person("maya")
    assert _status_of(maya.get(reverse("web:home")), spring_brief.slug) == "Brief intake"

    approve_brief(brief=spring_brief, person=person("maya"))
    assert _status_of(maya.get(reverse("web:home")), spring_brief.slug) == "No packages yet"
    spring_brief.refresh_from_db()
    run_brief(spring_brief)
    total = Package.objects.filter(brief=spring_brief).count()
    in_review = Package.objects.filter(brief=spring_brief, state="blocked").count()
    status = _status_of(maya.get(reverse("web:home")), spring_brief.slug)
    assert status.startswith(f"{total} packages")
    assert ("blocked or sent back" in status) == bool(in_review)
    assert "S1" not in status

    # A campaign has no brief gate: its brief is never "in review", its packages say it.
    with CaptureQueriesContext(connection) as one_brief:
        maya.get(reverse("web:home"))
    campaign = add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief
    with CaptureQueriesContext(connection) as two_briefs:
        home = maya.get(reverse("web:home"))
    assert _status_of(home, campaign.slug) == "No packages yet"
    assert len(two_briefs) == len(one_brief)  # a fixed number of queries, whatever the list
    campaign_board = maya.get(reverse("web:board", args=[campaign.slug])).text
    assert "brief: " not in campaign_board
    assert "&amp; G1" not in campaign_board  # the brief tab names no gate it does not have
    spring_board = maya.get(reverse("web:board", args=[spring_brief.slug])).text
    assert "brief: Approved" in spring_board
    assert "Brief &amp; G1</a>" in spring_board

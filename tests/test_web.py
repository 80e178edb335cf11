"""The web screens through Django's test client: scope, board, decisions, escaping, CSP."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fixable import fixable_finding
from image_helpers import give_images

from signoff.packages.authoring import edit_package
from signoff.packages.decisions import approve_package, review_package
from signoff.packages.models import Finding, Package
from signoff.web.accounts import ensure_user, ensure_users
from signoff.workspaces.models import Person, Workspace

SLUG = "spring-candles-2027"
PASSWORD = "correct horse battery staple"
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"


def board_url(**params: str) -> str:
    url = reverse("web:board", kwargs={"slug": SLUG})
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def rows(response) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="u-\w+" data-package="(\d+)"', response.text)]


@pytest.fixture
def users(lumen_workspace):
    ensure_users(lumen_workspace, PASSWORD)


@pytest.fixture
def as_person(client, person, users):
    """Sign the test client in as a Lumen Home person: as_person("maya")."""

    def sign_in(name: str):
        client.force_login(ensure_user(person(name)))
        return client

    return sign_in


# --- sign-in and scope ----------------------------------------------------------------------


@pytest.mark.django_db
def test_every_screen_needs_sign_in(client, spring_run):
    package = Package.objects.filter(state="in_review").first()
    for url in [
        reverse("web:home"),
        board_url(),
        reverse("web:brief", kwargs={"slug": SLUG}),
        reverse("web:matrix", kwargs={"slug": SLUG}),
        reverse("web:package", kwargs={"package_id": package.pk}),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("web:sign-in"))
    response = client.post(
        reverse("web:package-decide", kwargs={"package_id": package.pk}), {"action": "approve"}
    )
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.position == "S3/in_review"


@pytest.mark.django_db
def test_sign_in_with_email_and_password_then_sign_out(client, users, spring_run):
    page = client.get(reverse("web:sign-in"))
    assert page.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in page.text

    wrong = client.post(
        reverse("web:sign-in"), {"username": "maya@lumen.example", "password": "nope"}
    )
    assert wrong.status_code == 200
    assert "correct" in wrong.text.lower()  # Django's "enter a correct email and password"

    ok = client.post(
        reverse("web:sign-in"), {"username": "maya@lumen.example", "password": PASSWORD}
    )
    assert ok.status_code == 302
    home = client.get(reverse("web:home"))
    assert "Spring Candles 2027 launch" in home.text
    assert "Maya Chen" in home.text

    client.post(reverse("web:sign-out"))
    assert client.get(reverse("web:home")).status_code == 302


@pytest.mark.django_db
def test_an_inactive_person_cannot_sign_in(client, person, users):
    maya = person("maya")
    maya.active = False
    maya.save(update_fields=["active"])
    response = client.post(
        reverse("web:sign-in"), {"username": "maya@lumen.example", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "not an active member" in response.text


@pytest.mark.django_db
def test_other_workspaces_objects_are_404(client, spring_run):
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    zoe = Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["content_lead"]
    )
    client.force_login(ensure_user(zoe, PASSWORD))
    package = Package.objects.filter(state="in_review").first()

    assert client.get(reverse("web:home")).status_code == 200
    assert SLUG not in client.get(reverse("web:home")).text
    for url in [
        board_url(),
        reverse("web:brief", kwargs={"slug": SLUG}),
        reverse("web:matrix", kwargs={"slug": SLUG}),
        reverse("web:package", kwargs={"package_id": package.pk}),
    ]:
        assert client.get(url).status_code == 404, url
    decide = client.post(
        reverse("web:package-decide", kwargs={"package_id": package.pk}), {"action": "approve"}
    )
    assert decide.status_code == 404
    # A batch naming another workspace's package refuses it as not found, touching nothing.
    client.force_login(ensure_user(zoe))
    package.refresh_from_db()
    assert package.position == "S3/in_review"


# --- board ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_board_shows_the_36_spring_packages_and_whats_blocking(as_person, spring_run):
    client = as_person("maya")
    response = client.get(board_url())
    assert response.status_code == 200
    assert len(rows(response)) == 36
    text = response.text
    assert "0 of 36" in text  # ready to launch
    assert "LUM-SPR-RHB-08" in text
    assert "GTIN" in text
    assert "G2" in text
    assert "content_lead" in text
    assert "u-blocked" in text
    assert "u-on_time" in text


@pytest.mark.django_db
def test_board_filters_and_mine(as_person, spring_run):
    client = as_person("maya")
    assert len(rows(client.get(board_url(channel="amazon_us_pdp")))) == 6
    assert len(rows(client.get(board_url(sku="LUM-SPR-RHB-08")))) == 6
    assert len(rows(client.get(board_url(state="blocked")))) == 4
    assert len(rows(client.get(board_url(severity="info")))) > 0
    assert len(rows(client.get(board_url(mine="on")))) == 32  # maya owns G2
    ari = as_person("ari")
    assert len(rows(ari.get(board_url(mine="on")))) == 0  # an operator owns no gate


@pytest.mark.django_db
def test_board_filters_by_gate_and_owner(as_person, person, spring_run):
    from signoff.packages.assignment import reassign_item

    maya = person("maya")
    lav = list(Package.objects.filter(sku="LUM-SPR-LAV-08", state="in_review").order_by("id"))
    assert approve_package(package_id=lav[0].pk, person=maya).ok  # on to G3
    for package in lav[1:3]:
        assert reassign_item(package_id=package.pk, person=maya, owner_email="ari@lumen.example").ok
    client = as_person("maya")

    page = client.get(board_url())
    assert '<option value="G2">waiting on G2 · draft quality</option>' in page.text
    assert '<option value="G4">waiting on G4 · final launch approval</option>' in page.text
    assert '<option value="ari@lumen.example">ari@lumen.example</option>' in page.text
    assert rows(client.get(board_url(gate="G3"))) == [lav[0].pk]
    assert len(rows(client.get(board_url(gate="G2")))) == 31
    assert rows(client.get(board_url(gate="G4"))) == []
    assert rows(client.get(board_url(owner="ari@lumen.example"))) == [p.pk for p in lav[1:3]]
    assert len(rows(client.get(board_url(owner="maya@lumen.example")))) == 34
    combined = board_url(gate="G2", owner="ari@lumen.example", channel=lav[1].channel)
    assert rows(client.get(combined)) == [lav[1].pk]
    # An unknown value is dropped rather than failing the board.
    assert len(rows(client.get(board_url(gate="G9", owner="nobody")))) == 36


@pytest.mark.django_db
def test_board_htmx_request_returns_only_the_table(as_person, spring_run):
    client = as_person("maya")
    response = client.get(
        board_url(channel="meta_feed_ad"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board-table"
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="board-table"')
    assert len(rows(response)) == 6


def _more_packages(brief, copies: int) -> None:
    """Add ``copies`` variants of every package (same current version) to grow the board."""
    originals = list(Package.objects.filter(brief=brief))
    extra = []
    for n in range(copies):
        for p in originals:
            extra.append(
                Package(
                    brief=brief,
                    sku=p.sku,
                    channel=p.channel,
                    market=p.market,
                    variant=chr(ord("B") + n),
                    stage=p.stage,
                    state=p.state,
                    owner=p.owner,
                    stage_entered_at=p.stage_entered_at,
                    blocked_from=p.blocked_from,
                    blocked_reasons=p.blocked_reasons,
                    completeness=p.completeness,
                    confidence=p.confidence,
                    current_version=p.current_version,
                )
            )
    Package.objects.bulk_create(extra)


@pytest.mark.django_db
def test_board_query_count_does_not_grow_with_packages(as_person, spring_run, spring_brief):
    client = as_person("maya")
    client.get(board_url())  # warm the session

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries)

    small = queries(board_url())
    _more_packages(spring_brief, copies=5)  # 216 packages: five pages
    large = queries(board_url())
    last_page = client.get(board_url(page="5"))
    assert len(rows(client.get(board_url()))) == 50
    assert len(rows(last_page)) == 16
    assert large == small
    assert queries(board_url(page="3")) == small
    filtered = board_url(gate="G2", owner="maya@lumen.example", state="in_review", mine="on")
    assert queries(filtered) == small


# --- decisions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_maya_approves_at_g2_and_ari_is_refused_with_the_reason(as_person, spring_run):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    url = reverse("web:package-decide", kwargs={"package_id": package.pk})

    ari = as_person("ari")
    refused = ari.post(url, {"action": "approve", "note": ""}, follow=True)
    assert refused.status_code == 200
    assert "Refused (wrong_role)" in refused.text
    assert "content lead" in refused.text  # the role in plain words
    package.refresh_from_db()
    assert package.position == "S3/in_review"

    maya = as_person("maya")
    done = maya.post(url, {"action": "approve", "note": "reads well"}, follow=True)
    assert "G2 approved" in done.text
    package.refresh_from_db()
    assert package.position == "S5/in_review"
    # The next package in Maya's queue opened; this one's audit history has the approval.
    assert done.redirect_chain[-1][0] != reverse("web:package", kwargs={"package_id": package.pk})
    page = maya.get(reverse("web:package", kwargs={"package_id": package.pk}))
    assert "package.gate.approved" in page.text


@pytest.mark.django_db
def test_gate_panel_htmx_shows_refusal_inline(as_person, spring_run):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="walmart_us")
    url = reverse("web:package-decide", kwargs={"package_id": package.pk})
    maya = as_person("maya")
    response = maya.post(url, {"action": "reject", "note": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="gate-panel"')
    assert "note_required" in response.text
    ok = maya.post(url, {"action": "reject", "note": "lead with the scent"}, HTTP_HX_REQUEST="true")
    assert ok["HX-Redirect"].startswith("/")  # on to the next package in the queue
    assert "G2 rejected" in maya.get(reverse("web:package", kwargs={"package_id": package.pk})).text


@pytest.mark.django_db
def test_batch_approve_reports_each_item(as_person, person, spring_run):
    maya = person("maya")
    lav = list(Package.objects.filter(sku="LUM-SPR-LAV-08", state="in_review").order_by("id")[:3])
    blocked = Package.objects.filter(state="blocked").first()
    for p in lav[:2]:
        review_package(package_id=p.pk, person=maya)
    client = as_person("maya")
    ids = [p.pk for p in lav] + [blocked.pk]
    response = client.post(
        reverse("web:board-batch", kwargs={"slug": SLUG}),
        {"ids": ids, "action": "approve", "note": "batch"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "board-changed"
    items = re.findall(r'<li data-package="(\d+)">\s*<span class="(\w+)">', response.text)
    assert items == [
        (str(lav[0].pk), "ok"),
        (str(lav[1].pk), "ok"),
        (str(lav[2].pk), "refused"),
        (str(blocked.pk), "refused"),
    ]
    assert "has not marked this version reviewed" in response.text
    states = {p.pk: p.position for p in Package.objects.filter(pk__in=ids)}
    assert states[lav[0].pk] == states[lav[1].pk] == "S5/in_review"
    assert states[lav[2].pk] == "S3/in_review"


@pytest.mark.django_db
def test_batch_without_js_renders_the_board_with_results(as_person, spring_run):
    client = as_person("ari")
    package = Package.objects.filter(state="in_review").first()
    response = client.post(
        reverse("web:board-batch", kwargs={"slug": SLUG}),
        {"ids": [package.pk], "action": "approve"},
    )
    assert response.status_code == 200
    assert "<html" in response.text
    assert "refused" in response.text
    assert "content_lead" in response.text


@pytest.mark.django_db
def test_apply_a_suggested_fix_makes_a_new_version_by_that_person(as_person, person, spring_run):
    finding = fixable_finding(person)
    package = finding.version.package

    client = as_person("maya")
    page = client.get(reverse("web:package", kwargs={"package_id": package.pk}))
    assert "Apply fix as a new version" in page.text
    assert '<mark class="sev-block">Cheap</mark>' in page.text  # highlighted in place
    response = client.post(
        reverse("web:package-fix", kwargs={"package_id": package.pk}),
        {"finding": finding.pk},
        follow=True,
    )
    package.refresh_from_db()
    assert package.current_version.number == 3
    # An accepted suggestion is the checker's (the default workspace policy), accepted by Maya.
    assert package.current_version.author == "agent:brand_voice"
    assert package.current_version.origin["accepted_by"] == "maya@lumen.example"
    assert "Cheap" not in package.current_version.fields["title"]
    assert "version 3 saved" in response.text
    assert "<del>" in response.text
    assert "<ins>" in response.text

    # The old finding belongs to a stale version now: applying it again is a 404.
    again = client.post(
        reverse("web:package-fix", kwargs={"package_id": package.pk}), {"finding": finding.pk}
    )
    assert again.status_code == 404


@pytest.mark.django_db
def test_a_fix_the_service_refuses_is_said_with_the_apis_code(as_person, person, spring_run):
    finding = fixable_finding(person)
    package = finding.version.package
    Finding.objects.filter(pk=finding.pk).update(suggested_fix="")  # nothing to apply
    url = reverse("web:package-fix", kwargs={"package_id": package.pk})

    refused = as_person("maya").post(url, {"finding": finding.pk}, follow=True)

    assert "Refused (invalid_input)" in refused.text
    assert "suggests no fix to apply" in refused.text
    package.refresh_from_db()
    assert package.current_version.number == 2  # the title was not blanked
    other = Package.objects.exclude(pk=package.pk).first()
    elsewhere = reverse("web:package-fix", kwargs={"package_id": other.pk})
    assert as_person("maya").post(elsewhere, {"finding": finding.pk}).status_code == 404


@pytest.mark.django_db
def test_model_and_user_text_is_escaped(as_person, person, spring_run):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="meta_feed_ad")
    edit_package(
        package_id=package.pk,
        person=person("ari"),
        changes={"headline": XSS_SCRIPT, "primary_text": f"Calm evenings {XSS_IMG}"},
        note=f"note {XSS_SCRIPT}",
    )
    client = as_person("maya")
    page = client.get(reverse("web:package", kwargs={"package_id": package.pk}))
    assert page.status_code == 200
    assert XSS_SCRIPT not in page.text
    assert XSS_IMG not in page.text
    assert "onerror=alert" not in page.text.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    # Every script on the page is one of our static files.
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert '<script src="/static/web/htmx.min.js" defer>' in scripts
    assert all(re.fullmatch(r'<script src="/static/web/[\w.]+\.js" defer>', s) for s in scripts)


@pytest.mark.django_db
def test_csp_header_on_every_page(client, as_person, spring_run):
    sign_in = client.get(reverse("web:sign-in"))
    csp = sign_in["Content-Security-Policy"]
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
    ]:
        assert directive in csp
    maya = as_person("maya")
    package = Package.objects.first()
    for url in [
        board_url(),
        reverse("web:package", kwargs={"package_id": package.pk}),
        reverse("web:brief", kwargs={"slug": SLUG}),
        reverse("web:matrix", kwargs={"slug": SLUG}),
    ]:
        response = maya.get(url)
        assert response["Content-Security-Policy"] == csp, url
        assert "style=" not in response.text, url  # no inline styles either


@pytest.mark.django_db
def test_forms_need_csrf(person, users, spring_run):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ensure_user(person("maya")))
    package = Package.objects.filter(state="in_review").first()
    response = client.post(
        reverse("web:package-decide", kwargs={"package_id": package.pk}), {"action": "approve"}
    )
    assert response.status_code == 403
    package.refresh_from_db()
    assert package.position == "S3/in_review"


# --- brief and matrix -----------------------------------------------------------------------


@pytest.mark.django_db
def test_brief_page_shows_the_g1_diff_and_approves(as_person, spring_brief):
    client = as_person("maya")
    url = reverse("web:brief", kwargs={"slug": SLUG})
    page = client.get(url)
    assert page.status_code == 200
    assert "enriched brief" in page.text
    assert 'class="add"' in page.text
    assert "Approve brief version 1" in page.text
    ari = as_person("ari")
    refused = ari.post(reverse("web:brief-approve", kwargs={"slug": SLUG}), follow=True)
    assert "Refused (wrong_role)" in refused.text
    maya = as_person("maya")
    done = maya.post(
        reverse("web:brief-approve", kwargs={"slug": SLUG}), {"note": "go"}, follow=True
    )
    assert "G1 approved" in done.text
    spring_brief.refresh_from_db()
    assert spring_brief.approved_version is not None


@pytest.mark.django_db
def test_brief_page_completeness_per_sku(as_person, spring_run):
    page = as_person("maya").get(reverse("web:brief", kwargs={"slug": SLUG}))
    assert "Completeness per SKU" in page.text
    assert "burn time hours" in page.text
    assert page.text.count("complete</span>") == 5


def approve_channel(brief, channel: str, person) -> None:
    """Give every package of a channel the images it requires, then pass G2, G3 and G4,
    through the services."""
    packages = list(Package.objects.filter(brief=brief, channel=channel))
    give_images(packages)
    for package in packages:
        for name in ("maya", "omar", "lena"):
            result = approve_package(package_id=package.pk, person=person(name))
            assert result.ok, result.message


@pytest.mark.django_db
def test_matrix_launches_a_channel_after_confirmation(
    as_person, person, spring_run, spring_brief, settings, tmp_path
):
    settings.SIGNOFF_EXPORT_DIR = tmp_path / "exports"
    approve_channel(spring_brief, "meta_feed_ad", person)
    url = reverse("web:matrix", kwargs={"slug": SLUG})
    client = as_person("lena")
    page = client.get(url)
    assert "point of no return" in page.text
    assert "Launch Meta feed ad" in page.text  # the channel's display name
    assert "Launch Amazon US product page" not in page.text  # not every package passed G4

    launch = reverse("web:launch", kwargs={"slug": SLUG})
    unconfirmed = client.post(launch, {"channel": "meta_feed_ad"}, follow=True)
    assert "Nothing launched" in unconfirmed.text
    refused = client.post(launch, {"channel": "amazon_us_pdp", "confirm": "on"}, follow=True)
    assert "Refused (invalid_state)" in refused.text
    for channel in ("../../escaped", "meta_feed_ad/../../x"):  # only the brief's channels
        path = client.post(launch, {"channel": channel, "confirm": "on"}, follow=True)
        assert "Refused (invalid_input)" in path.text
        assert "is not a channel of brief" in path.text
    assert not (tmp_path / "escaped").exists()
    assert not (tmp_path / "exports" / "x").exists()
    done = client.post(launch, {"channel": "meta_feed_ad", "confirm": "on"}, follow=True)
    assert "meta_feed_ad launched: 6 packages published" in done.text
    assert Package.objects.filter(channel="meta_feed_ad", state="published").count() == 6
    assert (tmp_path / "exports" / "lumen-home" / SLUG / "meta_feed_ad" / "manifest.json").exists()


# --- batch reassign -------------------------------------------------------------------------


def _batch_items(response) -> list[tuple[str, str]]:
    return re.findall(r'<li data-package="(\d+)">\s*<span class="(\w+)">', response.text)


@pytest.mark.django_db
def test_board_offers_reassign_to_a_person_of_the_workspace(as_person, spring_run):
    page = as_person("maya").get(board_url())

    assert '<option value="reassign">Reassign to' in page.text
    assert '<select name="owner"' in page.text
    assert '<option value="ari@lumen.example">Ari Novak (operator)</option>' in page.text


@pytest.mark.django_db
def test_maya_reassigns_two_packages_to_ari(as_person, spring_run):
    from signoff.audit.models import Event

    packages = list(Package.objects.order_by("id")[:2])
    response = as_person("maya").post(
        reverse("web:board-batch", kwargs={"slug": SLUG}),
        {"ids": [p.pk for p in packages], "action": "reassign", "owner": "ari@lumen.example"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert response["HX-Trigger"] == "board-changed"
    assert _batch_items(response) == [(str(p.pk), "ok") for p in packages]
    assert response.text.count("reassigned") == 2
    assert "now owned by ari@lumen.example" in response.text
    owners = set(Package.objects.filter(pk__in=[p.pk for p in packages]).values_list("owner"))
    assert owners == {("ari@lumen.example",)}
    events = Event.objects.filter(action="package.reassigned").order_by("seq")
    assert [(e.subject_id, e.actor, e.data["to"]) for e in events] == [
        (str(p.pk), "maya@lumen.example", "ari@lumen.example") for p in packages
    ]


@pytest.mark.django_db
def test_batch_reassign_without_an_owner_is_refused_per_item(as_person, spring_run):
    packages = list(Package.objects.order_by("id")[:2])
    owners = {p.pk: p.owner for p in packages}
    response = as_person("maya").post(
        reverse("web:board-batch", kwargs={"slug": SLUG}),
        {"ids": [p.pk for p in packages], "action": "reassign", "owner": ""},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert _batch_items(response) == [(str(p.pk), "refused") for p in packages]
    assert response.text.count("choose the person to reassign the package to") == 2
    assert {p.pk: p.owner for p in Package.objects.filter(pk__in=owners)} == owners


@pytest.mark.django_db
def test_batch_reassign_refuses_another_workspaces_packages(as_person, spring_run, spring_brief):
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["operator"]
    )
    theirs = Package.objects.order_by("id").first()
    foreign_brief = spring_brief
    foreign_brief.pk = None
    foreign_brief.workspace = other
    foreign_brief.approved_version = None
    foreign_brief.save()
    foreign = Package.objects.create(
        brief=foreign_brief,
        sku=theirs.sku,
        channel=theirs.channel,
        market=theirs.market,
        variant=theirs.variant,
        stage=theirs.stage,
        state=theirs.state,
        owner="zoe@other.example",
        stage_entered_at=theirs.stage_entered_at,
    )
    mine = theirs

    response = as_person("maya").post(
        reverse("web:board-batch", kwargs={"slug": SLUG}),
        {"ids": [foreign.pk, mine.pk], "action": "reassign", "owner": "zoe@other.example"},
        HTTP_HX_REQUEST="true",
    )

    # another workspace's package does not exist here, and its people are nobody here either
    assert _batch_items(response) == [(str(foreign.pk), "refused"), (str(mine.pk), "refused")]
    assert f"no package {foreign.pk}" in response.text
    assert "zoe@other.example is not an active person of lumen-home" in response.text
    foreign.refresh_from_db()
    assert foreign.owner == "zoe@other.example"
    assert Package.objects.get(pk=mine.pk).owner == mine.owner != "zoe@other.example"


def test_a_comment_on_the_package_page_is_kept_in_memory(client, spring_run, lumen_workspace):
    from signoff.audit.models import Event
    from signoff.memory.search import search_notes
    from signoff.packages.models import Package
    from signoff.web.accounts import ensure_user

    package = Package.objects.filter(state="in_review").first()
    maya = lumen_workspace.people.get(email="maya@lumen.example")
    ensure_user(maya, "lantern-meadow-quiet")
    assert client.login(username=maya.email, password="lantern-meadow-quiet")
    page = client.get(f"/packages/{package.pk}/")
    assert b"Add comment" in page.content
    client.post(f"/packages/{package.pk}/comment/", {"text": "Lead with the cedar note"})
    (found,) = search_notes(workspace_id=lumen_workspace.pk, query="cedar note")
    assert (found.kind, found.package_id, found.person) == ("comment", package.pk, maya.email)
    assert Event.objects.filter(action="package.commented", subject_id=str(package.pk)).exists()
    empty = client.post(f"/packages/{package.pk}/comment/", {"text": "  "}, follow=True)
    assert b"a comment needs some text" in empty.content


@pytest.mark.django_db
def test_the_package_diff_names_claims_an_edit_dropped_and_added(as_person, person, spring_run):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="google_merchant")
    text = package.current_version.fields["description"]
    assert ", hand-poured in Vermont" in text
    edit_package(
        package_id=package.pk,
        person=person("ari"),
        changes={
            "description": text.replace(", hand-poured in Vermont", "") + " A clean burning candle."
        },
    )
    page = as_person("maya").get(reverse("web:package", kwargs={"package_id": package.pk}))
    assert "claim removed: &#x27;hand-poured&#x27;" in page.text
    assert "claim added: &#x27;clean-burning&#x27;" in page.text

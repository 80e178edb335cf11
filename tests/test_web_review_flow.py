"""Issue 17, points 1, 4, 5 and 8 through the web app, the API and the CLI: rules visible
before they bite, the review flow, plain words, and suggested fixes that keep meaning."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from signoff.audit.models import Event
from signoff.packages.authoring import apply_fix, edit_package
from signoff.packages.decisions import approve_package, review_package
from signoff.packages.models import Finding, Package
from signoff.web.accounts import ensure_user, ensure_users
from signoff.web.models import SavedView
from signoff.workflow import AuthorityError, ErrorCode
from signoff.workspaces.models import Workspace
from signoff.workspaces.tokens import issue_token

SLUG = "spring-candles-2027"
BOARD = reverse("web:board", kwargs={"slug": SLUG})
MATRIX = reverse("web:matrix", kwargs={"slug": SLUG})


@pytest.fixture
def as_person(client, person, lumen_workspace):
    ensure_users(lumen_workspace, "not-a-real-password-1")

    def sign_in(name: str):
        client.force_login(ensure_user(person(name)))
        return client

    return sign_in


def lav(channel: str = "amazon_us_pdp") -> Package:
    return Package.objects.select_related("current_version").get(
        sku="LUM-SPR-LAV-08", channel=channel
    )


def page_of(client, package: Package) -> str:
    return client.get(reverse("web:package", kwargs={"package_id": package.pk})).text


def approve_button(html: str) -> str:
    return re.search(r'<button type="submit" name="action" value="approve"[^>]*>', html).group()


# --- point 1: the rules, visible before they bite -------------------------------------------


@pytest.mark.django_db
def test_who_can_act_is_said_before_acting_on_web_api_and_cli(
    as_person, api, cli, person, spring_run
):
    package = lav()
    maya = as_person("maya")
    before = page_of(maya, package)
    assert "Maya Chen can approve." in before
    assert "disabled" not in approve_button(before)
    # The edit says beforehand what it will cost her: she is the workspace's only content lead.
    assert (
        "You will not be able to approve the new version at G2 (draft quality); nobody else "
        "holds Content lead." in before
    )

    edit_package(package_id=package.pk, person=person("maya"), changes={"title": "Calm Candle"})
    after = page_of(maya, package)
    assert "disabled" in approve_button(after)
    assert "Approve is unavailable: You authored or edited this version" in after
    assert "Nobody can approve this version at G2" in after
    assert "Maya Chen cannot: wrote or edited this version." in after
    # The panel said what the gate says: the decision is refused for the same reason.
    with pytest.raises(AuthorityError) as refused:
        approve_package(package_id=package.pk, person=person("maya"))
    assert refused.value.code is ErrorCode.MAKER_CHECKER

    omar = page_of(as_person("omar"), package)
    assert "disabled" in approve_button(omar)
    assert "Approve is unavailable: You (compliance) may not approve at G2" in omar
    assert "Reject is unavailable" in omar

    # The API's package answer carries the same selector's answer ...
    answer = api("maya").get(f"/api/packages/{package.pk}").json()
    assert answer["position_label"] == "Draft review"
    assert answer["channel_label"] == "Amazon US product page"
    eligibility = answer["eligibility"]
    assert eligibility["gate"] == "G2"
    assert eligibility["can_approve"] == []
    maya_cannot = {"email": "maya@lumen.example", "name": "Maya Chen"}
    assert eligibility["cannot_approve"] == [
        {**maya_cannot, "reason": "wrote or edited this version"}
    ]
    assert eligibility["you"]["approve"]["code"] == "maker_checker"
    assert eligibility["you"]["review"]["allowed"] is True

    # ... and so does `signoff show`.
    token = issue_token(email="omar@lumen.example", workspace="lumen-home")
    shown = cli("show", str(package.pk), token=token)
    assert shown.exit_code == 0, shown.output
    assert "Nobody can approve this version at G2" in shown.output
    assert "Maya Chen cannot: wrote or edited this version." in shown.output
    assert "You cannot approve: You (compliance) may not approve at G2" in shown.output


def cheap_title(package: Package, person) -> Finding:
    """Ari writes "Cheap" into the package's title: the voice check suggests "Affordable"."""
    title = package.current_version.fields["title"]
    edit_package(
        package_id=package.pk,
        person=person("ari"),
        changes={"title": title.replace("Candle", "Cheap Candle", 1)},
    )
    package.refresh_from_db()
    return package.current_version.findings.get(rule_id="voice.banned_phrase")


@pytest.mark.django_db
def test_an_accepted_suggestion_is_the_checkers_unless_the_policy_says_person(
    as_person, person, spring_run
):
    package = lav()
    finding = cheap_title(package, person)
    html = page_of(as_person("maya"), package)
    # The fix is shown as the phrase that changes, not the whole title ...
    assert "<del>Cheap</del> <ins>Affordable</ins>" in html
    assert f">{finding.suggested_fix}<" not in html
    # ... and what applying it would cause is said before the click.
    assert "Recorded as an accepted suggestion, not your edit" in html

    apply_fix(package_id=package.pk, finding_id=finding.pk, person=person("maya"))
    package.refresh_from_db()
    version = package.current_version
    assert version.author == "agent:brand_voice"
    assert version.origin["kind"] == "suggestion"
    assert version.origin["accepted_by"] == "maya@lumen.example"
    event = Event.objects.filter(action="package.edited").latest("seq")
    assert event.actor == "maya@lumen.example"
    assert event.data["accepted_suggestion"]["rule_id"] == "voice.banned_phrase"
    # Ari's free edit still makes Ari a maker; Maya accepted the fix and may approve.
    assert approve_package(package_id=package.pk, person=person("maya")).ok

    # Under `accepted_suggestion_authorship: person` the fix is the acceptor's edit.
    Workspace.objects.filter(slug="lumen-home").update(
        policies={"accepted_suggestion_authorship": "person"}
    )
    other = Package.objects.get(sku="LUM-SPR-NER-08", channel="amazon_us_pdp")
    finding = cheap_title(other, person)
    assert "You will not be able to approve the new version at G2" in page_of(
        as_person("maya"), other
    )
    apply_fix(package_id=other.pk, finding_id=finding.pk, person=person("maya"))
    other.refresh_from_db()
    assert other.current_version.author == "maya@lumen.example"
    with pytest.raises(AuthorityError) as refused:
        approve_package(package_id=other.pk, person=person("maya"))
    assert refused.value.code is ErrorCode.MAKER_CHECKER

    # Point 8: under a negation, swapping the banned word would change the meaning: no fix.
    edit_package(
        package_id=other.pk,
        person=person("ari"),
        changes={"title": "Lavender candle, never cheap on scent"},
    )
    other.refresh_from_db()
    negated = other.current_version.findings.get(rule_id="voice.banned_phrase")
    assert negated.suggested_fix == ""
    assert "no automatic fix" in negated.message


# --- point 4: the review flow ---------------------------------------------------------------


@pytest.mark.django_db
def test_review_flow_next_in_queue_one_pass_sorting_views_and_shortcuts(
    as_person, client, spring_run
):
    maya = as_person("maya")
    waiting = list(
        Package.objects.filter(brief__slug=SLUG, stage="S3", state="in_review").order_by("id")
    )
    first, second, third = waiting[:3]
    page = maya.get(reverse("web:package", kwargs={"package_id": first.pk}))
    assert f"1 of {len(waiting)} waiting on you" in page.text
    assert f'href="/packages/{second.pk}/" data-shortcut="next"' in page.text

    done = maya.post(
        reverse("web:package-decide", kwargs={"package_id": first.pk}), {"action": "approve"}
    )
    assert done["Location"] == reverse("web:package", kwargs={"package_id": second.pk})
    # Marking reviewed is not a decision: the page stays.
    decide_second = reverse("web:package-decide", kwargs={"package_id": second.pk})
    stay = maya.post(decide_second, {"action": "review"})
    assert stay["Location"] == reverse("web:package", kwargs={"package_id": second.pk})
    moved = maya.post(decide_second, {"action": "approve"}, HTTP_HX_REQUEST="true")
    assert moved["HX-Redirect"] == reverse("web:package", kwargs={"package_id": third.pk})

    # Review and approve: one pass over a selection that records both decisions.
    ids = [p.pk for p in waiting[2:5]]
    batch = maya.post(
        reverse("web:board-batch", kwargs={"slug": SLUG}),
        {"ids": ids, "action": "review_approve"},
        HTTP_HX_REQUEST="true",
    )
    assert batch.text.count("marked reviewed; G2 approved") == 3
    for package_id in ids:
        actions = set(
            Event.objects.filter(subject_id=str(package_id)).values_list("action", flat=True)
        )
        assert {"package.reviewed", "package.gate.approved"} <= actions
    assert set(Package.objects.filter(pk__in=ids).values_list("stage", flat=True)) == {"S5"}

    # The board: sorted, the brief's deadline, a copy snippet per row, plain words.
    board = maya.get(BOARD, {"sort": "channel"}).text
    rows = [int(i) for i in re.findall(r'<tr class="u-\w+" data-package="(\d+)"', board)]
    assert rows != sorted(rows)
    channels = list(Package.objects.filter(pk__in=rows).order_by("channel", "sku", "variant", "id"))
    assert rows == [p.pk for p in channels]
    assert "Due Feb 15, 2027" in board
    assert re.search(r'data-copy="[^"]+" aria-label="Copy the headline copy of package', board)
    assert "Compliance review" in board
    assert "Amazon US product page" in board
    assert "S5</td>" not in board

    # Saved views are per person, and keep only the board's own parameters.
    saved = maya.post(
        reverse("web:board-view-save", kwargs={"slug": SLUG}),
        {"name": "Blocking first", "params": "sort=findings&mine=on&page=3&evil=1"},
    )
    assert saved.status_code == 302
    view = SavedView.objects.get(name="Blocking first")
    assert view.params == "mine=on&sort=findings"
    assert 'data-view="Blocking first"' in maya.get(BOARD).text
    omar = as_person("omar")
    assert 'data-view="Blocking first"' not in omar.get(BOARD).text
    delete = reverse("web:board-view-delete", kwargs={"slug": SLUG, "view_id": view.pk})
    assert omar.post(delete).status_code == 404  # not Omar's view
    assert SavedView.objects.filter(pk=view.pk).exists()

    # The keyboard shortcuts come from a static file (the CSP allows no inline script).
    for url in (BOARD, reverse("web:package", kwargs={"package_id": third.pk})):
        html = omar.get(url).text
        assert '<script src="/static/web/review.js" defer></script>' in html
        assert '<dialog id="shortcuts"' in html
    assert client.get("/static/web/review.js").status_code == 200


# --- the matrix, compare and plain words ----------------------------------------------------


@pytest.mark.django_db
def test_matrix_review_g4_copy_compare_highlights_and_plain_words(as_person, person, spring_run):
    package = lav("meta_feed_ad")
    approve_package(package_id=package.pk, person=person("maya"))
    approve_package(package_id=package.pk, person=person("omar"))  # now waits on G4
    lena = as_person("lena")
    page = lena.get(MATRIX).text
    assert f'data-copy-of="{package.pk}"' in page
    assert package.current_version.fields["headline"] in page
    assert "Copy G4 approves (v1)" in page
    assert "Meta feed ad" in page
    # Marking reviewed from the matrix, before the channel's batch approval.
    lena.post(reverse("web:matrix-review", kwargs={"slug": SLUG}), {"package": package.pk})
    assert package.reviews.filter(person="lena@lumen.example").exists()
    assert '<small class="reviewed">reviewed by you</small>' in lena.get(MATRIX).text

    # Compare marks only the words that differ.
    amazon = lav()
    title = amazon.current_version.fields["title"]
    edit_package(
        package_id=amazon.pk,
        person=person("ari"),
        changes={"title": title.replace("Candle", "Calm Candle", 1)},
    )
    compare = reverse("web:package-compare", kwargs={"package_id": amazon.pk})
    html = lena.get(compare, {"version": 1}).text
    assert '<mark class="differs">Calm</mark>' in html
    assert html.count('<mark class="differs">') == 1

    # The package page in plain words.
    review_package(package_id=amazon.pk, person=person("maya"))
    html = page_of(lena, amazon)
    assert "Draft review</span>" in html
    assert "S3 · in review" not in html
    assert "Amazon US product page" in html
    assert "by Maya Chen" in html  # the audit history names people
    assert "Ari Novak" in html

"""What each role needs on screen: the claims registry (compliance), the board's claim filter,
the launch bundle and manifest to download, and the CMO's and CEO's own dashboard sections."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from image_helpers import give_images

from signoff.audit.models import Event
from signoff.packages.claim_usage import packages_by_claim
from signoff.packages.decisions import approve_package
from signoff.packages.models import Package
from signoff.web.accounts import ensure_user
from signoff.workspaces.models import Claim, Person

BRIEF = "spring-candles-2027"
CHANNEL = "meta_feed_ad"
CLAIM = "hand-poured"


def _board_ids(response) -> set[int]:
    return {int(i) for i in re.findall(r'data-package="(\d+)"', response.text)}


@pytest.mark.django_db
def test_claims_registry_filter_withdraw_reinstate_and_board_filter(
    as_person, api, spring_run, lumen_workspace
):
    using = {p.pk for p in packages_by_claim(lumen_workspace)[CLAIM]}
    assert using
    omar = as_person("omar")

    page = omar.get(reverse("web:claims"))
    assert page.status_code == 200
    for claim in Claim.objects.filter(workspace=lumen_workspace):
        assert f'data-claim="{claim.claim_id}"' in page.text
    section = re.search(rf'data-claim="{CLAIM}".*?</section>', page.text, re.S).group(0)
    assert {int(i) for i in re.findall(r'href="/packages/(\d+)/"', section)} == using
    approved = omar.get(reverse("web:claims") + "?status=approved")
    assert 'data-claim="non-toxic"' not in approved.text
    assert f'data-claim="{CLAIM}"' in approved.text
    assert 'data-claim="eco"' not in omar.get(reverse("web:claims") + "?q=hand").text

    # The board's claim filter: exactly the brief's packages whose copy makes the claim.
    board = omar.get(reverse("web:board", kwargs={"slug": BRIEF}) + f"?claim={CLAIM}")
    assert _board_ids(board) == using
    rows = api("omar").get(f"/api/briefs/{BRIEF}/board", claim=CLAIM, limit=500).json()
    assert {r["id"] for r in rows["items"]} == using

    # Only compliance changes a claim, and always with a note.
    maya = as_person("maya")
    assert 'class="claim-actions"' not in maya.get(reverse("web:claims")).text
    status_url = reverse("web:claim-status", kwargs={"claim_id": CLAIM})
    refused = maya.post(status_url, {"action": "withdraw", "note": "x"}, follow=True)
    assert "Refused" in refused.text
    omar = as_person("omar")
    no_note = omar.post(status_url, {"action": "withdraw", "note": ""}, follow=True)
    assert "say why" in no_note.text
    assert Claim.objects.get(claim_id=CLAIM, workspace=lumen_workspace).status == "approved"

    done = omar.post(status_url, {"action": "withdraw", "note": "supplier changed"}, follow=True)
    assert "released" in done.text
    assert Claim.objects.get(claim_id=CLAIM, workspace=lumen_workspace).status == "withdrawn"
    blocked = set(
        Package.objects.filter(pk__in=using, state="blocked").values_list("pk", flat=True)
    )
    assert blocked == using
    event = Event.objects.filter(action="claim.status_changed").last()
    assert event.note == "supplier changed"
    assert event.actor == "omar@lumen.example"
    holding = omar.get(reverse("web:claims") + "?use=holding")
    assert re.findall(r'data-claim="([^"]+)"', holding.text) == [CLAIM]
    assert "blocked by this claim" in holding.text
    assert "supplier changed" in holding.text
    listed = api("omar").get("/api/claims", use="holding").json()
    assert [c["claim_id"] for c in listed] == [CLAIM]
    assert listed[0]["blocked"] == len(using)
    assert listed[0]["last_change"]["note"] == "supplier changed"
    assert {p["id"] for p in listed[0]["packages"]} == using

    omar.post(status_url, {"action": "reinstate", "note": "new supplier certified"})
    assert not Package.objects.filter(pk__in=using, state="blocked").exists()
    assert api("omar").get("/api/claims", use="holding").json() == []


@pytest.fixture
def launched(spring_run, spring_brief, person, settings, tmp_path):
    """The spring brief's meta_feed_ad channel through every gate, then launched."""
    from signoff.delivery.services import launch_channel

    settings.SIGNOFF_HOME = tmp_path
    packages = Package.objects.filter(brief=spring_brief, channel=CHANNEL).order_by("id")
    give_images(packages)
    for package in packages:
        for name in ("maya", "omar", "lena"):
            assert approve_package(package_id=package.pk, person=person(name)).ok
    return launch_channel(brief=spring_brief, channel=CHANNEL, person=person("lena"))


@pytest.mark.django_db
def test_launch_downloads_and_role_dashboards(
    as_person, api, client, launched, other_workspace, settings
):
    omar = as_person("omar")
    matrix = omar.get(reverse("web:matrix", kwargs={"slug": BRIEF}))
    bundle_url = reverse("web:launch-bundle", kwargs={"slug": BRIEF, "channel": CHANNEL})
    manifest_url = reverse("web:launch-manifest", kwargs={"slug": BRIEF, "channel": CHANNEL})
    assert bundle_url in matrix.text
    assert manifest_url in matrix.text

    bundle = omar.get(bundle_url)
    assert bundle.status_code == 200
    assert bundle["Content-Type"] == "application/zip"
    assert bundle["Signoff-Manifest-Hash"] == launched.manifest_hash
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert f"{BRIEF}-{CHANNEL}/manifest.json" in names
    written = (Path(launched.bundle) / "manifest.json").read_bytes()
    manifest = omar.get(manifest_url)
    assert manifest.content == written
    assert json.loads(manifest.content)["launched_by"] == "lena@lumen.example"
    not_launched = reverse("web:launch-bundle", kwargs={"slug": BRIEF, "channel": "walmart_us"})
    assert omar.get(not_launched).status_code == 404

    # Members of another workspace get nothing, whatever the path says.
    stranger = Person.objects.get(workspace=other_workspace, email="omar@other.example")
    client.force_login(ensure_user(stranger))
    assert client.get(bundle_url).status_code == 404
    assert client.get(manifest_url).status_code == 404

    # The CMO decides launches: the plan per channel. The CEO: the set and its outcomes.
    sofia = as_person("sofia")
    cmo = sofia.get(reverse("web:dashboard"))
    plan = re.search(r'id="cmo-launch-plan".*?</section>', cmo.text, re.S).group(0)
    assert re.search(rf'data-channel="{CHANNEL}">.*?launched</td>', plan, re.S)
    assert 'id="ceo-set"' not in cmo.text
    daniel = as_person("daniel")
    ceo = daniel.get(reverse("web:dashboard"))
    row = re.search(rf'data-brief="{BRIEF}">(.*?)</tr>', ceo.text, re.S).group(1)
    numbers = [int(n) for n in re.findall(r'class="num">(\d+)<', row)]
    published = Package.objects.filter(state="published").count()
    assert published == len(launched.packages)
    assert published in numbers
    assert 'id="cmo-launch-plan"' not in ceo.text
    role = api("daniel").get("/api/dashboard/role").json()
    (outcome,) = [b for b in role["ceo_set"] if b["brief"] == BRIEF]
    assert (outcome["channels_launched"], outcome["published"]) == (1, published)
    assert role["cmo_plan"] is None
    assert role["claims_summary"] is None
    plan = api("sofia").get("/api/dashboard/role").json()["cmo_plan"]
    channels = {c["channel"]: c for c in plan[0]["channels"]}
    assert channels[CHANNEL]["decision"] == "launched"
    assert channels[CHANNEL]["ready"] == channels[CHANNEL]["total"]

    # A bundle gone from the export folder is a 404, never another file.
    shutil.rmtree(launched.bundle)
    assert omar.get(bundle_url).status_code == 404

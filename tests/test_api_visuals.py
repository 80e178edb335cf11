"""The images API: references, queued batches, rating, selection, edits, files, renditions."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from api_helpers import api_error

from signoff.packages.models import Package
from signoff.visuals.models import ImageVersion, Reference

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def campaign(lumen_workspace, example_dir: Path, settings):
    from signoff.briefs.services import add_brief

    settings.TASKS = IMMEDIATE
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024
    return add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief


def _generate(api, n: int = 2) -> list[dict]:
    response = api("ari").post(f"/api/briefs/{CAMPAIGN}/images/runs", {"n": n, "skus": [EMBER]})
    assert response.status_code == 202, response.content
    run = api("ari").get(response.json()["location"]).json()
    assert run["status"] == "finished"
    return api("ari").get(f"/api/briefs/{CAMPAIGN}/images", sku=EMBER).json()


@pytest.mark.django_db
def test_references_upload_and_refusals(api, campaign, example_dir):
    data = (example_dir / "references" / "winter-hero.png").read_bytes()
    body = {
        "kind": "previous_winner",
        "note": "December 2025 hero",
        "files": [{"name": "hero-2025.png", "data_base64": base64.b64encode(data).decode()}],
    }
    response = api("ari").post(f"/api/briefs/{CAMPAIGN}/references", body)
    assert response.status_code == 201, response.content
    (added,) = response.json()
    assert added["kind"] == "previous_winner"
    assert added["note"] == "December 2025 hero"
    listed = api("ari").get(f"/api/briefs/{CAMPAIGN}/references").json()
    assert {r["kind"] for r in listed} == {"packshot", "brand_example", "previous_winner"}
    # Not base64, not an image: located problems, nothing stored.
    count = Reference.objects.count()
    body["files"] = [
        {"name": "a.png", "data_base64": "%%%"},
        {"name": "b.png", "data_base64": base64.b64encode(b"hello").decode()},
    ]
    error = api_error(
        api("ari").post(f"/api/briefs/{CAMPAIGN}/references", body), 422, "invalid_input"
    )
    assert {p["field"] for p in error["problems"]} == {"files.0.data_base64"}
    body["files"] = body["files"][1:]
    error = api_error(
        api("ari").post(f"/api/briefs/{CAMPAIGN}/references", body), 422, "invalid_input"
    )
    assert error["problems"][0]["field"] == "files.0"
    assert Reference.objects.count() == count
    # Someone who works on no gate of the campaign may not add references.
    api_error(api("lena").post(f"/api/briefs/{CAMPAIGN}/references", body), 403, "wrong_role")


@pytest.mark.django_db
def test_a_queued_batch_then_rate_select_edit_and_files(api, campaign, other_workspace):
    options = _generate(api)
    assert [o["number"] for o in options] == [1, 2]
    first = options[0]
    assert first["provider"] == "builtin"
    file = api("ari").get(f"/api/images/{first['id']}/file")
    assert file.status_code == 200
    assert file["Content-Type"] == "image/png"
    assert b"".join(file.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"
    # Another workspace sees none of it.
    api_error(api("ari", "other-brand").get(f"/api/images/{first['id']}"), 404, "not_found")
    api_error(api("ari", "other-brand").get(f"/api/images/{first['id']}/file"), 404, "not_found")

    rated = api("maya").post(f"/api/images/{first['id']}/rate", {"stars": 5, "tags": ["warm"]})
    assert rated.status_code == 200
    assert rated.json()["ratings"][0]["stars"] == 5
    api_error(
        api("maya").post(f"/api/images/{first['id']}/rate", {"stars": 9}), 422, "invalid_input"
    )
    api_error(api("ari").post(f"/api/images/{first['id']}/select", {}), 403, "wrong_role")
    selected = api("sofia").post(f"/api/images/{first['id']}/select", {"note": "warmest"})
    assert selected.status_code == 200
    assert selected.json()["status"] == "selected"
    api_error(api("sofia").post(f"/api/images/{first['id']}/select", {}), 409, "invalid_state")

    edited = api("sofia").post(f"/api/images/{first['id']}/edits", {"upscale": 2})
    assert edited.status_code == 201, edited.content
    assert edited.json()["parent"] == first["id"]
    assert edited.json()["size"] == [first["size"][0] * 2, first["size"][1] * 2]
    api_error(api("sofia").post(f"/api/images/{first['id']}/edits", {}), 422, "invalid_input")


@pytest.mark.django_db
def test_render_is_queued_and_attaches_renditions(api, campaign):
    from signoff.packages.services import run_brief

    run_brief(campaign)
    options = _generate(api, n=1)
    assert api("sofia").post(f"/api/images/{options[0]['id']}/select", {}).status_code == 200
    response = api("ari").post(f"/api/briefs/{CAMPAIGN}/renditions", {"skus": [EMBER]})
    assert response.status_code == 202, response.content
    detail = api("ari").get(f"/api/images/{options[0]['id']}").json()
    slots = {(r["channel"], r["slot"]) for r in detail["renditions"]}
    assert ("instagram_post", "feed_4x5") in slots
    rendition = detail["renditions"][0]
    file = api("ari").get(f"/api/renditions/{rendition['id']}/file")
    assert file.status_code == 200
    assert rendition["file"] in file["Content-Disposition"]
    package = Package.objects.get(brief=campaign, sku=EMBER, channel="instagram_post", variant="A")
    assert package.current_version.images["feed_4x5"]["image"] == options[0]["id"]
    assert ImageVersion.objects.filter(brief=campaign).count() == 1


@pytest.mark.django_db
def test_a_batch_before_anything_is_drafted_and_a_bad_request(api, campaign):
    error = api_error(
        api("ari").post(f"/api/briefs/{CAMPAIGN}/images/runs", {"skus": ["NOPE"], "n": 2}),
        422,
        "invalid_input",
    )
    assert error["problems"][0]["field"] == "sku"
    api_error(
        api("ari").post(f"/api/briefs/{CAMPAIGN}/images/runs", {"n": 11}), 422, "invalid_input"
    )
    api_error(api("ari").post("/api/briefs/nope/images/runs", {}), 404, "not_found")

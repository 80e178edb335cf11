"""The REST API: reassigning packages, comments, and launches with their manifests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from api_helpers import api_error
from django.test import Client
from image_helpers import give_images

from signoff.audit.models import Event
from signoff.packages.decisions import approve_package
from signoff.packages.models import Note, Package

BRIEF = "spring-candles-2027"
ARI = "ari@lumen.example"
CHANNEL = "meta_feed_ad"


def _packages(count: int) -> list[int]:
    return list(Package.objects.order_by("id").values_list("pk", flat=True)[:count])


# ---- reassign -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reassign_one_package(api, spring_run) -> None:
    (package,) = _packages(1)

    response = api("maya").post(f"/api/packages/{package}/reassign", {"owner": ARI})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["package_id"], body["ok"], body["outcome"]) == (package, True, "reassigned")
    assert api("maya").get(f"/api/packages/{package}").json()["owner"] == ARI
    # the same owner again changes nothing and says so
    again = api_error(
        api("maya").post(f"/api/packages/{package}/reassign", {"owner": ARI}),
        422,
        "invalid_input",
    )
    assert "already owned" in again["message"]
    assert [p["field"] for p in again["problems"]] == ["owner"]


@pytest.mark.django_db
def test_reassign_refusals(api, spring_run, other_workspace) -> None:
    (package,) = _packages(1)
    url = f"/api/packages/{package}/reassign"

    api_error(api("sofia").post(url, {"owner": ARI}), 403, "wrong_role")
    stranger = api_error(
        api("maya").post(url, {"owner": "ari@other.example"}), 422, "invalid_input"
    )
    assert [p["field"] for p in stranger["problems"]] == ["owner"]
    missing = api_error(api("maya").post(url, {}), 422, "invalid_input")
    assert [p["field"] for p in missing["problems"]] == ["owner"]
    api_error(
        api("maya", "other-brand").post(url, {"owner": "ari@other.example"}), 404, "not_found"
    )
    assert Package.objects.get(pk=package).owner != ARI


@pytest.mark.django_db
def test_batch_reassign_reports_each_item(api, spring_run, other_workspace) -> None:
    first, second = _packages(2)
    api("maya").post(f"/api/packages/{second}/reassign", {"owner": ARI})

    response = api("maya").post(
        "/api/packages/batch",
        {"action": "reassign", "owner": ARI, "ids": [first, second, 999_999]},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    outcomes = [(r["package_id"], r["ok"], r["code"], r["http_status"]) for r in body["results"]]
    assert outcomes == [
        (first, True, None, 200),
        (second, False, "invalid_input", 422),
        (999_999, False, "not_found", 404),
    ]
    assert (body["ok"], body["refused"]) == (1, 2)
    # another workspace's person cannot reach these packages
    stranger = api("maya", "other-brand").post(
        "/api/packages/batch", {"action": "reassign", "owner": "ari@other.example", "ids": [first]}
    )
    assert stranger.json()["results"][0]["code"] == "not_found"


@pytest.mark.django_db
def test_batch_reassign_without_an_owner_is_422(api, spring_run) -> None:
    response = api("maya").post("/api/packages/batch", {"action": "reassign", "ids": _packages(2)})

    error = api_error(response, 422, "invalid_input")
    assert [p["field"] for p in error["problems"]] == ["owner"]
    assert not Event.objects.filter(action="package.reassigned").exists()


# ---- comments -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_comment_is_stored_as_memory_with_an_audit_event(api, spring_run) -> None:
    package = Package.objects.filter(current_version__isnull=False).order_by("id").first().pk
    url = f"/api/packages/{package}/comments"

    first = api("omar").post(url, {"text": "  check the burn-time claim  "})
    second = api("lena").post(url, {"text": "<b>love</b> the headline"})

    assert first.status_code == 201, first.json()
    body = first.json()
    version = Package.objects.get(pk=package).current_version
    assert body["kind"] == "comment"
    assert body["text"] == "check the burn-time claim"
    assert (body["person"], body["version"], body["gate"]) == (
        "omar@lumen.example",
        version.number,
        "",
    )
    note = Note.objects.get(pk=body["id"])
    assert (note.kind, note.version_id, note.sku) == ("comment", version.pk, version.package.sku)
    event = Event.objects.filter(action="package.commented").order_by("seq").first()
    assert event.actor == "omar@lumen.example"
    assert event.subject_id == str(package)
    assert event.data["note"] == body["id"]
    assert event.content_hash == version.content_hash
    # newest first, text as it was given
    listed = api("maya").get(url).json()
    assert [n["id"] for n in listed] == [second.json()["id"], body["id"]]
    assert listed[0]["text"] == "<b>love</b> the headline"


@pytest.mark.django_db
def test_comments_list_the_packages_other_notes_too(api, spring_run, person) -> None:
    package = Package.objects.filter(stage="S3", state="in_review").order_by("id").first()
    approve_package(package_id=package.pk, person=person("maya"), note="reads well")
    api("omar").post(f"/api/packages/{package.pk}/comments", {"text": "looking now"})

    listed = api("maya").get(f"/api/packages/{package.pk}/comments").json()

    assert [(n["kind"], n["gate"], n["text"]) for n in listed] == [
        ("comment", "", "looking now"),
        ("approval", "G2", "reads well"),
    ]


@pytest.mark.django_db
def test_comment_refusals(api, spring_run, other_workspace) -> None:
    (package,) = _packages(1)
    url = f"/api/packages/{package}/comments"

    blank = api_error(api("maya").post(url, {"text": "   "}), 422, "invalid_input")
    assert [p["field"] for p in blank["problems"]] == ["text"]
    missing = api_error(api("maya").post(url, {}), 422, "invalid_input")
    assert [p["field"] for p in missing["problems"]] == ["text"]
    stranger = api("maya", "other-brand")
    api_error(stranger.post(url, {"text": "hello"}), 404, "not_found")
    api_error(stranger.get(url), 404, "not_found")
    api_error(api("maya").get("/api/packages/999999/comments"), 404, "not_found")
    assert not Note.objects.filter(kind="comment").exists()


@pytest.mark.django_db
def test_a_package_not_drafted_yet_takes_comments_too(api, spring_run) -> None:
    package = Package.objects.filter(current_version__isnull=True).order_by("id").first().pk

    response = api("ari").post(f"/api/packages/{package}/comments", {"text": "CSV on its way"})

    assert response.status_code == 201, response.json()
    assert response.json()["version"] is None
    assert api("ari").get(f"/api/packages/{package}/comments").json() == [response.json()]


# ---- launches and manifests -----------------------------------------------------------------


@pytest.fixture
def launched(spring_run, spring_brief, person, settings, tmp_path):
    """The spring brief's meta_feed_ad channel through G2, G3 and G4, then launched."""
    from signoff.delivery.services import launch_channel

    settings.SIGNOFF_HOME = tmp_path
    packages = Package.objects.filter(brief=spring_brief, channel=CHANNEL).order_by("id")
    assert packages
    assert not packages.filter(state="blocked").exists()
    give_images(packages)
    for package in packages:
        for name in ("maya", "omar", "lena"):
            result = approve_package(package_id=package.pk, person=person(name))
            assert result.ok, result.message
    return launch_channel(
        brief=spring_brief, channel=CHANNEL, person=person("lena"), out_dir=tmp_path / "exports"
    )


@pytest.mark.django_db
def test_launches_list_who_launched_what(api, launched) -> None:
    response = api("maya").get(f"/api/briefs/{BRIEF}/launches")

    assert response.status_code == 200, response.json()
    (launch,) = response.json()
    assert launch["channel"] == CHANNEL
    assert launch["person"] == "lena@lumen.example"
    assert launch["manifest_hash"] == launched.manifest_hash
    assert launch["packages"] == launched.packages
    assert launch["launched_at"]


@pytest.mark.django_db
def test_no_launches_yet_is_an_empty_list(api, spring_run) -> None:
    assert api("maya").get(f"/api/briefs/{BRIEF}/launches").json() == []


@pytest.mark.django_db
def test_the_manifest_is_the_file_written_at_launch(api, launched) -> None:
    url = f"/api/briefs/{BRIEF}/launches/{CHANNEL}/manifest"

    response = api("omar").get(url)

    assert response.status_code == 200, response.json()
    written = json.loads((Path(launched.bundle) / "manifest.json").read_text(encoding="utf-8"))
    assert response.json() == written
    assert response.json()["launched_by"] == "lena@lumen.example"
    assert [p["package"] for p in response.json()["packages"]] == launched.packages


@pytest.mark.django_db
def test_manifest_not_found(api, launched, other_workspace) -> None:
    base = f"/api/briefs/{BRIEF}/launches"

    api_error(api("maya").get(f"{base}/amazon_us_pdp/manifest"), 404, "not_found")
    api_error(api("maya", "other-brand").get(f"{base}/{CHANNEL}/manifest"), 404, "not_found")
    api_error(api("maya", "other-brand").get(base), 404, "not_found")
    # a bundle removed from disk: the launch is still listed, its manifest is gone
    shutil.rmtree(launched.bundle)
    api_error(api("maya").get(f"{base}/{CHANNEL}/manifest"), 404, "not_found")
    assert len(api("maya").get(base).json()) == 1


@pytest.mark.django_db
def test_the_bundle_downloads_as_a_zip(api, launched) -> None:
    import io
    import zipfile

    response = api("omar").get(f"/api/briefs/{BRIEF}/launches/{CHANNEL}/bundle")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{BRIEF}-{CHANNEL}.zip"'
    assert response["Signoff-Manifest-Hash"] == launched.manifest_hash
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert f"{BRIEF}-{CHANNEL}/manifest.json" in names
    # a JSON file per package, the manifest, and each package's images
    images = sum(
        len(p.current_version.images or {})
        for p in Package.objects.filter(pk__in=launched.packages)
    )
    assert images == 2 * len(launched.packages)  # meta_feed_ad: feed 1:1 and 4:5
    assert len(names) == len(launched.packages) + 1 + images
    written = (Path(launched.bundle) / "manifest.json").read_bytes()
    assert archive.read(f"{BRIEF}-{CHANNEL}/manifest.json") == written
    # the same bundle gives the same bytes
    again = api("maya").get(f"/api/briefs/{BRIEF}/launches/{CHANNEL}/bundle")
    assert again.content == response.content


@pytest.mark.django_db
def test_bundle_not_found(api, launched, other_workspace) -> None:
    base = f"/api/briefs/{BRIEF}/launches"

    api_error(api("maya").get(f"{base}/amazon_us_pdp/bundle"), 404, "not_found")
    api_error(api("maya", "other-brand").get(f"{base}/{CHANNEL}/bundle"), 404, "not_found")
    shutil.rmtree(launched.bundle)
    api_error(api("maya").get(f"{base}/{CHANNEL}/bundle"), 404, "not_found")


def test_openapi_lists_the_new_paths(client: Client) -> None:
    paths = set(client.get("/api/openapi.json").json()["paths"])

    assert {
        "/api/packages/{package_id}/reassign",
        "/api/packages/{package_id}/comments",
        "/api/briefs/{slug}/launches",
        "/api/briefs/{slug}/launches/{channel}/manifest",
        "/api/briefs/{slug}/launches/{channel}/bundle",
        "/api/briefs/parse-notes",
        "/api/briefs/{slug}/proposals",
        "/api/briefs/{slug}/proposals/accept",
        "/api/briefs/{slug}/data-requests",
        "/api/packages/{package_id}/findings/{finding_id}/apply",
        "/api/packages/{package_id}/compare",
        "/api/packages/{package_id}/versions/{number}/ratings",
        "/api/dashboard/layout",
        "/api/review-links",
        "/api/review-links/{link_id}/revoke",
        "/api/memory/search",
        "/api/memory/suggestions",
        "/api/memory/banned-phrases",
    } <= paths


@pytest.mark.django_db
def test_bundle_and_manifest_stay_in_the_export_folder(api, as_person, launched, tmp_path) -> None:
    """The API serves what the web serves (``delivery.bundles``): the bundle in its place under
    the export root, never a linked file nor the folder a stored path names."""
    import io
    import zipfile

    from django.urls import reverse

    from signoff.delivery.models import Launch

    base = f"/api/briefs/{BRIEF}/launches/{CHANNEL}"
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    (secret / "manifest.json").write_text('{"secret": true}', encoding="utf-8")
    (Path(launched.bundle) / "link.txt").symlink_to(secret / "secret.txt")
    # A stored path pointing elsewhere is not where the bundle is read from.
    Launch.objects.filter(channel=CHANNEL).update(bundle_path=str(secret))

    response = api("omar").get(f"{base}/bundle")
    web = as_person("omar").get(
        reverse("web:launch-bundle", kwargs={"slug": BRIEF, "channel": CHANNEL})
    )

    assert response.status_code == web.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert f"{BRIEF}-{CHANNEL}/manifest.json" in names
    assert not [n for n in names if "link" in n or "secret" in n]
    assert b"TOP SECRET" not in response.content
    assert response.content == web.content
    manifest = api("omar").get(f"{base}/manifest")
    assert manifest.status_code == 200
    assert "secret" not in manifest.json()
    # A manifest that is a link is not served (the web says the same).
    written = Path(launched.bundle) / "manifest.json"
    written.unlink()
    written.symlink_to(secret / "manifest.json")
    api_error(api("omar").get(f"{base}/manifest"), 404, "not_found")

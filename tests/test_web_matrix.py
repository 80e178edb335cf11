"""The approval matrix (G4) through Django's test client: approve per cell, approve a channel
for launch as a batch (per-item results), then launch."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from image_helpers import give_images

from signoff.packages.decisions import approve_package, review_package
from signoff.packages.models import Package

SLUG = "spring-candles-2027"
MATRIX = reverse("web:matrix", kwargs={"slug": SLUG})
APPROVE = reverse("web:matrix-approve", kwargs={"slug": SLUG})
APPROVE_CHANNEL = reverse("web:matrix-approve-channel", kwargs={"slug": SLUG})
LAUNCH = reverse("web:launch", kwargs={"slug": SLUG})


def to_g4(packages, person) -> None:
    """Give the packages the images their channel requires (the last gate refuses empty slots),
    then pass G2 and G3 (through the services) so they wait on G4."""
    give_images(packages)
    for package in packages:
        for name in ("maya", "omar"):
            result = approve_package(package_id=package.pk, person=person(name))
            assert result.ok, result.message


def cell_buttons(response) -> list[int]:
    return [int(i) for i in re.findall(r'name="package" value="(\d+)"', response.text)]


def batch_items(response) -> list[tuple[str, str]]:
    return re.findall(r'<li data-package="(\d+)">\s*<span class="(\w+)">', response.text)


@pytest.mark.django_db
def test_matrix_offers_approve_only_on_cells_waiting_on_g4(as_person, person, spring_run):
    meta = list(Package.objects.filter(channel="meta_feed_ad").order_by("id"))
    to_g4(meta[:2], person)
    review_package(package_id=meta[0].pk, person=person("lena"))

    page = as_person("lena").get(MATRIX)

    assert page.status_code == 200
    assert cell_buttons(page) == [meta[0].pk, meta[1].pk]
    assert page.text.count('<small class="reviewed">reviewed by you</small>') == 1
    assert "G4 · final launch approval" in page.text
    assert "You hold Brand manager" in page.text
    assert "2 at G4, 1 reviewed by you" in page.text
    assert "Approve Meta feed ad for launch" in page.text
    assert "Approve Amazon US product page for launch" not in page.text  # nothing there waits on G4
    assert "point of no return" in page.text
    assert "You do not hold Brand manager" in as_person("maya").get(MATRIX).text


@pytest.mark.django_db
def test_lena_approves_a_cell_and_others_are_refused_with_the_reason(as_person, person, spring_run):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="meta_feed_ad")
    to_g4([package], person)

    refused = as_person("omar").post(APPROVE, {"package": package.pk}, follow=True)
    assert "Refused (wrong_role)" in refused.text
    assert "brand manager" in refused.text  # the role in plain words
    package.refresh_from_db()
    assert package.position == "S6/in_review"

    done = as_person("lena").post(APPROVE, {"package": package.pk}, follow=True)
    assert done.redirect_chain[-1][0] == MATRIX
    assert "G4 approved; now S6/approved" in done.text
    package.refresh_from_db()
    assert package.position == "S6/approved"
    assert package.approvals.filter(gate="G4", person="lena@lumen.example").exists()


@pytest.mark.django_db
def test_the_matrix_approves_only_at_g4(as_person, spring_run):
    """Maya holds G2, but a matrix cell is a G4 decision: a package at G2 is refused."""
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="walmart_us")
    assert package.position == "S3/in_review"

    refused = as_person("maya").post(APPROVE, {"package": package.pk}, follow=True)

    assert "Refused (invalid_state)" in refused.text
    assert "no longer waiting on G4" in refused.text
    package.refresh_from_db()
    assert package.position == "S3/in_review"
    assert as_person("maya").post(APPROVE, {"package": 999999}).status_code == 404


@pytest.mark.django_db
def test_approve_a_channel_for_launch_then_launch_it(
    as_person, person, spring_run, settings, tmp_path
):
    settings.SIGNOFF_EXPORT_DIR = tmp_path / "exports"
    meta = list(Package.objects.filter(channel="meta_feed_ad").order_by("id"))
    to_g4(meta, person)
    lena = person("lena")
    for package in meta[:4]:
        review_package(package_id=package.pk, person=lena)
    client = as_person("lena")

    first = client.post(APPROVE_CHANNEL, {"channel": "meta_feed_ad"})

    assert first.status_code == 200
    assert "Approve for launch · meta_feed_ad" in first.text
    assert batch_items(first) == [(str(p.pk), "ok") for p in meta[:4]] + [
        (str(p.pk), "refused") for p in meta[4:]
    ]
    assert first.text.count("has not marked this version reviewed") == 2
    assert "Launch meta_feed_ad" not in first.text  # two still wait on G4
    positions = [p.position for p in Package.objects.filter(pk__in=[p.pk for p in meta])]
    assert positions.count("S6/approved") == 4

    for package in meta[4:]:
        review_package(package_id=package.pk, person=lena)
    second = client.post(APPROVE_CHANNEL, {"channel": "meta_feed_ad"})
    assert batch_items(second) == [(str(p.pk), "ok") for p in meta[4:]]
    assert "Launch Meta feed ad" in second.text
    assert "Approve Meta feed ad for launch</button>" not in second.text

    nothing = client.post(APPROVE_CHANNEL, {"channel": "meta_feed_ad"})
    assert "No meta_feed_ad package waits on the launch gate" in nothing.text

    done = client.post(LAUNCH, {"channel": "meta_feed_ad", "confirm": "on"}, follow=True)
    assert "meta_feed_ad launched: 6 packages published" in done.text
    assert Package.objects.filter(channel="meta_feed_ad", state="published").count() == 6


@pytest.mark.django_db
def test_approve_for_launch_by_someone_without_the_role_is_refused_per_item(
    as_person, person, spring_run
):
    meta = list(Package.objects.filter(channel="meta_feed_ad").order_by("id")[:2])
    to_g4(meta, person)
    for package in meta:
        review_package(package_id=package.pk, person=person("lena"))

    response = as_person("ari").post(APPROVE_CHANNEL, {"channel": "meta_feed_ad"})

    assert batch_items(response) == [(str(p.pk), "refused") for p in meta]
    assert response.text.count("brand_manager") >= 2
    assert Package.objects.filter(pk__in=[p.pk for p in meta], state="approved").count() == 0

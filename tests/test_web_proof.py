"""The print proof: the pure sizes and layout, the page for an option and for a print slot's
rendition (physical size, effective ppi, finding boxes, 100 % crops, findings), the crops and
the PDF it serves, its links, and the API's PDF routes, all scoped to the workspace."""

from __future__ import annotations

import io
import re

import pytest
from api_helpers import api_error
from django.urls import reverse
from PIL import Image

from signoff.channels.catalog import resolve_spec
from signoff.channels.spec import PrintSpec
from signoff.packages.models import Package
from signoff.visuals.imaging import decode_image
from signoff.visuals.models import ImageVersion, Rendition
from signoff.visuals.proof import layout, print_size, printed_at, printed_at_dpi, prints
from signoff.visuals.qc.findings import ImageFinding
from signoff.visuals.storage import read_blob
from signoff.web.accounts import ensure_user
from signoff.workspaces.models import Person, Workspace

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
POSTER = "print_poster_a2"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


# --- pure: sizes and layout -----------------------------------------------------------------


def test_a_slot_rendition_prints_at_the_dpi_in_its_file():
    # The A2 poster slot: 2516 x 3543 px at 150 dpi is 426 x 600 mm (A2 trim plus 3 mm bleed).
    printed = printed_at_dpi((2516, 3543), 150, 150, trim_mm=(420, 594))
    assert printed.width_mm == pytest.approx(2516 / 150 * 25.4)  # 426.04
    assert printed.height_mm == pytest.approx(3543 / 150 * 25.4)  # 599.95
    assert printed.ppi == 150
    assert printed.enough
    assert printed.bleed_mm == 3.0
    assert printed.width_in == pytest.approx(2516 / 150)


def test_any_other_image_is_scaled_to_cover_the_print_size_plus_bleed():
    a2 = PrintSpec(width_mm=420, height_mm=594, min_ppi=150)
    printed = printed_at((1024, 1536), a2, bleed_mm=3)
    # The width binds: 1024 px over 426 mm; the height runs past 600 mm and is cut.
    assert printed.ppi == pytest.approx(1024 / (426 / 25.4))
    assert printed.width_mm == pytest.approx(426)
    assert printed.height_mm == pytest.approx(1536 / printed.ppi * 25.4)
    assert printed.height_mm > 600
    assert not printed.enough
    assert "61 ppi effective (needs 150)" in printed.describe()


def test_only_channels_with_a_print_size_or_a_dpi_print():
    poster, feed = resolve_spec(POSTER), resolve_spec("instagram_post")
    assert prints(poster.images)
    assert not prints(feed.images)
    assert print_size(feed.images, (1080, 1080)) is None
    assert print_size(poster.images, (2516, 3543), "poster").ppi == 150
    assert print_size(poster.images, (1240, 1754)).trim_mm == (420, 594)


def test_the_layout_flags_crops_a_finding_overlaps_and_numbers_regions_as_listed():
    image = Image.new("RGB", (1200, 900), "white")
    findings = [
        ImageFinding("image.print.ppi", "block", "too few pixels"),  # no region: number 1
        ImageFinding("image.artefact", "warn", "banding", bbox=(10, 10, 50, 50)),
    ]
    sheet = layout(image, findings=findings, product_bbox=(500, 300, 200, 300))
    assert [(r.number, r.box) for r in sheet.regions] == [(2, (10, 10, 50, 50))]
    by_name = {c.name: c for c in sheet.crops}
    assert by_name["top left"].flagged
    assert not by_name["bottom right"].flagged
    assert by_name["label"].box == (450, 300, 300, 300)  # centred on the product, clamped
    assert all(c.box[2] == c.box[3] == 300 for c in sheet.crops)


# --- the screens ----------------------------------------------------------------------------


@pytest.fixture
def rendered(lumen_workspace, example_dir, settings, django_capture_on_commit_callbacks):
    """The campaign with three options of EMBER, the first selected and rendered into every
    slot of every channel (the A2 poster among them)."""
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief
    from signoff.visuals.decisions import select_image
    from signoff.visuals.generation import queue_image_run
    from signoff.visuals.rendering import render_brief
    from signoff.visuals.tasks import generate_images_task

    settings.TASKS = IMMEDIATE
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024  # small masters: the screens, not the pixels
    brief = add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief
    run_brief(brief)
    ari = Person.objects.get(email="ari@lumen.example")
    run = queue_image_run(brief=brief, person=ari, skus=[EMBER], n=2, hypothesis="")
    generate_images_task.enqueue(run.pk)
    option = ImageVersion.objects.filter(sku=EMBER, status="ready").order_by("number").first()
    select_image(image=option, person=Person.objects.get(email="sofia@lumen.example"))
    render_brief(brief=brief, person=ari)
    return option


def _poster(option: ImageVersion) -> Rendition:
    return Rendition.objects.get(image=option, channel=POSTER)


def _url(name: str, **kwargs: int) -> str:
    return reverse(f"web:{name}", kwargs=kwargs)


@pytest.mark.django_db
def test_the_rendition_proof_shows_its_print_size_crops_and_findings(rendered, as_person):
    poster = _poster(rendered)
    assert (poster.width, poster.height) == (2516, 3543)
    page = as_person("maya").get(_url("rendition-proof", rendition_id=poster.pk))
    assert page.status_code == 200
    html = page.text
    # 2516 x 3543 px at the slot's 150 dpi: 426 x 600 mm, 42.6 x 60.0 cm, 16.8 x 23.6 in.
    assert "426 × 600 mm" in html
    assert "42.6 × 60.0 cm" in html
    assert "16.8 × 23.6 in" in html
    assert '<b class="ppi">150 ppi</b>' in html
    assert "enough: needs 150" in html
    assert "420 × 594 mm" in html  # the trim, with its bleed
    assert 'data-mm="426.04 599.95"' in html  # the view at print size, in CSS mm
    assert 'width="1610" height="2268"' in html  # the same at 96 CSS px per inch, no script
    # The finding boxes and the crops are in the image's own pixel space.
    assert 'viewBox="0 0 2516 3543"' in html
    names = re.findall(r'<li class="crop-tile[^"]*" data-crop="([^"]+)"', html)
    assert names[:5] == ["top left", "top right", "bottom left", "bottom right", "centre"]
    assert "label" in names  # the product's box came through the slot's cover crop
    assert any(n.startswith("least sharp") for n in names)
    crop = reverse("web:rendition-crop", kwargs={"rendition_id": poster.pk})
    assert f'src="{crop}?box=2216,3243,300,300"' in html  # bottom right
    pdf = reverse("web:rendition-proof-pdf", kwargs={"rendition_id": poster.pk})
    assert f'href="{pdf}"' in html
    # A TIFF is not shown by browsers: the 100 % loupe gets the lossless PNG of it.
    assert f'src="{crop}"' in html
    assert "upscaled" in html  # how the rendition was made, from its notes
    # The ppi check no longer blocks a slot sized for exactly 150 ppi (3543.3 -> 3543 px).
    assert "image.print.ppi" not in html
    assert "style=" not in html  # the CSP forbids inline styles


@pytest.mark.django_db
def test_the_option_proof_picks_among_print_channels_only(rendered, as_person):
    width, height = rendered.blob.width, rendered.blob.height
    page = as_person("maya").get(_url("image-proof", image_id=rendered.pk))
    assert page.status_code == 200
    html = page.text
    picker = html.split('name="channel"')[1].split("</select>")[0]
    assert f'value="{POSTER}" selected' in picker
    assert "instagram_post" not in picker
    # Scaled to cover A2 plus 3 mm bleed: the smaller axis' ppi, far below 150.
    ppi = min(width / (426 / 25.4), height / (600 / 25.4))
    assert f'<b class="ppi">{ppi:.0f} ppi</b>' in html
    assert "too low: needs 150" in html
    assert "image.print.ppi" in html
    assert f"Measured <b>{round(ppi, 2):g}</b>" in html
    assert "Limit <b>150</b>" in html
    assert "falls outside the print" in html  # scaled to cover A2: one axis is cut
    assert "re-render from the master at the print size" in html
    pdf = reverse("web:image-proof-pdf", kwargs={"image_id": rendered.pk})
    assert f'href="{pdf}?channel={POSTER}"' in html
    assert f'src="{reverse("web:image-file", kwargs={"image_id": rendered.pk})}"' in html


@pytest.mark.django_db
def test_a_channel_that_does_not_print_is_refused_with_the_reason(rendered, as_person):
    client = as_person("maya")
    page = client.get(_url("image-proof", image_id=rendered.pk) + "?channel=instagram_post")
    assert page.status_code == 400
    assert "instagram_post is not a print channel" in page.text
    assert f"print channels: {POSTER}" in page.text
    feed = Rendition.objects.filter(image=rendered, channel="instagram_post").first()
    refused = client.get(_url("rendition-proof", rendition_id=feed.pk))
    assert refused.status_code == 400
    assert "instagram_post is not a print channel" in refused.text
    pdf = client.get(_url("rendition-proof-pdf", rendition_id=feed.pk))
    assert pdf.status_code == 400
    assert "not a print channel" in pdf.content.decode()
    unknown = client.get(_url("image-proof", image_id=rendered.pk) + "?channel=nope")
    assert unknown.status_code == 400
    assert "unknown channel &#x27;nope&#x27;" in unknown.text


@pytest.mark.django_db
def test_crops_are_the_stored_pixels_at_100_percent(rendered, as_person):
    poster = _poster(rendered)
    client = as_person("maya")
    url = _url("rendition-crop", rendition_id=poster.pk)
    response = client.get(url + "?box=100,200,300,300")
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert response["Cache-Control"] == "private, max-age=86400"
    crop = Image.open(io.BytesIO(response.content))
    assert crop.size == (300, 300)
    stored = decode_image(read_blob(poster.blob), "poster", max_pixels=10**9).image
    assert crop.convert("RGB").tobytes() == stored.crop((100, 200, 400, 500)).tobytes()
    # At an edge the crop is clamped to the image; no box is the whole image.
    edge = Image.open(io.BytesIO(client.get(url + "?box=2400,3500,300,300").content))
    assert edge.size == (116, 43)
    whole = Image.open(io.BytesIO(client.get(url).content))
    assert whole.size == (2516, 3543)
    # Cached by content: the same ETag answers 304; a malformed box is refused.
    etag = response["ETag"]
    assert client.get(url + "?box=100,200,300,300", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url + "?box=1,2,3").status_code == 400
    assert client.get(url + "?box=0,0,99999,10").status_code == 400
    option = client.get(_url("image-crop", image_id=rendered.pk) + "?box=0,0,64,32")
    assert Image.open(io.BytesIO(option.content)).size == (64, 32)


@pytest.mark.django_db
def test_the_pdf_is_the_two_page_proof(rendered, as_person):
    client = as_person("maya")
    poster = _poster(rendered)
    response = client.get(_url("rendition-proof-pdf", rendition_id=poster.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    assert b"/Count 2" in response.content  # the overview and the 100 % crops
    option = client.get(_url("image-proof-pdf", image_id=rendered.pk) + f"?channel={POSTER}")
    assert option.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_another_workspace_gets_404_everywhere(rendered, client):
    poster = _poster(rendered)
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    zoe = Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["cmo", "operator"]
    )
    client.force_login(ensure_user(zoe))
    urls = [
        _url("image-proof", image_id=rendered.pk),
        _url("image-proof-pdf", image_id=rendered.pk) + f"?channel={POSTER}",
        _url("image-crop", image_id=rendered.pk) + "?box=0,0,10,10",
        _url("rendition-proof", rendition_id=poster.pk),
        _url("rendition-proof-pdf", rendition_id=poster.pk),
        _url("rendition-crop", rendition_id=poster.pk),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to sign in


@pytest.mark.django_db
def test_the_option_and_package_pages_link_print_renditions_to_their_proof(rendered, as_person):
    client = as_person("sofia")
    poster = _poster(rendered)
    feed = Rendition.objects.filter(image=rendered, channel="instagram_post").first()
    page = client.get(_url("image", image_id=rendered.pk)).text
    assert f'href="{_url("rendition-proof", rendition_id=poster.pk)}"' in page
    assert _url("rendition-proof", rendition_id=feed.pk) not in page
    assert f'href="{_url("image-proof", image_id=rendered.pk)}"' in page
    package = Package.objects.get(brief__slug=CAMPAIGN, sku=EMBER, channel=POSTER, variant="A")
    package_page = client.get(_url("package", package_id=package.pk)).text
    assert f'href="{_url("rendition-proof", rendition_id=poster.pk)}"' in package_page
    social = Package.objects.get(
        brief__slug=CAMPAIGN, sku=EMBER, channel="instagram_post", variant="A"
    )
    assert "/proof/" not in client.get(_url("package", package_id=social.pk)).text


@pytest.mark.django_db
def test_the_api_serves_the_pdf_and_refuses_a_channel_that_does_not_print(rendered, api):
    poster = _poster(rendered)
    response = api("maya").get(f"/api/renditions/{poster.pk}/proof.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    image = api("maya").get(f"/api/images/{rendered.pk}/proof.pdf", channel=POSTER)
    assert image.content.startswith(b"%PDF")
    refused = api("maya").get(f"/api/images/{rendered.pk}/proof.pdf", channel="instagram_post")
    error = api_error(refused, 422, "invalid_input")
    assert error["problems"][0]["field"] == "channel"
    assert "not a print channel" in error["problems"][0]["message"]
    api_error(api("maya").get("/api/renditions/999999/proof.pdf"), 404, "not_found")

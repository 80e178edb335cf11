"""The image screens through Django's test client: files and thumbnails (scoped to the
workspace), generation with its progress, the options grid, one option (findings drawn over
it, rating, selection, edits), the brief's visual direction and images on packages."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from signoff.briefs.models import Brief
from signoff.packages.models import Package
from signoff.visuals.models import ImageFinding, ImageRun, ImageVersion, Rendition, Selection
from signoff.web.accounts import ensure_user
from signoff.workspaces.models import Person, Workspace

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
GIFT = "LUM-WIN-GFT-SET"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
XSS = "<script>alert(1)</script>"


@pytest.fixture
def campaign(lumen_workspace, example_dir) -> Brief:
    """The cozy-season campaign: a packshot for EMBER, none for GIFT, and a brand example.

    The campaign template has no brief gate (G1), so it may generate at once."""
    from signoff.briefs.services import add_brief

    return add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief


@pytest.fixture
def generate(as_person, campaign, settings, django_capture_on_commit_callbacks):
    """Post the generation form as someone; the queued run executes at once."""
    settings.TASKS = IMMEDIATE
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024  # small masters: the screens, not the pixels

    def post(name: str = "ari", **data: object):
        client = as_person(name)
        body = {"n": 3, "hypothesis": "Evening ritual by the window", **data}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("web:images-generate", kwargs={"slug": CAMPAIGN}), body)

    return post


@pytest.fixture
def options(generate) -> list[ImageVersion]:
    response = generate()
    assert response.status_code == 302
    return list(ImageVersion.objects.filter(sku=EMBER, status="ready").order_by("number"))


def images_url(**params: str) -> str:
    url = reverse("web:images", kwargs={"slug": CAMPAIGN})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def tiles(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="tile option[^"]*" data-image="(\d+)"', html)]


def messages_of(response) -> str:
    return " ".join(re.findall(r'<li class="(?:error|success)">(.*?)</li>', response.text, re.S))


# --- generation, progress and the grid ------------------------------------------------------


@pytest.mark.django_db
def test_generate_shows_n_options_with_thumbnails_that_load(generate, as_person):
    response = generate()
    assert response.status_code == 302
    run = ImageRun.objects.get()
    assert run.status == "finished"
    assert response["Location"].endswith(f"?run={run.pk}")
    page = as_person("ari").get(response["Location"])
    assert page.status_code == 200
    assert "Batch queued: 3 options" in page.text
    ids = tiles(page.text)
    assert len(ids) == 3
    assert set(ids) == set(ImageVersion.objects.filter(sku=EMBER).values_list("pk", flat=True))
    # Each thumbnail is a JPEG no wider than asked.
    for image_id in ids:
        src = reverse("web:image-file", kwargs={"image_id": image_id}) + "?w=320"
        assert f'src="{src}"' in page.text
        thumb = as_person("ari").get(src)
        assert (thumb.status_code, thumb["Content-Type"]) == (200, "image/jpeg")
        assert Image.open(io.BytesIO(thumb.content)).width == 320
    # The SKU without a packshot says so; the run's card shows it finished.
    assert "No packshot: add one under" in page.text
    assert f'SKU <span class="mono">{GIFT}</span>' in page.text
    assert 'href="#ref-files"' in page.text  # the form on this page that adds one
    assert 'id="ref-files"' in page.text
    assert "signoff refs" not in page.text  # a web page never sends anyone to the CLI
    assert 'class="run-status status-finished"' in page.text
    assert "Evening ritual by the window" in page.text
    # The progress partial stops polling once the run finished.
    progress = as_person("ari").get(reverse("web:images-progress", kwargs={"slug": CAMPAIGN}))
    assert "hx-trigger" not in progress.text
    assert "finished" in progress.text


@pytest.mark.django_db
def test_a_queued_run_polls_its_progress(as_person, campaign):
    run = ImageRun.objects.create(
        brief=campaign, started_by="ari@lumen.example", provider="builtin", n=2, total=1
    )
    url = reverse("web:images-progress", kwargs={"slug": CAMPAIGN})
    partial = as_person("ari").get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 2s"' in partial.text
    assert f"?run={run.pk}" in partial.text
    assert "Queued" in partial.text
    assert "HX-Refresh" not in partial
    run.status = "finished"
    run.save(update_fields=["status"])
    done = as_person("ari").get(url, HTTP_HX_REQUEST="true")
    assert "every 2s" not in done.text
    assert done["HX-Refresh"] == "true"  # the page reloads to show the options


@pytest.mark.django_db
def test_generation_refuses_bad_input_and_the_wrong_role(generate, as_person):
    refused = generate("lena")  # a brand manager owns no campaign gate
    assert refused.status_code == 302
    page = as_person("lena").get(images_url())
    assert "Refused (wrong_role)" in page.text
    assert not ImageRun.objects.exists()
    too_many = generate("ari", n=40)
    page = as_person("ari").get(images_url())
    assert "Nothing queued" in page.text
    assert not ImageRun.objects.exists()
    assert too_many.status_code == 302


@pytest.mark.django_db
def test_hide_blocked_hides_options_with_a_blocking_finding(options, as_person):
    ImageFinding.objects.filter(image__in=options).delete()  # only the finding made here
    blocked = options[0]
    ImageFinding.objects.create(
        image=blocked,
        rule_id="label_mismatch",
        severity="block",
        message="The label does not match the packshot",
        bbox=[10, 20, 100, 50],
    )
    client = as_person("maya")
    everything = client.get(images_url())
    assert blocked.pk in tiles(everything.text)
    assert "The label does not match the packshot" in everything.text  # highlighted on the tile
    assert re.search(
        rf'class="tile option has-block[^"]*" data-image="{blocked.pk}"', everything.text
    )
    hidden = client.get(images_url(hide_blocked="1"))
    assert blocked.pk not in tiles(hidden.text)
    assert len(tiles(hidden.text)) == len(options) - 1
    assert "1 with blocking findings hidden" in hidden.text
    assert 'name="hide_blocked" value="1" checked' in hidden.text
    # htmx asks for the grid alone.
    partial = client.get(
        images_url(hide_blocked="1"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="image-grid"
    )
    assert partial.text.lstrip().startswith('<section id="image-grid"')
    assert "<html" not in partial.text


# --- files ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_files_are_served_to_the_workspace_only(options, as_person, client, campaign):
    image = options[0]
    reference = campaign.references.filter(kind="packshot").first()
    urls = [
        reverse("web:image-file", kwargs={"image_id": image.pk}),
        reverse("web:reference-file", kwargs={"reference_id": reference.pk}),
    ]
    maya = as_person("maya")
    full = maya.get(urls[0])
    assert full.status_code == 200
    assert full["Content-Type"] == f"image/{image.blob.format}"
    assert Image.open(io.BytesIO(b"".join(full.streaming_content))).size == (
        image.blob.width,
        image.blob.height,
    )
    assert maya.get(urls[1] + "?w=160")["Content-Type"] == "image/jpeg"
    # Cached by content: the same ETag answers 304.
    etag = maya.get(urls[0] + "?w=320")["ETag"]
    assert maya.get(urls[0] + "?w=320", HTTP_IF_NONE_MATCH=etag).status_code == 304
    # Another workspace gets 404; nobody signed in is sent to sign in.
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    zoe = Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["cmo", "operator"]
    )
    client.force_login(ensure_user(zoe))
    for url in [*urls, urls[0] + "?w=320", reverse("web:image", kwargs={"image_id": image.pk})]:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("web:image-select", kwargs={"image_id": image.pk})).status_code == 404
    )
    client.logout()
    assert client.get(urls[0]).status_code == 302


# --- one option -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_option_page_shows_provenance_findings_boxes_and_the_loupe(options, as_person):
    image = options[1]
    ImageFinding.objects.create(
        image=image,
        rule_id="label_mismatch",
        severity="block",
        message=f"Label drift {XSS}",
        bbox=[40, 60, 200, 120],
    )
    ImageFinding.objects.create(
        image=image,
        rule_id="soft_focus",
        severity="warn",
        message="Soft focus on the vessel",
        bbox=[300, 310, 90, 80],
    )
    page = as_person("maya").get(reverse("web:image", kwargs={"image_id": image.pk}))
    assert page.status_code == 200
    html = page.text
    width, height = image.blob.width, image.blob.height
    assert f'viewBox="0 0 {width} {height}"' in html
    assert '<g class="bbox bbox-block"' in html
    assert '<g class="bbox bbox-warn"' in html
    assert 'x="40" y="60" width="200" height="120"' in html
    assert 'x="300" y="310" width="90" height="80"' in html
    assert XSS not in html
    assert "&lt;script&gt;" in html
    assert "style=" not in html  # the CSP forbids inline styles
    assert "<script>" not in html.split("</head>")[1]
    # The loupe is the file at its natural size.
    assert "Loupe at 100 %" in html
    assert f'src="{reverse("web:image-file", kwargs={"image_id": image.pk})}"' in html
    # Provenance: provider, model, seed, the packshot and brand example used, the prompt.
    origin = image.origin
    assert origin["provider"] in html
    assert str(origin["seed"]) in html
    assert "Packshot" in html
    assert "Brand Example" in html
    assert "Evening ritual by the window" in html
    assert f"option {options[0].number}" in html
    assert f"option {options[2].number}" in html


@pytest.mark.django_db
def test_rate_and_select_and_who_may(options, as_person):
    image = options[0]
    url = reverse("web:image", kwargs={"image_id": image.pk})
    rate = reverse("web:image-rate", kwargs={"image_id": image.pk})
    select = reverse("web:image-select", kwargs={"image_id": image.pk})

    rated = as_person("maya").post(
        rate, {"stars": "4", "tags": "warm, too-dark", "note": "lift the shadows"}, follow=True
    )
    assert "Rated option 1 4/5" in messages_of(rated)
    assert image.ratings.get().tags == ["warm", "too-dark"]
    assert "lift the shadows" in rated.text
    assert "too-dark" in rated.text
    bad = as_person("maya").post(rate, {"stars": "9"}, follow=True)
    assert "Not rated" in messages_of(bad)

    refused = as_person("ari").post(select, {"note": "this one"}, follow=True)
    assert "Refused (wrong_role)" in messages_of(refused)
    assert "cmo" in messages_of(refused)
    assert not Selection.objects.exists()

    chosen = as_person("sofia").post(select, {"note": "calmest light"}, follow=True)
    assert "is now the selected image" in messages_of(chosen)
    assert Selection.objects.get().image_id == image.pk
    page = as_person("sofia").get(url)
    assert "Selected by sofia@lumen.example" in page.text
    grid = as_person("sofia").get(images_url())
    assert re.search(
        rf'class="tile option[^"]*is-selected[^"]*" data-image="{image.pk}"', grid.text
    )
    again = as_person("sofia").post(select, {}, follow=True)
    assert "Refused" not in messages_of(again) or "already selected" in messages_of(again)


@pytest.mark.django_db
def test_edits_make_new_versions_with_lineage(options, as_person):
    image = options[0]
    edit = reverse("web:image-edit", kwargs={"image_id": image.pk})
    made = as_person("ari").post(
        edit, {"operation": "crop", "x": 0, "y": 0, "w": 400, "h": 300}, follow=True
    )
    assert "Edit saved as option" in messages_of(made), messages_of(made)
    child = ImageVersion.objects.get(parent=image)
    assert (child.blob.width, child.blob.height) == (400, 300)
    assert made.redirect_chain[-1][0] == reverse("web:image", kwargs={"image_id": child.pk})
    assert f'href="{reverse("web:image", kwargs={"image_id": image.pk})}"' in made.text
    up = as_person("ari").post(edit, {"operation": "upscale", "upscale": "2"}, follow=True)
    assert "Edit saved" in messages_of(up), messages_of(up)
    assert ImageVersion.objects.filter(parent=image).count() == 2
    # A background on a busy scene cannot be cut out: the service's reason is shown.
    scene = as_person("ari").post(
        edit, {"operation": "background", "background": "white"}, follow=True
    )
    assert "Refused (invalid_state): the edit was not made" in messages_of(scene)
    bad = as_person("ari").post(
        edit, {"operation": "crop", "x": 0, "y": 0, "w": 99999, "h": 10}, follow=True
    )
    assert "Refused" in messages_of(bad)
    missing = as_person("ari").post(edit, {"operation": "crop", "x": 0}, follow=True)
    assert "Refused (invalid_input)" in messages_of(missing)


# --- brief, package, board, matrix ----------------------------------------------------------


@pytest.mark.django_db
def test_brief_page_shows_the_visual_direction_and_references(as_person, campaign):
    page = as_person("sofia").get(reverse("web:brief", kwargs={"slug": CAMPAIGN}))
    html = page.text.split('id="visual-direction"')[1].split("</section>")[0]
    assert "An evening ritual (candle, book, wool blanket) sells calm" in html
    assert '<rect x="0.5" y="0.5" width="35" height="35" rx="5" fill="#F4EFE6"/>' in html
    assert "Product label and vessel color match the packshot exactly." in html
    assert "ember-packshot.png" in html
    assert "winter-hero.png" in html
    assert "No flames near fabric" in html
    for reference in campaign.references.filter(blob__isnull=False):
        assert reverse("web:reference-file", kwargs={"reference_id": reference.pk}) in html
    assert reverse("web:images", kwargs={"slug": CAMPAIGN}) in html
    assert "style=" not in page.text


@pytest.mark.django_db
def test_rendered_images_show_on_the_package_board_and_matrix(options, as_person, campaign):
    from signoff.packages.services import run_brief
    from signoff.visuals.decisions import select_image
    from signoff.visuals.rendering import render_brief

    run_brief(campaign)
    package = Package.objects.get(brief=campaign, sku=EMBER, channel="meta_feed_ad", variant="A")
    before = as_person("sofia").get(reverse("web:package", kwargs={"package_id": package.pk}))
    assert "No image attached yet" in before.text
    sofia = Person.objects.get(email="sofia@lumen.example")
    select_image(image=options[0], person=sofia)
    render_brief(brief=campaign, person=Person.objects.get(email="ari@lumen.example"))
    package.refresh_from_db()
    slots = list(package.current_version.images)
    assert slots == ["feed_1x1", "feed_4x5", "story_9x16"]

    page = as_person("sofia").get(reverse("web:package", kwargs={"package_id": package.pk}))
    html = page.text
    assert "No image attached yet" not in html
    for slot, entry in package.current_version.images.items():
        assert f'data-slot="{slot}"' in html
        assert entry["file"] in html
        assert f"{entry['width']} × {entry['height']}" in html
    main = package.current_version.images["feed_1x1"]["rendition"]
    src = reverse("web:rendition-file", kwargs={"rendition_id": main})
    assert f'<figure class="pv-image"><img src="{src}?w=720"' in html  # in the channel preview
    file = as_person("sofia").get(src)
    assert file.status_code == 200
    assert file["Content-Type"] == "image/jpeg"
    poster = Rendition.objects.get(image=options[0], channel="print_poster_a2")
    tiff = as_person("sofia").get(
        reverse("web:rendition-file", kwargs={"rendition_id": poster.pk}) + "?w=320"
    )
    assert tiff["Content-Type"] == "image/jpeg"  # a TIFF poster is shown as a JPEG thumbnail

    board = as_person("sofia").get(reverse("web:board", kwargs={"slug": CAMPAIGN}))
    assert f"{src}?w=96" in board.text
    matrix = as_person("sofia").get(reverse("web:matrix", kwargs={"slug": CAMPAIGN}))
    assert f"{src}?w=120" in matrix.text
    gift = Package.objects.filter(brief=campaign, sku=GIFT).first()
    gift_page = as_person("sofia").get(reverse("web:package", kwargs={"package_id": gift.pk}))
    assert "No image attached yet" in gift_page.text


@pytest.mark.django_db
def test_reference_files_are_added_from_the_images_page(as_person, campaign, example_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from signoff.visuals.models import Reference

    client = as_person("ari")
    page = client.get(images_url())
    assert reverse("web:references-add", kwargs={"slug": CAMPAIGN}) in page.text
    assert 'enctype="multipart/form-data"' in page.text
    data = (example_dir / "references" / "ember-packshot.png").read_bytes()
    url = reverse("web:references-add", kwargs={"slug": CAMPAIGN})
    response = client.post(
        url,
        {
            "kind": "packshot",
            "sku": "LUM-WIN-GFT-SET",
            "note": "gift box front",
            "files": [SimpleUploadedFile("gift.png", data, content_type="image/png")],
        },
    )
    assert response.status_code == 302
    added = Reference.objects.get(kind="packshot", sku="LUM-WIN-GFT-SET")
    assert added.filename == "gift.png"
    assert added.note == "gift box front"
    # One file that is not an image: nothing stored, and the page says which.
    count = Reference.objects.count()
    response = client.post(
        url,
        {
            "kind": "brand_example",
            "files": [
                SimpleUploadedFile("good.png", data, content_type="image/png"),
                SimpleUploadedFile("notes.png", b"plain text", content_type="image/png"),
            ],
        },
        follow=True,
    )
    assert Reference.objects.count() == count
    assert "notes.png" in messages_of(response)
    # Someone who works on no gate of the campaign may not add references.
    refused = as_person("lena").post(
        url,
        {"kind": "brand_example", "files": [SimpleUploadedFile("x.png", data)]},
        follow=True,
    )
    assert "wrong_role" in messages_of(refused)

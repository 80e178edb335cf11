"""The web app's provider comparison (run on the page, held for the person, kept as an option)
and prompt edits from an option's page (checked, then made by the task), through Django's
test client. The OpenAI Images API is a local fake server on 127.0.0.1."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from fakes.image_server import image_server
from PIL import Image

from signoff.briefs.models import Brief
from signoff.visuals.models import Blob, ImageVersion

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def campaign(lumen_workspace, example_dir, settings, tmp_path: Path) -> Brief:
    from signoff.briefs.services import add_brief

    settings.TASKS = IMMEDIATE
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024
    settings.SIGNOFF_HOME = tmp_path / "home"
    return add_brief(example_dir / "briefs" / "cozy-season-campaign.yaml").brief


@pytest.fixture
def openai_images(settings):
    with image_server() as server:
        settings.SIGNOFF_IMAGE_PROVIDER_OPTIONS = {
            "api_key": "test",
            "base_url": server.base_url,
            "max_retries": 0,
        }
        yield server


@pytest.fixture
def option(campaign, person) -> ImageVersion:
    from signoff.visuals.generation import execute_image_run, queue_image_run

    run = queue_image_run(brief=campaign, person=person("ari"), skus=[EMBER], n=1)
    execute_image_run(run.pk)
    return ImageVersion.objects.get(sku=EMBER)


def messages_of(response) -> str:
    return " ".join(re.findall(r'<li class="(?:error|success)">(.*?)</li>', response.text, re.S))


def compare_url(name: str = "images-compare", **kwargs: object) -> str:
    return reverse(f"web:{name}", kwargs={"slug": CAMPAIGN, **kwargs})


def run(client, **data: object):
    body = {"sku": EMBER, "providers": ["builtin"], "others": "", "n": 2, **data}
    return client.post(compare_url("images-compare-run"), body, follow=True)


def mask(size: tuple[int, int], name: str = "mask.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 0, 0)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


# --- compare providers ----------------------------------------------------------------------


@pytest.mark.django_db
def test_compare_is_reached_from_the_images_page_and_lists_the_providers(as_person, campaign):
    images = as_person("ari").get(reverse("web:images", kwargs={"slug": CAMPAIGN}))
    assert f'href="{compare_url()}"' in images.text

    page = as_person("ari").get(compare_url())

    assert page.status_code == 200
    assert 'name="providers" value="builtin"' in page.text
    assert 'name="providers" value="openai"' in page.text
    assert f'<option value="{EMBER}"' in page.text
    assert "signoff " not in messages_of(page)


@pytest.mark.django_db
def test_options_show_side_by_side_and_one_is_kept_as_an_option(as_person, campaign):
    before = (ImageVersion.objects.count(), Blob.objects.count())
    client = as_person("ari")

    page = run(client)

    assert page.status_code == 200
    assert "2 of 2 options made. Nothing is stored until you keep one." in messages_of(page)
    token = page.redirect_chain[-1][0].rstrip("/").split("/")[-1]
    assert re.findall(r'data-option="([^"]+)"', page.text) == ["builtin:1", "builtin:2"]
    assert "compositor-1" in page.text
    assert " ms</span>" in page.text
    assert "$0.0000" in page.text
    assert (ImageVersion.objects.count(), Blob.objects.count()) == before
    for number in (1, 2):
        src = compare_url("images-compare-file", token=token, number=number)
        assert f'src="{src}"' in page.text
        file = client.get(src)
        assert (file.status_code, file["Content-Type"]) == (200, "image/png")
        assert Image.open(io.BytesIO(file.content)).size == (1024, 1024)

    kept = client.post(
        compare_url("images-compare-keep", token=token),
        {"option": "builtin:2", "note": "calmest"},
        follow=True,
    )

    image = ImageVersion.objects.get(origin__compare=True)
    assert kept.redirect_chain[-1][0] == reverse("web:image", kwargs={"image_id": image.pk})
    assert f"Kept builtin:2 as option {image.number} of {EMBER}." in messages_of(kept)
    assert image.origin["kept_by"] == "ari@lumen.example"
    assert image.origin["note"] == "calmest"
    again = client.get(compare_url("images-compared", token=token))
    assert "Kept as an option of" in again.text
    assert reverse("web:image", kwargs={"image_id": image.pk}) in again.text
    twice = client.post(
        compare_url("images-compare-keep", token=token), {"option": "builtin:2"}, follow=True
    )
    assert "Refused (invalid_state): option builtin:2 was already kept" in messages_of(twice)
    unknown = client.post(
        compare_url("images-compare-keep", token=token), {"option": "builtin:9"}, follow=True
    )
    assert "Refused (invalid_input)" in messages_of(unknown)
    assert "option: no option &#x27;builtin:9&#x27;" in messages_of(unknown)
    assert ImageVersion.objects.filter(origin__compare=True).count() == 1


@pytest.mark.django_db
def test_a_comparison_and_its_files_are_the_runners_only(as_person, campaign):
    page = run(as_person("ari"), n=1)
    token = page.redirect_chain[-1][0].rstrip("/").split("/")[-1]

    other = as_person("maya")
    seen = other.get(compare_url("images-compared", token=token), follow=True)

    assert seen.redirect_chain[-1][0] == compare_url()
    assert "That comparison is no longer held" in messages_of(seen)
    file = other.get(compare_url("images-compare-file", token=token, number=1))
    assert file.status_code == 404
    keep = other.post(compare_url("images-compare-keep", token=token), {"option": "builtin:1"})
    assert keep.status_code == 404
    assert not ImageVersion.objects.exists()


@pytest.mark.django_db
def test_a_comparison_refuses_unknown_providers_and_the_wrong_role(as_person, campaign):
    unknown = run(as_person("ari"), others="dalle:3")
    assert "Refused (invalid_input)" in messages_of(unknown)
    assert "providers.1" in messages_of(unknown)
    none = run(as_person("ari"), providers=[])
    assert "providers: name at least one image provider" in messages_of(none)
    role = run(as_person("lena"))
    assert "Refused (wrong_role)" in messages_of(role)
    assert "signoff " not in messages_of(role)


# --- prompt edits from an option's page -----------------------------------------------------


@pytest.mark.django_db
def test_the_option_page_offers_a_prompt_edit(as_person, option):
    page = as_person("ari").get(reverse("web:image", kwargs={"image_id": option.pk}))
    action = reverse("web:image-prompt-edit", kwargs={"image_id": option.pk})
    assert f'action="{action}" enctype="multipart/form-data"' in page.text
    assert 'name="prompt"' in page.text
    assert 'name="mask"' in page.text
    assert '<option value="openai">' in page.text


@pytest.mark.django_db
def test_a_prompt_edit_made_by_the_task_opens_the_new_version(as_person, option, openai_images):
    size = (option.blob.width, option.blob.height)
    url = reverse("web:image-prompt-edit", kwargs={"image_id": option.pk})

    made = as_person("sofia").post(
        url,
        {"prompt": "warmer window light", "provider": "openai", "mask": mask(size)},
        follow=True,
    )

    edited = ImageVersion.objects.get(parent=option)
    assert made.redirect_chain[-1][0] == reverse("web:image", kwargs={"image_id": edited.pk})
    assert f"Prompt edit made by openai: saved as option {edited.number}." in messages_of(made)
    assert edited.origin["operation"] == "prompt"
    assert "warmer window light" in edited.origin["prompt"]
    assert edited.origin["parameters"]["mask"] is True
    (call,) = openai_images.calls
    assert call.mask is not None


@pytest.mark.django_db
def test_a_prompt_edit_without_a_worker_says_it_is_queued(
    as_person, option, openai_images, settings
):
    settings.TASKS = DUMMY  # enqueued, not run: as with a worker in another process
    url = reverse("web:image-prompt-edit", kwargs={"image_id": option.pk})

    queued = as_person("sofia").post(
        url, {"prompt": "warmer", "provider": "openai:gpt-image-2"}, follow=True
    )

    said = messages_of(queued)
    assert "Prompt edit of option 1 queued for openai:gpt-image-2." in said
    assert "will appear on this page" in said
    assert "signoff " not in said  # never a command to run
    assert not ImageVersion.objects.filter(parent=option).exists()
    assert openai_images.calls == []


@pytest.mark.django_db
def test_a_prompt_edit_is_refused_with_its_field(as_person, option, openai_images):
    url = reverse("web:image-prompt-edit", kwargs={"image_id": option.pk})
    client = as_person("sofia")

    empty = client.post(url, {"prompt": " ", "provider": "openai"}, follow=True)
    assert "Refused (invalid_input)" in messages_of(empty)
    assert "prompt: say what to change" in messages_of(empty)
    builtin = client.post(url, {"prompt": "warmer", "provider": "builtin"}, follow=True)
    assert "provider: the builtin image provider does not edit by prompt" in messages_of(builtin)
    small = client.post(
        url, {"prompt": "warmer", "provider": "openai", "mask": mask((8, 8))}, follow=True
    )
    assert "mask: the mask is 8 x 8 but the image is" in messages_of(small)
    role = as_person("lena").post(url, {"prompt": "warmer", "provider": "openai"}, follow=True)
    assert "Refused (wrong_role)" in messages_of(role)
    assert not ImageVersion.objects.filter(parent=option).exists()
    assert openai_images.calls == []


@pytest.mark.django_db
def test_a_comparison_before_the_brief_gate_points_to_the_brief_page(
    as_person, spring_brief, settings, tmp_path
):
    settings.SIGNOFF_HOME = tmp_path / "home"
    sku = spring_brief.latest_version().products.order_by("position").first().sku
    url = reverse("web:images-compare-run", kwargs={"slug": spring_brief.slug})

    refused = as_person("ari").post(url, {"sku": sku, "providers": ["builtin"], "n": 1})

    said = messages_of(refused)
    assert "Refused (invalid_state): brief spring-candles-2027 has not passed G1" in said
    assert "can approve it on the brief page" in said
    assert "signoff " not in said

"""The images API's prompt edits (checked in the request, made by the task) and provider
comparisons (held in the scratch area until a person keeps an option).

Tasks run at once (the immediate backend); the OpenAI Images API is a local fake server on
127.0.0.1 driven through the real SDK.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from api_helpers import api_error
from fakes.image_server import Fault, image_server
from PIL import Image

from signoff.audit.models import Event
from signoff.visuals.models import Blob, ImageVersion
from signoff.visuals.storage import read_blob

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
GIFT = "LUM-WIN-GFT-SET"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
COMPARE = f"/api/briefs/{CAMPAIGN}/images/compare"


@pytest.fixture
def campaign(lumen_workspace, example_dir: Path, settings, tmp_path: Path):
    from signoff.briefs.services import add_brief

    settings.TASKS = IMMEDIATE
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024
    settings.SIGNOFF_HOME = tmp_path / "home"  # the scratch area lives under it
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
def option(api, campaign) -> dict:
    """One builtin option of EMBER, made by a queued batch."""
    response = api("ari").post(f"/api/briefs/{CAMPAIGN}/images/runs", {"n": 1, "skus": [EMBER]})
    assert response.status_code == 202, response.content
    (made,) = api("ari").get(f"/api/briefs/{CAMPAIGN}/images", sku=EMBER).json()
    return made


def mask_of(size: tuple[int, int], alpha: int = 0) -> str:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 0, alpha)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def fields(error: dict) -> list[str]:
    return [p["field"] for p in error["problems"]]


# --- prompt edits ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_prompt_edit_is_queued_and_the_task_makes_a_version_with_the_prompt(
    api, option, openai_images
):
    edits = f"/api/images/{option['id']}/edits"
    body = {
        "prompt": "warmer window light",
        "mask": mask_of(tuple(option["size"])),
        "provider": "openai:gpt-image-2",
        "note": "evening mood",
    }

    response = api("sofia").post(edits, body)

    assert response.status_code == 202, response.content
    queued = response.json()
    assert set(queued) == {"task", "status", "location"}
    assert queued["status"] == "successful"  # the immediate backend ran it already
    assert response["Location"] == queued["location"]
    listed = api("sofia").get(queued["location"]).json()
    (edited,) = [i for i in listed if i["parent"] == option["id"]]
    detail = api("sofia").get(f"/api/images/{edited['id']}").json()
    origin = detail["origin"]
    assert origin["operation"] == "prompt"
    assert "warmer window light" in origin["prompt"]
    assert (origin["provider"], origin["model"]) == ("openai", "gpt-image-2")
    assert origin["asked_by"] == "sofia@lumen.example"
    assert origin["parameters"]["mask"] is True
    assert origin["note"] == "evening mood"
    # The provider got the parent's file, the mask and the prompt.
    (call,) = openai_images.calls
    parent = ImageVersion.objects.get(pk=option["id"])
    assert call.images[0].data == read_blob(parent.blob)
    assert call.mask is not None
    assert "warmer window light" in call.fields["prompt"]
    assert Event.objects.filter(action="image.edited", subject_id=str(edited["id"])).exists()


@pytest.mark.django_db
def test_a_prompt_edit_the_provider_refuses_fails_its_task_and_stores_nothing(
    api, option, openai_images
):
    openai_images.fail(Fault("error_body", message="rejected by the safety system"))

    response = api("sofia").post(
        f"/api/images/{option['id']}/edits", {"prompt": "add a cat", "provider": "openai"}
    )

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "failed"
    assert not ImageVersion.objects.filter(parent_id=option["id"]).exists()


@pytest.mark.django_db
def test_a_prompt_edit_is_refused_before_it_is_queued(api, option, openai_images, settings):
    edits = f"/api/images/{option['id']}/edits"
    count = ImageVersion.objects.count()

    blank = api_error(api("sofia").post(edits, {"prompt": "  "}), 422, "invalid_input")
    assert "prompt" in fields(blank)
    wrong = api_error(
        api("sofia").post(edits, {"prompt": "x", "provider": "openai", "mask": mask_of((10, 10))}),
        422,
        "invalid_input",
    )
    assert fields(wrong) == ["mask"]
    assert "must be the same size" in wrong["problems"][0]["message"]
    opaque = api_error(
        api("sofia").post(
            edits,
            {"prompt": "x", "provider": "openai", "mask": mask_of(tuple(option["size"]), 255)},
        ),
        422,
        "invalid_input",
    )
    assert fields(opaque) == ["mask"]
    for mask in ("%%%", base64.b64encode(b"not an image").decode()):
        bad = api_error(
            api("sofia").post(edits, {"prompt": "x", "provider": "openai", "mask": mask}),
            422,
            "invalid_input",
        )
        assert fields(bad) == ["mask"]
    unknown = api_error(
        api("sofia").post(edits, {"prompt": "x", "provider": "midjourney"}), 422, "invalid_input"
    )
    assert fields(unknown) == ["provider"]
    assert "Unknown image provider 'midjourney'" in unknown["problems"][0]["message"]
    # The builtin compositor draws nothing new: said plainly, never a crash in the worker.
    settings.SIGNOFF_IMAGE_PROVIDER = "builtin"
    builtin = api_error(api("sofia").post(edits, {"prompt": "x"}), 422, "invalid_input")
    assert fields(builtin) == ["provider"]
    assert "does not edit by prompt" in builtin["problems"][0]["message"]
    both = api_error(
        api("sofia").post(edits, {"prompt": "x", "provider": "openai", "upscale": 2}),
        422,
        "invalid_input",
    )
    assert fields(both) == ["upscale"]
    # Someone with no role on the brief may not edit its images.
    api_error(api("lena").post(edits, {"prompt": "x", "provider": "openai"}), 403, "wrong_role")
    assert ImageVersion.objects.count() == count
    assert openai_images.calls == []
    # The builtin edits still answer at once.
    made = api("sofia").post(edits, {"upscale": 2})
    assert made.status_code == 201, made.content


# --- provider comparisons -------------------------------------------------------------------


@pytest.mark.django_db
def test_compare_holds_options_outside_the_store_until_one_is_kept(api, campaign, settings):
    before = (ImageVersion.objects.count(), Blob.objects.count())

    response = api("ari").post(COMPARE, {"sku": EMBER, "providers": ["builtin"], "n": 2})

    assert response.status_code == 200, response.content
    compared = response.json()
    assert compared["sku"] == EMBER
    assert [o["key"] for o in compared["options"]] == ["builtin:1", "builtin:2"]
    first = compared["options"][0]
    assert (first["provider"], first["model"], first["index"]) == ("builtin", "compositor-1", 1)
    assert first["size"] == [1024, 1024]
    assert first["error"] is None
    assert first["latency_ms"] > 0
    assert first["prompt"]
    assert isinstance(first["findings"], list)
    assert (ImageVersion.objects.count(), Blob.objects.count()) == before
    folder = Path(settings.SIGNOFF_HOME) / "scratch" / "compare" / compared["id"]
    assert (folder / "manifest.json").is_file()
    file = api("ari").get(first["file"])
    assert file.status_code == 200
    assert file["Content-Type"] == "image/png"
    assert file.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert api("ari").get(f"{COMPARE}/{compared['id']}").json()["options"] == compared["options"]

    kept = api("ari").post(compared["keep"], {"option": "builtin:1", "note": "the warmest"})

    assert kept.status_code == 201, kept.content
    image = kept.json()
    assert (image["sku"], image["kind"], image["provider"]) == (EMBER, "option", "builtin")
    assert image["origin"]["compare"] is True
    assert image["origin"]["kept_by"] == "ari@lumen.example"
    assert image["origin"]["note"] == "the warmest"
    assert ImageVersion.objects.count() == before[0] + 1
    again = api_error(
        api("ari").post(compared["keep"], {"option": "builtin:1"}), 409, "invalid_state"
    )
    assert f"already kept as image {image['id']}" in again["message"]
    held = api("ari").get(f"{COMPARE}/{compared['id']}").json()
    assert [o["kept_as"] for o in held["options"]] == [image["id"], None]
    assert held["options"][0]["file"] is None
    # The last option kept: the comparison is gone from the scratch area.
    assert api("ari").post(compared["keep"], {"option": "builtin:2"}).status_code == 201
    assert not folder.exists()
    api_error(api("ari").get(f"{COMPARE}/{compared['id']}"), 404, "not_found")


@pytest.mark.django_db
def test_a_comparison_is_kept_only_by_the_person_who_ran_it(api, campaign, other_workspace):
    compared = api("ari").post(COMPARE, {"sku": EMBER, "providers": ["builtin"]}).json()
    count = ImageVersion.objects.count()

    unknown = api_error(
        api("ari").post(compared["keep"], {"option": "builtin:7"}), 422, "invalid_input"
    )
    assert fields(unknown) == ["option"]
    assert "builtin:1" in unknown["problems"][0]["message"]
    missing = api_error(api("ari").post(compared["keep"], {}), 422, "invalid_input")
    assert fields(missing) == ["option"]
    # Another person of the workspace, and anyone of another workspace: no such comparison.
    api_error(api("maya").post(compared["keep"], {"option": "builtin:1"}), 404, "not_found")
    api_error(api("maya").get(compared["options"][0]["file"]), 404, "not_found")
    api_error(
        api("ari", "other-brand").post(compared["keep"], {"option": "builtin:1"}),
        404,
        "not_found",
    )
    api_error(
        api("ari").post(f"{COMPARE}/not-a-real-comparison-id/keep", {"option": "builtin:1"}),
        404,
        "not_found",
    )
    assert ImageVersion.objects.count() == count


@pytest.mark.django_db
def test_a_comparison_refuses_bad_input_and_the_wrong_role(api, campaign):
    unknown = api_error(
        api("ari").post(COMPARE, {"sku": EMBER, "providers": ["builtin", "dalle:3"]}),
        422,
        "invalid_input",
    )
    assert fields(unknown) == ["providers.1"]
    empty = api_error(
        api("ari").post(COMPARE, {"sku": EMBER, "providers": []}), 422, "invalid_input"
    )
    assert fields(empty) == ["providers"]
    many = api_error(
        api("ari").post(COMPARE, {"sku": EMBER, "providers": ["builtin"], "n": 11}),
        422,
        "invalid_input",
    )
    assert fields(many) == ["n"]
    nope = api_error(
        api("ari").post(COMPARE, {"sku": "NOPE", "providers": ["builtin"]}), 422, "invalid_input"
    )
    assert fields(nope) == ["sku"]
    no_packshot = api_error(
        api("ari").post(COMPARE, {"sku": GIFT, "providers": ["builtin"]}), 422, "invalid_input"
    )
    assert "no packshot" in no_packshot["problems"][0]["message"]
    api_error(
        api("lena").post(COMPARE, {"sku": EMBER, "providers": ["builtin"]}), 403, "wrong_role"
    )


@pytest.mark.django_db
def test_compare_builtin_with_the_images_api_side_by_side(api, campaign, openai_images):
    response = api("ari").post(
        COMPARE, {"sku": EMBER, "providers": ["builtin", "openai:gpt-image-2"], "n": 1}
    )

    assert response.status_code == 200, response.content
    options = response.json()["options"]
    assert [(o["key"], o["model"]) for o in options] == [
        ("builtin:1", "compositor-1"),
        ("openai:1", "gpt-image-2"),
    ]
    assert len(openai_images.calls) == 1
    kept = api("ari").post(response.json()["keep"], {"option": "openai:1"})
    assert kept.status_code == 201, kept.content
    assert kept.json()["origin"]["model"] == "gpt-image-2"

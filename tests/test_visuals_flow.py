"""Visual assets end to end through the command: references, a batch of options, rating,
selection, edits, renditions attached to packages, and what each refuses."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from signoff.audit.models import Event
from signoff.briefs.models import Brief
from signoff.packages.models import Approval, Package
from signoff.visuals.models import (
    Blob,
    ImageRun,
    ImageVersion,
    Reference,
    Rendition,
    Selection,
)
from signoff.visuals.storage import read_blob

CAMPAIGN = "cozy-season-2026"
EMBER = "LUM-WIN-EMB-14"
GIFT = "LUM-WIN-GFT-SET"


@pytest.fixture(autouse=True)
def _small_masters(settings):
    """Options at 1024 px: the flow is the same, and a 3,508 px master (an A2 poster's) costs
    seconds per option that these tests do not need to spend."""
    settings.SIGNOFF_IMAGE_MASTER_MAX_PX = 1024


@pytest.fixture
def campaign(cli, cli_workspace: Path) -> Path:
    """The cozy-season campaign added by `signoff brief add` (its packshot and brand example
    become references)."""
    added = cli("brief", "add", str(cli_workspace / "briefs" / "cozy-season-campaign.yaml"))
    assert added.exit_code == 0, added.output
    return cli_workspace


@pytest.fixture
def people(cli, campaign) -> dict[str, str]:
    tokens = {}
    for name in ("maya", "ari", "sofia", "lena"):
        tokens[name] = cli("token", "issue", f"{name}@lumen.example").stdout.strip()
    return tokens


def _json(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.django_db
def test_a_brief_files_become_references_stored_once_by_hash(cli, campaign):
    rows = _json(cli("refs", "list", CAMPAIGN, "--json"))
    kinds = {(r["kind"], r["sku"]) for r in rows}
    assert ("packshot", EMBER) in kinds
    assert ("brand_example", None) in kinds
    packshot = next(r for r in rows if r["kind"] == "packshot")
    data = (campaign / "references" / "ember-packshot.png").read_bytes()
    import hashlib

    assert packshot["sha256"] == hashlib.sha256(data).hexdigest()
    assert packshot["size"] == list(Image.open(io.BytesIO(data)).size)
    # Adding the same file again stores nothing new.
    blobs = Blob.objects.count()
    again = cli(
        "refs",
        "add",
        CAMPAIGN,
        str(campaign / "references" / "ember-packshot.png"),
        "--kind",
        "packshot",
        "--sku",
        EMBER,
    )
    assert again.exit_code == 0, again.output
    assert Blob.objects.count() == blobs
    assert Reference.objects.filter(kind="packshot", sku=EMBER).count() == 1


@pytest.mark.django_db
def test_bad_reference_files_are_refused_with_their_names_and_nothing_is_stored(
    cli, campaign, tmp_path
):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    good = campaign / "references" / "winter-hero.png"
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(good.read_bytes()[:3000])
    before = (Reference.objects.count(), Blob.objects.count())
    result = cli(
        "refs",
        "add",
        CAMPAIGN,
        str(good),
        str(text),
        str(svg),
        str(truncated),
        "--kind",
        "brand_example",
    )
    assert result.exit_code == 2
    assert "nothing was stored" in result.output
    assert "notes.png" in result.output
    assert "logo.svg" in result.output
    assert "SVG" in result.output
    assert "cut.png" in result.output
    assert (Reference.objects.count(), Blob.objects.count()) == before
    # A packshot must name its SKU, and a SKU must be the brief's.
    result = cli("refs", "add", CAMPAIGN, str(good), "--kind", "packshot", "--sku", "NOPE")
    assert result.exit_code == 2
    assert "'NOPE' is not in brief" in result.output


@pytest.mark.django_db
def test_a_batch_makes_n_options_per_sku_with_provenance_and_reports_missing_packshots(cli, people):
    out = _json(
        cli(
            "images",
            "generate",
            CAMPAIGN,
            "--n",
            "3",
            "--hypothesis",
            "Evening ritual by the window",
            "--json",
            token=people["ari"],
        )
    )
    assert out["status"] == "finished"
    assert len(out["made"][EMBER]) == 3
    assert GIFT in out["missing"]
    assert "packshot" in out["missing"][GIFT]
    options = list(ImageVersion.objects.filter(sku=EMBER).order_by("number"))
    assert [o.number for o in options] == [1, 2, 3]
    packshot = Reference.objects.get(kind="packshot", sku=EMBER).blob.sha256
    for option in options:
        assert option.status == "ready"
        assert option.author == "agent:image_generator"
        origin = option.origin
        assert origin["provider"] == "builtin"
        assert origin["packshot"] == packshot
        assert packshot in origin["references"]
        assert "Evening ritual by the window" in origin["prompt"]
        assert origin["seed"] is not None
        assert origin["size"] == [option.blob.width, option.blob.height]
        assert "compositeSynthetic" in origin["digital_source_type"]
    # Options differ; each is stored once and reads back as an image.
    assert len({o.blob.sha256 for o in options}) == 3
    assert Image.open(io.BytesIO(read_blob(options[0].blob))).size == tuple(
        options[0].origin["size"]
    )
    actions = list(
        Event.objects.filter(action__startswith="image.").values_list("action", flat=True)
    )
    assert actions.count("image.generated") == 3
    assert "image.run_started" in actions
    assert "image.run_finished" in actions
    # The command's list shows them, with their files.
    listed = _json(cli("images", "list", CAMPAIGN, "--sku", EMBER, "--json"))
    assert [row["number"] for row in listed] == [1, 2, 3]
    assert all(Path(row["path"]).is_file() for row in listed)


@pytest.mark.django_db
def test_generation_needs_a_real_sku_and_a_sane_count(cli, people):
    bad = cli("images", "generate", CAMPAIGN, "--sku", "NOPE", "--n", "40", token=people["ari"])
    assert bad.exit_code == 2
    assert "'NOPE' is not in brief" in bad.output
    assert "--n must be 1 to 10" in bad.output
    assert not ImageRun.objects.exists()
    refused = cli("images", "generate", CAMPAIGN, token=people["lena"])
    assert refused.exit_code == 4  # a brand manager owns no campaign gate


@pytest.mark.django_db
def test_rate_select_and_maker_checker(cli, people):
    _json(cli("images", "generate", CAMPAIGN, "--n", "2", "--json", token=people["ari"]))
    first, second = ImageVersion.objects.filter(sku=EMBER).order_by("number")
    rated = cli(
        "images",
        "rate",
        str(first.pk),
        "4",
        "--tags",
        "warm,too-dark",
        "--note",
        "lift the shadows",
        token=people["maya"],
    )
    assert rated.exit_code == 0, rated.output
    # The next batch for the SKU reads the rating.
    _json(
        cli(
            "images",
            "generate",
            CAMPAIGN,
            "--sku",
            EMBER,
            "--n",
            "1",
            "--json",
            token=people["ari"],
        )
    )
    latest = ImageVersion.objects.filter(sku=EMBER).order_by("-number").first()
    assert "lift the shadows" in latest.origin["prompt"]
    assert "too-dark" in latest.origin["prompt"]
    # An operator may not select; the CMO may.
    refused = cli("images", "select", str(second.pk), token=people["ari"])
    assert refused.exit_code == 4
    assert "wrong_role" in refused.output
    assert cli("images", "select", str(second.pk), token=people["sofia"]).exit_code == 0
    # Selecting another replaces it; the first selection is kept, marked replaced.
    assert cli("images", "select", str(first.pk), token=people["sofia"]).exit_code == 0
    live = Selection.objects.get(replaced_at__isnull=True)
    assert live.image_id == first.pk
    assert Selection.objects.filter(replaced_at__isnull=False).count() == 1
    # Maker-checker: whoever edited an image may not select it; another selector may.
    edit = _json(
        cli("images", "edit", str(first.pk), "--upscale", "2", "--json", token=people["sofia"])
    )
    refused = cli("images", "select", str(edit["id"]), token=people["sofia"])
    assert refused.exit_code == 4
    assert "maker_checker" in refused.output
    assert cli("images", "select", str(edit["id"]), token=people["maya"]).exit_code == 0


@pytest.mark.django_db
def test_edits_are_new_versions_with_lineage(cli, people):
    _json(cli("images", "generate", CAMPAIGN, "--n", "1", "--json", token=people["ari"]))
    option = ImageVersion.objects.get(sku=EMBER)
    width, height = option.blob.width, option.blob.height
    up = _json(
        cli("images", "edit", str(option.pk), "--upscale", "2", "--json", token=people["sofia"])
    )
    assert up["size"] == [width * 2, height * 2]
    assert up["parent"] == option.pk
    assert up["origin"]["upscaled"] is True
    crop = _json(
        cli(
            "images",
            "edit",
            str(up["id"]),
            "--crop",
            "0,0,400,300",
            "--json",
            token=people["sofia"],
        )
    )
    assert crop["size"] == [400, 300]
    assert [item["id"] for item in crop["lineage"]] == [up["id"], option.pk]
    bad = cli("images", "edit", str(option.pk), "--crop", "0,0,99999,10", token=people["sofia"])
    assert bad.exit_code in (2, 3)
    both = cli(
        "images",
        "edit",
        str(option.pk),
        "--upscale",
        "2",
        "--crop",
        "0,0,1,1",
        token=people["sofia"],
    )
    assert both.exit_code == 2
    assert "exactly one edit" in both.output


@pytest.mark.django_db
def test_render_fills_every_slot_and_binds_images_to_a_new_package_version(cli, people):
    assert cli("run", CAMPAIGN).exit_code == 0
    _json(cli("images", "generate", CAMPAIGN, "--n", "1", "--json", token=people["ari"]))
    option = ImageVersion.objects.get(sku=EMBER)
    assert cli("images", "select", str(option.pk), token=people["sofia"]).exit_code == 0
    package = Package.objects.get(
        brief__slug=CAMPAIGN, sku=EMBER, channel="meta_feed_ad", variant="A"
    )
    before = package.current_version
    report = _json(cli("images", "render", CAMPAIGN, "--json", token=people["ari"]))
    slots = {(r["channel"], r["slot"]): r for r in report["rendered"]}
    assert ("meta_feed_ad", "feed_4x5") in slots
    assert slots[("meta_feed_ad", "feed_4x5")]["size"] == [1440, 1800]
    assert slots[("print_poster_a2", "poster")]["size"] == [2516, 3543]
    assert slots[("email_promo", "hero")]["bytes"] <= 200_000
    assert slots[("meta_feed_ad", "feed_4x5")]["file"] == (
        f"lumen-home_{EMBER}_meta_feed_ad_feed_4x5_v1.jpg"
    )
    assert GIFT in report["missing"]
    package.refresh_from_db()
    after = package.current_version
    assert after.number == before.number + 1
    assert after.fields == before.fields
    assert set(after.images) == {"feed_1x1", "feed_4x5", "story_9x16"}
    assert after.content_hash != before.content_hash
    # Rendering again makes nothing new and no new version.
    again = _json(cli("images", "render", CAMPAIGN, "--json", token=people["ari"]))
    assert all(r["reused"] for r in again["rendered"])
    package.refresh_from_db()
    assert package.current_version_id == after.pk
    assert Rendition.objects.filter(image=option).count() == len(slots)


@pytest.mark.django_db
def test_a_new_image_voids_the_approvals_it_no_longer_matches(cli, people):
    assert cli("run", CAMPAIGN).exit_code == 0
    _json(cli("images", "generate", CAMPAIGN, "--n", "2", "--json", token=people["ari"]))
    first, second = ImageVersion.objects.filter(sku=EMBER).order_by("number")
    assert cli("images", "select", str(first.pk), token=people["sofia"]).exit_code == 0
    _json(cli("images", "render", CAMPAIGN, "--sku", EMBER, "--json", token=people["ari"]))
    package = Package.objects.get(
        brief__slug=CAMPAIGN, sku=EMBER, channel="instagram_post", variant="A"
    )
    ref = str(package.pk)
    assert cli("review", ref, token=people["sofia"]).exit_code == 0
    approved = cli("approve", ref, token=people["sofia"])
    assert approved.exit_code == 0, approved.output
    assert Approval.objects.filter(package=package, voided_at__isnull=True).count() == 1
    # Another image selected and rendered: the approval was of the old combination.
    assert cli("images", "select", str(second.pk), token=people["sofia"]).exit_code == 0
    _json(cli("images", "render", CAMPAIGN, "--sku", EMBER, "--json", token=people["ari"]))
    assert not Approval.objects.filter(package=package, voided_at__isnull=True).exists()
    package.refresh_from_db()
    assert package.current_version.images["feed_4x5"]["image"] == second.pk


@pytest.mark.django_db
def test_the_g1_event_names_the_references_it_was_approved_with(cli, cli_brief, tokens):
    event = Event.objects.filter(action="brief.gate.approved").latest("seq")
    refs = event.data["references"]
    assert {r["kind"] for r in refs} == {"brand_example"}
    assert all(len(r["sha256"]) == 64 for r in refs)
    assert Brief.objects.get(slug="spring-candles-2027").references.count() == 1


@pytest.fixture
def openai_images(settings):
    from fakes.image_server import image_server

    with image_server() as server:
        settings.SIGNOFF_IMAGE_PROVIDER_OPTIONS = {
            "api_key": "test",
            "base_url": server.base_url,
            "max_retries": 0,
        }
        yield server


@pytest.mark.django_db
def test_a_batch_through_the_images_api_records_a_bad_answer_as_failed(cli, people, openai_images):
    openai_images.fail("truncated")
    out = _json(
        cli(
            "images",
            "generate",
            CAMPAIGN,
            "--sku",
            EMBER,
            "--n",
            "2",
            "--provider",
            "openai:gpt-image-2",
            "--json",
            token=people["ari"],
        )
    )
    assert out["status"] == "finished"
    assert EMBER in out["failed"]
    failed = ImageVersion.objects.get(sku=EMBER, status="failed")
    assert failed.blob is None
    assert "truncated" in failed.error or "corrupt" in failed.error
    assert Event.objects.filter(action="image.generation_failed").count() == 1
    # The packshot went to the service as the input image, byte for byte.
    (call,) = openai_images.calls
    packshot = Reference.objects.get(kind="packshot", sku=EMBER)
    assert call.images[0].data == read_blob(packshot.blob)
    # The next batch works; its options record model, cost and size.
    out = _json(
        cli(
            "images",
            "generate",
            CAMPAIGN,
            "--sku",
            EMBER,
            "--n",
            "2",
            "--provider",
            "openai:gpt-image-2",
            "--json",
            token=people["ari"],
        )
    )
    made = ImageVersion.objects.filter(pk__in=out["made"][EMBER])
    assert {o.origin["model"] for o in made} == {"gpt-image-2"}
    assert all(o.origin["size"] == [1024, 1024] for o in made)


@pytest.mark.django_db
def test_compare_stores_nothing_unless_a_person_keeps_an_option(
    cli, people, openai_images, tmp_path
):
    before = (ImageVersion.objects.count(), Blob.objects.count())
    out = _json(
        cli(
            "images",
            "compare",
            "--brief",
            CAMPAIGN,
            "--sku",
            EMBER,
            "--providers",
            "builtin,openai:gpt-image-2",
            "--out",
            str(tmp_path),
            "--json",
            token=people["ari"],
        )
    )
    assert [(o["provider"], o["model"]) for o in out["options"]] == [
        ("builtin", "compositor-1"),
        ("openai", "gpt-image-2"),
    ]
    assert all(Path(o["file"]).is_file() for o in out["options"])
    assert (ImageVersion.objects.count(), Blob.objects.count()) == before
    kept = _json(
        cli(
            "images",
            "compare",
            "--brief",
            CAMPAIGN,
            "--sku",
            EMBER,
            "--providers",
            "builtin",
            "--keep",
            "builtin:1",
            "--json",
            token=people["ari"],
        )
    )
    (image_id,) = kept["kept"]
    image = ImageVersion.objects.get(pk=image_id)
    assert image.origin["compare"] is True
    assert image.origin["kept_by"] == "ari@lumen.example"


@pytest.mark.django_db
def test_memory_search_finds_images_by_file_name_parts_and_ratings(cli, people):
    assert cli("run", CAMPAIGN).exit_code == 0
    _json(cli("images", "generate", CAMPAIGN, "--n", "1", "--json", token=people["ari"]))
    option = ImageVersion.objects.get(sku=EMBER)
    assert (
        cli(
            "images",
            "rate",
            str(option.pk),
            "2",
            "--note",
            "vessel looks plasticky",
            token=people["sofia"],
        ).exit_code
        == 0
    )
    assert cli("images", "select", str(option.pk), token=people["sofia"]).exit_code == 0
    _json(cli("images", "render", CAMPAIGN, "--json", token=people["ari"]))
    by_name = _json(cli("memory", "search", "story_9x16", "--json"))
    assert any("instagram_post_story_9x16" in hit["text"] for hit in by_name)
    by_sku_part = _json(cli("memory", "search", "EMB poster", "--json"))
    assert any("print_poster_a2_poster" in hit["text"] for hit in by_sku_part)
    rated = _json(cli("memory", "search", "plasticky", "--json"))
    assert [hit["kind"] for hit in rated] == ["image.rated"]


@pytest.mark.django_db
def test_a_batch_whose_worker_died_is_finished_by_the_next_one(cli, people):
    """The first run stored one SKU's first option and died (recorded as running, no lock);
    the same batch again reads it interrupted and makes only the options still missing."""
    from signoff.visuals.generation import execute_image_run, queue_image_run
    from signoff.workspaces.tokens import find_person

    ari = find_person("ari@lumen.example", "lumen-home")
    brief = Brief.objects.get(slug=CAMPAIGN)
    dead = queue_image_run(brief=brief, person=ari, n=3, hypothesis="dusk")
    done = execute_image_run(dead.pk)
    keep = done.made[EMBER][0]
    ImageVersion.objects.filter(run=dead).exclude(pk=keep).delete()
    ImageRun.objects.filter(pk=dead.pk).update(status="running", finished_at=None)

    again = queue_image_run(brief=brief, person=ari, n=3, hypothesis="dusk")
    outcome = execute_image_run(again.pk)
    assert len(outcome.made[EMBER]) == 2
    dead.refresh_from_db()
    assert dead.status == "interrupted"
    assert ImageVersion.objects.filter(sku=EMBER, status="ready").count() == 3
    # A different batch (another hypothesis) is a new batch: all of its options are made.
    other = queue_image_run(brief=brief, person=ari, n=2, hypothesis="morning")
    assert len(execute_image_run(other.pk).made[EMBER]) == 2


@pytest.mark.django_db
def test_a_prompt_edit_goes_to_the_provider_with_the_image_and_mask(
    cli, people, openai_images, tmp_path
):
    _json(cli("images", "generate", CAMPAIGN, "--n", "1", "--json", token=people["ari"]))
    option = ImageVersion.objects.get(sku=EMBER)
    mask = tmp_path / "mask.png"
    Image.new("RGBA", (option.blob.width, option.blob.height), (0, 0, 0, 0)).save(mask)
    edited = _json(
        cli(
            "images",
            "edit",
            str(option.pk),
            "--prompt",
            "warmer window light",
            "--mask",
            str(mask),
            "--provider",
            "openai:gpt-image-2",
            "--json",
            token=people["sofia"],
        )
    )
    assert edited["parent"] == option.pk
    assert edited["origin"]["operation"] == "prompt"
    assert edited["origin"]["model"] == "gpt-image-2"
    assert edited["origin"]["asked_by"] == "sofia@lumen.example"
    (call,) = openai_images.calls
    assert call.images[0].data == read_blob(option.blob)
    assert call.mask is not None
    assert "warmer window light" in call.fields["prompt"]


@pytest.mark.django_db
def test_a_batch_stops_at_the_briefs_cost_budget(cli, cli_workspace, openai_images, settings):
    """Priced images count against the brief's max_cost: the SKUs not started are named."""
    settings.SIGNOFF_IMAGE_PRICES = {"gpt-image-2": {"per_image": 0.05}}
    settings.SIGNOFF_IMAGE_CONCURRENCY = 1  # one SKU at a time: the stop falls between SKUs
    path = cli_workspace / "briefs" / "cozy-season-campaign.yaml"
    path.write_text(path.read_text() + "budget: {max_cost: 0.04}\n")
    assert cli("brief", "add", str(path)).exit_code == 0
    packshot = cli_workspace / "references" / "ember-packshot.png"
    assert (
        cli(
            "refs",
            "add",
            CAMPAIGN,
            str(packshot),
            "--kind",
            "packshot",
            "--sku",
            GIFT,
        ).exit_code
        == 0
    )
    token = cli("token", "issue", "ari@lumen.example").stdout.strip()
    out = _json(
        cli(
            "images",
            "generate",
            CAMPAIGN,
            "--n",
            "2",
            "--provider",
            "openai:gpt-image-2",
            "--json",
            token=token,
        )
    )
    assert out["status"] == "stopped"
    assert "cost budget reached" in out["summary"]["stopped"]
    assert len(out["made"][EMBER]) == 2
    assert out["summary"]["not_started"] == [GIFT]
    made = ImageVersion.objects.filter(status="ready")
    assert {o.origin["cost"] for o in made} == {0.05}
    assert ImageRun.objects.get().status == "stopped"


def _pass_gate(cli, ref: str, token: str) -> None:
    assert cli("review", ref, token=token).exit_code == 0
    passed = cli("approve", ref, token=token)
    assert passed.exit_code == 0, passed.output


@pytest.mark.django_db
def test_the_last_gate_refuses_a_package_whose_required_slots_are_empty(cli, people):
    """Copy can pass the first gate before the creative exists, but not the last: it names
    the empty slots, and passes once the selected image is rendered into them."""
    people["daniel"] = cli("token", "issue", "daniel@lumen.example").stdout.strip()
    assert cli("run", CAMPAIGN).exit_code == 0
    package = Package.objects.get(
        brief__slug=CAMPAIGN, sku=EMBER, channel="meta_feed_ad", variant="A"
    )
    ref = str(package.pk)
    _pass_gate(cli, ref, people["sofia"])  # `approve` (the CMO's): copy only is fine
    assert cli("review", ref, token=people["daniel"]).exit_code == 0
    refused = cli("approve", ref, token=people["daniel"])
    assert refused.exit_code != 0
    assert "missing_images" in refused.output
    assert "feed_1x1, feed_4x5;" in refused.output  # story_9x16 is optional
    package.refresh_from_db()
    assert package.position == "C3/in_review"
    assert not Approval.objects.filter(package=package, gate="coherence").exists()
    # The email hero is optional: an email package passes both gates without it.
    email = Package.objects.filter(brief__slug=CAMPAIGN, sku=EMBER, channel="email_promo")[0]
    _pass_gate(cli, str(email.pk), people["sofia"])
    _pass_gate(cli, str(email.pk), people["daniel"])
    email.refresh_from_db()
    assert email.state == Package.State.APPROVED
    generated = cli(
        "images", "generate", CAMPAIGN, "--sku", EMBER, "--n", "1", "--json", token=people["ari"]
    )
    _json(generated)
    option = ImageVersion.objects.get(sku=EMBER)
    assert cli("images", "select", str(option.pk), token=people["sofia"]).exit_code == 0
    _json(cli("images", "render", CAMPAIGN, "--sku", EMBER, "--json", token=people["ari"]))
    # The images are a new version: back to `approve`, then both gates pass.
    _pass_gate(cli, ref, people["sofia"])
    _pass_gate(cli, ref, people["daniel"])
    package.refresh_from_db()
    assert package.state == Package.State.APPROVED
    assert set(package.current_version.images) >= {"feed_1x1", "feed_4x5", "story_9x16"}


@pytest.mark.django_db
def test_launch_refuses_an_approved_package_whose_required_slots_are_empty(cli, people, tmp_path):
    """An approval from before a slot was required (a workspace override added it later)
    does not ship a package without its image."""
    people["daniel"] = cli("token", "issue", "daniel@lumen.example").stdout.strip()
    assert cli("run", CAMPAIGN).exit_code == 0
    for package in Package.objects.filter(brief__slug=CAMPAIGN, channel="email_promo"):
        _pass_gate(cli, str(package.pk), people["sofia"])
        _pass_gate(cli, str(package.pk), people["daniel"])
    workspace = Brief.objects.get(slug=CAMPAIGN).workspace
    workspace.channel_overrides = {
        "email_promo": {
            "images": {
                "slots": [
                    {"id": "hero", "width_px": 1200, "height_px": 600, "required": True},
                ]
            }
        }
    }
    workspace.save(update_fields=["channel_overrides"])
    out = tmp_path / "bundles"
    refused = cli(
        "launch", CAMPAIGN, "--channel", "email_promo", "--out", str(out), token=people["ari"]
    )
    assert refused.exit_code != 0
    assert "missing_images" in refused.output
    assert "empty required image slots" in refused.output
    assert "hero" in refused.output
    assert not (out / CAMPAIGN / "email_promo").exists()
    assert not Package.objects.filter(brief__slug=CAMPAIGN, state="published").exists()


@pytest.mark.django_db
def test_image_spend_counts_against_the_briefs_copy_budget(
    cli, cli_workspace, openai_images, settings
):
    """One budget covers a brief's copy and its images: a run after priced images that
    spent the cap drafts nothing and says why."""
    settings.SIGNOFF_IMAGE_PRICES = {"gpt-image-2": {"per_image": 0.05}}
    path = cli_workspace / "briefs" / "cozy-season-campaign.yaml"
    path.write_text(path.read_text() + "budget: {max_cost: 0.08}\n")
    assert cli("brief", "add", str(path)).exit_code == 0
    token = cli("token", "issue", "ari@lumen.example").stdout.strip()
    made = _json(
        cli(
            "images",
            "generate",
            CAMPAIGN,
            "--sku",
            EMBER,
            "--n",
            "2",
            "--provider",
            "openai:gpt-image-2",
            "--json",
            token=token,
        )
    )
    assert len(made["made"][EMBER]) == 2
    run = cli("run", CAMPAIGN)
    assert "stopped: cost budget reached: $0.1000 of $0.0800" in run.output
    assert not Package.objects.filter(brief__slug=CAMPAIGN, current_version__isnull=False).exists()

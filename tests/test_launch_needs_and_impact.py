"""Launch is gated on what the channel needs; impact analysis is precise; small truths.

Issue 16, items 9 to 11: the last gate and launch refuse a package whose channel's required
copy fields or images are empty, or whose version carries a blocking finding, naming each;
a brief change resets only the packages whose channel uses the changed fact or whose copy
states it, saying why; a read-only command's bad input is not "nothing was stored"; messages
are shortened at a sentence or word; the manifest says when and by whom; a draft's revision
is its own.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from api_helpers import api_error
from cli_helpers import BRIEF, ref
from django.utils import timezone
from image_helpers import give_images

from signoff.audit.models import Event
from signoff.briefs.impact import FactChange, channel_uses, fact_changes, stated_in, why_touched
from signoff.channels.catalog import resolve_spec
from signoff.core.text import clip
from signoff.delivery.models import Launch
from signoff.delivery.services import launch_channel
from signoff.packages.decisions import approve_package, reject_package
from signoff.packages.models import Finding, Package
from signoff.workflow import StateError

LAV, NER = "LUM-SPR-LAV-08", "LUM-SPR-NER-08"
# A field a workspace adds to the Meta ad after its packages were drafted: required (the
# default), so no version has it.
LEGAL_LINE = {
    "meta_feed_ad": {"fields": {"legal_line": {"label": "Legal line", "compose": "body"}}}
}


def _package(sku: str, channel: str) -> Package:
    return Package.objects.select_related("current_version").get(
        brief__slug=BRIEF, sku=sku, channel=channel
    )


def _through(package: Package, person, upto: str = "G4", *, images: bool = True) -> None:
    """G2 (maya), G3 (omar), then G4 (lena), stopping after ``upto``; the images the channel
    requires first (a new version: given later, they would void the approvals)."""
    if images:
        give_images([package])
    for gate, name in (("G2", "maya"), ("G3", "omar"), ("G4", "lena")):
        result = approve_package(package_id=package.pk, person=person(name), expected_gate=gate)
        assert result.ok, result.message
        if gate == upto:
            return


def _override(workspace, overrides: dict) -> None:
    workspace.channel_overrides = overrides
    workspace.save(update_fields=["channel_overrides"])


def _token(name: str) -> str:
    from signoff.workspaces.tokens import issue_token

    return issue_token(email=f"{name}@lumen.example", workspace="lumen-home")


# --- 9. the last gate and launch ask for what the channel needs -------------------------------


@pytest.mark.django_db
def test_the_last_gate_refuses_an_empty_required_field_in_the_service_cli_and_api(
    spring_run, lumen_workspace, person, cli, api
):
    # given: three Meta ads past G3 with their images, then a required field added to the ad
    ads = [_package(sku, "meta_feed_ad") for sku in (LAV, NER, "LUM-SPR-FIG-08")]
    for ad in ads:
        _through(ad, person, upto="G3")
    _override(lumen_workspace, LEGAL_LINE)

    # when: the brand manager approves at G4, in the service, the command and the API
    with pytest.raises(StateError) as service:
        approve_package(package_id=ads[0].pk, person=person("lena"))
    command = cli("approve", ref(NER, "meta_feed_ad"), token=_token("lena"))
    response = api("lena").post(f"/api/packages/{ads[2].pk}/approve")

    # then: each is refused as a state error naming the empty field; nothing moved
    assert (service.value.code, service.value.http_status) == ("missing_fields", 409)
    assert service.value.message == (
        "required field(s) still empty: legal_line; fill them before G4 (final launch approval)"
    )
    assert command.exit_code == 3, command.output
    assert "refused (missing_fields)" in command.stdout
    assert "legal_line" in command.stdout
    error = api_error(response, 409, "missing_fields")
    assert "legal_line" in error["message"]
    assert {_package(ad.sku, "meta_feed_ad").position for ad in ads} == {"S6/in_review"}

    # when: the workspace drops the field again, the same approval passes
    _override(lumen_workspace, {})
    assert approve_package(package_id=ads[0].pk, person=person("lena")).ok


@pytest.mark.django_db
def test_every_gate_names_the_blocking_findings_it_refuses(spring_run, person):
    # given: a package whose current version has two blocking findings
    ad = _package(LAV, "meta_feed_ad")
    for field, rule in (("headline", "claims.withdrawn"), ("primary_text", "voice.banned")):
        Finding.objects.create(
            version=ad.current_version, agent="test", rule_id=rule, severity="block",
            field=field, message="blocked for the test",
        )  # fmt: skip

    # when
    with pytest.raises(StateError) as refused:
        approve_package(package_id=ad.pk, person=person("maya"))

    # then: the refusal names each finding by field and rule
    assert refused.value.code == "blocking_findings"
    assert refused.value.message == (
        "2 blocking finding(s) on this version (headline: claims.withdrawn; primary_text: "
        "voice.banned): fix them before G2 (draft quality)"
    )


@pytest.mark.django_db
def test_launch_refuses_empty_required_fields_and_blocking_findings_naming_each_package(
    spring_run, spring_brief, lumen_workspace, person, cli, api, tmp_path
):
    # given: the whole Meta channel past G4
    ads = list(Package.objects.filter(brief=spring_brief, channel="meta_feed_ad").order_by("id"))
    for ad in ads:
        _through(ad, person)
    out = tmp_path / "exports"

    # when: a required field is added after the approvals (a workspace override)
    _override(lumen_workspace, LEGAL_LINE)
    with pytest.raises(StateError) as refused:
        launch_channel(
            brief=spring_brief, channel="meta_feed_ad", person=person("lena"), out_dir=out
        )
    command = cli(
        "launch", BRIEF, "--channel", "meta_feed_ad", "--out", str(out), token=_token("lena")
    )
    response = api("lena").post(f"/api/briefs/{BRIEF}/launch", {"channel": "meta_feed_ad"})

    # then: refused everywhere, naming every package (id and SKU) and the field
    assert refused.value.code == "missing_fields"
    message = refused.value.message
    assert message.startswith("meta_feed_ad cannot launch: 6 of 6 packages have empty required")
    for ad in ads:
        assert f"{ad.pk} ({ad.sku}): legal_line" in message
    assert command.exit_code == 3
    assert "refused (missing_fields)" in command.stdout
    assert api_error(response, 409, "missing_fields")["message"] == message

    # when: the field is gone again, but one approved version has a blocking finding now
    _override(lumen_workspace, {})
    first = _package(ads[0].sku, "meta_feed_ad")
    Finding.objects.create(
        version=first.current_version, agent="claims_checker", rule_id="claims.withdrawn",
        severity="block", field="headline", message="the claim was withdrawn",
    )  # fmt: skip
    with pytest.raises(StateError) as blocked:
        launch_channel(
            brief=spring_brief, channel="meta_feed_ad", person=person("lena"), out_dir=out
        )

    # then: refused, naming that package and its finding (field and rule)
    assert blocked.value.code == "blocking_findings"
    assert f"1 of 6 packages have blocking findings: {first.pk} ({first.sku}): headline: " in (
        blocked.value.message
    )
    assert "claims.withdrawn" in blocked.value.message
    # nothing was published, no bundle, no launch recorded
    assert not Package.objects.filter(brief=spring_brief, state="published").exists()
    assert not Launch.objects.exists()
    assert not (out / "lumen-home" / BRIEF / "meta_feed_ad").exists()


@pytest.mark.django_db
def test_a_channel_that_needs_images_in_any_slot_does_not_pass_or_launch_without_them(
    spring_run, spring_brief, lumen_workspace, person, tmp_path
):
    """The channel needs images (``images.min_count``) whatever its slots say: a workspace
    that made every slot optional, or asked for more images after the approvals, does not get
    a package through the last gate or launch with fewer."""
    ad = _package(LAV, "meta_feed_ad")
    _through(ad, person, upto="G3", images=False)
    optional = [
        {"id": s.id, "width_px": s.width_px, "height_px": s.height_px, "required": False}
        for s in resolve_spec("meta_feed_ad").images.slots
    ]
    _override(lumen_workspace, {"meta_feed_ad": {"images": {"slots": optional}}})

    with pytest.raises(StateError) as refused:
        approve_package(package_id=ad.pk, person=person("lena"))

    assert refused.value.code == "missing_images"
    assert "1 more image(s) (any of feed_1x1, feed_4x5, story_9x16)" in refused.value.message

    # given: the channel approved with its two required images, then three asked for
    _override(lumen_workspace, {})
    ads = list(Package.objects.filter(brief=spring_brief, channel="meta_feed_ad").order_by("id"))
    for other in ads:
        _through(other, person)
    _override(lumen_workspace, {"meta_feed_ad": {"images": {"min_count": 3}}})

    with pytest.raises(StateError) as at_launch:
        launch_channel(
            brief=spring_brief, channel="meta_feed_ad", person=person("lena"), out_dir=tmp_path
        )

    assert at_launch.value.code == "missing_images"
    for p in ads:
        assert f"{p.pk} ({p.sku}): 1 more image(s) (any of story_9x16)" in at_launch.value.message
    assert not Package.objects.filter(state="published").exists()


# --- 10. impact analysis is precise -------------------------------------------------------------


def _change_csv(example_dir: Path, old: str, new: str) -> Path:
    csv = example_dir / "products.csv"
    text = csv.read_text()
    assert old in text
    csv.write_text(text.replace(old, new))
    return csv


@pytest.mark.django_db
def test_a_gtin_change_resets_only_the_channels_that_use_the_gtin(
    spring_run, example_dir, person, cli
):
    # given: the lavender ad and post approved at G2 (an approval a reset would void)
    for channel in ("meta_feed_ad", "instagram_post"):
        _through(_package(LAV, channel), person, upto="G2")
    before = {p.pk: p.position for p in Package.objects.filter(brief__slug=BRIEF)}
    csv = _change_csv(
        example_dir,
        "Lavender Fields Candle,00850012345018,",
        "Lavender Fields Candle,00850012345994,",
    )

    # when: the operator updates the brief from the command
    since = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    result = cli(
        "brief", "update", BRIEF, str(example_dir / "briefs" / "spring-candles.yaml"),
        "--products", str(csv), "--json", token=_token("ari"),
    )  # fmt: skip

    # then: only the lavender packages of channels that need a GTIN are touched, each saying why
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    gtin_channels = {"amazon_us_pdp", "walmart_us", "target_plus", "google_merchant"}
    assert {(t["sku"], t["channel"]) for t in report["touched"]} == {
        (LAV, c) for c in gtin_channels
    }
    for touched in report["touched"]:
        (reason,) = touched["reasons"]
        assert reason == (
            f"{LAV} gtin: '00850012345018' -> '00850012345994' "
            f"({touched['channel']} needs the GTIN)"
        )
    # the ad and the post are left alone, and the report says why
    assert {(s["sku"], s["channel"]) for s in report["spared"]} == {
        (LAV, "meta_feed_ad"),
        (LAV, "instagram_post"),
    }
    for spared in report["spared"]:
        assert "does not use the GTIN and its copy does not state it" in spared["reasons"][0]
        kept = _package(LAV, spared["channel"])
        assert kept.position == before[kept.pk] == "S5/in_review"
    assert report["untouched"] == 36 - 4
    # the events say the same: one reset per touched package with its reason, and the spared
    events = Event.objects.filter(seq__gt=since)
    resets = {e.subject_id: e.data["reasons"] for e in events.filter(action="package.reset")}
    assert resets == {str(t["package"]): t["reasons"] for t in report["touched"]}
    assessed = events.get(action="brief.impact_assessed")
    assert assessed.data["spared"] == {str(s["package"]): s["reasons"] for s in report["spared"]}


@pytest.fixture
def api_brief(example_dir, lumen_workspace, person):
    """The spring brief without its file reference (the API cannot send one), past G1 and
    drafted: a body the API sends can then equal it but for what a test changes."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief

    path = example_dir / "briefs" / "spring-candles.yaml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if "path: references/" not in line) + "\n")
    brief = add_brief(path, products_csv=example_dir / "products.csv").brief
    approve_brief(brief=brief, person=person("maya"))
    brief.refresh_from_db()
    run_brief(brief)
    return path


@pytest.mark.django_db
def test_a_fact_a_channel_does_not_need_touches_it_only_where_its_copy_states_it(
    api, api_brief, example_dir
):
    # given: the lavender candle's colour changes; the merchant feed does not need the colour
    # but its description says "The color is sage."; the ad and the post never mention it
    merchant = _package(LAV, "google_merchant")
    assert "sage" in merchant.current_version.fields["description"]
    for channel in ("meta_feed_ad", "instagram_post"):
        assert "sage" not in json.dumps(_package(LAV, channel).current_version.fields)
    body = yaml.safe_load(api_brief.read_text())
    body["deadline"] = str(body["deadline"])
    del body["workspace"]
    body["products"][0]["attributes"]["color"] = "lilac"
    body["products_csv"] = (example_dir / "products.csv").read_text().replace(",sage,", ",lilac,")

    # when: the change arrives through the API
    response = api("maya").post(f"/api/briefs/{BRIEF}/update", body)

    # then: the detail pages (they use every shared attribute) and the feed whose copy states
    # the old colour are touched, each saying why; the ad and the post are left alone
    assert response.status_code == 200, response.json()
    report = response.json()
    assert {t["sku"] for t in report["touched"]} == {LAV}
    touched = {t["channel"]: t["reasons"] for t in report["touched"]}
    assert set(touched) == {"amazon_us_pdp", "walmart_us", "target_plus", "google_merchant"}
    assert touched["google_merchant"] == [
        f"{LAV} attributes.color: 'sage' -> 'lilac' (its description states 'sage')"
    ]
    assert touched["amazon_us_pdp"] == [
        f"{LAV} attributes.color: 'sage' -> 'lilac' (amazon_us_pdp needs the color)"
    ]
    assert {s["channel"] for s in report["spared"]} == {"meta_feed_ad", "instagram_post"}
    assert report["untouched"] == 36 - 4


def test_what_a_channel_uses_comes_from_the_catalog():
    ad, merchant, amazon = (
        resolve_spec(c) for c in ("meta_feed_ad", "google_merchant", "amazon_us_pdp")
    )
    family = ("scent", "size", "color")
    assert channel_uses(ad, "gtin", family) is None
    assert channel_uses(merchant, "gtin", family) == "google_merchant needs the GTIN"
    assert channel_uses(merchant, "currency", family) == "google_merchant needs the price"
    assert channel_uses(ad, "name", family) == "every channel's copy names the product"
    assert channel_uses(ad, "claims") is not None
    assert channel_uses(resolve_spec("target_plus"), "images") is None  # no image spec
    assert channel_uses(ad, "images") == "meta_feed_ad renders the product's images"
    assert channel_uses(amazon, "attributes.color", family) == "amazon_us_pdp needs the color"
    assert channel_uses(merchant, "attributes.color", family) is None
    # the brief's own required attributes count for every channel
    assert channel_uses(ad, "attributes.color", family, required_attributes=["color"])


def test_stated_means_the_whole_value_in_some_field():
    copy = {"headline": "Candle, 8 oz", "bullets": ["Burn time: 50 hours"], "body": None}
    assert stated_in(copy, "8 oz") == "headline"
    assert stated_in(copy, "50") == "bullets"
    assert stated_in(copy, "5") is None  # not inside "50"
    assert stated_in(copy, "8 o") is None  # whole words only
    assert stated_in({"t": "8 OZ"}, "8 oz") == "t"  # any case
    assert stated_in(copy, None) is None
    assert stated_in(copy, "") is None


def test_fact_changes_and_why_a_package_is_touched():
    before = {"A": {"gtin": "1", "attributes.scent": "fig"}, "B": {"gtin": "2"}}
    after = {"A": {"gtin": "1", "attributes.scent": "rose"}, "C": {"gtin": "3"}}
    changes = fact_changes(before, after)
    assert changes == {"A": [FactChange("attributes.scent", "fig", "rose")], "B": None}
    ad = resolve_spec("meta_feed_ad")
    touched, spared = why_touched("A", ad, changes["A"], {"headline": "Green fig candle"})
    assert touched == ["A attributes.scent: 'fig' -> 'rose' (its headline states 'fig')"]
    assert spared == []
    touched, spared = why_touched("A", ad, changes["A"], {"headline": "A candle"})
    assert (touched, len(spared)) == ([], 1)
    assert why_touched("B", ad, None, None) == (["SKU B removed from the brief"], [])


# --- 11. small truths -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_read_only_command_with_bad_input_says_what_was_wrong_not_that_nothing_was_stored(
    spring_run, cli
):
    # when: read-only queries get bad input
    board = cli("board", BRIEF, "--channel", "fax")
    who = cli("audit", "who-approved", "--sku", LAV, "--channel", "meta_feed_ad", "--gate", "G9")

    # then: bad input (exit 2), saying what was wrong, and not claiming a store it never does
    for result, wrong in ((board, "--channel: unknown channel 'fax'"), (who, "G9")):
        assert result.exit_code == 2, result.output
        assert "nothing was stored" not in result.stderr
        assert result.stderr.startswith("error: invalid input:")
        assert wrong in result.stderr

    # when: a command that writes gets bad input, it still says nothing was stored
    edit = cli("edit", ref(LAV, "meta_feed_ad"), "--set", "subtitle=x", token=_token("ari"))
    assert edit.exit_code == 2
    assert "error: nothing was stored." in edit.stderr


def test_a_shortened_message_ends_at_a_sentence_or_a_word_with_an_ellipsis():
    refused = (
        "the OpenAI Images API answered HTTP 400: Your request was rejected by the safety "
        "system. The prompt mentions a lit candle near curtains, which our policy refuses."
    )
    assert clip(refused, 200) == refused  # fits: untouched
    cut = clip(refused, 120)
    assert cut == (
        "the OpenAI Images API answered HTTP 400: Your request was rejected by the safety system. …"
    )
    assert len(cut) <= 120
    words = clip("one two three four five six seven eight nine ten", 20)
    assert (words, len(words) <= 20) == ("one two three four…", True)
    assert clip("x" * 30, 10) == "x" * 9 + "…"


def test_the_show_command_shortens_a_long_prompt_at_a_word():
    from signoff.cli.board import _origin_text

    prompt = "Write the copy for " + "a calm evening candle " * 10
    text = _origin_text({"kind": "agent", "provider": "openai", "prompt": prompt}, None)
    shown = text.split("prompt ", 1)[1]
    assert shown.endswith("…")
    assert len(shown) <= 80
    assert prompt.startswith(shown[:-1])
    assert prompt[len(shown) - 1] == " "  # cut at a word


@pytest.mark.django_db
def test_the_manifest_says_when_and_who_launched_through_service_cli_and_api(
    spring_run, spring_brief, person, cli, api, tmp_path
):
    # given: two channels fully approved
    for channel in ("meta_feed_ad", "instagram_post"):
        for p in Package.objects.filter(brief=spring_brief, channel=channel):
            _through(p, person)
    start = timezone.now()

    # when: one launches from the command, the other through the API
    command = cli(
        "launch", BRIEF, "--channel", "meta_feed_ad", "--out", str(tmp_path), token=_token("lena")
    )
    response = api("lena").post(f"/api/briefs/{BRIEF}/launch", {"channel": "instagram_post"})

    # then: the bundle's manifest, the launch record and the answers agree on when and who
    assert command.exit_code == 0, command.output
    assert response.status_code == 200, response.json()
    manifest = json.loads(
        (tmp_path / "lumen-home" / BRIEF / "meta_feed_ad" / "manifest.json").read_text()
    )
    launch = Launch.objects.get(channel="meta_feed_ad")
    launched_at = timezone.datetime.fromisoformat(manifest["launched_at"])
    assert launched_at == launch.created_at
    assert start <= launched_at <= timezone.now() + timedelta(seconds=1)
    assert (manifest["launched_by"], manifest["launched_by_name"]) == (
        "lena@lumen.example",
        "Lena Park",
    )
    assert f"by lena@lumen.example at {launched_at:%Y-%m-%d %H:%M:%S} UTC" in command.stdout
    answer = response.json()
    instagram = Launch.objects.get(channel="instagram_post")
    assert answer["launched_by"] == "lena@lumen.example"
    # (the API writes times to the millisecond)
    answered_at = timezone.datetime.fromisoformat(answer["launched_at"])
    assert abs(answered_at - instagram.created_at) < timedelta(milliseconds=1)
    stored = api("lena").get(f"/api/briefs/{BRIEF}/launches/instagram_post/manifest").json()
    assert stored["launched_by_name"] == "Lena Park"
    stored_at = timezone.datetime.fromisoformat(stored["launched_at"])
    assert abs(stored_at - instagram.created_at) < timedelta(milliseconds=1)


@pytest.mark.django_db
def test_a_redraft_counts_only_its_own_notes_as_its_revision(spring_run, spring_brief, person):
    """A note on the SKU's Amazon page informs the Walmart redraft (memory), but it is not a
    revision of the Walmart copy: only the Walmart package's own note counts."""
    from signoff.packages.services import run_brief

    for channel, note in (("amazon_us_pdp", "Lead with the ritual."), ("walmart_us", "Too long.")):
        result = reject_package(
            package_id=_package(LAV, channel).pk, person=person("maya"), note=note
        )
        assert result.ok, result.message

    run_brief(spring_brief)

    for channel in ("amazon_us_pdp", "walmart_us"):
        origin = _package(LAV, channel).current_version.origin
        assert len(origin["notes_used"]) == 2  # both notes inform the draft
        assert origin["parameters"]["revision"] == 1  # one of them is its own
        assert origin["parameters"]["lead"] == "ritual"  # variant A moved off "scent" once

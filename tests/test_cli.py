"""The `signoff` command end to end, through click's runner (same process, test database)."""

import json

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def loaded(cli, example_dir):
    assert cli("load", str(example_dir / "workspace.yaml")).exit_code == 0
    result = cli(
        "brief",
        "add",
        str(example_dir / "briefs" / "spring-candles.yaml"),
        "--products",
        str(example_dir / "products.csv"),
    )
    assert result.exit_code == 0, result.output
    assert "from CSV" in result.output
    refused = cli("run", "spring-candles-2027")
    assert refused.exit_code == 3
    assert "has not passed G1" in refused.output
    assert "maya@lumen.example" in refused.output
    maya = cli("token", "issue", "maya@lumen.example").stdout.strip()
    result = cli("brief", "approve", "spring-candles-2027", "--token", maya)
    assert result.exit_code == 0, result.output
    assert "+++ enriched brief" in result.output
    result = cli("run", "spring-candles-2027")
    assert result.exit_code == 0, result.output
    return example_dir


def test_board_json_is_one_document_with_stable_keys(cli, loaded):
    result = cli("board", "spring-candles-2027", "--json")
    rows = json.loads(result.stdout)
    assert len(rows) == 36
    assert set(rows[0]) == {
        "id",
        "sku",
        "channel",
        "market",
        "variant",
        "stage",
        "state",
        "owner",
        "time_in_stage_seconds",
        "confidence",
        "findings",
        "blocking_reason",
        "careful_read",  # "needs a careful read: ..." under the workspace's threshold
    }
    blocked = json.loads(cli("board", "spring-candles-2027", "--state", "blocked", "--json").stdout)
    assert {r["sku"] for r in blocked} == {"LUM-SPR-RHB-08"}
    assert all("GTIN" in r["blocking_reason"] for r in blocked)


def test_show_and_blocking_json(cli, loaded):
    rows = json.loads(
        cli("board", "spring-candles-2027", "--channel", "instagram_post", "--json").stdout
    )
    detail = json.loads(cli("show", str(rows[0]["id"]), "--json").stdout)
    assert detail["id"] == rows[0]["id"]
    assert detail["version"]["origin"]["provider"] == "builtin"
    report = json.loads(cli("blocking", "spring-candles-2027", "--json").stdout)
    assert report["missing_data"][0]["sku"] == "LUM-SPR-RHB-08"
    text = cli("blocking", "spring-candles-2027").stdout
    assert "Missing product data" in text
    assert "G2" in text


def test_check_exits_non_zero_on_blocking_findings(cli, loaded, tmp_path):
    bad = tmp_path / "copy.yaml"
    bad.write_text("title: LUMEN HOME best candle ever, non-toxic!!! " + "x" * 200 + "\n")
    result = cli(
        "check", "--channel", "amazon_us_pdp", "--workspace", "lumen-home", str(bad), "--json"
    )
    assert result.exit_code == 1
    rules = {f["rule_id"] for f in json.loads(result.stdout)}
    assert {"spec.max_chars", "claims.forbidden", "voice.banned_phrase"} <= rules
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "headline": "Lavender Fields, 8 oz",
                "primary_text": "Lavender and cedar, hand-poured in Vermont.",
            }
        )
    )
    result = cli("check", "--channel", "meta_feed_ad", "--workspace", "lumen-home", str(good))
    assert result.exit_code == 0, result.output
    # With no product to compare with, a file is still held to saying something.
    hollow = tmp_path / "hollow.yaml"
    hollow.write_text("headline: Lavender Fields, 8 oz\nprimary_text: insert benefit here\n")
    result = cli(
        "check", "--channel", "meta_feed_ad", "--workspace", "lumen-home", str(hollow), "--json"
    )
    assert result.exit_code == 1
    found = {(f["rule_id"], f["field"]) for f in json.loads(result.stdout)}
    assert ("substance.placeholder", "primary_text") in found
    assert not any(rule.startswith(("invented.", "identity.")) for rule, _ in found)


def test_bad_input_exits_non_zero_with_location(cli, loaded, tmp_path):
    bad = tmp_path / "brief.yaml"
    bad.write_text("brief: x\nname: X\nworkspace: lumen-home\nchannels: [nowhere]\n")
    result = cli("brief", "add", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:4: channels.0: unknown channel 'nowhere'" in result.output


def test_unknown_brief_is_a_clear_error(cli, loaded):
    result = cli("board", "no-such-brief")
    assert result.exit_code == 1
    assert "no brief 'no-such-brief'" in result.output


def test_demo_runs_twice_and_starts_clean(cli):
    first = cli("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    assert "Summary" in first.output
    assert "blocked" in first.output
    second = cli("demo", "--no-serve")
    assert second.exit_code == 0, second.output
    rows = json.loads(cli("board", "spring-candles-2027", "--json").stdout)
    assert len(rows) == 36
    _assert_demo_launched_delivered_and_measured(second.output)


def _assert_demo_launched_delivered_and_measured(output: str) -> None:
    """The demo's campaign channel passed both gates by their owners, launched, was delivered
    to the folder destination (a feed naming every launched package) and got its performance
    rows, all dated after the launch, and winners from them."""
    import csv

    from django.conf import settings

    from signoff.audit.models import Event
    from signoff.cli.demo import DEMO_DIR, DEMO_PERFORMANCE
    from signoff.delivery.models import Launch
    from signoff.insights.models import Learning, PerformanceRow
    from signoff.outbox.models import Delivery
    from signoff.packages.models import Package

    launch = Launch.objects.get(brief__slug="cozy-season-2026")
    assert launch.channel == "email_promo"
    assert launch.person == "sofia@lumen.example"
    launched = sorted(launch.packages)
    assert launched == sorted(
        Package.objects.filter(brief__slug="cozy-season-2026", channel="email_promo").values_list(
            "pk", flat=True
        )
    )
    assert set(Package.objects.filter(pk__in=launched).values_list("state", flat=True)) == {
        "published"
    }
    for pk in launched:  # each gate passed by its owner, recorded like any other approval
        approvers = set(
            Event.objects.filter(
                subject_type="package", subject_id=str(pk), action__contains="approve"
            ).values_list("actor", flat=True)
        )
        assert approvers == {"sofia@lumen.example", "daniel@lumen.example"}, (pk, approvers)
    deliveries = Delivery.objects.filter(package_id__in=launched)
    assert sorted(deliveries.values_list("package_id", flat=True)) == launched
    assert set(deliveries.values_list("state", "destination")) == {("delivered", "email-drop")}
    folder = settings.SIGNOFF_HOME / "demo" / "lumen-home" / "deliveries" / "email"
    with (folder / "cozy-season-2026-email_promo.csv").open(encoding="utf-8", newline="") as f:
        feed = list(csv.DictReader(f))
    assert sorted(int(row["package_id"]) for row in feed) == launched
    assert {row["sku"] for row in feed} == {"LUM-WIN-EMB-14", "LUM-WIN-GFT-SET"}
    shipped = (DEMO_DIR / DEMO_PERFORMANCE).read_text(encoding="utf-8").splitlines()[1:]
    stored = PerformanceRow.objects.filter(package_id__in=launched)
    assert stored.count() == len(shipped)
    assert set(stored.values_list("package_id", flat=True)) == set(launched)
    assert min(stored.values_list("date", flat=True)) > launch.created_at.date()
    assert Learning.objects.filter(brief=launch.brief, channel="email_promo").exists()
    assert f"Imported {len(shipped)} of {len(shipped)} rows" in output
    assert "email-drop (folder): delivered" in output

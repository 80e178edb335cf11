"""A brief becomes checked packages: matrix, completeness, drafts, findings, board."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from signoff.audit.models import Event
from signoff.packages.matrix import Cell, expand, variant_labels
from signoff.packages.models import Finding, Package, Version
from signoff.packages.selectors import blocking, board, board_row, get_package, package_detail
from signoff.packages.services import run_brief

RHUBARB = "LUM-SPR-RHB-08"
# Channels whose spec needs a GTIN, or (detail pages) the burn time the other SKUs state.
NEEDS_MISSING_DATA = {"amazon_us_pdp", "walmart_us", "target_plus", "google_merchant"}


def test_matrix_expands_every_cell_once():
    cells = expand(["A1", "B2"], ["amazon_us_pdp", "meta_feed_ad"], ["en-US", "en-CA"], 2)
    assert len(cells) == 2 * 2 * 2 * 2 == len(set(cells))
    assert cells[0] == Cell("A1", "amazon_us_pdp", "en-US", "A")
    assert variant_labels(4) == ["A", "B", "C", "D"]
    with pytest.raises(ValueError, match="between 1 and 26"):
        variant_labels(0)


@pytest.mark.django_db
def test_spring_brief_gives_36_packages_with_rhubarb_blocked_where_data_is_needed(
    spring_run, spring_brief
):
    packages = list(Package.objects.filter(brief=spring_brief))
    assert len(packages) == 36 == spring_run.packages
    blocked = {p.channel for p in packages if p.state == "blocked"}
    assert blocked == NEEDS_MISSING_DATA
    for package in packages:
        if package.sku == RHUBARB and package.channel in NEEDS_MISSING_DATA:
            assert package.state == "blocked"
            assert package.current_version is None
            missing = {r["field"] for r in package.blocked_reasons}
            assert "gtin" in missing
            assert missing <= {"gtin", "attributes.burn_time_hours"}
            assert package.completeness["missing"] == sorted(
                missing, key=package.completeness["required"].index
            )
        else:
            assert (package.stage, package.state) == ("S3", "in_review")
            assert package.current_version.origin["provider"] == "builtin"
    amazon = Package.objects.get(brief=spring_brief, sku=RHUBARB, channel="amazon_us_pdp")
    assert {r["field"] for r in amazon.blocked_reasons} == {"gtin", "attributes.burn_time_hours"}
    assert spring_run.blocked == 4
    assert spring_run.drafted == 32


@pytest.mark.django_db
def test_every_version_records_its_origin_and_hash(spring_run, spring_brief):
    versions = Version.objects.filter(package__brief=spring_brief)
    assert versions.count() == 32
    for version in versions:
        assert version.author == "agent:copy_drafter"
        assert {"provider", "model", "prompt", "parameters"} <= set(version.origin)
        assert len(version.content_hash) == 64
        assert version.brief_version == spring_brief.latest_version()


@pytest.mark.django_db
def test_run_writes_one_event_per_package_and_the_chain_verifies(spring_run, spring_brief):
    from signoff.audit.services import verify

    drafted = Event.objects.filter(action="package.drafted")
    assert drafted.count() == 32
    assert Event.objects.filter(action="package.blocked").count() == 4
    sample = drafted.first()
    package = Package.objects.get(pk=int(sample.subject_id))
    assert sample.content_hash == package.current_version.content_hash
    assert sample.to_position == "S3/in_review"
    assert verify().ok


@pytest.mark.django_db
def test_running_again_skips_packages_already_drafted(spring_run, spring_brief):
    again = run_brief(spring_brief)
    assert (again.skipped, again.drafted) == (36, 0)
    assert Version.objects.filter(package__brief=spring_brief).count() == 32


@pytest.mark.django_db
def test_filling_the_missing_data_unblocks_rhubarb_on_the_next_version(
    spring_run, spring_brief, example_dir, person
):
    from signoff.briefs.approval import approve_brief, update_brief

    csv = example_dir / "products.csv"
    csv.write_text(
        csv.read_text().replace(
            "Rhubarb Garden Candle,,32.00,USD,rhubarb and rose,8 oz,,",
            "Rhubarb Garden Candle,00850012345070,32.00,USD,rhubarb and rose,8 oz,50,",
        )
    )
    update = update_brief(
        brief=spring_brief,
        path=example_dir / "briefs" / "spring-candles.yaml",
        products_csv=csv,
        person=person("ari"),
    )
    assert {i.sku for i in update.impacts} == {RHUBARB}
    spring_brief.refresh_from_db()
    approve_brief(brief=spring_brief, person=person("maya"))
    spring_brief.refresh_from_db()
    summary = run_brief(spring_brief)
    assert summary.blocked == 0
    # the four channels that need the GTIN; the ad and the post (which use neither new fact)
    # keep their drafts
    assert summary.drafted == 4
    rhubarb = Package.objects.get(brief=spring_brief, sku=RHUBARB, channel="amazon_us_pdp")
    assert (rhubarb.state, rhubarb.blocked_reasons) == ("in_review", [])


@pytest.mark.django_db
def test_board_reads_use_a_constant_number_of_queries(
    spring_run, spring_brief, example_dir, person
):
    from signoff.briefs.approval import approve_brief, update_brief

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            rows = [board_row(p) for p in board(spring_brief)]
            blocking(spring_brief)
        assert rows
        return len(ctx.captured_queries)

    before = count_queries()
    # Triple the packages (two more variants per cell); the reads must not issue more queries.
    path = example_dir / "briefs" / "spring-candles.yaml"
    path.write_text(path.read_text().replace("variants: 1", "variants: 3"))
    update_brief(
        brief=spring_brief,
        path=path,
        products_csv=example_dir / "products.csv",
        person=person("ari"),
    )
    spring_brief.refresh_from_db()
    approve_brief(brief=spring_brief, person=person("maya"))
    spring_brief.refresh_from_db()
    run_brief(spring_brief)
    assert Package.objects.filter(brief=spring_brief).count() == 108
    assert count_queries() == before


@pytest.mark.django_db
def test_board_filters_and_blocking_report(spring_run, spring_brief):
    assert {p.channel for p in board(spring_brief, channel="meta_feed_ad")} == {"meta_feed_ad"}
    assert len(board(spring_brief, state="blocked")) == 4
    assert {p.sku for p in board(spring_brief, sku=RHUBARB)} == {RHUBARB}
    with_blocks = list(board(spring_brief, severity="block"))
    assert all(p.block_findings > 0 for p in with_blocks)
    report = blocking(spring_brief)
    (missing,) = report["missing_data"]
    assert missing["sku"] == RHUBARB
    assert set(missing["channels"]) == NEEDS_MISSING_DATA
    (gate,) = report["waiting_on_gate"]
    assert gate["gate"] == "G2"
    assert gate["people"] == ["maya@lumen.example"]
    assert len(gate["packages"]) == 32


@pytest.mark.django_db
def test_package_detail_shows_version_findings_and_completeness(spring_run, spring_brief):
    package = get_package(f"{spring_brief.slug}/LUM-SPR-LAV-08/amazon_us_pdp")
    detail = package_detail(package)
    assert detail["version"]["fields"]["title"].startswith("Lumen Home")
    assert detail["completeness"]["missing"] == []
    assert "gtin" in detail["completeness"]["required"]
    stored = Finding.objects.filter(version=package.current_version).count()
    assert len(detail["findings"]) == stored

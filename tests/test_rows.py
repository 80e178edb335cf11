"""insert_rows stores exactly what bulk_create stores, and returns the new ids in row order."""

import datetime as dt

import pytest
from django.db import transaction

from signoff.briefs.models import Brief
from signoff.core.rows import insert_rows
from signoff.packages.models import Finding, Package

COLUMNS = (
    "brief_id",
    "sku",
    "channel",
    "state",
    "stage_entered_at",
    "blocked_reasons",
    "completeness",
    "confidence",
)


def _brief(workspace, slug: str) -> Brief:
    return Brief.objects.create(
        workspace=workspace, slug=slug, name=slug, content_type="ecommerce", template="ecommerce"
    )


def _rows(brief_id: int, count: int) -> list[tuple]:
    when = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)
    return [
        (
            brief_id,
            f"SKU-{i:04d}",
            "amazon_us_pdp" if i % 2 else "meta_feed_ad",
            Package.State.BLOCKED if i % 3 else Package.State.DRAFT,
            when + dt.timedelta(seconds=i % 2),
            [{"kind": "missing_data", "field": "gtin", "message": f"ünïcode {i}"}],
            {"required": ["gtin"], "missing": [] if i % 2 else ["gtin"]},
            None if i % 5 == 0 else i % 100,
        )
        for i in range(count)
    ]


def _stored(brief: Brief) -> list[tuple]:
    return list(Package.objects.filter(brief=brief).order_by("sku").values_list(*COLUMNS[1:]))


@pytest.mark.django_db
def test_insert_rows_matches_bulk_create_and_returns_ids_in_order(lumen_workspace):
    # More rows than one statement takes, so chunking is exercised on SQLite's 999 parameters.
    plain, orm = _brief(lumen_workspace, "plain"), _brief(lumen_workspace, "orm")
    with transaction.atomic():
        ids = insert_rows(Package, COLUMNS, _rows(plain.pk, 700), returning=True)
        Package.objects.bulk_create(
            Package(**dict(zip(COLUMNS, row, strict=True))) for row in _rows(orm.pk, 700)
        )
    assert _stored(plain) == _stored(orm)
    by_id = dict(Package.objects.filter(brief=plain).values_list("pk", "sku"))
    assert [by_id[pk] for pk in ids] == [f"SKU-{i:04d}" for i in range(700)]


@pytest.mark.django_db
def test_rows_wanting_no_ids_back_are_stored_the_same(lumen_workspace):
    # On PostgreSQL these go in through COPY, not INSERT.
    plain, orm = _brief(lumen_workspace, "plain"), _brief(lumen_workspace, "orm")
    with transaction.atomic():
        assert insert_rows(Package, COLUMNS, _rows(plain.pk, 700)) == []
        Package.objects.bulk_create(
            Package(**dict(zip(COLUMNS, row, strict=True))) for row in _rows(orm.pk, 700)
        )
    assert _stored(plain) == _stored(orm)


@pytest.mark.django_db
def test_insert_rows_without_returning_and_with_no_rows(lumen_workspace, spring_run):
    assert insert_rows(Finding, Finding.ROW_COLUMNS, []) == []
    package = Package.objects.exclude(current_version=None).first()
    before = package.current_version.findings.count()
    rows = [(package.current_version_id, "spec", "r", "warn", "title", 0, 3, "m", "", [])]
    assert insert_rows(Finding, Finding.ROW_COLUMNS, rows) == []
    assert package.current_version.findings.count() == before + 1


@pytest.mark.django_db
def test_insert_rows_refuses_a_row_of_the_wrong_width(lumen_workspace):
    brief = _brief(lumen_workspace, "short")
    with pytest.raises(ValueError, match="shorter|longer"):
        insert_rows(Package, COLUMNS, [(brief.pk, "SKU")])


@pytest.mark.django_db
def test_a_finding_keeps_the_packages_it_relates_to_stored_either_way(spring_run):
    from signoff.agents.context import CheckFinding, RelatedPackage, Severity

    found = CheckFinding(
        agent="consistency_auditor",
        rule_id="consistency.burn_time",
        severity=Severity.WARN,
        message="This package says 45 hours; the target_plus package says 40 hours.",
        field="description",
        related=(RelatedPackage("LUM-SPR-LAV-08", "target_plus", "en-US", "A", "40 hours"),),
    )
    version = Package.objects.exclude(current_version=None).first().current_version
    insert_rows(Finding, Finding.ROW_COLUMNS, [Finding.row(version.pk, found)])
    Finding.from_check(version, found).save()
    stored = list(version.findings.filter(rule_id="consistency.burn_time"))
    assert len(stored) == 2
    for finding in stored:
        assert finding.severity == "warn"
        assert finding.related == [
            {
                "sku": "LUM-SPR-LAV-08",
                "channel": "target_plus",
                "market": "en-US",
                "variant": "A",
                "says": "40 hours",
            }
        ]

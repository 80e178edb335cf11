"""Operations metrics: the pure definitions on made-up moves, then the same numbers derived
from a real run's audit log through the selectors, the CLI and the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from signoff.metrics.compute import (
    Move,
    PackageInfo,
    Records,
    Rejection,
    VersionInfo,
    follow,
    grouped,
    metric_set,
    percentile,
    week_of,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
GATES = {"S3/in_review": ("G2", 48.0), "S5/in_review": ("G3", 48.0)}


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def info(pk: int, channel: str = "amazon_us_pdp", **kw) -> PackageInfo:
    return PackageInfo(id=pk, brief="spring", channel=channel, gates_at=GATES, **kw)


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile(list(range(11)), 90) == pytest.approx(9.0)
    assert percentile([10, 0, 5], 50) == 5  # order does not matter


def test_follow_turns_moves_into_waits_and_stage_spans() -> None:
    moves = [
        Move(1, h(0), "package.drafted", "agent:copy_drafter", "S2/draft", "S3/in_review"),
        Move(1, h(1), "package.reviewed", "maya", "S3/in_review", "S3/in_review", "G2"),
        Move(1, h(10), "package.gate.rejected", "maya", "S3/in_review", "S2/rejected", "G2"),
        Move(1, h(11), "package.drafted", "agent:copy_drafter", "S2/rejected", "S3/in_review"),
        Move(1, h(71), "package.gate.approved", "maya", "S3/in_review", "S5/in_review", "G2"),
    ]
    spans, waits = follow(info(1), moves)
    assert [(w.gate, w.outcome, w.decider, w.hours(h(100))) for w in waits] == [
        ("G2", "rejected", "maya", 10.0),
        ("G2", "approved", "maya", 60.0),
        ("G3", "waiting", "", 29.0),  # still open: counted up to now
    ]
    assert [(s.stage, s.start, s.end) for s in spans] == [
        ("S3", h(0), h(10)),
        ("S2", h(10), h(11)),
        ("S3", h(11), h(71)),
        ("S5", h(71), None),
    ]
    # A review that stays put does not split the wait; the second wait breached its 48 h.
    assert [w.breached(h(100)) for w in waits] == [False, True, False]


def test_metric_set_definitions() -> None:
    p1 = [  # rejected once at G2, then approved: not a first pass at G2
        Move(1, h(0), "package.drafted", "agent:x", "S2/draft", "S3/in_review"),
        Move(1, h(10), "package.gate.rejected", "maya", "S3/in_review", "S2/rejected", "G2"),
        Move(1, h(11), "package.drafted", "agent:x", "S2/rejected", "S3/in_review"),
        Move(1, h(20), "package.gate.approved", "maya", "S3/in_review", "S5/in_review", "G2"),
    ]
    p2 = [  # approved first time at G2 and G3, shipped
        Move(2, h(0), "package.drafted", "agent:x", "S2/draft", "S3/in_review"),
        Move(2, h(2), "package.gate.approved", "maya", "S3/in_review", "S5/in_review", "G2"),
        Move(2, h(60), "package.gate.approved", "omar", "S5/in_review", "S6/approved", "G3"),
    ]
    records = Records(
        packages={1: info(1), 2: info(2, "walmart_us", shipped=True, ai_unedited=True)}
    )
    for pkg, moves in ((1, p1), (2, p2)):
        spans, waits = follow(records.packages[pkg], moves)
        records.spans += spans
        records.waits += waits
    records.shipped_at[2] = h(60)
    records.versions = [
        VersionInfo(1, 1, "agent:x", h(0), 0.02),
        VersionInfo(1, 2, "agent:x", h(11), 0.03),
        VersionInfo(2, 1, "agent:x", h(0), 0.01),
    ]
    records.rejections = [Rejection(1, "G2", "maya", h(10), ("voice.banned", "spec.max"))]
    now = h(70)
    got = metric_set(records, now=now, baseline_hours=2.5)
    # (1, G2) first decision rejected; (2, G2), (2, G3) approved: 2 of 3 pairs.
    assert got["first_pass_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert got["revisions_per_package"] == 0.5  # one revision over two packages
    assert got["rejection_reasons"] == {"voice.banned": 1, "spec.max": 1}
    assert got["shipped"] == 1
    assert got["ai_unedited_share"] == 1.0
    assert got["model_cost"] == pytest.approx(0.06)
    assert got["cost_per_shipped"] == pytest.approx(0.06)
    assert got["hours_saved"] == 2.5
    # Waits: 10, 9, 2 (G2), 58 (G3, past its 48 h SLA) and package 1 still waiting at G3
    # since h(20), 50 h by now: two breaches in five.
    assert got["sla_breach_rate"] == 0.4
    assert got["sla_breaches"] == 2
    assert got["cycle_hours"]["gates"]["G2"] == {"n": 3, "median": 9.0, "p90": 9.8}
    assert got["cycle_hours"]["gates"]["G3"]["median"] == 58.0
    # No baseline set: no hours saved rather than zero.
    assert metric_set(records, now=now, baseline_hours=None)["hours_saved"] is None

    groups = grouped(records, now=now, baseline_hours=2.5)
    assert set(groups["by_channel"]) == {"amazon_us_pdp", "walmart_us"}
    assert groups["by_channel"]["walmart_us"]["first_pass_rate"] == 1.0
    assert groups["by_channel"]["amazon_us_pdp"]["first_pass_rate"] == 0.0  # rejected first
    assert groups["by_gate"]["G3"]["sla_breach_rate"] == 1.0
    assert groups["by_gate"]["G2"]["sla_breach_rate"] == 0.0
    assert groups["by_gate"]["G2"]["shipped"] is None  # a per-package metric, not a gate's
    assert groups["by_person"]["maya"]["decisions"] == 3
    assert groups["by_person"]["omar"]["approvals"] == 1
    assert list(groups["by_week"]) == [week_of(T0)]
    assert groups["by_week"][week_of(T0)]["shipped"] == 1


# --- from a real run's audit log ------------------------------------------------------------


@pytest.fixture
def decided(spring_run, person, lumen_workspace):
    """The spring run with one package approved at G2, one rejected with a note, one edited."""
    from signoff.packages.authoring import edit_package
    from signoff.packages.decisions import approve_package, reject_package
    from signoff.packages.models import Package

    packages = list(Package.objects.filter(state="in_review").order_by("id")[:3])
    maya = person("maya")
    assert approve_package(package_id=packages[0].pk, person=maya).ok
    assert reject_package(package_id=packages[1].pk, person=maya, note="lead with scent").ok
    field = next(iter(packages[2].current_version.fields))
    edit_package(
        package_id=packages[2].pk,
        person=person("ari"),
        changes={field: "Hand-poured soy wax candle"},
        note="tighter",
    )
    lumen_workspace.metrics = {"manual_hours_per_package": 1.5}
    lumen_workspace.save(update_fields=["metrics"])
    return packages


@pytest.mark.django_db
def test_metrics_from_the_audit_log(decided, spring_run, lumen_workspace) -> None:
    from signoff.metrics.selectors import operations_metrics
    from signoff.packages.models import Package

    brief = Package.objects.get(pk=decided[0].pk).brief
    data = operations_metrics(lumen_workspace, brief=brief)
    overall = data["overall"]
    total = Package.objects.filter(brief=brief).count()
    assert overall["packages"] == total
    assert overall["decisions"] == 2
    assert overall["approvals"] == 1
    assert overall["first_pass_rate"] == 0.5
    assert overall["revisions"] == 1  # ari's edit
    drafted = Package.objects.filter(brief=brief, versions__isnull=False).distinct().count()
    assert overall["revisions_per_package"] == pytest.approx(1 / drafted, abs=1e-3)
    assert sum(overall["rejection_reasons"].values()) >= 1
    assert overall["shipped"] == 0
    assert overall["hours_saved"] == 0
    assert overall["cycle_hours"]["gates"]["G2"]["n"] == 2
    assert data["by_person"]["maya@lumen.example"]["decisions"] == 2
    assert data["by_person"]["ari@lumen.example"]["revisions"] == 1
    assert set(data["by_channel"]) == set(
        Package.objects.filter(brief=brief).values_list("channel", flat=True)
    )
    # Everything open is within its SLA now, and past it three days later.
    assert overall["sla_breach_rate"] == 0
    later = operations_metrics(
        lumen_workspace, brief=brief, now=datetime.now(UTC) + timedelta(days=3)
    )
    assert later["overall"]["sla_breach_rate"] > 0.9
    # --since after everything: nothing decided since.
    future = operations_metrics(lumen_workspace, since=datetime.now(UTC) + timedelta(days=1))
    assert future["overall"]["decisions"] == 0
    assert future["overall"]["revisions"] == 0


@pytest.mark.django_db
def test_metrics_cli_and_api(decided, cli, api) -> None:
    from cli_helpers import BRIEF

    result = cli("metrics", BRIEF, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["brief"] == BRIEF
    assert data["overall"]["decisions"] == 2
    table = cli("metrics", "--since", "2020-01-01")
    assert table.exit_code == 0, table.output
    assert "first pass 50%" in table.stdout
    assert "per gate" in table.stdout
    bad = cli("metrics", "--since", "yesterday")
    assert bad.exit_code == 2
    assert "--since" in bad.output

    response = api("sofia").get("/api/metrics", brief=BRIEF)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["overall"]["first_pass_rate"] == 0.5
    assert body["by_gate"]["G2"]["decisions"] == 2
    assert api("sofia").get("/api/metrics", brief="nope").status_code == 404
    assert api("sofia").get("/api/metrics", since="not-a-day").status_code == 422


@pytest.mark.django_db
def test_metrics_before_any_decision_say_so_instead_of_an_empty_table(spring_run, cli) -> None:
    table = cli("metrics")
    assert table.exit_code == 0, table.output
    assert "no package has left a stage or passed a gate yet" in table.stdout
    assert "cycle time (hours)" not in table.stdout


def _section(text: str, name: str) -> str:
    import re

    found = re.search(rf'data-widget="{name}".*?</section>', text, re.S)
    assert found, f"no {name} widget"
    return found.group(0)


@pytest.mark.django_db
def test_ceo_and_cmo_dashboards_chart_the_metrics_in_svg(decided, as_person, api) -> None:
    import re

    response = as_person("daniel").get("/dashboard/")  # the CEO
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    ops = _section(response.text, "operations")
    assert '<dd data-figure="first_pass_rate">50%</dd>' in ops
    assert '<dd data-figure="hours_saved">0.0</dd>' in ops  # 1.5 h x nothing shipped yet
    svg = re.search(r"<svg class=\"chart\".*?</svg>", ops, re.S).group(0)
    # One group for G2 (the only gate decided), two bars: median and p90.
    bars = re.findall(r'<rect class="bar s(\d)"[^>]*width="([\d.]+)"', svg)
    assert [b[0] for b in bars] == ["0", "1"]
    assert all(float(w) > 0 for _, w in bars)
    assert ">G2</text>" in svg
    weekly = _section(response.text, "operations_weekly")
    assert weekly.count("<svg") == 2
    for section in (ops, weekly):
        assert "style=" not in section
        assert "<script" not in section
    assert "web/charts.css" in ops
    assert 'data-widget="operations"' in as_person("sofia").get("/dashboard/").text  # the CMO
    assert 'data-widget="operations"' not in as_person("omar").get("/dashboard/").text

    body = api("sofia").get("/api/dashboard").json()
    widget = next(w for w in body["widgets"] if w["name"] == "operations")
    assert widget["data"]["figures"]["first_pass_rate"] == 0.5
    assert widget["data"]["gates"][0]["gate"] == "G2"
    assert "chart" not in widget["data"]
    weekly_data = next(w for w in body["widgets"] if w["name"] == "operations_weekly")["data"]
    assert sum(w["decisions"] for w in weekly_data["weeks"]) == 2


def test_chart_geometry_scales_to_the_largest_value() -> None:
    from signoff.metrics.charts import columns, hbars, nice_ceiling

    assert [nice_ceiling(v) for v in (0, 0.7, 3, 4.2, 48, 130)] == [1, 1, 5, 5, 50, 200]
    chart = hbars([("G2", [10.0, 40.0]), ("G3", [None, 20.0])], ["median", "p90"], unit=" h")
    g2, g3 = chart["groups"]
    plot = chart["width"] - 56 - 8
    assert g2["bars"][1]["w"] == round(plot * 40 / 50, 1)  # the axis ends at 50 h
    assert g3["bars"][0]["w"] == 0
    assert "no data" in g3["bars"][0]["text"]
    assert chart["ticks"][-1]["text"] == "50 h"
    quick = hbars([("G2", [0.1, 0.25])], ["median", "p90"], unit=" h")  # 6 and 15 minutes
    assert quick["ticks"][-1]["text"] == "20 min"
    assert "G2 p90: 15 min" in quick["groups"][0]["bars"][1]["text"]
    rates = columns([("W48", [0.5, None]), ("W49", [1.0, 0.25])], ["a", "b"], unit="%")
    tall = rates["groups"][1]["bars"][0]
    assert tall["y"] == rates["axis"]["y1"] >= 8  # room above for the top tick's text
    assert tall["y"] + tall["h"] == rates["axis"]["y2"]
    assert rates["ticks"][-1]["text"] == "100%"
    assert [t["text"] for t in rates["ticks"]] == ["0%", "50%", "100%"]
    # Counts have no half: a scale up to 1 or 5 packages ticks only whole numbers.
    for most, ticks in ((0, ["0", "1"]), (3, ["0", "5"]), (7, ["0", "5", "10"])):
        shipped = columns([("W49", [most])], ["shipped"])
        assert [t["text"] for t in shipped["ticks"]] == ticks, most


# --- first pass counts where the pair's first decision falls ---------------------------------


def test_first_pass_counts_in_the_week_of_the_first_decision() -> None:
    monday = datetime(2026, 11, 30, 9, tzinfo=UTC)
    moves = [
        Move(1, monday, "package.drafted", "agent:x", "S2/draft", "S3/in_review"),
        Move(1, monday + timedelta(days=4), "package.gate.rejected", "maya", "S3/in_review",
             "S2/rejected", "G2"),
        Move(1, monday + timedelta(days=5), "package.drafted", "agent:x", "S2/rejected",
             "S3/in_review"),
        Move(1, monday + timedelta(days=8), "package.gate.approved", "maya", "S3/in_review",
             "S5/in_review", "G2"),
    ]  # fmt: skip
    spans, waits = follow(info(1), moves)
    weeks = grouped(
        Records({1: info(1)}, waits=waits, spans=spans),
        now=monday + timedelta(days=10),
        baseline_hours=None,
    )["by_week"]
    # Rejected first in W49: a 0% first pass there; W50's approval is no first pass at all.
    assert weeks["2026-W49"]["first_pass_rate"] == 0.0
    assert weeks["2026-W50"]["decisions"] == 1
    assert weeks["2026-W50"]["first_pass_rate"] is None
    assert [w.first for w in waits] == [True, False, False]  # the G3 wait is still open


@pytest.mark.django_db
def test_since_between_a_rejection_and_the_approval_counts_no_first_pass(
    spring_brief, lumen_workspace
) -> None:
    from django.db import transaction
    from django.utils import timezone

    from signoff.audit.services import record
    from signoff.metrics.selectors import operations_metrics
    from signoff.packages.models import Package

    package = Package.objects.create(
        brief=spring_brief,
        sku="LUM-SPR-LAV-08",
        channel="amazon_us_pdp",
        variant="A",
        stage="S3",
        state=Package.State.IN_REVIEW,
        stage_entered_at=timezone.now(),
    )

    def move(action: str, source: str, target: str, gate: str | None = None) -> None:
        with transaction.atomic():
            record(
                action=action,
                actor="maya@lumen.example",
                subject_type="package",
                subject_id=package.pk,
                workspace=lumen_workspace.slug,
                from_position=source,
                to_position=target,
                sku=package.sku,
                channel=package.channel,
                gate=gate,
            )

    move("package.drafted", "S2/draft", "S3/in_review")
    move("package.gate.rejected", "S3/in_review", "S2/rejected", "G2")
    since = timezone.now()
    move("package.drafted", "S2/rejected", "S3/in_review")
    move("package.gate.approved", "S3/in_review", "S5/in_review", "G2")
    assert operations_metrics(lumen_workspace)["overall"]["first_pass_rate"] == 0.0
    window = operations_metrics(lumen_workspace, since=since)["overall"]
    assert (window["decisions"], window["approvals"]) == (1, 1)
    assert window["first_pass_rate"] is None  # its first decision, a rejection, came before

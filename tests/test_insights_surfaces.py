"""Performance from the CLI, the REST API and the web page, and the drafter reading winners."""

from __future__ import annotations

import datetime as dt
import json

from insights_helpers import HEADER, csv_text, launch

from signoff.insights.models import Learning, PerformanceRow

CELLS = [("meta_feed_ad", sku, v) for sku in ("LUM-SPR-PEO-14", "LUM-SPR-RAI-14") for v in "AB"]


def _rows(days: int = 10) -> str:
    rows = []
    for day in range(days):
        date = (dt.date(2027, 2, 16) + dt.timedelta(days=day)).isoformat()
        for _, sku, variant in CELLS:
            rows.append((date, "meta_feed_ad", sku, variant, 1000, 30 if variant == "A" else 45, 2))
    return csv_text(rows)


def test_cli_imports_reports_and_refuses_with_located_errors(
    cli, approved_spring_brief, tmp_path
) -> None:
    from signoff.workspaces.tokens import issue_token

    launch(approved_spring_brief, CELLS)
    token = issue_token(email="ari@lumen.example", workspace="lumen-home")
    good = tmp_path / "perf.csv"
    good.write_text(_rows(), encoding="utf-8")
    args = ("performance", "import", str(good), "--brief", "spring-candles-2027")
    done = cli(*args, "--json", token=token)
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["new_rows"] == 40
    again = cli(*args, token=token)
    assert again.exit_code == 0
    assert "nothing new: all 40 rows were imported before" in again.stdout
    report = cli("performance", "report", "spring-candles-2027", "--json")
    (channel,) = json.loads(report.stdout)["channels"]
    variant = next(a for a in channel["attributes"] if a["attribute"] == "variant")
    assert variant["ctr"]["winner"] == "B"
    assert channel["impressions"] == 40000
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "2027-02-20,meta_feed_ad,LUM-SPR-PEO-14,A,5,9,0,0,0,0\n")
    refused = cli("performance", "import", str(bad), token=token)
    assert refused.exit_code == 2
    assert f"{bad}:2: clicks: expected at most impressions (5), got 9" in refused.stderr
    assert "nothing was stored" in refused.stderr
    assert PerformanceRow.objects.count() == 40


def test_api_imports_once_reports_and_locates_problems(
    api, approved_spring_brief, other_workspace
) -> None:
    launch(approved_spring_brief, CELLS)
    body = {"csv": _rows(), "brief": "spring-candles-2027"}
    first = api("ari").post("/api/performance/imports", body)
    assert first.status_code == 201, first.json()
    assert first.json()["new_rows"] == 40
    assert first.json()["learnings"] >= 1
    again = api("ari").post("/api/performance/imports", body)
    assert again.status_code == 200
    assert again.json()["new_rows"] == 0
    report = api("sofia").get("/api/performance/briefs/spring-candles-2027")
    assert report.status_code == 200
    (channel,) = report.json()["channels"]
    assert channel["channel"] == "meta_feed_ad"
    assert "z-test" in report.json()["method"]
    bad = HEADER + "2027-02-20,meta_feed_ad,LUM-SPR-PEO-14,A,5,-1,0,0,0,0\n"
    refused = api("ari").post("/api/performance/imports", {"csv": bad})
    assert refused.status_code == 422
    (problem,) = refused.json()["error"]["problems"]
    assert problem["field"] == "csv.clicks"
    assert problem["line"] == 2
    assert problem["message"].startswith("expected a whole number")
    # Another workspace's brief does not exist for its people.
    outside = api("ari", "other-brand").get("/api/performance/briefs/spring-candles-2027")
    assert outside.status_code == 404


def test_web_page_uploads_and_plots_with_the_csp_intact(
    as_person, approved_spring_brief, tmp_path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    launch(approved_spring_brief, CELLS)
    client = as_person("ari")
    url = "/briefs/spring-candles-2027/performance/"
    empty = client.get(url)
    assert empty.status_code == 200
    assert b"No performance imported" in empty.content
    # The header knows who is signed in, as on every other screen.
    assert b"Ari Novak \xc2\xb7 operator</span>" in empty.content
    assert b'class="topnav"' in empty.content
    bad = SimpleUploadedFile("bad.csv", (HEADER + "x\n").encode(), content_type="text/csv")
    refused = client.post(url, {"file": bad})
    assert refused.status_code == 422
    assert b"Nothing was imported" in refused.content
    assert b"expected 10 values" in refused.content
    upload = SimpleUploadedFile("perf.csv", _rows(1).encode(), content_type="text/csv")
    page = client.post(url, {"file": upload})
    assert page.status_code == 200, page.content[:500]
    html = page.content.decode()
    assert "Imported 4 of 4 rows" in html
    assert '">Meta feed ad</h2>' in html  # the channel by its name, not its id
    assert html.count('<svg class="plot"') >= 10  # 5 attributes x 2 rates, and over time
    assert "no winner yet: needs about" in html  # one day is too little for a verdict
    assert "style=" not in html
    assert "<script>" not in html.split("</head>")[1]
    more = SimpleUploadedFile("more.csv", _rows(10).encode(), content_type="text/csv")
    html = client.post(url, {"file": more}).content.decode()
    assert "Imported 36 of 40 rows (4 already stored)" in html
    assert "Winners kept as memory" in html
    assert "B wins" in html
    assert "Content-Security-Policy" in client.get(url)


def test_a_run_drafts_with_the_channels_winners(approved_spring_brief) -> None:
    from signoff.packages.models import Version
    from signoff.packages.services import run_brief

    Learning.objects.create(
        workspace=approved_spring_brief.workspace,
        brief=approved_spring_brief,
        channel="meta_feed_ad",
        attribute="variant",
        metric="ctr",
        winner="B",
        runner_up="A",
        numbers={},
        text="On meta_feed_ad, variant 'B' won on click-through: 4.50% (900 clicks of 20,000).",
    )
    run_brief(approved_spring_brief)
    meta = Version.objects.filter(package__channel="meta_feed_ad")
    assert meta.exists()
    for version in meta:
        assert version.origin["learnings_used"] == [Learning.objects.get().text]
    others = Version.objects.exclude(package__channel="meta_feed_ad")
    assert not any("learnings_used" in v.origin for v in others)


def test_api_locates_a_csv_the_reader_gives_up_on(api, approved_spring_brief) -> None:
    launch(approved_spring_brief, CELLS)
    good = "2027-02-20,meta_feed_ad,LUM-SPR-PEO-14,A,1000,30,2,2,60.00,10.50\n"
    # A quote never closed: the rest of the file becomes one value, past the reader's limit.
    stray = HEADER + good + '2027-02-21,meta_feed_ad,"LUM-SPR-PEO-14,A\n' + good * 3000
    refused = api("ari").post("/api/performance/imports", {"csv": stray})
    assert refused.status_code == 422, refused.content[:300]
    (problem,) = refused.json()["error"]["problems"]
    assert problem["line"] == 3
    assert problem["message"].startswith("expected CSV values, got a row the CSV reader cannot")
    assert "quote" in problem["message"]
    assert PerformanceRow.objects.count() == 0

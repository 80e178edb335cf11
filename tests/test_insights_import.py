"""Importing channel performance: matching, idempotence, refusals, and winners into memory."""

from __future__ import annotations

import datetime as dt

import pytest
from insights_helpers import HEADER, csv_text, launch

from signoff.audit.models import Event
from signoff.core.errors import InputError
from signoff.insights.models import Learning, PerformanceImport, PerformanceRow
from signoff.insights.services import import_file, import_performance

EXAMPLE_CELLS = [
    ("amazon_us_pdp", "LUM-SPR-LAV-08", "A"),
    ("amazon_us_pdp", "LUM-SPR-NER-08", "A"),
    ("walmart_us", "LUM-SPR-LAV-08", "A"),
    ("meta_feed_ad", "LUM-SPR-PEO-14", "A"),
    ("meta_feed_ad", "LUM-SPR-RAI-14", "A"),
    ("instagram_post", "LUM-SPR-FIG-08", "A"),
]


def _stored() -> tuple[int, int, int, int]:
    return (
        PerformanceRow.objects.count(),
        PerformanceImport.objects.count(),
        Learning.objects.count(),
        Event.objects.filter(action="performance.imported").count(),
    )


def test_the_example_file_is_matched_and_a_second_import_changes_nothing(
    approved_spring_brief, person, example_dir
) -> None:
    packages = launch(approved_spring_brief, EXAMPLE_CELLS)
    path = example_dir / "performance.csv"
    first = import_file(path=path, person=person("ari"))
    assert (first.rows, first.new_rows, first.unchanged) == (6, 6, 0)
    assert first.briefs == ["spring-candles-2027"]
    row = PerformanceRow.objects.get(package=packages[("meta_feed_ad", "LUM-SPR-RAI-14", "A")])
    assert (row.impressions, row.clicks, row.orders, row.revenue_cents) == (49500, 1290, 66, 316800)
    assert row.version_id == row.package.current_version_id
    assert row.line == 6
    assert row.date == dt.date(2027, 2, 20)
    event = Event.objects.get(action="performance.imported")
    assert event.actor == "ari@lumen.example"
    assert event.data["new_rows"] == 6
    assert event.content_hash == first.sha256
    before = _stored()
    again = import_file(path=path, person=person("ari"))
    assert (again.new_rows, again.unchanged, again.import_id) == (0, 6, None)
    assert _stored() == before


BAD = [
    # (row, column, the start of what the message expects)
    ("2027-02-20,tiktok,LUM-SPR-LAV-08,A,10,1,0,0,0,0", "channel", "expected a launched channel"),
    ("2027-02-20,amazon_us_pdp,LUM-NOPE,A,10,1,0,0,0,0", "sku", "expected a SKU launched on"),
    ("2027-02-20,amazon_us_pdp,LUM-SPR-LAV-08,Z,10,1,0,0,0,0", "variant", "expected a variant"),
    ("2027-02-21,amazon_us_pdp,LUM-SPR-LAV-08,A,-5,1,0,0,0,0", "impressions", "expected a whole"),
    ("2027-02-22,amazon_us_pdp,LUM-SPR-LAV-08,A,ten,1,0,0,0,0", "impressions", "expected a whole"),
    ("2027-02-23,amazon_us_pdp,LUM-SPR-LAV-08,A,10,11,0,0,0,0", "clicks", "expected at most"),
    ("2027-02-24,amazon_us_pdp,LUM-SPR-LAV-08,A,10,1,0,2,0,0", "orders", "expected at most"),
    ("2027-02-25,amazon_us_pdp,LUM-SPR-LAV-08,A,10,1,0,0,1.234,0", "revenue", "expected an amount"),
    ("2027-02-01,amazon_us_pdp,LUM-SPR-LAV-08,A,10,1,0,0,0,0", "date", "expected a date on or"),
    ("2027-02-31,amazon_us_pdp,LUM-SPR-LAV-08,A,10,1,0,0,0,0", "date", "expected a date as"),
]


def test_each_bad_row_is_located_and_nothing_from_the_file_is_stored(
    approved_spring_brief, person
) -> None:
    launch(approved_spring_brief, EXAMPLE_CELLS)
    good = "2027-02-26,amazon_us_pdp,LUM-SPR-LAV-08,A,10,1,0,0,0,0"
    rows = [good, *(row for row, _, _ in BAD), good]  # the last repeats the first
    text = HEADER + "\n".join(rows) + "\n"
    with pytest.raises(InputError) as refused:
        import_performance(data=text.encode(), name="perf.csv", person=person("ari"))
    said = [str(p) for p in refused.value.problems]
    for line, (_, column, expected) in enumerate(BAD, 3):
        assert any(s.startswith(f"perf.csv:{line}: {column}: {expected}") for s in said), (
            line,
            said,
        )
    assert any(s.startswith(f"perf.csv:{len(rows) + 1}: expected one row per") for s in said)
    assert len(said) == len(BAD) + 1
    assert _stored() == (0, 0, 0, 0)


def test_bad_headers_and_encodings_are_refused(approved_spring_brief, person) -> None:
    launch(approved_spring_brief, EXAMPLE_CELLS)
    cases = [
        (b"date,channel,sku\n", "perf.csv:1: expected the columns variant, impressions"),
        (HEADER.replace("clicks", "klicks").encode(), "perf.csv:1: klicks: expected one of"),
        (b"\xff\xfe", "perf.csv:1: expected UTF-8"),
    ]
    for data, expected in cases:
        with pytest.raises(InputError) as refused:
            import_performance(data=data, name="perf.csv", person=person("ari"))
        assert str(refused.value).startswith(expected), str(refused.value)


def test_a_row_stored_before_with_other_values_is_refused(approved_spring_brief, person) -> None:
    launch(approved_spring_brief, EXAMPLE_CELLS)
    first = csv_text([("2027-02-20", "amazon_us_pdp", "LUM-SPR-LAV-08", "A", 1000, 30, 3)])
    import_performance(data=first.encode(), name="a.csv", person=person("ari"))
    changed = csv_text(
        [
            ("2027-02-20", "amazon_us_pdp", "LUM-SPR-LAV-08", "A", 1000, 31, 3),
            ("2027-02-21", "amazon_us_pdp", "LUM-SPR-LAV-08", "A", 1000, 30, 3),
        ]
    )
    before = _stored()
    with pytest.raises(InputError) as refused:
        import_performance(data=changed.encode(), name="b.csv", person=person("ari"))
    assert str(refused.value).startswith("b.csv:2: expected the values imported before")
    assert _stored() == before


def test_a_person_without_a_brief_role_may_not_import(approved_spring_brief, person) -> None:
    from signoff.workflow import AuthorityError

    launch(approved_spring_brief, EXAMPLE_CELLS)
    admin = approved_spring_brief.workspace.people.create(
        email="it@lumen.example", name="IT", roles=["admin"]
    )
    text = csv_text([("2027-02-20", "amazon_us_pdp", "LUM-SPR-LAV-08", "A", 1000, 30, 3)])
    with pytest.raises(AuthorityError):
        import_performance(data=text.encode(), name="a.csv", person=admin)
    assert _stored() == (0, 0, 0, 0)


def _ab_test(brief, person, *, days: int = 10, b_clicks: int = 45) -> None:
    """Variants A and B of two SKUs on meta_feed_ad: B leads with the claim and wins on CTR."""
    cells = [("meta_feed_ad", sku, v) for sku in ("LUM-SPR-PEO-14", "LUM-SPR-RAI-14") for v in "AB"]
    launch(brief, cells, leads={"A": "scent", "B": "claim"})
    rows = []
    for day in range(days):
        date = (dt.date(2027, 2, 16) + dt.timedelta(days=day)).isoformat()
        for _, sku, variant in cells:
            clicks = 30 if variant == "A" else b_clicks
            rows.append((date, "meta_feed_ad", sku, variant, 1000, clicks, 2))
    import_performance(data=csv_text(rows).encode(), name="ab.csv", person=person("ari"))


def test_a_significant_winner_becomes_memory_with_its_numbers(approved_spring_brief, person):
    _ab_test(approved_spring_brief, person)
    learned = Learning.objects.get(attribute="variant", metric="ctr")
    assert (learned.channel, learned.winner, learned.runner_up) == ("meta_feed_ad", "B", "A")
    assert "900 clicks of 20,000 impressions" in learned.text  # 2 SKUs x 10 days x 45
    assert "600 of 20,000" in learned.text
    arms = {a["label"]: a for a in learned.numbers["arms"]}
    assert arms["B"]["verdict"] == "winner"
    assert arms["A"]["verdict"] == "loser"
    assert arms["A"]["p_value"] < 0.05
    # The lead (recorded per variant) won too; the conversion (same orders) did not.
    assert Learning.objects.filter(attribute="lead", metric="ctr", winner="claim").exists()
    assert not Learning.objects.filter(metric="conversion").exists()


def test_too_little_data_makes_no_winner(approved_spring_brief, person) -> None:
    from signoff.insights.selectors import brief_report

    _ab_test(approved_spring_brief, person, days=1, b_clicks=33)
    assert not Learning.objects.exists()
    (report,) = brief_report(approved_spring_brief)
    variant = next(a for a in report.attributes if a.attribute == "variant")
    assert variant.ctr.winner is None
    assert variant.ctr.needed > 0


def test_the_enricher_proposes_winners_and_the_drafter_cites_them(
    approved_spring_brief, person
) -> None:
    from signoff.agents.context import BriefFacts
    from signoff.agents.providers.port import DraftRequest
    from signoff.agents.providers.prompting import build_prompt
    from signoff.briefs.enrichment import accept_proposals, proposals_for
    from signoff.channels.catalog import resolve_spec
    from signoff.insights.selectors import learnings_for
    from signoff.workspaces.rules import brand_rules

    _ab_test(approved_spring_brief, person)
    learned = Learning.objects.get(attribute="variant", metric="ctr")
    proposals = [p for p in proposals_for(approved_spring_brief) if p.kind == "learning"]
    assert learned.text in [p.value for p in proposals]
    texts = learnings_for(approved_spring_brief.workspace_id, ["meta_feed_ad"])["meta_feed_ad"]
    assert learned.text in texts
    version = approved_spring_brief.latest_version()
    request = DraftRequest(
        channel=resolve_spec("meta_feed_ad"),
        product=version.products.first().facts(),
        brief=BriefFacts(name="Next", learnings=tuple(texts)),
        rules=brand_rules(approved_spring_brief.workspace),
    )
    prompt = build_prompt(request)
    assert "performance_learnings" in prompt.user
    assert "900 clicks of 20,000" in prompt.user
    assert "Performance learnings" in prompt.system
    # Accepting the proposal puts it into the brief's references (a new version, before G1).
    from signoff.insights.models import Learning as _L  # noqa: F401 - the table is shared

    approved_spring_brief.state = "in_review"
    approved_spring_brief.save(update_fields=["state"])
    accepted = accept_proposals(
        brief=approved_spring_brief, person=person("maya"), ids=[proposals[0].id]
    )
    assert {"kind": "previous_winner", "path": None, "note": proposals[0].value} in accepted.data[
        "references"
    ]


def test_optional_columns_padding_and_markets_are_read(approved_spring_brief, person) -> None:
    launch(approved_spring_brief, EXAMPLE_CELLS)
    text = (
        "Date,Channel,SKU,Variant,Market,Impressions,Clicks,Add_to_cart,Orders,Revenue,Spend,"
        "Returns,Rating\n"
        "2027-02-20, amazon_us_pdp ,LUM-SPR-LAV-08,A,en-US, 1000 ,30,5,3,96,4.5,1,4.5\n"
        "2027-02-21,amazon_us_pdp,LUM-SPR-LAV-08,A,en-US,1000,30,5,3,96.00,4.50,,\n"
        "2027-02-22,amazon_us_pdp,LUM-SPR-LAV-08,A,en-GB,1000,30,5,3,96.00,4.50,,\n"
        "2027-02-23,amazon_us_pdp,LUM-SPR-LAV-08,A,en-US,1000,30,5,3,96.00,4.50,-1,6\n"
    )
    with pytest.raises(InputError) as refused:
        import_performance(data=text.encode(), name="p.csv", person=person("ari"))
    said = [str(p) for p in refused.value.problems]
    assert said[0].startswith("p.csv:4: market: expected a market LUM-SPR-LAV-08 launched in")
    assert said[1].startswith("p.csv:5: returns: expected a whole number")
    assert said[2].startswith("p.csv:5: rating: expected a rating from 0 to 5")
    assert len(said) == 3
    good = "\n".join(text.splitlines()[:3]) + "\n"
    result = import_performance(data=good.encode(), name="p.csv", person=person("ari"))
    assert result.new_rows == 2
    first, second = PerformanceRow.objects.order_by("date")
    assert (first.impressions, first.revenue_cents, first.spend_cents) == (1000, 9600, 450)
    assert (first.returns, first.rating) == (1, 4.5)
    assert (second.returns, second.rating) == (None, None)


# --- identity with and without --brief, races, and what the CSV reader gives up on ----------

CELL = ("amazon_us_pdp", "LUM-SPR-LAV-08", "A")


def _relaunching_brief(example_dir, person):
    """A second approved brief of the same SKUs (it launches CELL again on 2027-03-01)."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief

    spring = (example_dir / "briefs" / "spring-candles.yaml").read_text(encoding="utf-8")
    path = example_dir / "briefs" / "summer.yaml"
    path.write_text(spring.replace("brief: spring-candles-2027", "brief: summer-2027"))
    brief = add_brief(path, products_csv=example_dir / "products.csv").brief
    approve_brief(brief=brief, person=person("maya"))
    brief.refresh_from_db()
    return brief


def test_a_day_is_the_same_row_with_or_without_a_brief(
    approved_spring_brief, person, example_dir
) -> None:
    summer = _relaunching_brief(example_dir, person)
    spring_package = launch(approved_spring_brief, [CELL])[CELL]
    summer_package = launch(summer, [CELL], at=dt.datetime(2027, 3, 1, 9, tzinfo=dt.UTC))[CELL]
    both = csv_text([("2027-02-20", *CELL, 1000, 30, 3), ("2027-03-02", *CELL, 1000, 30, 3)])
    ari = person("ari")
    # 2027-03-02 measures summer's launch: spring's brief may not claim it.
    with pytest.raises(InputError) as refused:
        import_performance(
            data=both.encode(), name="b.csv", person=ari, brief=approved_spring_brief
        )
    (problem,) = refused.value.problems
    assert str(problem).startswith("b.csv:3: date: expected a day of this brief's launch; from ")
    assert _stored() == (0, 0, 0, 0)
    spring_day = csv_text([("2027-02-20", *CELL, 1000, 30, 3)]).encode()
    assert (
        import_performance(
            data=spring_day, name="a.csv", person=ari, brief=approved_spring_brief
        ).new_rows
        == 1
    )
    plain = import_performance(data=both.encode(), name="b.csv", person=ari)
    assert (plain.new_rows, plain.unchanged) == (1, 1)
    summer_day = csv_text([("2027-03-02", *CELL, 1000, 30, 3)]).encode()
    again = import_performance(data=summer_day, name="c.csv", person=ari, brief=summer)
    assert (again.new_rows, again.unchanged) == (0, 1)
    assert dict(PerformanceRow.objects.values_list("date", "package_id")) == {
        dt.date(2027, 2, 20): spring_package.pk,
        dt.date(2027, 3, 2): summer_package.pk,
    }


def test_an_import_racing_another_stores_each_day_once(
    approved_spring_brief, person, monkeypatch
) -> None:
    from signoff.insights import services

    launch(approved_spring_brief, [CELL])
    one = csv_text([("2027-02-20", *CELL, 1000, 30, 3)]).encode()
    two = csv_text([("2027-02-20", *CELL, 1000, 30, 3), ("2027-02-21", *CELL, 1000, 30, 3)])
    matched = services._new_rows
    raced = []

    def racing(rows: list[tuple], name: str) -> tuple[list[tuple], int]:
        found = matched(rows, name)
        if name == "two.csv" and not raced:  # another import commits after this match
            raced.append(import_performance(data=one, name="one.csv", person=person("ari")))
        return found

    monkeypatch.setattr(services, "_new_rows", racing)
    result = import_performance(data=two.encode(), name="two.csv", person=person("ari"))
    assert raced[0].new_rows == 1
    assert (result.new_rows, result.unchanged) == (1, 1)
    assert sorted(PerformanceRow.objects.values_list("date", flat=True)) == [
        dt.date(2027, 2, 20),
        dt.date(2027, 2, 21),
    ]
    assert _stored()[1] == 2  # two imports, each with its own rows
    assert Event.objects.filter(action="performance.imported").count() == 2


def test_rows_are_located_by_the_physical_line_they_start_on(approved_spring_brief, person) -> None:
    launch(approved_spring_brief, [CELL])
    # A quoted value spanning lines 2-3: the bad row after it is on line 4.
    spanning = HEADER + (
        '2027-02-20,amazon_us_pdp,"LUM-SPR-\nLAV-08",A,1000,30,3,3,90.00,0\n'
        "2027-02-21,amazon_us_pdp,LUM-SPR-LAV-08,A,1000,x,3,3,90.00,0\n"
    )
    with pytest.raises(InputError) as refused:
        import_performance(data=spanning.encode(), name="m.csv", person=person("ari"))
    said = [str(p) for p in refused.value.problems]
    assert said[0].startswith("m.csv:2: sku: expected a SKU launched on amazon_us_pdp"), said
    assert said[1].startswith("m.csv:4: clicks: expected a whole number"), said
    assert _stored() == (0, 0, 0, 0)


def test_a_csv_the_reader_gives_up_on_is_a_located_error(approved_spring_brief, person) -> None:
    launch(approved_spring_brief, [CELL])
    # A quote never closed makes the rest of the file one value, past the reader's limit; a
    # carriage return inside a value is refused by the reader too. Each is located.
    good = "2027-02-20,amazon_us_pdp,LUM-SPR-LAV-08,A,1000,30,3,3,90.00,0\n"
    for text, line in (
        (HEADER + good + '2027-02-21,amazon_us_pdp,"LUM-SPR-LAV-08,A\n' + good * 3000, 3),
        (HEADER + "\n" + good + "2027-02-22,amazon\r_us_pdp,LUM-SPR-LAV-08,A\n", 4),
    ):
        with pytest.raises(InputError) as refused:
            import_performance(data=text.encode(), name="q.csv", person=person("ari"))
        (problem,) = refused.value.problems
        assert str(problem).startswith(
            f"q.csv:{line}: expected CSV values, got a row the CSV reader cannot read ("
        ), str(problem)
    assert _stored() == (0, 0, 0, 0)

"""The pure parts of insights: the comparison method, attributes, plots. No database."""

from __future__ import annotations

import math

from signoff.insights import plots, stats
from signoff.insights.attributes import attributes_of, lead_of, title_bucket
from signoff.insights.stats import Arm, Verdict, compare


def test_wilson_interval_holds_the_rate_and_narrows_with_more_data() -> None:
    small = stats.wilson(30, 1000)
    large = stats.wilson(300, 10000)
    for low, high in (small, large):
        assert 0 <= low < 0.03 < high <= 1
    assert large[1] - large[0] < small[1] - small[0]
    assert stats.wilson(0, 50)[0] == 0.0  # never below zero
    assert stats.wilson(0, 0) == (0.0, 1.0)  # no data: anything is possible


def test_two_proportion_test_is_symmetric_and_equal_rates_are_not_different() -> None:
    z, p = stats.two_proportion(60, 2000, 40, 2000)
    z2, p2 = stats.two_proportion(40, 2000, 60, 2000)
    assert z == -z2
    assert p == p2
    assert p == math.erfc(abs(z) / math.sqrt(2))
    assert stats.two_proportion(50, 1000, 100, 2000) == (0.0, 1.0)


def test_no_winner_below_the_minimum_sample_and_it_says_how_much_more() -> None:
    result = compare("ctr", "impressions", [Arm("A", 400, 40), Arm("B", 400, 4)], min_trials=1000)
    assert result.winner is None
    assert {a.verdict for a in result.arms} == {Verdict.TOO_LITTLE}
    assert result.needed >= 600  # at least up to the minimum sample


def test_the_needed_sample_is_enough_to_call_the_winner() -> None:
    """Growing both arms by what the comparison says is needed, at the same rates, decides it."""
    first = compare("ctr", "impressions", [Arm("A", 2000, 66), Arm("B", 2000, 50)], min_trials=1000)
    assert first.winner is None
    assert first.needed > 0
    n = 2000 + first.needed
    second = compare(
        "ctr",
        "impressions",
        [Arm("A", n, round(n * 0.033)), Arm("B", n, round(n * 0.025))],
        min_trials=1000,
    )
    assert second.winner is not None
    assert second.winner.label == "A"
    assert second.needed == 0
    loser = next(a for a in second.arms if a.label == "B")
    assert loser.verdict is Verdict.LOSER
    assert loser.p_value < 0.05


def test_bonferroni_makes_more_values_need_stronger_evidence() -> None:
    two = compare("ctr", "impressions", [Arm("A", 5000, 180), Arm("B", 5000, 143)], min_trials=1000)
    three = compare(
        "ctr",
        "impressions",
        [Arm("A", 5000, 180), Arm("B", 5000, 143), Arm("C", 5000, 143)],
        min_trials=1000,
    )
    p = next(a for a in two.arms if a.label == "B").p_value
    assert 0.025 < p < 0.05  # significant alone, not when two comparisons share alpha
    assert two.winner is not None
    assert three.winner is None


def test_equal_rates_cannot_be_sized_and_one_value_has_nothing_to_compare() -> None:
    equal = compare(
        "ctr", "impressions", [Arm("A", 5000, 100), Arm("B", 5000, 100)], min_trials=1000
    )
    assert equal.winner is None
    assert equal.needed is None
    alone = compare("ctr", "impressions", [Arm("A", 5000, 100)], min_trials=1000)
    assert alone.arms[0].verdict is Verdict.ALONE
    assert alone.winner is None


def test_the_reason_carries_the_numbers() -> None:
    result = compare(
        "ctr", "impressions", [Arm("B", 40000, 1400), Arm("A", 40000, 1000)], min_trials=1000
    )
    text = stats.reason(result, "meta_feed_ad", "variant")
    assert "'B' won on click-through" in text
    assert "1,400 clicks of 40,000 impressions" in text
    assert "+40% relative" in text


def test_attributes_of_a_version() -> None:
    assert title_bucket("x" * 39) == "0-39 chars"
    assert title_bucket("x" * 40) == "40-79 chars"
    messages = ["A long, even burn for slow evenings.", "Hand-poured soy wax candles."]
    fields = {"title": "Lavender candle", "body": "Hand-poured soy wax candles for you. More."}
    assert lead_of(fields, messages) == messages[1]
    assert lead_of({"title": "Nothing shared"}, messages) == "other"
    values = attributes_of(
        variant="B", fields=fields, origin={}, key_messages=messages, image="linen on oak"
    )
    assert values == {
        "variant": "B",
        "lead": messages[1],
        "title_length": "0-39 chars",
        "tone": None,  # not recorded: left out of the comparison
        "image": "linen on oak",
    }
    recorded = attributes_of(
        variant="B",
        fields=fields,
        origin={"parameters": {"tone": "warm"}},
        key_messages=[],
        image=None,
    )
    assert (recorded["tone"], recorded["image"]) == ("warm", "no image")


def test_plots_are_escaped_svg_without_inline_style() -> None:
    import datetime as dt

    result = compare(
        "ctr", "impressions", [Arm("<script>", 5000, 200), Arm("B", 5000, 100)], min_trials=1000
    )
    svg = plots.intervals(result.arms, 'CTR "by" variant')
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "style=" not in svg
    assert svg.count("<circle") == 2
    day = dt.date(2027, 2, 20)
    series = {"variant A": [(day, 1000, 30), (day + dt.timedelta(days=1), 1000, 40)]}
    timeline = plots.over_time(series, "daily")
    assert "<polyline" in timeline
    assert "style=" not in timeline
    assert plots.over_time({}, "empty") == ""

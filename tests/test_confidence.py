"""Issue 14, section 4: a confidence score that means something.

The score is what a reviewer sorts by: on a labelled set (``confidence_set``: good drafts, and
drafts with each failure of the issue, hand-made and from a hostile model driven through the
real OpenAI SDK provider), every bad draft scores below every good one. A package with no
draft has no score; the board sorts by it (web, API, CLI); a package under the workspace's
threshold carries a "needs a careful read" reason.
"""

from __future__ import annotations

import json

import pytest
from confidence_set import HOSTILE_FAILURES, hostile_drafts, samples

from signoff.packages.authoring import edit_package
from signoff.packages.confidence import (
    UPPER_BAND,
    Evidence,
    confidence,
    origin_rework,
    risk_family,
)
from signoff.packages.models import Package

BRIEF = "spring-candles-2027"


# --- the function --------------------------------------------------------------------------


def test_no_draft_has_no_score():
    assert confidence([], None) is None
    assert confidence([("spec.max_chars", "block")], None) is None


def test_a_clean_complete_draft_from_the_data_scores_100_and_a_model_less():
    assert confidence([], Evidence(facts_needed=5)) == 100
    assert confidence([], Evidence(facts_needed=5, provider="openai")) < 100


@pytest.mark.parametrize(
    "weaker",
    [
        Evidence(facts_needed=4, facts_missing=1),
        Evidence(claims_made=2, claims_substantiated=1),
        Evidence(refits=1),
        Evidence(schema_retries=2),
        Evidence(provider="anthropic"),
    ],
)
def test_weaker_evidence_lowers_the_score(weaker):
    assert confidence([], weaker) < confidence([], Evidence())
    # and it still counts for drafts with blocking findings (rounded to whole points)
    block = [("spec.max_chars", "block")]
    assert confidence(block, weaker) <= confidence(block, Evidence())


def test_any_blocking_finding_scores_below_any_draft_without_one():
    worst_passable = confidence(
        [("voice.tone", "warn")] * 20 + [("claims.not_for_product", "warn")] * 5,
        Evidence(
            facts_needed=3,
            facts_missing=2,
            claims_made=3,
            refits=3,
            schema_retries=3,
            provider="openai",
        ),
    )
    best_blocked = confidence([("spec.emoji", "block")], Evidence())
    assert best_blocked < UPPER_BAND <= worst_passable


def test_findings_weigh_by_what_they_put_at_risk_and_unknown_rules_still_count():
    evidence = Evidence()
    spec = confidence([("spec.max_chars", "block")], evidence)
    trust = confidence([("claims.forbidden", "block")], evidence)
    assert trust < spec
    assert risk_family("instructions-in-output") == "trust"
    assert risk_family("invented.number") == "trust"
    assert risk_family("feedback.ignored") == "trust"
    assert risk_family("degenerate.repeat") == "quality"
    assert risk_family("spec.image_format") == "channel"
    # a rule added later, of a family not known here, still counts by its severity
    assert confidence([("zz-future.rule", "block")], evidence) < UPPER_BAND
    assert confidence([("zz-future.rule", "warn")], evidence) < 100
    two = confidence([("spec.max_chars", "block")] * 2, evidence)
    assert two < spec


def test_rework_and_provider_are_read_from_the_origin():
    assert origin_rework({"kind": "person"}) == (0, 0, "person")
    origin = {
        "provider": "openai",
        "parameters": {"attempts": 3},
        "refit": {"reprompted_with": ["fix"], "trimmed": ["title"]},
    }
    assert origin_rework(origin) == (2, 2, "openai")
    assert origin_rework(None) == (0, 0, "builtin")


# --- the labelled set -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled():
    return samples(hostile_drafts())


def test_every_bad_draft_scores_below_every_good_one(labelled):
    good = [s for s in labelled if s.good]
    bad = [s for s in labelled if not s.good]
    groups = {s.group for s in bad}
    # every failure of the issue is in the set, hand-made and from the hostile model
    assert {
        "bad: instructions in output",
        "bad: pii",
        "bad: degenerate output",
        "bad: markup remnants",
        "bad: product identity",
        "bad: substance",
        "bad: invented specifics",
        "bad: claims",
        "bad: feedback ignored",
        "bad: hostile model",
    } <= groups
    assert len([s for s in bad if s.group == "bad: hostile model"]) == len(HOSTILE_FAILURES)
    lowest_good = min(good, key=lambda s: s.score)
    for sample in bad:
        assert sample.score < lowest_good.score, (
            sample.group,
            sample.label,
            sample.score,
            [(f.rule_id, str(f.severity)) for f in sample.findings],
            lowest_good.label,
        )


# --- the board --------------------------------------------------------------------------------


def _spoil(package: Package, person) -> None:
    """A person's edit that makes a forbidden claim: a blocking finding, a low score."""
    fields = package.current_version.fields
    name = next(k for k, v in fields.items() if isinstance(v, str) and v)
    result, _ = edit_package(
        package_id=package.pk, person=person, changes={name: "A non-toxic candle"}
    )
    assert result.ok, result.message


@pytest.mark.django_db
def test_the_board_sorts_by_confidence_and_flags_a_careful_read(
    spring_run, person, api, cli, as_person, lumen_workspace
):
    packages = list(Package.objects.filter(brief__slug=BRIEF).select_related("current_version"))
    undrafted = [p for p in packages if p.current_version is None]
    assert undrafted  # the rhubarb candle lacks data: blocked, never drafted
    assert all(p.confidence is None for p in undrafted)
    assert all(p.confidence is not None for p in packages if p.current_version is not None)
    spoiled = next(p for p in packages if p.channel == "meta_feed_ad" and p.current_version)
    _spoil(spoiled, person("maya"))
    spoiled.refresh_from_db()
    assert spoiled.confidence < lumen_workspace.policies.get("careful_read_below", 60)

    # the API: lowest first, no score last; the careful-read reason on that row only
    rows = api("maya").get(f"/api/briefs/{BRIEF}/board", sort="confidence", limit=100).json()
    items = rows["items"]
    assert items[0]["id"] == spoiled.pk
    scores = [r["confidence"] for r in items if r["confidence"] is not None]
    assert scores == sorted(scores)
    assert all(r["confidence"] is None for r in items[len(scores) :])
    flagged = {r["id"] for r in items if r["careful_read"]}
    assert flagged == {spoiled.pk}
    assert "needs a careful read" in items[0]["careful_read"]
    detail = api("maya").get(f"/api/packages/{spoiled.pk}").json()
    assert detail["careful_read"].startswith("needs a careful read")

    # the CLI: the same order and reason; "—" for no score in the table
    cli_rows = json.loads(cli("board", BRIEF, "--sort", "confidence", "--json").stdout)
    assert [r["id"] for r in cli_rows] == [r["id"] for r in items]
    assert "needs a careful read" in cli_rows[0]["careful_read"]
    table = cli("board", BRIEF, "--sort", "confidence").stdout
    assert "—" in table  # the undrafted packages' score
    shown = cli("show", str(spoiled.pk)).stdout
    assert "needs a careful read" in shown

    # the web board: sorted on request, the chip on that row, "—" for no score
    page = as_person("maya").get(f"/briefs/{BRIEF}/", {"sort": "confidence"}).content.decode()
    assert page.index(f'data-package="{spoiled.pk}"') < page.index(
        f'data-package="{undrafted[0].pk}"'
    )
    assert "needs a careful read" in page

    # a workspace threshold of 0 turns the reason off
    lumen_workspace.policies = {**lumen_workspace.policies, "careful_read_below": 0}
    lumen_workspace.save(update_fields=["policies"])
    rows = api("maya").get(f"/api/briefs/{BRIEF}/board", sort="confidence").json()
    assert not any(r["careful_read"] for r in rows["items"])


@pytest.mark.django_db
def test_an_unknown_board_sort_is_refused_with_its_name(spring_run, api, cli):
    response = api("maya").get(f"/api/briefs/{BRIEF}/board", sort="score")
    assert response.status_code == 422
    assert "sort" in response.content.decode()
    result = cli("board", BRIEF, "--sort", "score")
    assert result.exit_code != 0
    assert "--sort" in result.output

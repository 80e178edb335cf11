"""Pure parts of issue 17: labels (plain words), phrase diffs, grammar-safe fixes, and who can
act on a gate (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from signoff.agents.checks._text import remove_phrase, reword_span
from signoff.core import labels
from signoff.core.phrases import phrase_change, word_marks
from signoff.workflow import Facts, Position, load_template
from signoff.workflow.eligibility import Candidate, eligibility

MAYA = Candidate(id="maya@x.example", name="Maya Chen", roles=frozenset({"content_lead"}))
OMAR = Candidate(id="omar@x.example", name="Omar Haddad", roles=frozenset({"compliance"}))
KIM = Candidate(
    id="kim@x.example", name="Kim Two-Hats", roles=frozenset({"content_lead", "compliance"})
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("bullet_points[0]", "Bullet 1"),
        ("headlines[2]", "Headline 3"),
        ("title", "Title"),
        ("search_terms", "Search terms"),
        ("images.main", "Image: main"),
    ],
)
def test_field_labels(path: str, expected: str) -> None:
    spec = {"bullet_points": "Bullet points", "headlines": "Headlines", "title": "Title"}
    assert labels.field_label(path, spec) == expected


def test_positions_roles_people_and_messages_in_plain_words() -> None:
    assert labels.position_label("S5/in_review") == "Compliance review"
    assert labels.position_label("S3/rejected") == "Sent back to Draft review"
    assert labels.position_label("S5/blocked") == "Blocked at Compliance review"
    assert labels.position_label("S6/published") == "Published"
    assert labels.role_label("brand_manager") == "Brand manager"
    assert labels.channel_label("amazon_us_pdp", labels.channel_names()) == (
        "Amazon US product page"
    )
    names = {"maya@x.example": "Maya Chen"}
    assert labels.person_label("maya@x.example", names) == "Maya Chen"
    assert labels.person_label("agent:brand_voice", names) == "Brand voice (agent)"
    assert labels.person_label("who@else.example", names) == "who@else.example"
    message = "maya@x.example authored this version: another content_lead must"
    assert labels.plain_message(message, names) == (
        "Maya Chen authored this version: another content lead must"
    )
    assert labels.names_list(["Omar", "Lena", "Ari"]) == "Omar, Lena or Ari"
    today = date(2027, 2, 10)
    assert labels.deadline_label(date(2027, 2, 15), today) == "Due Feb 15, 2027 (in 5 days)"
    assert labels.deadline_label(date(2027, 2, 8), today) == ("Due Feb 8, 2027 (overdue by 2 days)")


def test_a_fix_is_shown_as_the_phrase_that_changes() -> None:
    old = "Hand-poured soy wax, never cheap on scent, burns for 40 hours."
    change = phrase_change(old, old.replace("cheap", "affordable"))
    assert (change.removed, change.added) == ("cheap", "affordable")
    assert change.before.endswith("never ")
    assert change.after.startswith(" on scent")
    assert change.clipped_start
    assert change.clipped_end
    assert word_marks("Soy Wax Calm Candle", "Soy Wax Candle") == [
        (False, "Soy Wax "),
        (True, "Calm"),
        (False, " Candle"),
    ]


@pytest.mark.parametrize(
    ("text", "phrase", "replacement", "expected"),
    [
        # A judgement under a negation changes the claim: no fix.
        ("Soy wax, never cheap on scent.", "cheap", "affordable", None),
        ("It isn't cheap at all.", "cheap", "affordable", None),
        # The article agrees with the new word.
        ("A cheap candle.", "cheap", "affordable", "An affordable candle."),
        ("An eco candle.", "eco", "soy", "A soy candle."),
        # Removals that leave the sentence whole, and those that would not.
        ("An amazing candle that burns clean.", "amazing", "", "A candle that burns clean."),
        ("This candle is cheap.", "cheap", "", None),
        ("Cheap and calm candle.", "Cheap", "", None),
        ("Calm evenings, cheap, poured slowly.", "cheap", "", "Calm evenings, poured slowly."),
    ],
)
def test_suggested_fixes_keep_meaning_and_grammar_or_are_not_offered(
    text: str, phrase: str, replacement: str, expected: str | None
) -> None:
    start = text.index(phrase)
    end = start + len(phrase)
    if replacement:
        fixed = reword_span(text, start, end, replacement, meaning_flips=True)
    else:
        fixed = remove_phrase(text, start, end)
    assert fixed == expected


def test_eligibility_names_who_can_approve_and_what_each_action_costs() -> None:
    template = load_template("ecommerce", None)
    at_g2 = Position.parse("S3/in_review")
    people = [MAYA, OMAR, KIM]

    # Kim holds both roles: approving at G2 rules her out of G3 for this version.
    kim = eligibility(at_g2, template, KIM, people, Facts())
    assert [c.name for c in kim.can_approve] == ["Maya Chen", "Kim Two-Hats"]
    assert kim.verdicts["approve"].ok
    assert kim.consequences["approve"] == (
        "Approving here means you cannot also approve this version at G3 (compliance "
        "sign-off); Omar Haddad can."
    )

    # Maya made this version: the gate would refuse her, and the reason is whole.
    made = Facts(version_makers=frozenset({MAYA.id}))
    maya = eligibility(at_g2, template, MAYA, people, made)
    assert not maya.verdicts["approve"].ok
    assert maya.verdicts["approve"].code == "maker_checker"
    assert maya.verdicts["approve"].reason.startswith("You authored or edited this version")
    assert maya.who == "Kim Two-Hats can approve"
    assert maya.cannot_approve == ((MAYA, "wrote or edited this version"),)

    # An edit by Omar (no G2 role) is said with who can approve the new version.
    omar = eligibility(at_g2, template, OMAR, people, Facts())
    assert omar.consequences["edit"] == (
        "The new version waits on G2 (draft quality): Maya Chen or Kim Two-Hats can approve it."
    )
    assert not omar.verdicts["approve"].ok
    assert omar.verdicts["approve"].code == "wrong_role"

    # A fix accepted under the checker policy keeps Maya a checker; under "person" it would not.
    fresh = eligibility(at_g2, template, MAYA, [MAYA, OMAR], Facts())
    assert fresh.consequences["fix"].startswith("Recorded as an accepted suggestion")
    assert fresh.consequences["edit"].endswith("nobody else holds Content lead.")
    strict = eligibility(at_g2, template, MAYA, [MAYA, OMAR], Facts(), fix_is_authorship=True)
    assert strict.consequences["fix"] == strict.consequences["edit"]

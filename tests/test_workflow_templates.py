"""Templates as data, and the workspace overrides of gate owners and SLA hours."""

from __future__ import annotations

import pytest
import yaml

from signoff.workflow import (
    Action,
    Actor,
    AuthorityError,
    Facts,
    GateLevel,
    Position,
    Role,
    TemplateName,
    decide,
    load_template,
)

WORKSPACE_YAML = "/work/shared/examples/lumen-home/workspace.yaml"


@pytest.mark.parametrize(
    ("name", "gates"),
    [
        ("ecommerce", {"G1": "content_lead", "G2": "content_lead", "G3": "compliance",
                       "G4": "brand_manager"}),
        ("campaign", {"approve": "cmo", "coherence": "ceo"}),
        ("social", {"review": "content_lead", "launch": "brand_manager"}),
    ],
)  # fmt: skip
def test_shipped_gates_and_owners(name, gates):
    template = load_template(name)

    assert {gate.id: gate.owner for gate in template.gates} == gates
    assert template.name == TemplateName(name)


def test_only_g1_decides_on_the_brief():
    levels = {gate.id: gate.level for gate in load_template("ecommerce").gates}

    assert levels == {
        "G1": GateLevel.BRIEF,
        "G2": GateLevel.PACKAGE,
        "G3": GateLevel.PACKAGE,
        "G4": GateLevel.PACKAGE,
    }


def test_ecommerce_stages_are_s1_to_s6_and_no_package_rests_at_s4():
    template = load_template("ecommerce")

    assert [info.stage for info in template.stages] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert not {p for p in template.positions if p.stage == "S4"}


def test_the_example_workspace_settings_load():
    with open(WORKSPACE_YAML, encoding="utf-8") as handle:
        workflows = yaml.safe_load(handle)["workflows"]

    ecommerce = load_template("ecommerce", workflows["ecommerce"])
    campaign = load_template("campaign", workflows["campaign"])

    assert {g.id: g.sla_hours for g in ecommerce.gates} == {"G1": 24, "G2": 48, "G3": 48, "G4": 24}
    assert {g.id: g.sla_hours for g in campaign.gates} == {"approve": 24, "coherence": 48}


def test_an_owner_override_moves_the_authority():
    template = load_template("ecommerce", {"owners": {"G2": "brand_manager"}, "sla_hours": {}})
    lena = Actor(id="lena@x", kind="person", roles=frozenset({"brand_manager"}))
    maya = Actor(id="maya@x", kind="person", roles=frozenset({"content_lead"}))
    at_g2 = Position.parse("S3/in_review")

    assert decide(at_g2, Action.APPROVE, lena, Facts(), template).gate == "G2"
    with pytest.raises(AuthorityError):
        decide(at_g2, Action.APPROVE, maya, Facts(), template)
    # G1 keeps its owner, and the shipped template is untouched.
    assert template.gate("G1").owner == Role.CONTENT_LEAD
    assert load_template("ecommerce").gate("G2").owner == Role.CONTENT_LEAD


def test_an_sla_override_changes_only_that_gate():
    template = load_template("social", {"sla_hours": {"launch": 6}})

    assert {g.id: g.sla_hours for g in template.gates} == {"review": 24, "launch": 6}


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("ecommerce", {"sla_hours": {"G9": 1}}, r"^workflows\.ecommerce\.sla_hours\.G9: unknown"),
        ("ecommerce", {"owners": {"G5": "compliance"}}, r"ecommerce\.owners\.G5: unknown gate"),
        ("ecommerce", {"owners": {"G2": "editor"}}, r"owners\.G2: unknown role 'editor'"),
        ("ecommerce", {"owners": {"G2": "admin"}}, r"owners\.G2: admin owns no gate"),
        ("ecommerce", {"owners": {"G4": "operator"}}, r"owners\.G4: operator owns no gate"),
        ("campaign", {"owners": {"G2": "cmo"}}, r"workflows\.campaign\.owners\.G2: unknown gate"),
        ("ecommerce", {"sla_hours": {"G1": 0}}, r"sla_hours\.G1: expected a positive number"),
        ("ecommerce", {"sla_hours": {"G1": "24"}}, r"sla_hours\.G1: expected a positive number"),
        ("ecommerce", {"sla_hours": {"G1": True}}, r"sla_hours\.G1: expected a positive number"),
        ("ecommerce", {"sla_hours": [24]}, r"workflows\.ecommerce\.sla_hours: expected a mapping"),
        ("ecommerce", {"gates": {}}, r"workflows\.ecommerce\.gates: unknown setting"),
        ("newsletter", None, r"workflows\.newsletter: unknown workflow template"),
    ],
)  # fmt: skip
def test_bad_overrides_are_refused_naming_the_key(name, overrides, message):
    with pytest.raises(ValueError, match=message):
        load_template(name, overrides)

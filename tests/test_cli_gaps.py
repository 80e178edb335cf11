"""Gaps an audit found in the `signoff` command: reports that dropped causes, exit codes,
validation that came too late, and error wording.

Exit codes: 2 bad input, 3 state error (409), 4 authority error (403), 1 a batch with refusals.
"""

from __future__ import annotations

import json

import pytest
from cli_helpers import BRIEF, approve_channel, ref

from signoff.cli import main

pytestmark = pytest.mark.django_db(transaction=True)

LAV = "LUM-SPR-LAV-08"


# --- 1. the blocking report prints every cause group -------------------------------------------


def test_blocking_text_lists_packages_blocked_by_a_withdrawn_claim(cli, tokens):
    # given: compliance withdraws a claim that many packages make
    withdrawn = cli(
        "claim", "set-status", "hand-poured", "withdrawn", "--note", "audit", token=tokens["omar"]
    )
    assert withdrawn.exit_code == 0, withdrawn.output
    report = json.loads(cli("blocking", BRIEF, "--json").stdout)
    (group,) = report["other_blocks"]
    assert len(group["packages"]) >= 1
    # the JSON names the claim and who can release it, as the text does
    assert group["claim"] == "hand-poured"
    assert group["released_by"] == [{"role": "compliance", "people": ["omar@lumen.example"]}]

    # when
    text = cli("blocking", BRIEF).stdout

    # then: the group is there with its reason, its size, and who releases it
    assert "Blocked" in text
    count = len(group["packages"])
    reason = "claim: uses claim 'hand-poured', now withdrawn: audit"
    assert f"{reason} -> blocks {count} packages" in text
    assert "compliance: omar@lumen.example" in text
    assert "signoff claim set-status hand-poured approved" in text
    assert "every package is approved" not in text


# --- 2. workflow settings are checked when the workspace loads --------------------------------


def test_a_negative_sla_is_bad_input_at_load_and_nothing_is_stored(cli, example_dir):
    from signoff.workspaces.models import Workspace

    path = example_dir / "workspace.yaml"
    text = path.read_text()
    assert "sla_hours: {G1: 24, G2: 48," in text
    path.write_text(text.replace("G2: 48,", "G2: -4,"))
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "G2: -4" in t)

    result = cli("load", str(path))

    assert result.exit_code == 2
    assert "nothing was stored" in result.stderr
    assert (
        f"{path}:{line}: workflows.ecommerce.sla_hours.G2: "
        "expected a positive number of hours, got -4"
    ) in result.stderr
    assert not Workspace.objects.exists()


def test_bad_settings_stored_before_they_were_checked_exit_2_naming_the_workspace(cli, cli_brief):
    from signoff.audit.models import Event
    from signoff.briefs.models import Brief
    from signoff.workspaces.models import Workspace

    # given: a brief, and a workspace stored with a setting the load would now refuse
    token = cli("token", "issue", "maya@lumen.example").stdout.strip()
    Workspace.objects.update(workflows={"ecommerce": {"sla_hours": {"G2": -4}}})
    events = Event.objects.count()

    # when: the SLA report and G1 read the template
    sla = cli("sla", BRIEF)
    approve = cli("brief", "approve", BRIEF, "--yes", token=token)

    # then: bad input, naming the workspace and the setting and saying how to fix it
    for result in (sla, approve):
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert (
            "workspace lumen-home: workflows.ecommerce.sla_hours.G2: expected a positive "
            "number of hours, got -4; stored before workflow settings were checked: fix the "
            "workspace file and load it again (`signoff load WORKSPACE_FILE`)"
        ) in result.stderr
    # then: nothing was stored
    assert Brief.objects.get(slug=BRIEF).state != "approved"
    assert Event.objects.count() == events


# --- 3. a brief's template is fixed once G1 passes ----------------------------------------------


def test_brief_update_after_g1_may_not_change_the_template(cli, tokens, example_dir):
    from signoff.briefs.models import Brief

    path = example_dir / "briefs" / "spring-candles.yaml"
    versions = Brief.objects.get(slug=BRIEF).versions.count()
    for old, new in (
        ("content_type: ecommerce\n", "content_type: campaign\n"),
        ("content_type: ecommerce\n", "content_type: ecommerce\ntemplate: social\n"),
    ):
        changed = example_dir / "briefs" / "changed.yaml"
        changed.write_text(path.read_text().replace(old, new))

        result = cli("brief", "update", BRIEF, str(changed), token=tokens["maya"])

        assert result.exit_code == 3, result.output
        assert f"refused (invalid_state): brief {BRIEF} has passed G1" in result.stderr
        assert "template (ecommerce)" in result.stderr
        brief = Brief.objects.get(slug=BRIEF)
        assert (brief.template, brief.content_type) == ("ecommerce", "ecommerce")
        assert brief.versions.count() == versions
        assert brief.latest_version().data["template"] == "ecommerce"


def test_before_g1_a_new_version_may_change_the_template(cli, cli_workspace):
    from signoff.briefs.models import Brief

    path = cli_workspace / "briefs" / "spring-candles.yaml"
    assert cli("brief", "add", str(path)).exit_code == 0
    path.write_text(path.read_text().replace("content_type: ecommerce\n", "template: social\n"))

    result = cli("brief", "add", str(path))

    assert result.exit_code == 0, result.output
    brief = Brief.objects.get(slug=BRIEF)
    assert brief.versions.count() == 2
    assert (brief.template, brief.content_type) == ("social", "ecommerce")
    assert brief.latest_version().data["template"] == "social"


# --- 4. launch exits 4 for a wrong-role refusal, as approve does ----------------------------------


def test_launch_by_the_wrong_role_exits_4_and_a_mix_exits_1(cli, tokens, tmp_path):
    approve_channel(cli, tokens, "meta_feed_ad")
    out = tmp_path / "exports"

    # when: the content lead (not a publisher) launches an approved channel
    result = cli(
        "launch", BRIEF, "--channel", "meta_feed_ad", "--out", str(out), token=tokens["maya"]
    )

    # then: an authority error, exit 4; nothing written
    assert result.exit_code == 4, result.output
    assert "meta_feed_ad: refused (wrong_role)" in result.stdout
    assert not (out / "lumen-home" / BRIEF / "meta_feed_ad").exists()

    # when: refusals of two kinds (not ready: state; not a publisher: authority)
    mixed = cli(
        "launch",
        BRIEF,
        "--channel",
        "instagram_post",
        "--channel",
        "meta_feed_ad",
        "--out",
        str(out),
        token=tokens["maya"],
    )
    # then: exit 1, each refusal on its line
    assert mixed.exit_code == 1, mixed.output
    assert "instagram_post: refused (invalid_state)" in mixed.stdout
    assert "meta_feed_ad: refused (wrong_role)" in mixed.stdout


# --- 5. show prints a version's origin by its kind ------------------------------------------------


def test_show_prints_an_agent_draft_and_a_person_edit_by_their_kind(cli, tokens):
    package = ref(LAV, "meta_feed_ad")
    drafted = cli("show", package).stdout
    assert "by agent:copy_drafter: drafted with builtin" in drafted
    assert ", template builtin/meta_feed_ad/variant-A@" in drafted

    edited = cli(
        "edit",
        package,
        "--set",
        "headline=Lavender Fields Candle, 8 oz",
        "--note",
        "size in the headline",
        token=tokens["ari"],
    )
    assert edited.exit_code == 0, edited.output
    text = cli("show", package).stdout

    assert (
        "by ari@lumen.example: an edit of version 1 ('size in the headline'; changed headline)"
    ) in text
    assert "None" not in text


def test_show_prints_the_packages_a_finding_relates_to_and_what_each_says(cli, tokens):
    from signoff.agents.context import CheckFinding, RelatedPackage, Severity
    from signoff.packages.models import Finding, Package

    # given: a consistency finding on a package, relating two others that disagree with it
    package = Package.objects.get(brief__slug=BRIEF, sku=LAV, channel="meta_feed_ad")
    found = CheckFinding(
        agent="consistency_auditor",
        rule_id="consistency.burn_time",
        severity=Severity.WARN,
        message="This package says 50 hours; the walmart_us package says 45 hours.",
        field="primary_text",
        related=(
            RelatedPackage(LAV, "walmart_us", "en-US", "A", "45 hours"),
            RelatedPackage(LAV, "target_plus", "en-US", "B", "40 hours"),
        ),
    )
    Finding.from_check(package.current_version, found).save()

    # when
    text = cli("show", ref(LAV, "meta_feed_ad")).stdout

    # then: each related package is named by its cell, with what it says, under the finding
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if "consistency.burn_time" in line)
    assert [line.strip() for line in lines[at + 1 : at + 3]] == [
        f"{LAV} x walmart_us (en-US, variant A) says 45 hours",
        f"{LAV} x target_plus (en-US, variant B) says 40 hours",
    ]


# --- 6, 9. unknown option values are bad input (exit 2), naming the known ones --------------------


def test_check_with_an_unknown_channel_or_workspace_exits_2(cli, cli_workspace, tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text("title: Lavender Fields Candle\n")

    result = cli("check", "--channel", "amazon_uk", "--workspace", "lumen-home", str(copy))

    assert result.exit_code == 2, result.output
    assert "<command line>: --channel: unknown channel 'amazon_uk'; expected one of " in (
        result.stderr
    )
    assert "amazon_us_pdp" in result.stderr
    result = cli("check", "--channel", "amazon_us_pdp", "--workspace", "lumen", str(copy))
    assert result.exit_code == 2, result.output
    assert "--workspace: unknown workspace 'lumen'; expected one of lumen-home" in result.stderr


def test_board_and_who_approved_refuse_filters_that_name_nothing(cli, tokens):
    board = cli("board", BRIEF, "--channel", "bogus")
    assert board.exit_code == 2, board.output
    assert "--channel: unknown channel 'bogus' in spring-candles-2027; expected one of " in (
        board.stderr
    )
    assert "instagram_post" in board.stderr
    sku = cli("board", BRIEF, "--sku", "LUM-NOPE")
    assert sku.exit_code == 2
    assert LAV in sku.stderr
    assert cli("board", BRIEF, "--channel", "instagram_post").exit_code == 0

    gate = cli("audit", "who-approved", "--sku", LAV, "--channel", "amazon_us_pdp", "--gate", "G9")
    assert gate.exit_code == 2, gate.output
    assert "--gate: unknown gate 'G9'; expected one of G1, G2, G3, G4" in gate.stderr
    channel = cli("audit", "who-approved", "--sku", LAV, "--channel", "amazon")
    assert channel.exit_code == 2
    assert "unknown channel 'amazon'" in channel.stderr


# --- 8. every read command takes --json -----------------------------------------------------------

READ_COMMANDS = [
    "board",
    "blocking",
    "show",
    "check",
    "sla",
    "brief enrich",
    "audit verify",
    "audit head",
    "audit who-approved",
    "audit log",
    "compare",
    "memory search",
    "memory suggestions",
]


@pytest.mark.parametrize("name", READ_COMMANDS)
def test_every_read_command_accepts_json(name):
    command = main
    for part in name.split():
        command = command.commands[part]
    assert "--json" in [opt for param in command.params for opt in getattr(param, "opts", [])]


def test_audit_head_json_is_one_document(cli, cli_workspace):
    head = cli("audit", "head").stdout.strip()
    data = json.loads(cli("audit", "head", "--json").stdout)
    assert data["head"] == head
    assert f"{data['seq']}:{data['hash']}" == head


# --- 10. a second G1 approval is worded for a brief -----------------------------------------------


def test_a_second_brief_approval_says_the_version_passed_g1_already(cli, tokens):
    result = cli("brief", "approve", BRIEF, "--yes", token=tokens["maya"])

    assert result.exit_code == 3, result.output
    assert (
        f"refused (invalid_state): brief {BRIEF} version 1 has passed G1 already "
        "(approved by maya@lumen.example on "
    ) in result.stderr
    assert "package" not in result.stderr


def test_a_refused_move_at_a_brief_stage_names_the_brief():
    from signoff.workflow import (
        Action,
        Actor,
        ActorKind,
        Facts,
        Position,
        StateError,
        decide,
        load_template,
    )

    lead = Actor(id="maya@lumen.example", kind=ActorKind.PERSON, roles={"content_lead"})
    with pytest.raises(StateError, match=r"^cannot approve a brief at S1/approved in the eco"):
        decide(
            Position.parse("S1/approved"), Action.APPROVE, lead, Facts(), load_template("ecommerce")
        )
    with pytest.raises(StateError, match=r"^cannot approve a package at S2/draft "):
        decide(
            Position.parse("S2/draft"), Action.APPROVE, lead, Facts(), load_template("ecommerce")
        )

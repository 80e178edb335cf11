"""Governance from the terminal: tokens, decisions, edits, launch, SLA and the audit log.

Exit codes: 2 bad input, 3 state error (409), 4 authority error (403), 1 a batch with refusals.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from cli_helpers import BRIEF, approve_channel, ref
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

LAV, NER, PEO = "LUM-SPR-LAV-08", "LUM-SPR-NER-08", "LUM-SPR-PEO-14"


def version_hash(sku: str, channel: str) -> str:
    from signoff.packages.models import Package

    return Package.objects.get(sku=sku, channel=channel).current_version.content_hash


def position(sku: str, channel: str) -> str:
    from signoff.packages.models import Package

    return Package.objects.get(sku=sku, channel=channel).position


# --- tokens and authority ----------------------------------------------------------------------


def test_acting_without_a_valid_token_exits_4_and_says_how_to_give_one(cli, tokens):
    from signoff.packages.models import Approval

    # when: no token at all
    result = cli("approve", ref(LAV, "amazon_us_pdp"))
    # then
    assert result.exit_code == 4
    assert "no token given: set SIGNOFF_TOKEN or pass --token" in result.stderr

    # when: a token that was never issued
    result = cli("approve", ref(LAV, "amazon_us_pdp"), "--token", "so_not-a-real-token")
    # then
    assert result.exit_code == 4
    assert "unknown token" in result.stderr
    assert not Approval.objects.exists()
    assert position(LAV, "amazon_us_pdp") == "S3/in_review"

    # when: the token comes from SIGNOFF_TOKEN
    result = cli("approve", ref(LAV, "amazon_us_pdp"), token=tokens["maya"])
    # then
    assert result.exit_code == 0, result.output
    assert position(LAV, "amazon_us_pdp") == "S5/in_review"


def test_approving_with_the_wrong_role_is_refused_naming_the_role_needed(cli, tokens):
    # when: compliance tries G2
    result = cli("approve", ref(LAV, "amazon_us_pdp"), "--token", tokens["omar"])

    # then: refused; the message says which role the gate needs; nothing moved
    assert result.exit_code != 0
    assert "refused (wrong_role)" in result.stdout
    assert "needs content_lead" in result.stdout
    assert position(LAV, "amazon_us_pdp") == "S3/in_review"

    # when: the editor of a version approves it (maker-checker)
    edited = cli(
        "edit",
        ref(NER, "amazon_us_pdp"),
        "--set",
        "title=Lumen Home Neroli Morning Candle, 8 oz",
        token=tokens["maya"],
    )
    assert edited.exit_code == 0, edited.output
    result = cli("approve", ref(NER, "amazon_us_pdp"), token=tokens["maya"])

    # then
    assert result.exit_code != 0
    assert "refused (maker_checker)" in result.stdout
    assert position(NER, "amazon_us_pdp") == "S3/in_review"


def test_a_single_approval_refused_for_authority_exits_4(cli, tokens):
    result = cli("approve", ref(LAV, "amazon_us_pdp"), "--token", tokens["omar"])
    assert result.exit_code == 4


def test_single_commands_exit_4_for_authority_and_3_for_state(cli, tokens):
    # when: a content lead changes the claims registry (compliance's)
    claim = cli(
        "claim", "set-status", "hand-poured", "withdrawn", "--note", "audit", token=tokens["maya"]
    )
    # then: 403 -> exit 4, naming the role
    assert claim.exit_code == 4
    assert "refused (wrong_role)" in claim.stderr
    assert "compliance" in claim.stderr

    # when: the CMO (no role in this workflow) edits a package
    edit = cli("edit", ref(LAV, "amazon_us_pdp"), "--set", "title=x", token=tokens["sofia"])
    # then
    assert edit.exit_code == 4
    assert "refused (wrong_role)" in edit.stderr

    # when: a package with no draft yet (missing product data) is edited
    blocked = cli(
        "edit", ref("LUM-SPR-RHB-08", "amazon_us_pdp"), "--set", "title=x", token=tokens["ari"]
    )
    # then: 409 -> exit 3
    assert blocked.exit_code == 3
    assert "refused (invalid_state)" in blocked.stderr

    # when: compliance withdraws the claim
    withdrawn = cli(
        "claim", "set-status", "hand-poured", "withdrawn", "--note", "audit", token=tokens["omar"]
    )
    # then: the blocked packages are listed
    assert withdrawn.exit_code == 0, withdrawn.output
    assert withdrawn.stdout.startswith("hand-poured: approved -> withdrawn; blocked ")
    assert withdrawn.stdout.count("  blocked ") >= 1
    assert position(LAV, "amazon_us_pdp") == "S3/blocked"


def test_a_rejection_without_a_note_is_bad_input(cli, tokens):
    missing = cli("reject", ref(LAV, "amazon_us_pdp"), token=tokens["maya"])
    assert missing.exit_code == 2  # click: --note is required
    empty = cli("reject", ref(LAV, "amazon_us_pdp"), "--note", "  ", token=tokens["maya"])
    assert empty.exit_code == 2  # one package: exits as a single refusal (422 -> 2)
    assert "refused (note_required)" in empty.stdout
    done = cli("reject", ref(LAV, "amazon_us_pdp"), "--note", "too generic", token=tokens["maya"])
    assert done.exit_code == 0, done.output
    assert position(LAV, "amazon_us_pdp") == "S2/rejected"


# --- batch approval and edits ------------------------------------------------------------------


def test_batch_approve_lists_each_item_with_its_outcome(cli, tokens):
    from signoff.packages.models import Package

    # given: maya reviewed two of three packages
    reviewed = cli(
        "review", ref(LAV, "amazon_us_pdp"), ref(NER, "amazon_us_pdp"), token=tokens["maya"]
    )
    assert reviewed.exit_code == 0, reviewed.output
    assert reviewed.stdout.count(": reviewed: ") == 2
    ids = {sku: Package.objects.get(sku=sku, channel="amazon_us_pdp").pk for sku in (LAV, NER, PEO)}

    # when: she approves the three together
    result = cli(
        "approve",
        ref(LAV, "amazon_us_pdp"),
        ref(NER, "amazon_us_pdp"),
        ref(PEO, "amazon_us_pdp"),
        token=tokens["maya"],
    )

    # then: one line per item, the unreviewed one refused, exit 1 for the refusal
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{ids[LAV]}: approved: G2 approved; now S5/in_review")
    assert lines[1].startswith(f"{ids[NER]}: approved: ")
    assert lines[2].startswith(f"{ids[PEO]}: refused (not_reviewed): ")
    assert position(PEO, "amazon_us_pdp") == "S3/in_review"

    # when: the same as JSON
    result = cli(
        "approve",
        ref(PEO, "amazon_us_pdp"),
        ref(LAV, "amazon_us_pdp"),
        "--json",
        token=tokens["maya"],
    )
    rows = json.loads(result.stdout)
    assert [(r["package_id"], r["ok"], r["code"], r["http_status"]) for r in rows] == [
        (ids[PEO], False, "not_reviewed", 409),
        (ids[LAV], False, "wrong_role", 403),
    ]


def test_edit_prints_the_diff_and_refuses_bad_fields(cli, tokens):
    from signoff.packages.models import Package

    # given: an approved package
    assert cli("approve", ref(LAV, "meta_feed_ad"), token=tokens["maya"]).exit_code == 0
    package_id = Package.objects.get(sku=LAV, channel="meta_feed_ad").pk

    # when: the operator edits the headline
    result = cli(
        "edit",
        ref(LAV, "meta_feed_ad"),
        "--set",
        "headline=Lavender Fields Candle, 8 oz",
        "--note",
        "size in the headline",
        token=tokens["ari"],
    )

    # then: the new version, the voided approval, and what changed
    assert result.exit_code == 0, result.output
    first, *diff = result.stdout.strip().splitlines()
    assert first == (f"{package_id}: version 2 saved; now S3/in_review; voided approvals: G2")
    assert diff == ["  headline: 'Candle' became 'Candle, 8 oz'"]
    assert position(LAV, "meta_feed_ad") == "S3/in_review"

    # when / then: an unknown field and a no-op edit are bad input (exit 2), nothing stored
    unknown = cli("edit", ref(LAV, "meta_feed_ad"), "--set", "subtitle=x", token=tokens["ari"])
    assert unknown.exit_code == 2
    assert "nothing was stored" in unknown.stderr
    assert "subtitle" in unknown.stderr
    same = cli(
        "edit",
        ref(LAV, "meta_feed_ad"),
        "--set",
        "headline=Lavender Fields Candle, 8 oz",
        token=tokens["ari"],
    )
    assert same.exit_code == 2
    assert "nothing changed" in same.stderr
    malformed = cli("edit", ref(LAV, "meta_feed_ad"), "--set", "headline", token=tokens["ari"])
    assert malformed.exit_code == 2
    assert Package.objects.get(pk=package_id).current_version.number == 2


# --- the audit log -----------------------------------------------------------------------------


def test_audit_head_verify_and_who_approved(cli, tokens):
    # given: maya approves one package at G2
    assert cli("approve", ref(LAV, "amazon_us_pdp"), token=tokens["maya"]).exit_code == 0
    content = version_hash(LAV, "amazon_us_pdp")

    # when: the head is exported
    head = cli("audit", "head")
    # then: SEQ:HASH
    assert head.exit_code == 0
    exported = head.stdout.strip()
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", exported)

    # when / then: the log verifies, alone and against the exported head
    verified = cli("audit", "verify")
    assert verified.exit_code == 0
    count = int(exported.split(":")[0])
    assert verified.stdout.strip() == f"ok: {count} events verify; head {exported}"
    assert cli("audit", "verify", "--head", exported).exit_code == 0
    wrong = f"{count}:{'0' * 64}"
    failed = cli("audit", "verify", "--head", wrong)
    assert failed.exit_code == 1
    assert failed.stdout.startswith("FAILED at event")
    assert cli("audit", "verify", "--head", "12:nothex").exit_code == 2

    # when: who approved it at G2?
    who = cli("audit", "who-approved", "--sku", LAV, "--channel", "amazon_us_pdp", "--gate", "G2")
    # then: one line with the person, the gate and the content hash
    assert who.exit_code == 0
    (line,) = who.stdout.strip().splitlines()
    assert line.startswith(f"maya@lumen.example approved {LAV} on amazon_us_pdp at G2 on ")
    assert line.endswith(f"for content {content}")
    as_json = json.loads(
        cli("audit", "who-approved", "--sku", LAV, "--channel", "amazon_us_pdp", "--json").stdout
    )
    assert (as_json["person"], as_json["gate"], as_json["content_hash"]) == (
        "maya@lumen.example",
        "G2",
        content,
    )

    # then: nobody approved it at G3 yet
    nobody = cli(
        "audit", "who-approved", "--sku", LAV, "--channel", "amazon_us_pdp", "--gate", "G3"
    )
    assert nobody.exit_code == 1
    assert "Nobody has approved" in nobody.stdout


def test_audit_log_shows_a_package_history(cli, tokens):
    assert cli("review", ref(LAV, "amazon_us_pdp"), token=tokens["maya"]).exit_code == 0
    assert cli("approve", ref(LAV, "amazon_us_pdp"), token=tokens["maya"]).exit_code == 0
    rows = json.loads(cli("audit", "log", "--package", ref(LAV, "amazon_us_pdp"), "--json").stdout)
    assert [r["action"] for r in rows] == [
        "package.gate.approved",
        "package.reviewed",
        "package.drafted",
    ]
    assert rows[0]["actor"] == "maya@lumen.example"
    assert (rows[0]["from"], rows[0]["to"]) == ("S3/in_review", "S5/in_review")


# --- launch and SLA ----------------------------------------------------------------------------


def test_launch_a_channel_writes_its_bundle(cli, tokens, tmp_path):
    from signoff.packages.models import Package

    # given: every package of the channel reviewed and batch-approved at G2, G3 and G4
    assert len(approve_channel(cli, tokens, "meta_feed_ad")) == 6
    out = tmp_path / "exports"

    # when: a channel that is not ready is launched
    refused = cli(
        "launch", BRIEF, "--channel", "instagram_post", "--out", str(out), token=tokens["lena"]
    )
    # then: exit 3, nothing written
    assert refused.exit_code == 3
    assert "instagram_post: refused (invalid_state)" in refused.stdout
    assert not (out / "lumen-home" / BRIEF / "instagram_post").exists()

    # when: the approved channel is launched
    result = cli(
        "launch", BRIEF, "--channel", "meta_feed_ad", "--out", str(out), token=tokens["lena"]
    )

    # then: the bundle is written and the packages are published
    assert result.exit_code == 0, result.output
    bundle = out / "lumen-home" / BRIEF / "meta_feed_ad"
    assert f"meta_feed_ad: launched 6 packages -> {bundle}" in result.stdout
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert len(manifest["packages"]) == 6
    assert {e["content_hash"] for e in manifest["packages"]} == {
        version_hash(e["sku"], "meta_feed_ad") for e in manifest["packages"]
    }
    assert len(list(Path(bundle).glob("*.json"))) == 7
    assert set(Package.objects.filter(channel="meta_feed_ad").values_list("state", flat=True)) == {
        "published"
    }
    assert cli("audit", "verify").exit_code == 0


def test_sla_lists_late_packages_with_who_should_act(cli, tokens):
    from signoff.packages.models import Package

    # given: nothing is late yet
    on_time = cli("sla", BRIEF)
    assert on_time.exit_code == 0
    assert on_time.stdout.strip() == "No package is over its gate's SLA."

    # when: one package has waited 50 hours at G2
    late = Package.objects.get(sku=LAV, channel="amazon_us_pdp")
    Package.objects.filter(pk=late.pk).update(stage_entered_at=timezone.now() - timedelta(hours=50))
    result = cli("sla", BRIEF)

    # then: one line naming the gate, the role and the people who hold it
    assert result.exit_code == 0
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith(
        f"{late.pk} {LAV} x amazon_us_pdp: G2 (content_lead: maya@lumen.example)"
    )
    assert "SLA 48 h" in line
    rows = json.loads(cli("sla", BRIEF, "--json").stdout)
    assert [(r["id"], r["gate"], r["people"]) for r in rows] == [
        (late.pk, "G2", ["maya@lumen.example"])
    ]

"""`signoff comments` (add anchored, list, resolve, mentions) and `signoff claim list`."""

from __future__ import annotations

import json

import pytest
from cli_helpers import ref

from signoff.comments.models import Comment
from signoff.packages.claim_usage import packages_by_claim
from signoff.packages.models import Package


@pytest.fixture
def issued(cli, spring_run) -> dict[str, str]:
    out = {}
    for name in ("maya", "omar"):
        result = cli("token", "issue", f"{name}@lumen.example")
        assert result.exit_code == 0, result.output
        out[name] = result.stdout.strip()
    return out


@pytest.mark.django_db
def test_comments_and_the_claims_registry_from_the_terminal(cli, issued, lumen_workspace):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    title = package.current_version.fields["title"]
    word = title.split()[0]
    target = ref("LUM-SPR-LAV-08", "amazon_us_pdp")

    wrong = cli(
        "comments",
        "add",
        target,
        "hm",
        "--field",
        "title",
        "--quote",
        "zzz-not-there",
        token=issued["maya"],
    )
    assert wrong.exit_code == 2
    assert "zzz-not-there" in wrong.output
    added = cli(
        "comments",
        "add",
        target,
        "@omar cleared?",
        "--field",
        "title",
        "--quote",
        word,
        "--json",
        token=issued["maya"],
    )
    assert added.exit_code == 0, added.output
    row = json.loads(added.stdout)
    assert (row["quote"], row["start"], row["mentions"]) == (word, 0, ["omar@lumen.example"])

    mentions = json.loads(cli("comments", "mentions", "--json", token=issued["omar"]).stdout)
    assert [m["id"] for m in mentions] == [row["id"]]
    listed = cli("comments", "list", target, token=issued["omar"])
    assert f"{row['id']}: maya@lumen.example on title" in listed.output
    assert (
        cli("comments", "resolve", str(row["id"]), "--note", "yes", token=issued["omar"]).exit_code
        == 0
    )
    assert Comment.objects.get().resolved_by == "omar@lumen.example"
    again = cli("comments", "resolve", str(row["id"]), token=issued["omar"])
    assert again.exit_code == 3  # a state error: resolved already
    assert json.loads(cli("comments", "mentions", "--json", token=issued["omar"]).stdout) == []

    # `edit --check`: the editor's live check from the terminal; nothing is saved.
    versions = package.versions.count()
    checked = cli(
        "edit", target, "--set", "title=" + "Lumen " * 60, "--check", token=issued["maya"]
    )
    assert checked.exit_code == 1, checked.output
    assert "spec.max_chars" in checked.output
    assert "nothing saved" in checked.output
    assert package.versions.count() == versions

    claims = json.loads(
        cli("claim", "list", "--use", "in_use", "--json", token=issued["omar"]).stdout
    )
    using = packages_by_claim(lumen_workspace)
    assert {c["claim_id"] for c in claims} == set(using)
    for claim in claims:
        assert {p["id"] for p in claim["packages"]} == {p.pk for p in using[claim["claim_id"]]}

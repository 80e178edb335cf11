"""Memory: decisions are searchable, reach the next draft, and can become rules."""

import json

import pytest
from click.testing import CliRunner
from image_helpers import give_images

from signoff.cli import main
from signoff.memory.search import search_notes
from signoff.memory.services import learn_banned_phrase
from signoff.memory.suggestions import quoted_phrases, suggest_banned_phrases
from signoff.packages.decisions import approve_package, reject_package
from signoff.packages.models import Note, Package
from signoff.packages.services import run_brief
from signoff.workflow import AuthorityError
from signoff.workspaces.rules import brand_rules
from signoff.workspaces.services import load_workspace


def test_quoted_phrases_are_found_and_normalised():
    assert quoted_phrases('Drop "Luxurious  Glow" and the \u201cbest buy\u201d line') == [
        "luxurious glow",
        "best buy",
    ]


def test_a_phrase_becomes_a_suggestion_only_across_enough_packages():
    rejections = [
        (1, 'Please drop "cozy vibes"'),
        (2, 'no "cozy vibes" here'),
        (2, 'again "cozy vibes"'),  # the same package twice counts once
        (3, 'Remove "cozy vibes", and "soft glow"'),
        (4, 'I dislike "soft glow"'),
    ]
    (suggestion,) = suggest_banned_phrases(rejections, known=[])
    assert suggestion.phrase == "cozy vibes"
    assert suggestion.packages == (1, 2, 3)
    assert suggest_banned_phrases(rejections, known=["Cozy Vibes"]) == []


def _in_review(brief, n: int) -> list[Package]:
    return list(Package.objects.filter(brief=brief, state="in_review").order_by("id")[:n])


@pytest.mark.django_db
def test_rejections_are_searchable_and_reach_the_next_draft(spring_run, spring_brief, person):
    # given a rejection at G2
    package = _in_review(spring_brief, 1)[0]
    reject_package(
        package_id=package.pk,
        person=person("maya"),
        note='Lead with the scent, not "long evenings"',
    )
    # when it is searched for (by a word prefix) and the brief runs again
    (found,) = search_notes(workspace_id=spring_brief.workspace_id, query="scent lead")
    assert (found.kind, found.package_id, found.gate) == ("rejection", package.pk, "G2")
    assert found.sku == package.sku
    assert found.rule_ids == sorted(found.rule_ids)
    assert search_notes(workspace_id=spring_brief.workspace_id, query="nothing-like-this") == []
    run_brief(spring_brief)
    # then the new draft records the note it was given
    package.refresh_from_db()
    origin = package.current_version.origin
    assert package.current_version.number == 2
    assert found.pk in origin["memory_ids"]
    assert any("long evenings" in note for note in origin["notes_used"])


@pytest.mark.django_db
def test_search_is_scoped_to_the_workspace_and_filters(spring_run, spring_brief, person):
    package = _in_review(spring_brief, 1)[0]
    reject_package(package_id=package.pk, person=person("maya"), note="too wordy")
    assert search_notes(workspace_id=spring_brief.workspace_id + 999, query="wordy") == []
    assert (
        search_notes(
            workspace_id=spring_brief.workspace_id, query="wordy", channel="no_such_channel"
        )
        == []
    )
    assert (
        len(search_notes(workspace_id=spring_brief.workspace_id, query="WORDY", sku=package.sku))
        == 1
    )


@pytest.mark.django_db
def test_a_version_passing_the_last_gate_is_kept_as_a_winner(spring_run, spring_brief, person):
    package = _in_review(spring_brief, 1)[0]
    give_images([package])
    package.refresh_from_db()
    for name in ("maya", "omar", "lena"):
        approve_package(package_id=package.pk, person=person(name))
    winner = Note.objects.get(package=package, kind="winner")
    assert winner.version_id == package.current_version_id
    assert winner.person == "lena@lumen.example"
    assert winner.text.startswith(next(iter(package.current_version.fields)) + ": ")


@pytest.mark.django_db
def test_only_rule_keepers_ban_phrases_and_the_rule_survives_a_reload(
    lumen_workspace, person, example_dir
):
    with pytest.raises(AuthorityError) as refused:
        learn_banned_phrase(person=person("ari"), phrase="cozy vibes")
    assert refused.value.code == "wrong_role"
    learn_banned_phrase(person=person("maya"), phrase="cozy vibes", suggest="calm evenings")
    load_workspace(example_dir / "workspace.yaml")  # reloading the file keeps learned rules
    lumen_workspace.refresh_from_db()
    banned = {b.phrase: b.suggest for b in brand_rules(lumen_workspace).banned}
    assert banned["cozy vibes"] == "calm evenings"
    assert "cheap" in banned
    from signoff.core.errors import InputError

    with pytest.raises(InputError):
        learn_banned_phrase(person=person("maya"), phrase="Cozy  Vibes")


@pytest.mark.django_db(transaction=True)
def test_memory_cli_search_suggest_and_ban(spring_run, spring_brief, person, tmp_path):
    from signoff.workspaces.tokens import issue_token

    for package in _in_review(spring_brief, 3):
        reject_package(package_id=package.pk, person=person("maya"), note='drop "slow evenings"')
    runner = CliRunner()
    found = json.loads(runner.invoke(main, ["memory", "search", "drop slow", "--json"]).stdout)
    assert len(found) == 3
    assert {(r["source"], r["kind"]) for r in found} == {("note", "rejection")}
    suggested = runner.invoke(main, ["memory", "suggestions"]).stdout
    assert "'slow evenings': rejected on 3 packages" in suggested
    token = issue_token(email="maya@lumen.example")
    result = runner.invoke(main, ["memory", "ban", "slow evenings", "--token", token])
    assert result.exit_code == 0, result.output
    copy = tmp_path / "copy.yaml"
    copy.write_text("headline: Made for slow evenings\n")
    checked = runner.invoke(
        main,
        ["check", "--channel", "meta_feed_ad", "--workspace", "lumen-home", str(copy), "--json"],
    )
    assert checked.exit_code == 1
    assert "voice.banned_phrase" in {f["rule_id"] for f in json.loads(checked.stdout)}


# ---------------------------------------------------------------- notes, versions and events


def _search(brief, text, **filters):
    from signoff.memory.search import search_memory

    return search_memory(workspace_id=brief.workspace_id, query=text, **filters)


@pytest.mark.django_db
def test_version_copy_is_searchable_current_and_earlier(spring_run, spring_brief, person):
    from signoff.packages.authoring import edit_package

    package = _in_review(spring_brief, 1)[0]
    field = next(iter(package.current_version.fields))
    edit_package(
        package_id=package.pk,
        person=person("maya"),
        changes={field: "Quietly marmalade-scented evenings"},
    )

    (hit,) = _search(spring_brief, "marmalade")

    assert (hit.source, hit.kind, hit.package_id, hit.version) == (
        "version",
        "current",
        package.pk,
        2,
    )
    assert (hit.sku, hit.channel, hit.brief) == (package.sku, package.channel, spring_brief.slug)
    assert hit.person == "maya@lumen.example"
    assert f"{field}: Quietly marmalade-scented evenings" in hit.text
    # The drafted first version is still found by its own words, as an earlier version.
    first_words = " ".join(str(package.versions.get(number=1).fields[field]).split()[:3])
    kinds = {(h.version, h.kind) for h in _search(spring_brief, first_words, sku=package.sku)}
    assert (1, "earlier") in kinds


@pytest.mark.django_db
def test_decision_events_with_notes_are_searchable(spring_brief, person):
    from signoff.briefs.approval import approve_brief
    from signoff.packages.claims import set_claim_status

    approve_brief(brief=spring_brief, person=person("maya"), note="Zebrawood tone approved")
    set_claim_status(
        workspace=spring_brief.workspace,
        claim_id="hand-poured",
        status="withdrawn",
        note="zebrawood audit pending",
        person=person("omar"),
    )

    hits = _search(spring_brief, "zebrawood")

    assert {(h.source, h.kind, h.person) for h in hits} == {
        ("event", "brief.gate.approved", "maya@lumen.example"),
        ("event", "claim.status_changed", "omar@lumen.example"),
    }
    assert {h.text for h in hits} == {"Zebrawood tone approved", "zebrawood audit pending"}
    # Events about a whole brief or claim have no SKU: a SKU filter leaves them out.
    assert _search(spring_brief, "zebrawood", sku="LUM-SPR-LAV-08") == []
    assert [h.source for h in _search(spring_brief, "zebrawood", sources=("note",))] == []


@pytest.mark.django_db
def test_a_package_decision_is_found_once_as_its_note(spring_run, spring_brief, person):
    package = _in_review(spring_brief, 1)[0]
    reject_package(package_id=package.pk, person=person("maya"), note="too quokka-like")

    (hit,) = _search(spring_brief, "quokka")

    assert (hit.source, hit.kind, hit.gate, hit.package_id) == (
        "note",
        "rejection",
        "G2",
        package.pk,
    )


@pytest.mark.django_db
def test_memory_cli_search_finds_versions_copy_and_decision_events(spring_brief, person):
    from signoff.briefs.approval import approve_brief

    # given: a G1 approval with a note (an event, not a note) and a run's drafted copy
    approve_brief(brief=spring_brief, person=person("maya"), note="pangolin launch")
    spring_brief.refresh_from_db()
    run_brief(spring_brief)
    runner = CliRunner()

    # when: the G1 note is searched for, as JSON and as text
    found = json.loads(runner.invoke(main, ["memory", "search", "pangolin", "--json"]).stdout)
    text = runner.invoke(main, ["memory", "search", "pangolin"]).stdout

    # then: the decision event is found, with who made it
    (hit,) = found
    assert (hit["source"], hit["kind"]) == ("event", "brief.gate.approved")
    assert (hit["person"], hit["text"]) == ("maya@lumen.example", "pangolin launch")
    assert "event brief.gate.approved" in text
    assert "pangolin launch" in text

    # when: drafted copy is searched for, narrowed to one SKU and channel
    args = [
        "memory",
        "search",
        "Vermont",
        "--sku",
        "LUM-SPR-LAV-08",
        "--channel",
        "google_merchant",
    ]
    (copy,) = json.loads(runner.invoke(main, [*args, "--json"]).stdout)

    # then: the package's current version is found
    package = Package.objects.get(
        brief=spring_brief, sku="LUM-SPR-LAV-08", channel="google_merchant"
    )
    assert (copy["source"], copy["kind"]) == ("version", "current")
    assert (copy["package"], copy["version"]) == (package.pk, 1)
    assert "Vermont" in copy["text"]
    assert f"(package {package.pk} v1, " in runner.invoke(main, args).stdout


@pytest.mark.django_db
def test_memory_search_is_scoped_to_the_workspace(spring_brief, person, other_workspace):
    from signoff.briefs.approval import approve_brief

    approve_brief(brief=spring_brief, person=person("maya"), note="pangolin launch")

    assert len(_search(spring_brief, "pangolin")) == 1
    from signoff.memory.search import search_memory

    assert search_memory(workspace_id=other_workspace.pk, query="pangolin") == []


@pytest.mark.django_db
def test_query_text_is_never_search_syntax(spring_run, spring_brief):
    for text in ('"', "NEAR(a b)", "title: OR AND *", "x' OR 1=1 --"):
        assert isinstance(_search(spring_brief, text), list)
    assert _search(spring_brief, "   ") == []
    with pytest.raises(ValueError, match="unknown sources"):
        _search(spring_brief, "x", sources=("files",))

"""The enricher proposes; a person accepts or edits; the drafter uses what was accepted."""

import json

import pytest
from click.testing import CliRunner

from signoff.briefs.approval import approve_brief
from signoff.briefs.enrichment import accept_proposals, proposals_for
from signoff.cli import main
from signoff.core.errors import InputError
from signoff.packages.models import Package
from signoff.packages.services import run_brief
from signoff.workflow import AuthorityError, StateError

pytestmark = pytest.mark.django_db


def _by_kind(proposals, kind):
    return [p for p in proposals if p.kind == kind]


def test_proposals_cover_channels_missing_data_and_are_stable(spring_brief):
    proposals = proposals_for(spring_brief)
    messages = _by_kind(proposals, "key_message")
    assert {p.target for p in messages} == {
        f"channel_messages.{c}" for c in spring_brief.latest_version().data["channels"]
    }
    requests = {p.value for p in _by_kind(proposals, "request_data")}
    assert requests == {"LUM-SPR-RHB-08: GTIN", "LUM-SPR-RHB-08: burn time hours"}
    assert [p.id for p in proposals_for(spring_brief)] == [p.id for p in proposals]


def test_accepting_makes_a_new_version_the_drafter_uses(spring_brief, person):
    proposals = proposals_for(spring_brief)
    meta = next(p for p in proposals if p.target == "channel_messages.meta_feed_ad")
    gtin = next(p for p in proposals if p.value == "LUM-SPR-RHB-08: GTIN")
    version = accept_proposals(
        brief=spring_brief,
        person=person("ari"),
        ids=[gtin.id],
        edits={meta.id: "Spring evenings, slowly."},
    )
    assert version.number == 2
    assert version.data["channel_messages"] == {"meta_feed_ad": ["Spring evenings, slowly."]}
    assert version.data["data_requests"] == ["LUM-SPR-RHB-08: GTIN"]
    assert version.products.count() == 6
    # accepted proposals are not proposed again
    assert gtin.id not in {p.id for p in proposals_for(spring_brief)}
    approve_brief(brief=spring_brief, person=person("maya"))
    spring_brief.refresh_from_db()
    assert spring_brief.approved_version == version
    run_brief(spring_brief)
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="meta_feed_ad")
    assert package.current_version.brief_version == version


def test_accepting_needs_a_contributor_known_ids_and_a_brief_before_g1(spring_brief, person):
    first = proposals_for(spring_brief)[0]
    with pytest.raises(AuthorityError):
        accept_proposals(brief=spring_brief, person=person("sofia"), ids=[first.id])
    with pytest.raises(InputError):
        accept_proposals(brief=spring_brief, person=person("ari"), ids=["nope"])
    approve_brief(brief=spring_brief, person=person("maya"))
    spring_brief.refresh_from_db()
    with pytest.raises(StateError):
        accept_proposals(brief=spring_brief, person=person("ari"), ids=[first.id])
    assert spring_brief.versions.count() == 1


@pytest.mark.django_db(transaction=True)
def test_enrich_and_accept_from_the_cli(spring_brief):
    from signoff.workspaces.tokens import issue_token

    runner = CliRunner()
    proposals = json.loads(
        runner.invoke(main, ["brief", "enrich", spring_brief.slug, "--json"]).stdout
    )
    token = issue_token(email="ari@lumen.example")
    result = runner.invoke(
        main, ["brief", "accept", spring_brief.slug, proposals[0]["id"], "--token", token]
    )
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output


def test_a_model_configured_for_the_enricher_is_refused_not_ignored(spring_brief, settings):
    from django.core.exceptions import ImproperlyConfigured

    builtin = {"BACKEND": "signoff.agents.providers.builtin.BuiltinProvider"}
    openai = {
        "BACKEND": "signoff.agents.providers.openai_provider.OpenAIProvider",
        "OPTIONS": {"model": "gpt-x"},
    }
    # Every agent's default pointing at a model is not a choice for the enricher: it proposes.
    settings.SIGNOFF_PROVIDERS = {"default": openai, "brief_enricher": builtin}
    assert proposals_for(spring_brief)
    settings.SIGNOFF_PROVIDERS = {"default": builtin, "brief_enricher": openai}
    with pytest.raises(ImproperlyConfigured, match="brief_enricher is builtin-only"):
        proposals_for(spring_brief)

    settings.SIGNOFF_PROVIDERS = {"default": builtin}
    workspace = spring_brief.workspace
    workspace.providers = {"brief_enricher": "anthropic:claude-x"}
    workspace.save(update_fields=["providers"])
    with pytest.raises(InputError) as refused:
        proposals_for(spring_brief)
    (problem,) = refused.value.problems
    assert problem.field == "providers.brief_enricher"
    assert "builtin-only" in problem.message
    workspace.providers = {"brief_enricher": "builtin"}
    workspace.save(update_fields=["providers"])
    assert proposals_for(spring_brief)

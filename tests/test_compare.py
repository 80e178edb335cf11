"""`signoff compare`: the same package drafted by several providers, checked alike."""

import json

import pytest
from click.testing import CliRunner
from fakes.llm_servers import fake_server, openai_reply

from signoff.cli import main
from signoff.packages.models import Package, Version

pytestmark = pytest.mark.django_db(transaction=True)

MODEL_FIELDS = {
    "primary_text": "Lavender and cedar, hand-poured in Vermont. Visit shop.example.com!",
    "headline": "Lavender Fields Candle",
    "link_description": "8 oz soy wax candle",
}


def test_compare_drafts_with_each_provider_and_stores_nothing(spring_run, monkeypatch):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="meta_feed_ad")
    versions_before = Version.objects.count()
    with fake_server(openai_reply(MODEL_FIELDS, prompt_tokens=120, completion_tokens=40)) as llm:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{llm.origin}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        result = CliRunner().invoke(
            main,
            [
                "compare",
                "--package",
                str(package.pk),
                "--providers",
                "builtin,openai:fake-gpt",
                "--json",
            ],
        )
    assert result.exit_code == 0, result.output
    builtin, remote = json.loads(result.stdout)
    assert (builtin["provider"], builtin["ok"]) == ("builtin", True)
    assert builtin["fields"] == package.current_version.fields  # deterministic composer
    assert (remote["provider"], remote["ok"], remote["model"]) == (
        "openai:fake-gpt",
        True,
        "fake-gpt",
    )
    assert (remote["input_tokens"], remote["output_tokens"]) == (120, 40)
    assert remote["fields"]["headline"] == "Lavender Fields Candle"
    # the same checks run on every candidate: the URL and the exclamation mark are caught
    remote_rules = {f["rule_id"] for f in remote["findings"]}
    assert "spec.url" in remote_rules
    assert Version.objects.count() == versions_before


def test_compare_takes_the_package_within_a_brief(spring_run):
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="meta_feed_ad")
    slug = package.brief.slug
    within = CliRunner().invoke(
        main,
        ["compare", "--brief", slug, "--package", "LUM-SPR-LAV-08/meta_feed_ad"]
        + ["--providers", "builtin", "--json"],
    )
    assert within.exit_code == 0, within.output
    (builtin,) = json.loads(within.stdout)
    assert builtin["fields"] == package.current_version.fields

    from signoff.briefs.models import Brief

    Brief.objects.create(
        workspace=package.brief.workspace,
        slug="autumn",
        name="Autumn",
        content_type="ecommerce",
        template="ecommerce",
    )
    refused = CliRunner().invoke(
        main,
        ["compare", "--brief", "autumn", "--package", str(package.pk), "--providers", "builtin"],
    )
    assert refused.exit_code == 2
    assert f"package {package.pk} belongs to brief {slug}, not autumn" in refused.output

"""A workspace chooses each agent's provider; the settings' choice is the fallback."""

import pytest
from fakes.llm_servers import fake_server, openai_reply

from signoff.core.errors import InputError
from signoff.packages.models import Package
from signoff.packages.services import run_brief
from signoff.workspaces.services import load_workspace

pytestmark = pytest.mark.django_db


def _with_providers(example_dir, block: str):
    path = example_dir / "workspace.yaml"
    path.write_text(path.read_text() + block)
    return path


def test_a_bad_provider_choice_is_a_located_error(db, example_dir):
    path = _with_providers(example_dir, "providers: {copy_drafter: 'watson:x'}\n")
    with pytest.raises(InputError) as exc:
        load_workspace(path)
    (problem,) = exc.value.problems
    assert problem.field == "providers"
    assert "unknown provider 'watson'" in problem.message


def test_the_workspace_provider_drafts_its_briefs(approved_spring_brief, example_dir, monkeypatch):
    from signoff.audit.models import Event

    _with_providers(example_dir, "providers: {copy_drafter: 'openai:fake-gpt'}\n")
    load_workspace(example_dir / "workspace.yaml")
    approved_spring_brief.refresh_from_db()
    # the fake model never answers with valid JSON: every draft fails, naming who was asked
    with fake_server(*[openai_reply("not json")] * 200) as llm:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{llm.origin}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        summary = run_brief(approved_spring_brief, concurrency=2)
        asked = {r.json["model"] for r in llm.requests}
    assert (summary.drafted, summary.failed) == (0, 32)
    assert asked == {"fake-gpt"}
    failures = Event.objects.filter(action="package.draft_failed")
    assert {(e.data["provider"], e.data["model"]) for e in failures} == {("openai", "fake-gpt")}
    assert not Package.objects.filter(current_version__isnull=False).exists()

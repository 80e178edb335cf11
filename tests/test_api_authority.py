"""Who may add a brief or queue a run: one rule (``briefs.authority``) for the API and the web."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from api_helpers import api_error

from signoff.briefs import authority
from signoff.briefs.models import Brief, BriefVersion
from signoff.packages.models import Run
from signoff.workflow import Role
from signoff.workspaces.models import Person

BRIEF = "spring-candles-2027"


def _brief_body(example_dir: Path, slug: str = "spring-api") -> dict:
    document = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    document["brief"] = slug
    document["references"] = [r for r in document["references"] if "path" not in r]
    document["deadline"] = str(document["deadline"])
    del document["workspace"]
    return document


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def root(lumen_workspace) -> Person:
    """A workspace admin with no other role: manages settings, does not work on briefs."""
    return Person.objects.create(
        workspace=lumen_workspace, email="root@lumen.example", name="Root", roles=["admin"]
    )


def test_intake_roles_are_every_templates_contributors() -> None:
    assert authority.INTAKE_ROLES == {
        Role.OPERATOR,
        Role.CONTENT_LEAD,
        Role.COMPLIANCE,
        Role.BRAND_MANAGER,
        Role.CMO,
        Role.CEO,
    }
    assert Role.ADMIN not in authority.INTAKE_ROLES


@pytest.mark.django_db
def test_an_admin_may_not_add_a_brief_through_the_api(api, root, example_dir: Path) -> None:
    error = api_error(api("root").post("/api/briefs", _brief_body(example_dir)), 403, "wrong_role")

    assert "operator" in error["required_roles"]
    assert "admin" not in error["required_roles"]
    assert not Brief.objects.exists()


@pytest.mark.django_db
def test_an_admin_may_not_add_a_version_of_an_existing_brief(
    api, root, spring_brief, example_dir: Path
) -> None:
    body = _brief_body(example_dir, spring_brief.slug)
    body["name"] = "Renamed by an admin"

    api_error(api("root").post("/api/briefs", body), 403, "wrong_role")
    api_error(api("root").post(f"/api/briefs/{spring_brief.slug}/update", body), 403, "wrong_role")

    assert BriefVersion.objects.filter(brief=spring_brief).count() == 1


@pytest.mark.django_db
def test_an_admin_may_not_queue_a_run(api, root, approved_spring_brief, immediate_tasks) -> None:
    error = api_error(api("root").post(f"/api/briefs/{BRIEF}/runs"), 403, "wrong_role")

    assert set(error["required_roles"]) == {
        "operator",
        "content_lead",
        "compliance",
        "brand_manager",
    }
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_cmo_adds_briefs_but_does_not_run_an_ecommerce_one(
    api, approved_spring_brief, immediate_tasks
) -> None:
    # the CMO owns a campaign gate, not an e-commerce one
    api_error(api("sofia").post(f"/api/briefs/{BRIEF}/runs"), 403, "wrong_role")
    assert not Run.objects.exists()

    queued = api("ari").post(f"/api/briefs/{BRIEF}/runs")
    assert queued.status_code == 202, queued.json()
    assert Run.objects.filter(brief=approved_spring_brief).count() == 1


@pytest.mark.django_db
def test_authority_comes_before_state(api, root, spring_brief) -> None:
    # before G1 a run is a state error, but only for someone who may run the brief at all
    api_error(api("root").post(f"/api/briefs/{BRIEF}/runs"), 403, "wrong_role")
    api_error(api("ari").post(f"/api/briefs/{BRIEF}/runs"), 409, "invalid_state")


@pytest.mark.django_db
def test_the_web_asks_the_same_rule(client, root, approved_spring_brief, immediate_tasks) -> None:
    from signoff.web.accounts import ensure_user
    from signoff.web.intake import queue_run

    outcome = queue_run(approved_spring_brief, root)
    assert not outcome.ok
    assert outcome.message.startswith("root@lumen.example may not run")
    client.force_login(ensure_user(root))
    assert client.get("/briefs/new/").status_code == 403
    assert not Run.objects.exists()

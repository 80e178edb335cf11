"""API tokens expire, are listed and revoked, and leaving the workspace revokes them for good:
through the command, the REST API and the web app."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from api_helpers import api_error
from django.urls import reverse
from django.utils import timezone

from signoff.audit.models import Event
from signoff.audit.services import verify
from signoff.web.accounts import ensure_user
from signoff.workspaces.models import ApiToken, Person
from signoff.workspaces.services import load_workspace
from signoff.workspaces.tokens import issue_token

pytestmark = pytest.mark.django_db


def stored(token: str) -> ApiToken:
    return ApiToken.objects.get(prefix=token[:10])


def act(cli, token: str):
    """Run a command that acts as the token's person (the package need not exist)."""
    return cli("review", "999999", token=token)


def make_admin(email: str) -> Person:
    person = Person.objects.get(email=email)
    person.roles = [*person.roles, "admin"]
    person.save(update_fields=["roles"])
    return person


def without_person(example_dir, email: str):
    """A copy of the workspace file that no longer lists ``email``."""
    text = (example_dir / "workspace.yaml").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if f"email: {email}," not in line]
    path = example_dir / "workspace-without.yaml"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


# --- the command ------------------------------------------------------------------------------


def test_a_token_expires_after_the_default_or_its_own_days(cli, cli_workspace, settings):
    before = timezone.now()
    default = cli("token", "issue", "maya@lumen.example").stdout.strip()
    short = cli("token", "issue", "maya@lumen.example", "--days", "5").stdout.strip()
    settings.SIGNOFF_TOKEN_DAYS = 30
    configured = cli("token", "issue", "maya@lumen.example").stdout.strip()

    def lifetime(token: str) -> timedelta:
        return stored(token).expires_at - before

    assert timedelta(days=90) <= lifetime(default) < timedelta(days=90, minutes=5)
    assert timedelta(days=5) <= lifetime(short) < timedelta(days=5, minutes=5)
    assert timedelta(days=30) <= lifetime(configured) < timedelta(days=30, minutes=5)
    issued = Event.objects.filter(action="token.issued").order_by("seq").last()
    assert issued.data["expires_at"] == stored(configured).expires_at.isoformat()

    refused = cli("token", "issue", "maya@lumen.example", "--days", "0")
    assert refused.exit_code == 2
    assert "days: a token lives between 1 and 366 days, got 0" in refused.output
    assert ApiToken.objects.count() == 3


def test_an_expired_token_is_refused_saying_when_and_what_to_do(cli, cli_workspace):
    token = cli("token", "issue", "maya@lumen.example", "--days", "1").stdout.strip()
    assert act(cli, token).exit_code != 4
    past = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(prefix=token[:10]).update(expires_at=past)

    result = act(cli, token)

    assert result.exit_code == 4
    day = past.strftime("%Y-%m-%d")
    assert f"token {token[:10]}... expired on {day}" in result.output
    assert "issue a new one" in result.output


def test_list_shows_every_token_with_its_dates_and_status(cli, cli_workspace):
    maya = cli("token", "issue", "maya@lumen.example").stdout.strip()
    omar = cli("token", "issue", "omar@lumen.example").stdout.strip()
    act(cli, maya)  # used once
    assert cli("token", "revoke", omar[:10]).exit_code == 0

    rows = json.loads(cli("token", "list", "--json").stdout)

    by_prefix = {row["prefix"]: row for row in rows}
    assert set(by_prefix) == {maya[:10], omar[:10]}
    assert by_prefix[maya[:10]]["status"] == "active"
    assert by_prefix[maya[:10]]["last_used_at"] is not None
    assert by_prefix[omar[:10]]["status"] == "revoked"
    assert by_prefix[omar[:10]]["last_used_at"] is None
    assert by_prefix[omar[:10]]["revoked_by"] == "system:cli"
    assert all(row["expires_at"] and row["created_at"] for row in rows)
    assert maya not in json.dumps(rows)  # only the prefix is ever shown again

    table = cli("token", "list", "--email", "maya@lumen.example").stdout
    assert f"{maya[:10]}..." in table
    assert omar[:10] not in table
    unknown = cli("token", "list", "--workspace", "nobody")
    assert unknown.exit_code == 1
    assert "no workspace 'nobody'" in unknown.output


def test_revoke_by_prefix_or_whole_token_and_the_token_stops(cli, cli_workspace):
    first = cli("token", "issue", "maya@lumen.example").stdout.strip()
    second = cli("token", "issue", "maya@lumen.example").stdout.strip()

    by_prefix = cli("token", "revoke", first[:10] + "...")
    by_token = cli("token", "revoke", second)

    assert by_prefix.exit_code == 0, by_prefix.output
    assert by_token.exit_code == 0, by_token.output
    assert "revoked from the command line" in by_prefix.output
    for token in (first, second):
        refused = act(cli, token)
        assert refused.exit_code == 4
        assert f"token {token[:10]}... was revoked on" in refused.output
    events = Event.objects.filter(action="token.revoked").order_by("seq")
    assert [e.data["prefix"] for e in events] == [first[:10], second[:10]]
    assert {(e.actor, e.actor_kind, e.subject_id) for e in events} == {
        ("system:cli", "system", "maya@lumen.example")
    }
    again = cli("token", "revoke", first[:10])
    assert again.exit_code == 0
    assert Event.objects.filter(action="token.revoked").count() == 2  # nothing new to record
    assert verify().ok


def test_revoke_refuses_what_names_no_single_token(cli, cli_workspace):
    token = cli("token", "issue", "maya@lumen.example").stdout.strip()

    short = cli("token", "revoke", "so_")
    unknown_prefix = cli("token", "revoke", "so_zzzzzzz")
    unknown_token = cli("token", "revoke", "so_" + "x" * 43)

    assert short.exit_code == 2
    assert "at least 7 characters" in short.output
    assert unknown_prefix.exit_code == 1
    assert "no token starts with 'so_zzzzzzz'" in unknown_prefix.output
    assert unknown_token.exit_code == 1
    assert "never issued here" in unknown_token.output
    assert stored(token).revoked_at is None


def test_revoke_refuses_a_prefix_that_starts_several_tokens(cli, cli_workspace):
    issued = [cli("token", "issue", "maya@lumen.example").stdout.strip() for _ in range(2)]
    ApiToken.objects.update(prefix="so_same123")  # as two 42-bit prefixes could, one day

    result = cli("token", "revoke", "so_same")

    assert result.exit_code == 2
    assert "starts several tokens" in result.output
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    assert (
        cli("token", "revoke", issued[1]).exit_code == 0
    )  # the whole token still tells them apart


# --- leaving the workspace --------------------------------------------------------------------


def test_leaving_the_workspace_revokes_and_coming_back_does_not_restore(cli, cli_workspace):
    token = cli("token", "issue", "ari@lumen.example").stdout.strip()
    maya = cli("token", "issue", "maya@lumen.example").stdout.strip()

    assert cli("load", str(without_person(cli_workspace, "ari@lumen.example"))).exit_code == 0
    revoked = Event.objects.get(action="token.revoked")
    assert (revoked.actor, revoked.subject_id, revoked.note) == (
        "system:cli",
        "ari@lumen.example",
        "removed from the workspace",
    )
    assert cli("load", str(cli_workspace / "workspace.yaml")).exit_code == 0  # ari is back

    refused = act(cli, token)
    assert refused.exit_code == 4
    assert "was revoked on" in refused.output
    assert "(removed from the workspace)" in refused.output
    assert stored(maya).revoked_at is None
    fresh = cli("token", "issue", "ari@lumen.example").stdout.strip()
    assert act(cli, fresh).exit_code != 4
    assert Event.objects.filter(action="token.revoked").count() == 1


def test_a_person_made_inactive_before_is_swept_on_the_next_load(lumen_workspace, example_dir):
    token = issue_token(email="ari@lumen.example")
    Person.objects.filter(email="ari@lumen.example").update(active=False)  # an older load

    load_workspace(example_dir / "workspace.yaml")

    assert stored(token).revoked_reason == "removed from the workspace"
    assert Person.objects.get(email="ari@lumen.example").active


# --- the REST API -----------------------------------------------------------------------------


def test_the_api_lists_your_tokens_and_an_admin_sees_the_workspaces(
    api, lumen_workspace, other_workspace
):
    api("maya").get("/api/me")
    api("omar").get("/api/me")
    api("maya", "other-brand").get("/api/me")

    mine = api("maya").get("/api/tokens").json()
    assert [t["person"] for t in mine] == ["maya@lumen.example"]
    assert mine[0]["status"] == "active"
    assert mine[0]["last_used_at"] is not None
    assert mine[0]["prefix"].startswith("so_")

    make_admin("daniel@lumen.example")
    everyone = api("daniel").get("/api/tokens").json()
    assert {t["person"] for t in everyone} == {
        "maya@lumen.example",
        "omar@lumen.example",
        "daniel@lumen.example",
    }


def test_the_api_revokes_your_own_and_an_admin_anyones_in_the_workspace(
    api, lumen_workspace, other_workspace
):
    maya, omar = api("maya"), api("omar")
    omar.get("/api/me")
    omar_token = ApiToken.objects.get(person__email="omar@lumen.example")
    other = ApiToken.objects.get(pk=stored(issue_token(email="omar@other.example")).pk)

    refused = maya.post(f"/api/tokens/{omar_token.pk}/revoke")
    api_error(refused, 403, "wrong_role")
    api_error(maya.post(f"/api/tokens/{other.pk}/revoke"), 404, "not_found")
    assert omar.get("/api/me").status_code == 200

    make_admin("daniel@lumen.example")
    by_admin = api("daniel").post(f"/api/tokens/{omar_token.pk}/revoke")
    assert by_admin.status_code == 200, by_admin.content
    assert by_admin.json()["status"] == "revoked"
    assert by_admin.json()["revoked_by"] == "daniel@lumen.example"
    assert "was revoked on" in api_error(omar.get("/api/me"), 401, "unauthenticated")["message"]
    api_error(api("daniel").post(f"/api/tokens/{other.pk}/revoke"), 404, "not_found")

    maya.get("/api/me")
    own = ApiToken.objects.get(person__email="maya@lumen.example")
    assert maya.post(f"/api/tokens/{own.pk}/revoke").json()["revoked_reason"] == (
        "revoked by its owner"
    )
    api_error(maya.get("/api/me"), 401, "unauthenticated")
    events = Event.objects.filter(action="token.revoked").order_by("seq")
    assert [(e.actor, e.subject_id) for e in events] == [
        ("daniel@lumen.example", "omar@lumen.example"),
        ("maya@lumen.example", "maya@lumen.example"),
    ]
    assert {e.workspace for e in events} == {"lumen-home"}


def test_the_api_refuses_an_expired_token_with_its_date(api, lumen_workspace):
    maya = api("maya")
    assert maya.get("/api/me").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=2))

    error = api_error(maya.get("/api/me"), 401, "unauthenticated")

    assert "expired on" in error["message"]
    assert "issue a new one" in error["message"]


def test_the_openapi_document_declares_the_token_routes_and_429(client):
    paths = client.get("/api/openapi.json").json()["paths"]

    revoke = paths["/api/tokens/{token_id}/revoke"]["post"]
    assert {"200", "401", "403", "404", "429"} <= set(revoke["responses"])
    assert "429" in paths["/api/tokens"]["get"]["responses"]
    assert "429" in paths["/api/me"]["get"]["responses"]  # any operation: too many bad tokens


# --- the web app ------------------------------------------------------------------------------


def test_the_tokens_page_issues_once_lists_and_revokes_your_own(client, lumen_workspace):
    client.force_login(ensure_user(Person.objects.get(email="maya@lumen.example")))

    issued = client.post(reverse("web:tokens"), {"days": "7"})

    assert issued.status_code == 201
    assert issued["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(person__email="maya@lumen.example")
    assert token.expires_at - timezone.now() > timedelta(days=6, hours=23)
    shown = issued.text.split('id="new-token">')[1].split("<")[0]
    assert shown.startswith(token.prefix)
    assert shown not in client.get(reverse("web:tokens")).text  # shown once
    event = Event.objects.get(action="token.issued")
    assert (event.actor, event.actor_kind) == ("maya@lumen.example", "person")

    assert client.post(reverse("web:tokens"), {"days": "400"}).status_code == 400
    revoked = client.post(reverse("web:token-revoke", args=[token.pk]), follow=True)
    assert "is revoked" in revoked.text
    token.refresh_from_db()
    assert token.status() == "revoked"


def test_the_tokens_page_lets_only_an_admin_revoke_a_colleagues(
    client, lumen_workspace, other_workspace
):
    omar = stored(issue_token(email="omar@lumen.example"))
    zoe = stored(issue_token(email="omar@other.example"))
    client.force_login(ensure_user(Person.objects.get(email="maya@lumen.example")))
    assert omar.prefix not in client.get(reverse("web:tokens")).text

    refused = client.post(reverse("web:token-revoke", args=[omar.pk]), follow=True)
    assert "Refused (wrong_role)" in refused.text
    assert client.post(reverse("web:token-revoke", args=[zoe.pk])).status_code == 404

    client.force_login(ensure_user(make_admin("daniel@lumen.example")))
    page = client.get(reverse("web:tokens")).text
    assert omar.prefix in page
    assert zoe.prefix not in page
    client.post(reverse("web:token-revoke", args=[omar.pk]))
    omar.refresh_from_db()
    zoe.refresh_from_db()
    assert (omar.status(), zoe.status()) == ("revoked", "active")
    assert omar.revoked_by == "daniel@lumen.example"

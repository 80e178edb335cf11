"""SLA reminders, escalations and digests: e-mail to a local SMTP server (aiosmtpd), posts to a
loopback webhook, each sent once, recorded and in the audit log. The clock is injected:
nothing sleeps."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import DatabaseError, IntegrityError, transaction
from django.test import override_settings

from signoff.audit.models import Event
from signoff.core.errors import InputError
from signoff.notifications import scheduler
from signoff.notifications.models import Notification
from signoff.notifications.services import notify
from signoff.packages.models import Package

HOOK_ENV = "SIGNOFF_TEST_SLACK_HOOK"
NOTIFICATIONS = f"""
notifications:
  webhook_env: {HOOK_ENV}
  digest_hour: 8
  escalation:
    ecommerce:
      G2: {{contact: sofia@lumen.example, after_hours: 72}}
"""


class Mailbox:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp():
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


class Hook:
    """A Slack-compatible incoming webhook on loopback: records posts, answers ``status``."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.status == 200:
                    hook.posts.append(json.loads(body))
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok" if hook.status == 200 else b"no")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T0/B0/x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook():
    server = Hook()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def mail(smtp):
    box, port = smtp
    box.messages.clear()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        SIGNOFF_NOTIFY_EMAIL=True,
    ):
        yield box


def write_workspace(example_dir: Path, extra: str, *, digest: str = "") -> Path:
    text = (example_dir / "workspace.yaml").read_text(encoding="utf-8")
    if digest:
        text = text.replace(
            f"{{email: {digest}@lumen.example,", f"{{digest: true, email: {digest}@lumen.example,"
        )
    path = example_dir / "workspace-notify.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


@pytest.fixture
def notifying(spring_run, example_dir, hook, monkeypatch):
    """The spring run, with the workspace's notifications on (maya opted into the digest)."""
    from signoff.workspaces.services import load_workspace

    monkeypatch.setenv(HOOK_ENV, hook.url)
    workspace, _ = load_workspace(write_workspace(example_dir, NOTIFICATIONS, digest="maya"))
    waiting = list(Package.objects.filter(state="in_review").order_by("id")[:4])
    assert len(waiting) == 4
    # The rest blocked (a blocked package waits on no gate): four make the point, faster.
    Package.objects.filter(state="in_review").exclude(pk__in=[p.pk for p in waiting]).update(
        state="blocked"
    )
    start = max(p.stage_entered_at for p in waiting)
    return workspace, waiting, start


# --- bad settings are located errors at load ------------------------------------------------


@pytest.mark.django_db
def test_bad_notification_settings_are_located_at_load(lumen_workspace, example_dir, monkeypatch):
    from signoff.workspaces.services import load_workspace

    monkeypatch.delenv(HOOK_ENV, raising=False)
    bad = f"""
notifications:
  webhook_env: {HOOK_ENV}
  escalation:
    ecommerce:
      G2: {{contact: nobody@lumen.example, after_hours: 72}}
      G3: {{contact: sofia@lumen.example, after_hours: 12}}
      G9: {{contact: sofia@lumen.example, after_hours: 99}}
    newsletter:
      G1: {{contact: sofia@lumen.example, after_hours: 99}}
"""
    path = write_workspace(example_dir, bad)
    with pytest.raises(InputError) as caught:
        load_workspace(path)
    lines = (example_dir / "workspace-notify.yaml").read_text().splitlines()
    said = {p.field: p for p in caught.value.problems}
    assert HOOK_ENV in said["notifications.webhook_env"].message
    assert "is not set" in said["notifications.webhook_env"].message
    contact = said["notifications.escalation.ecommerce.G2.contact"]
    assert "'nobody@lumen.example' is not one of this workspace's people" in contact.message
    assert "nobody@lumen.example" in lines[contact.line - 1]
    assert "SLA (48 h)" in said["notifications.escalation.ecommerce.G3.after_hours"].message
    assert "unknown gate" in said["notifications.escalation.ecommerce.G9"].message
    assert "unknown workflow template" in said["notifications.escalation.newsletter"].message
    assert str(contact).startswith(f"{path}:{contact.line}: ")
    # Nothing was stored: the workspace still has no escalation settings.
    lumen_workspace.refresh_from_db()
    assert not lumen_workspace.notifications.get("escalation")

    monkeypatch.setenv(HOOK_ENV, "ftp://hooks.example/x")
    with pytest.raises(InputError) as caught:
        load_workspace(
            write_workspace(example_dir, f"notifications: {{webhook_env: {HOOK_ENV}}}\n")
        )
    (problem,) = caught.value.problems
    assert problem.field == "notifications.webhook_env"
    assert "not an http(s) URL" in str(problem)
    monkeypatch.setenv(HOOK_ENV, "https://hooks.example/services/x")
    workspace, _ = load_workspace(
        write_workspace(example_dir, f"notifications: {{webhook_env: {HOOK_ENV}}}\n", digest="omar")
    )
    assert workspace.notifications["webhook_env"] == HOOK_ENV
    assert workspace.people.get(email="omar@lumen.example").digest is True


# --- sending --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reminder_then_escalation_each_sent_once_and_audited(notifying, mail, hook):
    workspace, waiting, start = notifying
    workspace.people.update(digest=False)  # digests have their own test
    n = len(waiting)
    early = notify(now=start + timedelta(hours=47))
    assert early["due"] == 0
    assert not mail.messages
    assert not hook.posts

    dry = notify(now=start + timedelta(hours=49), dry_run=True)
    assert dry["due"] == 2 * n
    assert dry["sent"] == 0
    assert not mail.messages
    assert not Notification.objects.exists()

    sent = notify(now=start + timedelta(hours=49))
    assert (sent["sent"], sent["failed"]) == (2 * n, 0)
    assert len(mail.messages) == n
    assert len(hook.posts) == n
    assert all(to == ["maya@lumen.example"] for to, _ in mail.messages)  # G2's owner
    assert "Reminder:" in mail.messages[0][1]
    assert "waits at G2" in hook.posts[0]["text"]
    events = Event.objects.filter(action="notification.sent")
    assert events.count() == 2 * n
    event = events.filter(data__via="email").order_by("seq").first()
    assert event.actor == "system:notify"
    assert event.gate == "G2"
    assert event.data["recipients"] == ["maya@lumen.example"]
    assert event.subject_id == str(waiting[0].pk)
    rows = Notification.objects.filter(status="sent")
    assert rows.count() == 2 * n
    assert all(r.event_seq for r in rows)

    again = notify(now=start + timedelta(hours=60))
    assert again["due"] == 0
    assert len(mail.messages) == n

    escalated = notify(now=start + timedelta(hours=73))
    assert escalated["sent"] == 2 * n
    mails = mail.messages[n:]
    assert len(mails) == n
    assert all(to == ["sofia@lumen.example", "maya@lumen.example"] for to, _ in mails)
    assert "Escalation:" in mails[0][1]
    assert "escalation limit of 72 h" in mails[0][1]
    assert Event.objects.filter(action="notification.sent", data__kind="escalation").count() == (
        2 * n
    )
    rest = notify(now=start + timedelta(hours=200))["items"]
    assert {i["kind"] for i in rest} <= {"digest"}  # no reminder or escalation twice

    # A package that leaves the gate and waits there again is reminded again: a new wait.
    package = waiting[0]
    Package.objects.filter(pk=package.pk).update(stage_entered_at=start + timedelta(hours=100))
    later = notify(now=start + timedelta(hours=149), workspace=workspace)
    assert {(i["kind"], i["package"]) for i in later["items"] if i["package"]} == {
        ("reminder", package.pk)
    }


@pytest.mark.django_db
def test_daily_digest_once_a_day_from_its_hour(notifying, mail):
    workspace, waiting, start = notifying
    day = (start + timedelta(days=1)).replace(hour=7, minute=30)
    before = notify(now=day, workspace=workspace)
    assert not [i for i in before["items"] if i["kind"] == "digest"]  # before 08:00 UTC
    got = notify(now=day.replace(hour=9), workspace=workspace)
    digests = [i for i in got["items"] if i["kind"] == "digest"]
    assert [d["recipients"] for d in digests] == [["maya@lumen.example"]]
    (digest_mail,) = [m for to, m in mail.messages if "waiting on you" in m]
    assert f"{len(waiting)} waiting on you" in digest_mail
    assert all(p.sku in digest_mail for p in waiting)
    assert Event.objects.filter(action="notification.sent", subject_type="person").count() == 1
    assert not [i for i in notify(now=day.replace(hour=20))["items"] if i["kind"] == "digest"]
    next_day = notify(now=day.replace(hour=9) + timedelta(days=1))
    assert [i["kind"] for i in next_day["items"]].count("digest") == 1


@pytest.mark.django_db
def test_a_refused_webhook_is_recorded_and_tried_again(notifying, hook, api):
    workspace, waiting, start = notifying
    hook.status = 500
    now = start + timedelta(hours=49)
    first = notify(now=now)  # no SMTP host: webhook only
    assert first["failed"] == len(waiting)
    assert first["sent"] == 0
    assert Event.objects.filter(action="notification.failed").count() == len(waiting)
    failed = Notification.objects.filter(status="failed").first()
    assert "webhook answered 500" in failed.error
    assert failed.attempts == 1
    listed = api("ari").get("/api/notifications").json()
    assert {row["status"] for row in listed} == {"failed"}
    assert len(listed) == len(waiting)
    assert "webhook answered 500" in listed[0]["error"]
    hook.status = 200
    second = notify(now=now + timedelta(minutes=5))
    assert second["sent"] == len(waiting)
    assert len(hook.posts) == len(waiting)
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert failed.attempts == 2


@pytest.mark.django_db
def test_the_dedup_key_is_unique_in_the_database(lumen_workspace):
    row = {
        "workspace": lumen_workspace,
        "key": "digest:maya@lumen.example:2026-12-05:email",
        "kind": "digest",
        "channel": "email",
        "subject": "s",
        "body": "b",
        "claimed_at": datetime.now(UTC),
    }
    Notification.objects.create(**row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**row)


@pytest.mark.django_db
def test_notify_command_and_the_worker_schedule(notifying, cli, hook):
    workspace, waiting, start = notifying
    quiet = cli("notify", "--dry-run", "--json")
    assert quiet.exit_code == 0
    assert json.loads(quiet.stdout)["due"] == 0
    Package.objects.filter(pk=waiting[0].pk).update(
        stage_entered_at=datetime.now(UTC) - timedelta(hours=50)
    )
    dry = cli("notify", "--dry-run")
    assert dry.exit_code == 0
    assert "1 due: 1 would be sent" in dry.stdout
    assert not hook.posts
    sent = cli("notify", "--json")
    assert json.loads(sent.stdout)["sent"] == 1
    assert len(hook.posts) == 1

    # The worker's schedule: a round at once, then one per interval, until stopped; an
    # error in a round is logged, never the worker's end.
    rounds = threading.Event()
    stop = threading.Event()
    thread = scheduler.run_in_thread(stop=stop, interval=3600, notify=lambda: rounds.set() or {})
    assert rounds.wait(5)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert scheduler.run_in_thread(stop=stop, interval=0) is None

    def broken() -> dict:
        raise DatabaseError("database went away")

    assert scheduler.run_due(broken) is None


@pytest.mark.django_db
def test_each_person_opts_into_the_digest_from_cli_api_and_web(
    lumen_workspace, example_dir, cli, api, as_person
):
    from signoff.workspaces.services import load_workspace
    from signoff.workspaces.tokens import issue_token

    maya = lumen_workspace.people.get(email="maya@lumen.example")
    assert maya.digest is False
    token = issue_token(email="maya@lumen.example", workspace="lumen-home")
    result = cli("digest", "on", token=token)
    assert result.exit_code == 0, result.output
    assert "Daily digest on" in result.stdout
    maya.refresh_from_db()
    assert maya.digest is True
    changed = Event.objects.filter(action="person.digest_changed")
    assert list(changed.values_list("actor", "data")) == [("maya@lumen.example", {"digest": True})]
    # A reload of a file that does not say `digest:` keeps her choice; one that does sets it.
    load_workspace(example_dir / "workspace.yaml")
    maya.refresh_from_db()
    assert maya.digest is True

    response = api("omar").post("/api/notifications/digest", {"digest": True})
    assert response.status_code == 200, response.content
    assert response.json() == {"email": "omar@lumen.example", "digest": True}
    assert api("omar").post("/api/notifications/digest", {"digest": "maybe"}).status_code == 422
    assert api("omar").get("/api/notifications").json() == []

    page = as_person("lena").get("/dashboard/")
    assert '<b data-digest="off">off</b>' in page.text
    assert as_person("lena").post("/dashboard/digest/", {"digest": "on"}).status_code == 302
    assert '<b data-digest="on">on</b>' in as_person("lena").get("/dashboard/").text
    assert as_person("lena").post("/dashboard/digest/", {"digest": "x"}).status_code == 400
    assert changed.count() == 3


@pytest.mark.django_db
def test_one_address_in_two_workspaces_gets_each_ones_digest(
    lumen_workspace, other_workspace, mail, monkeypatch
) -> None:
    from signoff.notifications import services
    from signoff.notifications.rules import Waiting

    now = datetime(2026, 12, 5, 9, tzinfo=UTC)
    email = "maya@lumen.example"
    lumen_workspace.people.filter(email=email).update(digest=True)
    other_workspace.people.create(email=email, name="Maya", roles=["content_lead"], digest=True)

    def waiting(workspace) -> list[Waiting]:  # noqa: ANN001 - one package waiting in each
        since = now - timedelta(hours=1)
        return [Waiting(1, workspace.slug, "SKU", "ch", "G2", "ecommerce", since, 48.0, (email,))]

    monkeypatch.setattr(services, "waiting", waiting)
    got = notify(now=now)
    digests = [(i["workspace"], i["status"]) for i in got["items"] if i["kind"] == "digest"]
    assert digests == [("lumen-home", "sent"), ("other-brand", "sent")]
    assert sorted(Notification.objects.values_list("workspace__slug", "kind")) == [
        ("lumen-home", "digest"),
        ("other-brand", "digest"),
    ]
    assert [to for to, _ in mail.messages] == [[email], [email]]
    # Still once a day each.
    assert not [i for i in notify(now=now.replace(hour=20))["items"] if i["kind"] == "digest"]

"""Sign-in is throttled per account and per address (429 and Retry-After, before any password
is checked), never tells whether an email exists, and is audited one event per account,
address and minute. Unknown API tokens are throttled per address alike."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from api_helpers import api_error
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from signoff.audit.models import Event
from signoff.audit.services import verify
from signoff.web import throttle
from signoff.web.accounts import ensure_users
from signoff.web.models import AuthFailures

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
MAYA = "maya@lumen.example"
NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def users(lumen_workspace):
    ensure_users(lumen_workspace, PASSWORD)


@pytest.fixture
def limits(settings):
    settings.SIGNOFF_SIGNIN_ACCOUNT_LIMIT = 3
    settings.SIGNOFF_SIGNIN_ADDRESS_LIMIT = 5
    settings.SIGNOFF_SIGNIN_PERIOD_MINUTES = 15
    return settings


def sign_in(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        reverse("web:sign-in"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def age(minutes: int) -> None:
    """Move every counted minute back in time, as if ``minutes`` had passed."""
    for row in AuthFailures.objects.all():
        row.minute -= timedelta(minutes=minutes)
        row.save(update_fields=["minute"])


# --- the web sign-in ------------------------------------------------------------------------


def test_an_account_is_locked_before_its_password_is_checked(client, users, limits, monkeypatch):
    for _ in range(3):
        assert sign_in(client, MAYA, "wrong password").status_code == 200
    hashed = []
    real = PBKDF2PasswordHasher.encode
    monkeypatch.setattr(
        PBKDF2PasswordHasher,
        "encode",
        lambda self, *a, **k: hashed.append(1) or real(self, *a, **k),
    )

    locked = sign_in(client, MAYA, PASSWORD)

    assert locked.status_code == 429
    assert 14 * 60 < int(locked["Retry-After"]) <= 16 * 60
    assert "Too many failed attempts for this account or from this address" in locked.text
    assert hashed == []  # refused without looking at the password
    assert client.get(reverse("web:home")).status_code == 302  # not signed in

    age(16)
    assert sign_in(client, MAYA, PASSWORD).status_code == 302


def test_an_unknown_email_gets_the_same_answer_by_the_same_path(client, users, limits, monkeypatch):
    limits.SIGNOFF_SIGNIN_ADDRESS_LIMIT = 50  # only the account limit is in play here
    # One minute throughout: the first failure of a minute makes its row, the others add to it.
    still = timezone.now()
    monkeypatch.setattr(throttle, "timezone", SimpleNamespace(now=lambda: still))
    hashed = []
    real = PBKDF2PasswordHasher.encode
    monkeypatch.setattr(
        PBKDF2PasswordHasher,
        "encode",
        lambda self, *a, **k: hashed.append(1) or real(self, *a, **k),
    )

    def attempt(username: str) -> tuple[int, str, int, int]:
        hashed.clear()
        with CaptureQueriesContext(connection) as queries:
            response = sign_in(client, username, "wrong password")
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.text)
        return response.status_code, body.replace(username, "EMAIL"), len(queries), len(hashed)

    known = [attempt(MAYA) for _ in range(3)]
    unknown = [attempt("nobody@lumen.example") for _ in range(3)]

    assert known == unknown  # status, page, queries and password hashes, attempt by attempt
    assert known[0][3] == 1
    assert "Please enter a correct" in known[0][1]
    assert attempt(MAYA)[0] == attempt("nobody@lumen.example")[0] == 429
    rows = AuthFailures.objects.order_by("account")
    assert [(r.account, r.failures) for r in rows] == [(MAYA, 3), ("nobody@lumen.example", 3)]


def test_an_address_is_locked_across_accounts_and_others_are_not(client, users, limits):
    for name in ("a", "b", "c", "d", "e"):
        sign_in(client, f"{name}@nowhere.example", "guess", address="198.51.100.4")

    assert sign_in(client, MAYA, PASSWORD, address="198.51.100.4").status_code == 429
    assert sign_in(client, MAYA, PASSWORD, address="192.0.2.1").status_code == 302


def test_a_failure_without_credentials_is_not_counted(client, users, limits):
    response = client.post(reverse("web:sign-in"), {"username": MAYA}, REMOTE_ADDR="192.0.2.1")
    assert response.status_code == 200
    assert not AuthFailures.objects.exists()


def test_sign_ins_and_failures_are_audited_once_per_minute_with_counts(client, users, limits):
    for _ in range(2):
        sign_in(client, MAYA, "wrong password")
    sign_in(client, "nobody@lumen.example", "guess")
    assert sign_in(client, MAYA, PASSWORD).status_code == 302
    success = Event.objects.get(action="signin.succeeded")
    assert (success.actor, success.workspace) == (MAYA, "lumen-home")
    assert success.data == {"address": "203.0.113.7"}
    assert not Event.objects.filter(action="signin.failed").exists()  # the minute is not over

    age(2)
    client.get(reverse("web:sign-in"))  # any sign-in request writes the finished minutes
    client.get(reverse("web:sign-in"))

    failed = Event.objects.filter(action="signin.failed").order_by("subject_id", "seq")
    by_account: dict[str, int] = {}
    for event in failed:
        assert event.data["address"] == "203.0.113.7"
        assert event.data["count"] == event.data["failures"] + event.data["throttled"]
        by_account[event.subject_id] = by_account.get(event.subject_id, 0) + event.data["count"]
        assert event.actor == "system:signin"
    assert by_account == {MAYA: 2, "nobody@lumen.example": 1}
    # One event per account, address and minute (two if the attempts straddled a minute).
    assert failed.count() == AuthFailures.objects.count() <= 4
    assert {e.workspace for e in failed if e.subject_id == MAYA} == {"lumen-home"}
    assert {e.workspace for e in failed if e.subject_id != MAYA} == {""}
    assert verify().ok


def test_a_flood_adds_one_event_per_minute_not_one_per_attempt(lumen_workspace, limits):
    for second in range(0, 60, 2):  # thirty guesses in one minute
        now = NOON + timedelta(seconds=second)
        if throttle.signin_refusal(MAYA, "203.0.113.7", now) is None:
            throttle.count(throttle.Kind.SIGNIN, "203.0.113.7", MAYA, now=now)
        else:
            throttle.count(throttle.Kind.SIGNIN, "203.0.113.7", MAYA, throttled=True, now=now)

    assert throttle.flush(NOON + timedelta(seconds=30)) == 0  # the minute is still running
    assert throttle.flush(NOON + timedelta(minutes=1, seconds=10)) == 1
    assert throttle.flush(NOON + timedelta(minutes=2)) == 0  # written once

    event = Event.objects.get(action="signin.failed")
    assert event.data == {
        "account": MAYA,
        "address": "203.0.113.7",
        "minute": NOON.isoformat(),
        "count": 30,
        "failures": 3,
        "throttled": 27,
    }
    # Refused attempts do not extend the lock: it lifts 15 minutes after the failures' minute.
    assert throttle.signin_refusal(MAYA, "203.0.113.7", NOON + timedelta(minutes=15, seconds=59))
    assert throttle.signin_refusal(MAYA, "203.0.113.7", NOON + timedelta(minutes=16)) is None
    # Written minutes are forgotten once the throttle no longer looks at them.
    throttle.flush(NOON + timedelta(minutes=18))
    assert not AuthFailures.objects.exists()


@pytest.mark.parametrize(
    ("counts", "limit", "expected"),
    [
        ([], 3, None),  # nothing counted
        ([(0, 2)], 3, None),  # under the limit
        ([(0, 3)], 3, 16 * 60),  # at it: until that minute stops counting
        ([(0, 2), (5, 2)], 3, 16 * 60),  # dropping the oldest minute is enough
        ([(0, 1), (5, 3)], 3, 21 * 60),  # the newest minute alone keeps it locked
        ([(0, 9)], 0, None),  # a limit of 0 is off
    ],
)
def test_retry_after_is_when_enough_minutes_stop_counting(counts, limit, expected):
    rows = [(NOON + timedelta(minutes=m), n) for m, n in counts]
    period = timedelta(minutes=15)
    assert throttle.retry_after(rows, limit=limit, period=period, now=NOON) == expected


def test_the_address_counted_is_the_peer_or_the_proxys_and_an_ipv6_64(settings):
    factory = RequestFactory()
    forged = {"HTTP_X_FORWARDED_FOR": "10.9.9.9, 198.51.100.4", "REMOTE_ADDR": "127.0.0.1"}
    assert throttle.client_address(factory.get("/", **forged)) == "127.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert throttle.client_address(factory.get("/", **forged)) == "198.51.100.4"
    settings.SECURE_PROXY_SSL_HEADER = None
    v6 = factory.get("/", REMOTE_ADDR="2001:db8:1:2:aaaa::1")
    assert throttle.client_address(v6) == "2001:db8:1:2::/64"
    assert throttle.client_address(factory.get("/", REMOTE_ADDR="::ffff:192.0.2.9")) == "192.0.2.9"


# --- the API's bearer tokens ------------------------------------------------------------------


def test_unknown_tokens_are_throttled_per_address_and_real_ones_still_work(client, api, limits):
    maya = api("maya")
    statuses = [
        client.get(
            "/api/me", headers={"Authorization": f"Bearer so_guess{i}"}, REMOTE_ADDR="198.51.100.4"
        ).status_code
        for i in range(7)
    ]

    assert statuses == [401] * 5 + [429] * 2
    throttled = client.get(
        "/api/me", headers={"Authorization": "Bearer so_guess"}, REMOTE_ADDR="198.51.100.4"
    )
    error = api_error(throttled, 429, "throttled")
    assert "try again in" in error["message"]
    assert 0 < int(throttled["Retry-After"]) <= 16 * 60
    assert maya.get("/api/me").status_code == 200  # an issued token is never a guess
    other = client.get(
        "/api/me", headers={"Authorization": "Bearer so_guess"}, REMOTE_ADDR="192.0.2.1"
    )
    api_error(other, 401, "unauthenticated")

    age(2)
    client.get("/api/me", headers={"Authorization": "Bearer so_x"}, REMOTE_ADDR="192.0.2.1")
    refused = Event.objects.filter(action="token.refused", subject_id="198.51.100.4")
    assert sum(e.data["failures"] for e in refused) == 5
    assert sum(e.data["throttled"] for e in refused) == 3
    assert {e.workspace for e in refused} == {""}

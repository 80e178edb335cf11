"""Throttle password and token guessing, and audit sign-ins, aggregated per minute.

- Web sign-in: ``SIGNOFF_SIGNIN_ACCOUNT_LIMIT`` (10) failures for one account, or
  ``SIGNOFF_SIGNIN_ADDRESS_LIMIT`` (50) from one address, within the last
  ``SIGNOFF_SIGNIN_PERIOD_MINUTES`` (15) refuse the next attempt with 429 and ``Retry-After``,
  before its password is checked. An email nobody has counts and locks exactly like a real
  one, so neither the answer nor its timing says whether an account exists.
- API: bearer tokens that were never issued count per address the same way; past the limit
  they get 429 instead of 401. An issued token is still served: at 256 bits a token cannot be
  guessed, and refusing real ones would lock colleagues behind the same address out.
- Review links (``/review/<token>/``, no account): unknown link tokens count per address the
  same way; past the limit every link from that address gets 429 before its token is looked
  up, as a sign-in is refused before its password is checked (``link_refusal``).
- Audit: each sign-in is one ``signin.succeeded`` event. Failures are counted per account,
  address and minute (``AuthFailures``); once the minute is over, one ``signin.failed`` event
  (``token.refused`` for tokens) carries its counts, so a flood adds one event a minute per
  account and address, not one per attempt (``link.refused`` for review links). Finished
  minutes are written by the next sign-in request, unknown token or review-link request,
  whoever sends it.

Counts live in the database, so every server process sees the same ones.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils import timezone

from signoff.audit.models import ActorKind
from signoff.audit.services import record, record_many
from signoff.web.models import AuthFailures
from signoff.workspaces.models import Person

Kind = AuthFailures.Kind
ACTOR = "system:signin"  # who records failures: the person trying is not known
MINUTE = timedelta(minutes=1)
# A minute is written this long after it ends, so a request that began in it still counts there.
GRACE = timedelta(seconds=5)
FLUSH_BATCH = 500  # minutes written per request at most; the rest go with the next one


class Throttled(Exception):
    """Too many failures for this account or from this address: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        super().__init__(
            "too many failed attempts for this account or from this address; try again in "
            f"{minutes} minute{'s' if minutes != 1 else ''}"
        )
        self.retry_after = retry_after


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _period() -> timedelta:
    return timedelta(minutes=_setting("SIGNOFF_SIGNIN_PERIOD_MINUTES", 15))


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def retry_after(
    counts: list[tuple[datetime, int]], *, limit: int, period: timedelta, now: datetime
) -> int | None:
    """Return the seconds until fewer than ``limit`` failures count, or None if fewer do now.

    ``counts`` are ``(minute, failures)``, oldest first: the current minute and the ``period``
    before it, which is what counts. A minute stops counting ``period`` after it ends. A limit
    of 0 never refuses.
    """
    total = sum(n for _, n in counts)
    if limit <= 0 or total < limit:
        return None
    for minute, n in counts:
        total -= n
        if total < limit:
            return max(1, math.ceil((minute + MINUTE + period - now).total_seconds()))
    return None  # not reached: with every minute gone, 0 < limit


def client_address(request: HttpRequest) -> str:
    """Return the address to count a request's attempts by.

    The peer's address; behind a TLS proxy (``SIGNOFF_BEHIND_TLS_PROXY=1``, which sets
    ``SECURE_PROXY_SSL_HEADER``) the one that proxy appended to ``X-Forwarded-For``, the only
    entry a client cannot forge. An IPv6 address counts as its /64, which one host usually has.
    """
    raw = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        raw = forwarded or raw
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_key(typed: str) -> str:
    """Return the account an attempt counts against: the name as typed, trimmed, lowercased."""
    return typed.strip().lower()[: AuthFailures._meta.get_field("account").max_length]


def _counts(kind: str, now: datetime, **key: str) -> list[tuple[datetime, int]]:
    since = minute_of(now) - _period()
    return list(
        AuthFailures.objects.filter(kind=kind, minute__gte=since, **key)
        .values("minute")
        .annotate(n=Sum("failures"))
        .order_by("minute")
        .values_list("minute", "n")
    )


def _wait(kind: str, now: datetime, limit: int, **key: str) -> int | None:
    if limit <= 0:
        return None
    return retry_after(_counts(kind, now, **key), limit=limit, period=_period(), now=now)


def signin_refusal(account: str, address: str, now: datetime | None = None) -> int | None:
    """Return how many seconds this account, from this address, must wait; None: try now."""
    now = now or timezone.now()
    waits = [
        _wait(Kind.SIGNIN, now, _setting("SIGNOFF_SIGNIN_ACCOUNT_LIMIT", 10), account=account),
        _wait(Kind.SIGNIN, now, _setting("SIGNOFF_SIGNIN_ADDRESS_LIMIT", 50), address=address),
    ]
    return max((w for w in waits if w is not None), default=None)


def token_refusal(address: str, now: datetime | None = None) -> int | None:
    """Return how many seconds this address must wait before sending unknown tokens again."""
    now = now or timezone.now()
    return _wait(Kind.TOKEN, now, _setting("SIGNOFF_SIGNIN_ADDRESS_LIMIT", 50), address=address)


def link_refusal(address: str, now: datetime | None = None) -> int | None:
    """Return how many seconds this address must wait before opening review links again."""
    now = now or timezone.now()
    return _wait(Kind.LINK, now, _setting("SIGNOFF_SIGNIN_ADDRESS_LIMIT", 50), address=address)


def count(
    kind: str,
    address: str,
    account: str = "",
    *,
    throttled: bool = False,
    now: datetime | None = None,
) -> None:
    """Count one failed (or, ``throttled``, refused) attempt in its minute."""
    field = "throttled" if throttled else "failures"
    key = {
        "kind": kind,
        "account": account,
        "address": address,
        "minute": minute_of(now or timezone.now()),
    }
    rows = AuthFailures.objects.filter(**key)
    with transaction.atomic():
        if rows.update(**{field: F(field) + 1}):
            return
        try:
            with transaction.atomic():
                AuthFailures.objects.create(**key, **{field: 1})
        except IntegrityError:  # another process made the minute's row first
            rows.update(**{field: F(field) + 1})


def flush(now: datetime | None = None) -> int:
    """Write one audit event for each finished minute not yet written; return how many.

    Also forgets the minutes the throttle no longer counts, once they are written.
    """
    now = now or timezone.now()
    pending = AuthFailures.objects.filter(recorded=False, minute__lte=now - MINUTE - GRACE)
    stale = AuthFailures.objects.filter(
        recorded=True, minute__lt=minute_of(now) - _period() - MINUTE
    )
    if not (pending | stale).exists():  # the usual answer, found without taking a write lock
        return 0
    rows: list[AuthFailures] = []
    with transaction.atomic():
        # skip_locked: two requests flushing at once write each minute once (PostgreSQL;
        # SQLite's transactions are already one at a time).
        rows = list(
            pending.select_for_update(skip_locked=True).order_by("minute", "id")[:FLUSH_BATCH]
        )
        if rows:
            workspaces = _workspaces_of({r.account for r in rows if r.kind == Kind.SIGNIN})
            record_many([_event(row, workspaces.get(row.account, "")) for row in rows])
            AuthFailures.objects.filter(pk__in=[r.pk for r in rows]).update(recorded=True)
        stale.delete()
    return len(rows)


def _workspaces_of(accounts: set[str]) -> dict[str, str]:
    """Map the accounts that are real sign-in names to their person's workspace.

    Only the audit log learns this (so a workspace's log shows attempts on its people); the
    answer to the attempt never did.
    """
    if not accounts:
        return {}
    return dict(
        get_user_model()
        .objects.filter(username__in=accounts, signoff_account__isnull=False)
        .values_list("username", "signoff_account__person__workspace__slug")
    )


def _event(row: AuthFailures, workspace: str) -> dict[str, Any]:
    data = {
        "address": row.address,
        "minute": row.minute.isoformat(),
        "count": row.failures + row.throttled,
        "failures": row.failures,
        "throttled": row.throttled,
    }
    event = {"actor": ACTOR, "actor_kind": ActorKind.SYSTEM, "workspace": workspace}
    if row.kind in (Kind.TOKEN, Kind.LINK):
        return {
            **event,
            "action": "token.refused" if row.kind == Kind.TOKEN else "link.refused",
            "subject_type": "address",
            "subject_id": row.address,
            "data": data,
        }
    return {
        **event,
        "action": "signin.failed",
        "subject_type": "account",
        "subject_id": row.account[:100] or "-",
        "data": {"account": row.account, **data},
    }


def record_signin(person: Person, address: str) -> None:
    """Record a person's successful sign-in (one event each: they are few)."""
    with transaction.atomic():
        record(
            action="signin.succeeded",
            actor=person.email,
            subject_type="person",
            subject_id=person.email,
            workspace=person.workspace.slug,
            data={"address": address},
        )

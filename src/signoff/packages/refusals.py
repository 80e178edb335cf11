"""Refused decisions leave a trace: who tried what on which package or brief, and why not.

A refused approval (wrong role, maker-checker, same person at two gates, not reviewed, wrong
state, ...) rolls its transaction back, so nothing of it would remain. The services that decide
on packages and briefs are wrapped in :func:`records_refusals`, which writes the refusal as an
audit event **after** that transaction is gone, in a transaction of its own.

Aggregation, so a flood of retries cannot swamp the append-only log. The key is (workspace,
person, attempted action, object, refusal code) and the window is the minute:

* the first refusal of a key in a minute claims a :class:`RefusalWindow` row (a unique
  constraint, so two processes never both claim it) and writes the ``*.decision.refused``
  event at once: the fact that a refusal happened is in the chain immediately;
* the identical refusals after it in the same minute only add one to the row's ``repeats``
  (outside the chain): never more than one event per key per minute;
* the next event of the same key (a later minute) carries every repeat not yet reported
  (``data.earlier_repeats`` with the windows they fell in) and marks them reported, in the
  same transaction. Until then the count is in the row (``packages_refusalwindow``).

Only refusals about who or when (``AuthorityError``, ``StateError``) are recorded; a request
that lacks input (a rejection without a note, ``DecisionInputError``) is answered, not logged.
A refusal inside an outer decorated service (``apply_fix`` calling ``edit_package``) is written
once, by the outermost one, after the outer transaction rolled back too.

The same aggregation, :func:`record_once_per_window`, keeps anonymous review-link views to one
``link.viewed`` event per link and hour (``signoff.sharing.services``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from signoff.audit.services import record
from signoff.workflow import AuthorityError, StateError, WorkflowError
from signoff.workspaces.models import Person

# The audit actions, by subject, with their labels (registered by the packages app).
REFUSED_ACTIONS = {
    "package": ("package.decision.refused", "Package decision refused"),
    "brief": ("brief.decision.refused", "Brief decision refused"),
}
RECORDED = (AuthorityError, StateError)

P = ParamSpec("P")
R = TypeVar("R")

# How many decorated services are running in this context: only the outermost records, so the
# event lands after every enclosing transaction of the attempt has rolled back.
_depth: ContextVar[int] = ContextVar("refusal_recorder_depth", default=0)


def now() -> datetime:
    """The clock the windows are cut from (tests replace it to cross a minute on purpose)."""
    return timezone.now()


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a person tried, on which object: with the refusal's code, the aggregation key."""

    workspace: str
    actor: str
    attempt: str  # the workflow action: approve, reject, review, edit
    subject_type: str  # package or brief
    subject_id: str


def records_refusals(subject_type: str, attempt: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a decision service (keyword arguments ``person`` and ``package_id`` or
    ``brief``) so that its refusals are recorded, aggregated per minute, and re-raised."""

    def decorate(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            outermost = _depth.get() == 0
            token = _depth.set(_depth.get() + 1)
            try:
                return service(*args, **kwargs)
            except RECORDED as exc:
                # The innermost service knows best what was tried; the outermost writes it.
                if getattr(exc, "refused_attempt", None) is None:
                    exc.refused_attempt = _attempt(subject_type, attempt, kwargs)
                if outermost:
                    record_refusal(exc.refused_attempt, exc)
                raise
            finally:
                _depth.reset(token)

        return wrapper

    return decorate


def _attempt(subject_type: str, attempt: str, kwargs: dict) -> Attempt:
    person: Person = kwargs["person"]
    subject = kwargs["package_id"] if subject_type == "package" else kwargs["brief"].pk
    return Attempt(
        workspace=person.workspace.slug,
        actor=person.email,
        attempt=attempt,
        subject_type=subject_type,
        subject_id=str(subject),
    )


def record_refusal(attempt: Attempt, exc: WorkflowError) -> int | None:
    """Record one refused attempt; return the event's sequence number, or None when it only
    counted as a repeat of this minute's event for the same key.

    Runs in a transaction of its own: call it after the refused decision's transaction ended.
    """
    key = {
        "workspace": attempt.workspace,
        "actor": attempt.actor,
        "attempt": attempt.attempt,
        "subject_type": attempt.subject_type,
        "subject_id": attempt.subject_id,
        "code": exc.code.value,
    }
    window = now().replace(second=0, microsecond=0)
    action, _ = REFUSED_ACTIONS[attempt.subject_type]

    def event(carried: int, earlier: list[datetime]) -> dict[str, Any]:
        # No note: notes are what people said (memory search reads them); the reason is data.
        return {
            "action": action,
            "actor": attempt.actor,
            "subject_type": attempt.subject_type,
            "subject_id": attempt.subject_id,
            "workspace": attempt.workspace,
            "gate": exc.gate,
            "data": {
                "attempt": attempt.attempt,
                "code": exc.code.value,
                "status": exc.http_status,
                "message": exc.message,
                "window": window.isoformat(),
                # Identical refusals in earlier minutes that no event has counted yet.
                "earlier_repeats": carried,
                "earlier_windows": [w.isoformat() for w in earlier],
            },
        }

    return record_once_per_window(key, window, event)


def record_once_per_window(
    key: dict[str, str],
    window: datetime,
    event: Callable[[int, list[datetime]], dict[str, Any]],
) -> int | None:
    """Write the first occurrence of ``key`` in ``window`` to the audit log; count the others.

    ``key`` names a :class:`RefusalWindow` key (workspace, actor, attempt, subject_type,
    subject_id, code); ``event(carried, windows)`` returns ``record()``'s arguments, given how
    many occurrences of earlier windows no event has counted yet and which windows they fell
    in (they are marked counted with it). Return the event's sequence number, or None when this
    occurrence only counted. Refusals use it per minute, review-link views per hour
    (``signoff.sharing.services``). One transaction (a savepoint inside the caller's).
    """
    from signoff.packages.models import RefusalWindow

    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: losing the claim must not end the outer
                row = RefusalWindow.objects.create(**key, window=window, event_seq=0)
        except IntegrityError:
            # This window's event for the key exists (or is being written): count, don't log.
            RefusalWindow.objects.filter(**key, window=window).update(repeats=F("repeats") + 1)
            return None
        earlier = list(
            RefusalWindow.objects.select_for_update()
            .filter(**key, window__lt=window, repeats__gt=F("reported"))
            .order_by("window")
        )
        for done in earlier:
            RefusalWindow.objects.filter(pk=done.pk).update(reported=done.repeats)
        carried = sum(r.repeats - r.reported for r in earlier)
        recorded = record(**event(carried, [r.window for r in earlier]))
        RefusalWindow.objects.filter(pk=row.pk).update(event_seq=recorded.seq)
    return recorded.seq

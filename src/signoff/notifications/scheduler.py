"""Run ``notify`` on a schedule beside the worker's queue (`signoff worker`, and so the worker
`signoff serve` starts): every ``SIGNOFF_NOTIFY_INTERVAL_SECONDS``, on a thread of its own.

Several workers may each run it: the dedup keys keep every notification to one send.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

logger = logging.getLogger(__name__)


def run_due(notify: Callable[[], dict] | None = None) -> dict | None:
    """One scheduled round: send what is due; an error is logged, never the worker's end."""
    from signoff.notifications.services import notify as send_due

    try:
        return (notify or send_due)()
    except (DatabaseError, OSError, ValueError):
        logger.exception("scheduled notifications failed; the next round tries again")
        return None


def run_in_thread(
    *,
    stop: threading.Event,
    interval: float | None = None,
    notify: Callable[[], dict] | None = None,
) -> threading.Thread | None:
    """Start the schedule (a round now, then one every ``interval`` seconds) until ``stop``;
    None when the interval is 0 (turned off). ``notify`` replaces the round (tests)."""
    every = settings.SIGNOFF_NOTIFY_INTERVAL_SECONDS if interval is None else interval
    if every <= 0:
        return None

    def target() -> None:
        try:
            while not stop.is_set():
                close_old_connections()
                run_due(notify)
                if stop.wait(every):
                    break
        finally:
            connection.close()

    thread = threading.Thread(target=target, name="signoff-notify", daemon=True)
    thread.start()
    return thread

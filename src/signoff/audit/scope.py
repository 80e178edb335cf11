"""The audit log as a workspace's people see it (API and web): their own events, numbered
within their workspace, never the installation's sequence numbers or counts.

The log is one hash chain for every workspace, so an event's ``seq`` counts everybody's
activity: a person who sees seq 1,204 and, an hour later, 1,290 has learnt that 85 things
happened in other workspaces meanwhile. So the API and the web app show an event's
``position`` instead, its number in its own workspace's log (1 is the workspace's first event),
and report verification in the workspace's own counts. The chain is still verified whole: a
break elsewhere is reported as such, without saying where. The local admin command
(``signoff audit ...``) shows the chain as it is.

Reads only: it calls what ``signoff.audit`` offers (``verify``) and counts ``Event`` rows
by the ``(workspace, seq)`` index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from signoff.audit.models import Event
from signoff.audit.services import verify

# Up to this many of the workspace's events between the first and last asked for are numbered
# by reading their seqs (one query); a wider span is numbered by counting each gap instead.
SPAN_ROWS = 5000


def positions(workspace: str, seqs: Iterable[int]) -> dict[int, int]:
    """Return each event's position in ``workspace``'s own log, by its seq.

    ``seqs`` are events of that workspace. Two or three queries for any list whose events lie
    close together (a page of the log); one count per event beyond that.
    """
    wanted = sorted(set(seqs))
    if not wanted:
        return {}
    events = Event.objects.filter(workspace=workspace)
    position = events.filter(seq__lt=wanted[0]).count()
    span = list(
        events.filter(seq__gte=wanted[0], seq__lte=wanted[-1])
        .order_by("seq")
        .values_list("seq", flat=True)[: SPAN_ROWS + 1]
    )
    if len(span) <= SPAN_ROWS:
        targets = set(wanted)
        return {
            seq: number for number, seq in enumerate(span, start=position + 1) if seq in targets
        }
    found = {}
    previous = wanted[0] - 1
    for seq in wanted:
        position += events.filter(seq__gt=previous, seq__lte=seq).count()
        found[seq] = position
        previous = seq
    return found


def number(workspace: str, events: list[Event]) -> list[Event]:
    """Give each event (of ``workspace``) its ``position``; return the same list."""
    found = positions(workspace, (e.seq for e in events))
    for event in events:
        event.position = found[event.seq]
    return events


def verification(workspace: str) -> dict[str, Any]:
    """Verify the whole chain; report it in ``workspace``'s own terms.

    ``count``: the workspace's events that verified; ``head_position``/``head_hash``: the last
    of them; ``first_bad_position``: where the chain breaks, when that is one of the
    workspace's events (a break at anyone else's is reported by its reason alone).
    """
    result = verify()
    mine = Event.objects.filter(workspace=workspace)
    verified = mine.filter(seq__lte=result.head_seq)
    count = verified.count()
    head_hash = verified.order_by("-seq").values_list("hash", flat=True).first() or ""
    reason = str(result.reason) if result.reason else None
    first_bad = None
    if not result.ok and result.first_bad_seq is not None:
        if mine.filter(seq=result.first_bad_seq).exists():
            first_bad = mine.filter(seq__lte=result.first_bad_seq).count()
        else:
            reason = (
                f"{reason}, at an event that is not your workspace's (or no longer exists): "
                "whoever runs this Signoff can locate it with `signoff audit verify`"
            )
    return {
        "ok": result.ok,
        "count": count,
        "first_bad_position": first_bad,
        "reason": reason,
        "head_position": count,
        "head_hash": head_hash,
    }

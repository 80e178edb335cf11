"""Checkpoints and the segmented, fast verifier (SQLite and PostgreSQL).

Every tamper here is also run through the reference verifier (``chain.verify_chain`` over rows
read through Django), and both must name the same first bad event: the fast path may be
faster, never more lenient.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from signoff.audit import verification
from signoff.audit.chain import (
    CHECKPOINT_ACTION,
    HASHED_FIELDS,
    Reason,
    canonical_json,
    event_hash,
    segment_digest,
    verify_chain,
)
from signoff.audit.models import Event
from signoff.audit.segments import (
    ROW_COLUMNS,
    Segment,
    hash_canonical_rows,
    plan_segments,
)
from signoff.audit.services import record, record_many, verify
from signoff.audit.testing import append_only_suspended, flushable_audit_log

EVERY = 4  # a checkpoint after every 4 events: segments of 5 rows
NAMES = (*HASHED_FIELDS, "prev_hash", "hash")


@pytest.fixture(scope="module", autouse=True)
def _audit_flushable():
    with flushable_audit_log():
        yield


@pytest.fixture(autouse=True)
def _small_segments(settings):
    settings.SIGNOFF_AUDIT_CHECKPOINT_EVERY = EVERY


def event(n: int, **overrides) -> dict:
    return {
        "action": "package.reviewed",
        "actor": "ana@lumen.example",
        "subject_type": "package",
        "subject_id": str(n),
        "workspace": "lumen-home",
        "note": f"looked at {n}",
        "data": {"n": n},
    } | overrides


def write(n: int, start: int = 1) -> list[Event]:
    with transaction.atomic():
        return record_many([event(i) for i in range(start, start + n)])


def sql(statement: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def rows() -> list[dict]:
    values = Event.objects.order_by("seq").values_list(*NAMES)
    return [dict(zip(NAMES, row, strict=True)) for row in values]


def rechain_from(seq: int, **changes) -> None:
    """Apply ``changes`` to the row at ``seq``, then recompute every hash, link and later
    checkpoint from there on, as an attacker with the code and DDL rights would."""
    log = rows()
    prev = log[seq - 2]["hash"] if seq > 1 else "0" * 64
    jsonb = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with append_only_suspended():
        for row in log[seq - 1 :]:
            if row["seq"] == seq:
                row.update(changes)
            elif row["action"] == CHECKPOINT_ACTION:
                first, last = row["data"]["first_seq"], row["data"]["last_seq"]
                hashes = [r["hash"] for r in log if first <= r["seq"] <= last]
                row["data"] = row["data"] | {"digest": segment_digest(hashes)}
            if row["seq"] == seq or row["action"] == CHECKPOINT_ACTION:
                names = [n for n in ("action", "note", "actor") if n in changes] or ["action"]
                assignments = ", ".join(f"{n} = %s" for n in names)
                sql(
                    f"UPDATE audit_event SET data = {jsonb}, {assignments} WHERE seq = %s",
                    [json.dumps(row["data"]), *(row[n] for n in names), row["seq"]],
                )
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(row, prev)
            sql(
                "UPDATE audit_event SET prev_hash = %s, hash = %s WHERE seq = %s",
                [row["prev_hash"], row["hash"], row["seq"]],
            )


def reference() -> tuple:
    """What walking the whole chain row by row, the reference way, reports."""
    result = verify_chain(rows())
    return result.ok, result.first_bad_seq, result.reason, result.count


def outcome(result) -> tuple:
    return result.ok, result.first_bad_seq, result.reason, result.count


def bad_segments(result) -> list[tuple]:
    return [(s.first_seq, s.last_seq, s.first_bad_seq, s.reason) for s in result.failed_segments]


# --- checkpoints are written into the chain ------------------------------------------------------


@pytest.mark.django_db
def test_a_checkpoint_closes_every_segment_and_names_its_rows():
    returned = write(10) + write(7, start=11)

    checkpoints = list(Event.objects.filter(action=CHECKPOINT_ACTION).order_by("seq"))
    assert [c.seq for c in checkpoints] == [5, 10, 15, 20]
    assert [e.action for e in returned] == ["package.reviewed"] * 17  # callers get their own
    hashes = dict(Event.objects.values_list("seq", "hash"))
    for checkpoint in checkpoints:
        first = checkpoint.seq - EVERY
        assert checkpoint.data == {
            "first_seq": first,
            "last_seq": checkpoint.seq - 1,
            "events": EVERY,
            "digest": segment_digest(hashes[s] for s in range(first, checkpoint.seq)),
        }
        assert (checkpoint.actor, checkpoint.actor_kind, checkpoint.workspace) == (
            "system:audit",
            "system",
            "",
        )
    result = verify()
    assert (result.ok, result.count, result.checkpoints) == (True, 21, 4)
    assert [(s.first_seq, s.last_seq, s.checkpoint) for s in result.segments] == [
        (1, 5, True),
        (6, 10, True),
        (11, 15, True),
        (16, 20, True),
        (21, 21, False),
    ]
    assert outcome(result)[:3] == reference()[:3]


@pytest.mark.django_db
def test_single_records_write_checkpoints_too():
    for i in range(1, 10):
        with transaction.atomic():
            record(**event(i))
    assert list(Event.objects.filter(action=CHECKPOINT_ACTION).values_list("seq", flat=True)) == [
        5,
        10,
    ]
    assert verify().checkpoints == 2


@pytest.mark.django_db
def test_nobody_records_a_checkpoint_by_hand():
    data = {"first_seq": 1, "last_seq": 1, "events": 1, "digest": "0" * 64}
    with pytest.raises(ValueError, match="written by the audit log itself"):
        with transaction.atomic():
            record(**event(1, action=CHECKPOINT_ACTION, data=data))
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_a_log_older_than_checkpoints_verifies_and_its_first_checkpoint_covers_one_segment(
    settings,
):
    settings.SIGNOFF_AUDIT_CHECKPOINT_EVERY = 0
    write(10)
    settings.SIGNOFF_AUDIT_CHECKPOINT_EVERY = EVERY
    write(1, start=11)

    checkpoint = Event.objects.get(action=CHECKPOINT_ACTION)
    assert (checkpoint.seq, checkpoint.data["first_seq"], checkpoint.data["last_seq"]) == (
        12,
        8,
        11,
    )
    result = verify()
    assert result.ok
    assert result.checkpoints == 1
    assert [(s.first_seq, s.last_seq, s.checkpoint) for s in result.segments] == [
        (1, 4, False),
        (5, 7, False),
        (8, 12, True),
    ]
    with append_only_suspended():  # a tamper in the old part is still found
        sql("UPDATE audit_event SET note = 'edited' WHERE seq = 2")
    assert bad_segments(verify()) == [(1, 4, 2, Reason.HASH_MISMATCH)]


# --- a tamper in each segment is reported in that segment ----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("segment", range(4))
def test_a_changed_payload_is_found_in_its_segment(segment):
    write(14)  # segments 1-5, 6-10, 11-15, 16-17 (the open tail)
    seq = 5 * segment + 2
    placeholder = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with append_only_suspended():
        sql(f"UPDATE audit_event SET data = {placeholder} WHERE seq = %s", ['{"n": 999}', seq])

    result = verify()
    first, last = 5 * segment + 1, min(5 * segment + 5, 17)
    assert bad_segments(result) == [(first, last, seq, Reason.HASH_MISMATCH)]
    assert outcome(result) == (False, seq, Reason.HASH_MISMATCH, seq - 1)
    assert outcome(result) == reference()


@pytest.mark.django_db
@pytest.mark.parametrize("segment", range(4))
def test_a_deleted_event_is_a_gap_in_its_segment(segment):
    write(14)
    seq = 5 * segment + 1  # the first row: its link is checked against the segment before
    with append_only_suspended():
        sql("DELETE FROM audit_event WHERE seq = %s", [seq])

    result = verify()
    first, last = 5 * segment + 1, min(5 * segment + 5, 17)
    assert bad_segments(result) == [(first, last, seq, Reason.SEQUENCE_GAP)]
    assert outcome(result) == reference()


@pytest.mark.django_db
def test_tampers_in_two_segments_are_each_reported_and_the_rest_verify():
    write(14)
    with append_only_suspended():
        sql("UPDATE audit_event SET note = 'fine' WHERE seq = 7")
        sql("DELETE FROM audit_event WHERE seq = 16")

    result = verify()
    assert bad_segments(result) == [
        (6, 10, 7, Reason.HASH_MISMATCH),
        (16, 17, 16, Reason.SEQUENCE_GAP),
    ]
    assert [s.ok for s in result.segments] == [True, False, True, False]
    assert outcome(result) == (False, 7, Reason.HASH_MISMATCH, 6) == reference()


@pytest.mark.django_db
def test_a_segment_checks_its_first_link_against_the_segment_before():
    write(14)
    with append_only_suspended():  # the checkpoint's stored hash no longer what 6 links to
        sql("UPDATE audit_event SET hash = %s WHERE seq = 10", ["f" * 64])

    result = verify()
    assert bad_segments(result) == [
        (6, 10, 10, Reason.HASH_MISMATCH),
        (11, 15, 11, Reason.BROKEN_LINK),
    ]
    assert outcome(result) == (False, 10, Reason.HASH_MISMATCH, 9) == reference()


@pytest.mark.django_db
def test_a_deleted_checkpoint_breaks_its_segment_and_the_next_link():
    write(14)
    with append_only_suspended():
        sql("DELETE FROM audit_event WHERE seq = 10")

    result = verify()
    # Without it, 6 to 15 is one segment (closed by the checkpoint at 15); 10 is missing.
    assert bad_segments(result) == [(6, 15, 10, Reason.SEQUENCE_GAP)]
    assert outcome(result)[:3] == (False, 10, Reason.SEQUENCE_GAP) == reference()[:3]


@pytest.mark.django_db
@pytest.mark.parametrize("segment", range(3))
def test_a_forged_checkpoint_is_a_checkpoint_mismatch_even_when_rechained(segment):
    write(14)
    seq = 5 * segment + 5
    forged = Event.objects.get(seq=seq).data | {"digest": "f" * 64}
    rechain_from(seq, data=forged)

    result = verify()
    assert bad_segments(result) == [(seq - 4, seq, seq, Reason.CHECKPOINT_MISMATCH)]
    assert outcome(result) == (False, seq, Reason.CHECKPOINT_MISMATCH, seq - 1) == reference()


@pytest.mark.django_db
@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"first_seq": 7, "events": 3},  # claims less than its segment
        {"last_seq": 8, "events": 3},  # does not end where it stands
        {"events": 5},  # miscounts
        {"extra": True},  # says more than a checkpoint says
    ],
)
def test_a_checkpoint_that_misdescribes_its_segment_is_refused(change):
    write(8)
    data = Event.objects.get(seq=10).data | change
    data["digest"] = segment_digest(
        Event.objects.filter(seq__gte=data["first_seq"], seq__lte=data["last_seq"])
        .order_by("seq")
        .values_list("hash", flat=True)
    )
    rechain_from(10, data=data)

    result = verify()
    assert bad_segments(result) == [(6, 10, 10, Reason.CHECKPOINT_MISMATCH)]
    assert outcome(result) == reference()


@pytest.mark.django_db
def test_an_event_turned_into_a_checkpoint_is_refused():
    write(8)
    hashes = Event.objects.filter(seq__gte=6, seq__lte=6).values_list("hash", flat=True)
    data = {"first_seq": 6, "last_seq": 6, "events": 1, "digest": segment_digest(hashes)}
    rechain_from(7, action=CHECKPOINT_ACTION, data=data)

    result = verify()
    # Right after a checkpoint (5) a checkpoint must start there: 6 is, so it holds; the real
    # checkpoint at 10 then no longer starts right after the one before it (7).
    assert outcome(result)[:3] == reference()[:3] == (False, 10, Reason.CHECKPOINT_MISMATCH)


@pytest.mark.django_db
def test_a_recomputed_chain_still_fails_against_the_exported_head():
    write(9)
    exported = (11, Event.objects.get(seq=11).hash)
    rechain_from(3, note="rewritten")  # checkpoints 5 and 10 recomputed too
    assert verify().ok
    result = verify(expected_head=exported)
    assert (result.first_bad_seq, result.reason) == (11, Reason.HEAD_MISMATCH)
    assert result.segments
    assert all(s.ok for s in result.segments)


# --- the fast document is the canonical one ------------------------------------------------------

TRICKY = [
    'quote " and backslash \\ and / slash',
    "control \x01\x1f\n\t\r\b\f chars",
    "unicode: ümlaut, 中文, emoji 🕯️, rtl \u202e, line sep \u2028",
    "",
]


@pytest.mark.django_db
def test_the_fast_path_hashes_awkward_values_exactly_like_the_reference(monkeypatch):
    rechecked: list[int] = []
    original = verification._recheck
    monkeypatch.setattr(
        verification,
        "_recheck",
        lambda c, seq, prev: rechecked.append(seq) or original(c, seq, prev),
    )
    specs = []
    for i, text in enumerate(TRICKY, start=1):
        specs.append(
            event(
                i,
                note=text,
                actor=f"{i}@lumen.example",
                subject_id=text or "x",
                from_position=text,
                sku=text or None,
                channel="amazon_us_pdp" if i % 2 else None,
                data={
                    "text": text,
                    "nested": {"z": [1, 2.5, 0.0, 1e-7, 12345678901234567890], "a": None},
                    "unicode": {"ü": True, "b": False},
                    "tuple": (1, "x"),
                },
            )
        )
    specs.append(event(99, data={}))
    with transaction.atomic():
        record_many(specs)

    result = verify()
    assert result.ok
    assert result.count == len(specs) + 1  # one checkpoint
    assert rechecked == []  # no row needed the reference path: the fast bytes were the same


@pytest.mark.django_db
def test_negative_zero_is_refused_as_it_would_not_read_back_the_same():
    with pytest.raises(ValueError, match=r"-0\.0 cannot be stored exactly"):
        with transaction.atomic():
            record(**event(1, data={"x": [1, -0.0]}))


@pytest.mark.django_db
def test_a_stored_form_the_fast_path_does_not_expect_is_settled_by_the_reference(monkeypatch):
    # Django stores a time with no microseconds without its fraction on SQLite.
    whole_second = datetime(2026, 3, 1, 9, 30, 0, tzinfo=UTC)
    monkeypatch.setattr("signoff.audit.services.timezone.now", lambda: whole_second)
    write(2)
    rechecked: list[int] = []
    original = verification._recheck
    monkeypatch.setattr(
        verification,
        "_recheck",
        lambda c, seq, prev: rechecked.append(seq) or original(c, seq, prev),
    )

    assert verify().ok
    assert rechecked == ([1, 2] if connection.vendor == "sqlite" else [])


def test_the_fast_document_is_canonical_json():
    fields = {
        "seq": 7,
        "occurred_at": "2026-03-01T09:30:00.000001Z",
        "actor": 'a"b\\c',
        "actor_kind": "person",
        "action": "package.reviewed",
        "subject_type": "package",
        "subject_id": "ü\x00",
        "workspace": "w",
        "from_position": "",
        "to_position": "\u2028",
        "content_hash": "c" * 64,
        "note": "🕯️\n",
        "data": {"b": [1.5, None], "a": {"y": 1, "x": "é"}},
        "correlation_id": str(uuid.UUID(int=5)),
        "sku": None,
        "channel": "x",
        "gate": None,
        "prev_hash": "p" * 64,
    }
    stored = {**fields, "data": json.dumps(fields["data"]), "hash": ""}
    row = tuple(stored[name] for name in ROW_COLUMNS)
    expected = event_hash(fields | {"data": json.loads(canonical_json(fields["data"]))}, "p" * 64)
    assert hash_canonical_rows([row]) == [expected]


def test_segments_end_at_checkpoints_and_open_stretches_are_cut():
    plan = plan_segments(23, [(5, 1), (10, 6), (15, 11)], span=3)
    assert [(s.first_seq, s.last_seq, s.checkpoint, s.after_checkpoint) for s in plan] == [
        (1, 5, True, False),
        (6, 10, True, True),
        (11, 15, True, True),
        (16, 18, False, True),
        (19, 21, False, False),
        (22, 23, False, False),
    ]
    # A first checkpoint that starts late: the rows before it are an open stretch.
    assert plan_segments(9, [(9, 6)], span=10) == [Segment(1, 5), Segment(6, 9, True)]
    assert plan_segments(0, [], span=10) == []


# --- several processes, each with its own connection ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_processes_report_what_one_process_reports_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite: the in-memory test database; see the next test (a file)")
    write(30)
    with append_only_suspended():
        sql("UPDATE audit_event SET note = 'x' WHERE seq = 8")
        sql("DELETE FROM audit_event WHERE seq = 27")
    serial = verify(workers=1)
    assert verification._processes(connection, 2, 37, 8) == 2
    parallel = verify(workers=2)
    assert parallel == serial
    assert bad_segments(parallel) == [
        (6, 10, 8, Reason.HASH_MISMATCH),
        (26, 30, 27, Reason.SEQUENCE_GAP),
    ]


SQLITE_FILE = """
import django, json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "signoff.config.settings"
django.setup()
from django.core.management import call_command
from django.db import connection, transaction
from signoff.audit import verification
from signoff.audit.services import record_many, verify
from signoff.audit.testing import append_only_suspended
call_command("migrate", verbosity=0)
with transaction.atomic():
    record_many([{"action": "package.reviewed", "actor": "a@x.example", "subject_type": "p",
                  "subject_id": str(i), "data": {"i": i}} for i in range(40)])
with append_only_suspended(), connection.cursor() as cursor:
    cursor.execute("UPDATE audit_event SET note = 'x' WHERE seq = 8")
    cursor.execute("DELETE FROM audit_event WHERE seq = 34")
forked = []
original = verification.map_forked
verification.map_forked = lambda *a, **k: forked.append(k["workers"]) or original(*a, **k)
out = {}
for workers in (1, 2):
    r = verify(workers=workers)
    out[workers] = [r.ok, r.first_bad_seq, str(r.reason), r.count, r.checkpoints,
                    [[s.first_seq, s.last_seq, s.first_bad_seq, str(s.reason)]
                     for s in r.failed_segments]]
out["forked"] = forked
print(json.dumps(out))
"""


def test_processes_report_what_one_process_reports_on_a_sqlite_file(tmp_path):
    env = {
        **os.environ,
        "SIGNOFF_HOME": str(tmp_path),
        "SIGNOFF_AUDIT_CHECKPOINT_EVERY": "4",
    }
    env.pop("SIGNOFF_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_FILE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["forked"] == [2]  # workers=2 really forked; workers=1 did not
    assert out["1"] == out["2"]
    assert out["2"][:3] == [False, 8, "hash mismatch"]
    assert out["2"][5] == [[6, 10, 8, "hash mismatch"], [31, 35, 34, "sequence gap"]]


# --- the command ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_names_the_first_bad_event_of_each_bad_segment(cli):
    write(14)
    assert cli("audit", "verify").output.startswith("ok: 17 events verify; head 17:")
    intact = json.loads(cli("audit", "verify", "--json").output)
    assert (intact["segments"], intact["checkpoints"], intact["failed_segments"]) == (4, 3, [])
    with append_only_suspended():
        sql("UPDATE audit_event SET note = 'x' WHERE seq = 2")
        sql("UPDATE audit_event SET actor = 'mallory@x.example' WHERE seq = 13")

    text = cli("audit", "verify")
    as_json = cli("audit", "verify", "--json", "--workers", "1")

    assert text.exit_code == as_json.exit_code == 1
    assert "FAILED at event 2: hash mismatch (1 events before it verify)" in text.output
    assert "segment 1-5: first bad event 2 (hash mismatch)" in text.output
    assert "segment 11-15: first bad event 13 (hash mismatch)" in text.output
    body = json.loads(as_json.output)
    assert (body["segments"], body["first_bad_seq"]) == (4, 2)
    assert [s["first_bad_seq"] for s in body["failed_segments"]] == [2, 13]
    bad_head = cli("audit", "verify", "--head", "12:abc")
    assert bad_head.exit_code == 2
    assert "--head" in bad_head.output
    assert "'12:abc'" in bad_head.output

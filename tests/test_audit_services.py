"""Recording, verifying and protecting the audit log in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from signoff.audit.chain import GENESIS_HASH, HASHED_FIELDS, Reason, event_hash
from signoff.audit.errors import EventImmutable, NotInTransaction, UnknownAction
from signoff.audit.models import Event
from signoff.audit.registry import known_actions, register_action
from signoff.audit.services import head, record, record_many, verify
from signoff.audit.testing import append_only_suspended, flushable_audit_log

PERSON = "ana@lumen.example"


@pytest.fixture(scope="session", autouse=True)
def _audit_flushable():
    # Session scope so the patch outlives pytest-django's flush after transaction=True tests.
    with flushable_audit_log():
        yield


def review(n: int, **overrides) -> Event:
    values = {
        "action": "package.reviewed",
        "actor": PERSON,
        "subject_type": "package",
        "subject_id": str(n),
        "workspace": "lumen-home",
        "from_position": "S3/in_review",
        "to_position": "S3/in_review",
        "note": f"looked at {n}",
        "data": {"n": n},
    }
    return record(**{**values, **overrides})


def write_log(n: int) -> list[Event]:
    with transaction.atomic():
        return [review(i) for i in range(1, n + 1)]


def sql(statement: str, params: list | tuple = ()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def renumber_after(seq: int, shift: int) -> None:
    # Two steps: seq is unique and both backends check it row by row during an UPDATE.
    sql("UPDATE audit_event SET seq = -seq WHERE seq > %s", [seq])
    sql("UPDATE audit_event SET seq = %s - seq WHERE seq < 0", [shift])


# --- recording ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_event_links_to_genesis():
    assert head() == (0, GENESIS_HASH)
    with transaction.atomic():
        event = review(1)
    assert event.seq == 1
    assert event.prev_hash == GENESIS_HASH
    assert event.occurred_at.tzinfo is not None
    assert head() == (1, event.hash)
    assert event.hash == event_hash({f: getattr(event, f) for f in HASHED_FIELDS}, GENESIS_HASH)


@pytest.mark.django_db
def test_many_records_form_one_verifiable_chain():
    write_log(120)
    with transaction.atomic():
        batch = record_many(
            [
                {
                    "action": "package.drafted",
                    "actor": "agent:copy_drafter",
                    "actor_kind": "agent",
                    "subject_type": "package",
                    "subject_id": i,
                    "sku": f"SKU-{i}",
                    "channel": "amazon_us_pdp",
                    "content_hash": f"{i:064x}",
                }
                for i in range(80)
            ]
        )
        review(999)
    assert [e.seq for e in batch] == list(range(121, 201))
    assert len({e.correlation_id for e in batch}) == 1
    result = verify()
    assert (result.ok, result.count) == (True, 201)
    assert (result.head_seq, result.head_hash) == head()
    assert verify(chunk_size=7).ok  # chunk boundaries do not matter
    stored = Event.objects.get(seq=150)
    assert (stored.subject_id, stored.sku, stored.actor_kind) == ("29", "SKU-29", "agent")


@pytest.mark.django_db
def test_record_many_of_nothing_writes_nothing():
    with transaction.atomic():
        assert record_many([]) == []
    assert head() == (0, GENESIS_HASH)


@pytest.mark.django_db
def test_values_are_stored_exactly_as_hashed():
    # Types that a JSON column or a varchar would change must be normalised before hashing.
    when = datetime(2025, 3, 1, 9, 30, 0, 5, tzinfo=UTC)
    with transaction.atomic():
        review(
            1,
            subject_id=42,
            correlation_id=str(uuid.UUID(int=7)),
            data={"tuple": (1, 2), "when": when, "price": 19.99, "big": 10**20, "none": None},
            note="Crème brûlée ✓\nsecond line",
        )
    stored = Event.objects.get(seq=1)
    assert stored.subject_id == "42"
    assert stored.correlation_id == uuid.UUID(int=7)
    assert stored.data == {
        "tuple": [1, 2],
        "when": "2025-03-01T09:30:00.000005Z",
        "price": 19.99,
        "big": 10**20,
        "none": None,
    }
    assert verify().ok


@pytest.mark.django_db
def test_a_rolled_back_change_takes_its_event_with_it():
    write_log(2)

    def failing_transition() -> None:
        with transaction.atomic():
            review(3)
            raise RuntimeError("the transition failed")

    with pytest.raises(RuntimeError):
        failing_transition()
    with transaction.atomic():
        event = review(3, note="second try")
    assert event.seq == 3
    assert verify().ok


@pytest.mark.django_db
def test_record_outside_the_callers_transaction_raises_even_in_a_test_transaction():
    # The test case's own transaction is not the caller's: this is what production would see.
    with pytest.raises(NotInTransaction):
        review(1)
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_raises():
    assert not connection.in_atomic_block
    with pytest.raises(NotInTransaction):
        review(1)
    with pytest.raises(NotInTransaction):
        record_many(
            [
                {
                    "action": "brief.added",
                    "actor": "system:cli",
                    "actor_kind": "system",
                    "subject_type": "brief",
                    "subject_id": "1",
                }
            ]
        )
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_an_unregistered_action_raises_and_writes_nothing():
    with pytest.raises(UnknownAction, match="package.aproved"), transaction.atomic():
        review(1, action="package.aproved")
    with pytest.raises(UnknownAction), transaction.atomic():
        record_many(
            [
                {
                    "action": "package.reviewed",
                    "actor": PERSON,
                    "subject_type": "package",
                    "subject_id": "1",
                },
                {
                    "action": "nope.never",
                    "actor": PERSON,
                    "subject_type": "package",
                    "subject_id": "2",
                },
            ]
        )
    assert Event.objects.count() == 0


def test_actions_register_once_with_one_meaning():
    assert {"package.gate.approved", "token.issued", "claim.status_changed"} <= known_actions()
    assert register_action("test.audit_registered", "Registered in a test") == (
        "test.audit_registered"
    )
    register_action("test.audit_registered", "Registered in a test")  # same pair: no-op
    with pytest.raises(ValueError, match="already registered"):
        register_action("test.audit_registered", "Something else")
    for bad in ("Package.Drafted", "drafted", "package..drafted", "package.drafted."):
        with pytest.raises(ValueError, match="lowercase dotted"):
            register_action(bad, "Bad")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("actor", "kind"),
    [
        ("system:run", "person"),
        ("agent:copy_drafter", "person"),
        ("ana@lumen.example", "system"),
        ("copy_drafter", "agent"),
        ("agent:", "agent"),
        ("system:run", "robot"),
    ],
)
def test_actors_are_named_as_what_they_are(actor, kind):
    with pytest.raises(ValueError, match="actor|ActorKind"), transaction.atomic():
        review(1, actor=actor, actor_kind=kind)


@pytest.mark.django_db
def test_malformed_events_are_refused_before_writing():
    with transaction.atomic():
        with pytest.raises(ValueError, match="needs"):
            review(1, subject_type="")
        with pytest.raises(TypeError):
            review(1, note=5)
        with pytest.raises(TypeError, match="unknown audit event keys"):
            record_many(
                [
                    {
                        "action": "package.reviewed",
                        "actor": PERSON,
                        "subject_type": "p",
                        "subject_id": "1",
                        "colour": "red",
                    }
                ]
            )
        with pytest.raises(ValueError, match="longer than"):
            review(1, workspace="w" * 101)
        with pytest.raises(ValueError, match="too large"):
            review(1, data={"score": [1e20]})
        with pytest.raises(TypeError, match="keys must be strings"):
            review(1, data={"by_version": {1: "a"}})
        with pytest.raises(ValueError, match="needs sku, channel, gate"):
            review(1, action="package.gate.approved")
        with pytest.raises(ValueError, match="disagrees"):
            review(1, sku="A", data={"sku": "B"})
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_sku_channel_and_gate_are_lifted_from_data():
    with transaction.atomic():
        event = record(
            action="package.gate.approved",
            actor=PERSON,
            subject_type="package",
            subject_id="7",
            data={"sku": "LH-1", "channel": "walmart", "gate": "G2"},
        )
    stored = Event.objects.get(seq=event.seq)
    assert (stored.sku, stored.channel, stored.gate) == ("LH-1", "walmart", "G2")
    assert verify().ok


# --- append-only --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_refuses_changes_and_deletes():
    (event,) = write_log(1)
    event.note = "changed"
    with pytest.raises(EventImmutable):
        event.save()
    with pytest.raises(EventImmutable):
        event.delete()
    with pytest.raises(EventImmutable):
        Event.objects.filter(seq=1).update(note="changed")
    with pytest.raises(EventImmutable):
        Event.objects.all().delete()
    assert verify().ok


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET note = 'changed' WHERE seq = 2",
        "UPDATE audit_event SET seq = seq + 100",
        "DELETE FROM audit_event WHERE seq = 2",
        "DELETE FROM audit_event",
    ],
)
def test_the_database_refuses_update_and_delete(statement):
    write_log(3)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        sql(statement)
    assert Event.objects.count() == 3
    assert verify().ok


@pytest.mark.django_db
def test_postgresql_refuses_truncate():
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    write_log(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("TRUNCATE audit_event")
    assert Event.objects.count() == 2


@pytest.mark.django_db
def test_the_guard_comes_back_after_it_was_lifted():
    write_log(2)
    with append_only_suspended():
        sql("UPDATE audit_event SET note = 'x' WHERE seq = 1")
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("UPDATE audit_event SET note = 'y' WHERE seq = 2")


@pytest.mark.django_db(transaction=True)
def test_a_test_flush_empties_the_log_and_keeps_the_guard():
    write_log(3)
    call_command("flush", interactive=False, verbosity=0)
    assert Event.objects.count() == 0
    write_log(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        sql("DELETE FROM audit_event")
    assert Event.objects.count() == 1


# --- tamper detection (the attacker has DDL rights and lifts the triggers first) -----------------


@pytest.mark.django_db
def test_an_edited_note_is_a_hash_mismatch_at_that_row():
    write_log(10)
    with append_only_suspended():
        sql("UPDATE audit_event SET note = %s WHERE seq = %s", ["all fine", 6])
    result = verify()
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 6, Reason.HASH_MISMATCH)
    assert result.count == 5


@pytest.mark.django_db
def test_edited_data_is_a_hash_mismatch_at_that_row():
    write_log(10)
    placeholder = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    with append_only_suspended():
        sql(f"UPDATE audit_event SET data = {placeholder} WHERE seq = 3", ['{"n": 4}'])
    assert (verify().first_bad_seq, verify().reason) == (3, Reason.HASH_MISMATCH)


@pytest.mark.django_db
def test_an_edited_timestamp_is_a_hash_mismatch_at_that_row():
    write_log(5)
    forged = datetime(2020, 1, 1, tzinfo=UTC)
    with append_only_suspended():
        sql("UPDATE audit_event SET occurred_at = %s WHERE seq = 2", [forged])
    assert (verify().first_bad_seq, verify().reason) == (2, Reason.HASH_MISMATCH)


@pytest.mark.django_db
def test_a_deleted_middle_row_is_a_sequence_gap():
    write_log(10)
    with append_only_suspended():
        sql("DELETE FROM audit_event WHERE seq = 4")
    result = verify()
    assert (result.first_bad_seq, result.reason, result.count) == (4, Reason.SEQUENCE_GAP, 3)


@pytest.mark.django_db
def test_a_deleted_row_with_the_rest_renumbered_is_detected():
    write_log(10)
    with append_only_suspended():
        sql("DELETE FROM audit_event WHERE seq = 4")
        renumber_after(4, shift=-1)
    result = verify()
    assert (result.first_bad_seq, result.reason) == (4, Reason.BROKEN_LINK)


@pytest.mark.django_db
def test_an_inserted_forged_row_is_detected():
    write_log(10)
    before = Event.objects.get(seq=5)
    forged = {f: getattr(before, f) for f in HASHED_FIELDS} | {
        "seq": 6,
        "note": "approved by nobody",
        "actor": "mallory@evil.example",
    }
    with append_only_suspended():
        renumber_after(5, shift=1)
        # A well-formed forgery: correctly linked to #5 and correctly hashed.
        Event.objects.bulk_create(
            [Event(**forged, prev_hash=before.hash, hash=event_hash(forged, before.hash))]
        )
    assert Event.objects.count() == 11
    result = verify()
    assert (result.first_bad_seq, result.reason, result.count) == (7, Reason.BROKEN_LINK, 6)


@pytest.mark.django_db
def test_two_swapped_rows_are_detected_at_the_first():
    write_log(10)
    with append_only_suspended():
        sql("UPDATE audit_event SET seq = -1 WHERE seq = 3")
        sql("UPDATE audit_event SET seq = 3 WHERE seq = 8")
        sql("UPDATE audit_event SET seq = 8 WHERE seq = -1")
    result = verify()
    assert (result.first_bad_seq, result.reason) == (3, Reason.BROKEN_LINK)


@pytest.mark.django_db
def test_a_truncated_tail_is_detected_against_the_exported_head():
    write_log(10)
    exported = head()
    with append_only_suspended():
        sql("DELETE FROM audit_event WHERE seq > 7")
    assert verify().ok  # the remaining prefix is a valid chain on its own
    result = verify(expected_head=exported)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 8, Reason.TRUNCATED)


@pytest.mark.django_db
def test_a_recomputed_chain_is_detected_against_the_exported_head():
    write_log(10)
    exported = head()
    names = (*HASHED_FIELDS, "prev_hash", "hash")
    rows = [
        dict(zip(names, r, strict=True)) for r in Event.objects.order_by("seq").values_list(*names)
    ]
    with append_only_suspended():
        sql("UPDATE audit_event SET note = 'rewritten' WHERE seq = 4")
        prev = rows[2]["hash"]
        for row in rows[3:]:
            row["note"] = "rewritten" if row["seq"] == 4 else row["note"]
            digest = event_hash(row, prev)
            sql(
                "UPDATE audit_event SET prev_hash = %s, hash = %s WHERE seq = %s",
                [prev, digest, row["seq"]],
            )
            prev = digest
    assert verify().ok  # a full rewrite is self-consistent...
    result = verify(expected_head=exported)  # ...but not with what was exported before it
    assert (result.first_bad_seq, result.reason) == (10, Reason.HEAD_MISMATCH)


@pytest.mark.django_db
def test_later_appends_keep_an_old_exported_head_valid():
    write_log(5)
    exported = head()
    write_log(5)
    assert verify(expected_head=exported).ok


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite: see test_audit_concurrency.py (in-memory DB cannot wait on locks)")
    writers, per_writer = 8, 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    review(worker * 100 + i)
        except BaseException as error:  # reported below; a thread cannot fail the test itself
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = verify()
    assert (result.ok, result.count) == (True, writers * per_writer)

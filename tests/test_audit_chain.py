"""The pure hash chain: canonical encoding, hashes and the verifier, with no database."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signoff.audit.chain import (
    GENESIS_HASH,
    HASHED_FIELDS,
    Reason,
    canonical_json,
    event_hash,
    verify_chain,
)

T0 = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)


def make_fields(seq: int) -> dict:
    return {
        "seq": seq,
        "occurred_at": T0 + timedelta(seconds=seq),
        "actor": "ana@lumen.example",
        "actor_kind": "person",
        "action": "package.reviewed",
        "subject_type": "package",
        "subject_id": str(seq),
        "workspace": "lumen-home",
        "from_position": "S3/in_review",
        "to_position": "S3/in_review",
        "content_hash": "c" * 64,
        "note": f"row {seq}",
        "data": {"findings": seq, "nested": {"b": 1, "a": [1, 2]}},
        "correlation_id": uuid.UUID(int=seq),
        "sku": "LH-CANDLE-01",
        "channel": "amazon_us_pdp",
        "gate": None,
    }


def make_chain(n: int) -> list[dict]:
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        fields = make_fields(seq)
        digest = event_hash(fields, prev)
        rows.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    return rows


def rehash_from(rows: list[dict], start: int) -> None:
    """Recompute links and hashes from index ``start`` on, as an attacker with the code would."""
    prev = rows[start - 1]["hash"] if start else GENESIS_HASH
    for row in rows[start:]:
        row["prev_hash"] = prev
        row["hash"] = event_hash(row, prev)
        prev = row["hash"]


# --- canonical JSON ---------------------------------------------------------------------------


def test_canonical_json_is_stable_under_key_order():
    a = {"b": 1, "a": {"y": [1, {"q": 1, "p": 2}], "x": None}}
    b = {"a": {"x": None, "y": [1, {"p": 2, "q": 1}]}, "b": 1}
    assert canonical_json(a) == canonical_json(b)
    assert canonical_json(a) == b'{"a":{"x":null,"y":[1,{"p":2,"q":1}]},"b":1}'


def test_canonical_json_keeps_strings_as_is():
    # No escaping of non-ASCII and no Unicode normalisation: the bytes are what was written.
    assert canonical_json({"s": "Crème brûlée ✓"}) == '{"s":"Crème brûlée ✓"}'.encode()
    assert canonical_json("e\u0301") != canonical_json("\u00e9")


def test_canonical_json_writes_utc_timestamps_with_microseconds():
    paris = timezone(timedelta(hours=1))
    assert canonical_json(datetime(2025, 3, 1, 10, 30, tzinfo=paris)) == (
        b'"2025-03-01T09:30:00.000000Z"'
    )
    assert canonical_json(T0) == b'"2025-03-01T09:30:00.123456Z"'


def test_canonical_json_writes_uuids_hyphenated():
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert canonical_json(value) == b'"12345678-1234-5678-1234-567812345678"'


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (datetime(2025, 3, 1, 9, 30), ValueError),  # noqa: DTZ001 - a naive time is the point
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (object(), TypeError),
    ],
)
def test_canonical_json_refuses_values_without_one_encoding(value, error):
    with pytest.raises(error):
        canonical_json({"v": value})


# --- event hashes -------------------------------------------------------------------------------


def test_event_hash_is_sha256_hex_and_deterministic():
    digest = event_hash(make_fields(1), GENESIS_HASH)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == event_hash(dict(reversed(list(make_fields(1).items()))), GENESIS_HASH)


def _changed(value):
    if isinstance(value, int):
        return value + 1
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, dict):
        return {**value, "findings": -1}
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=value.int + 1)
    if value is None:
        return "G2"
    return value + "x"


@pytest.mark.parametrize("name", HASHED_FIELDS)
def test_event_hash_changes_when_any_field_changes(name):
    fields = make_fields(7)
    changed = {**fields, name: _changed(fields[name])}
    assert event_hash(changed, GENESIS_HASH) != event_hash(fields, GENESIS_HASH)


def test_event_hash_changes_with_prev_hash():
    assert event_hash(make_fields(1), GENESIS_HASH) != event_hash(make_fields(1), "1" * 64)


def test_event_hash_ignores_keys_outside_the_record():
    fields = make_fields(1)
    extra = {**fields, "hash": "whatever", "prev_hash": "ignored", "id": 99}
    assert event_hash(extra, GENESIS_HASH) == event_hash(fields, GENESIS_HASH)


def test_event_hash_refuses_a_missing_field():
    fields = make_fields(1)
    del fields["note"]
    with pytest.raises(KeyError):
        event_hash(fields, GENESIS_HASH)


def test_none_and_empty_string_hash_differently():
    # sku NULL and sku "" are different rows; the service stores only NULL for "no sku".
    fields = make_fields(1)
    assert event_hash({**fields, "gate": None}, GENESIS_HASH) != event_hash(
        {**fields, "gate": ""}, GENESIS_HASH
    )


# --- verification -------------------------------------------------------------------------------


def test_an_empty_chain_verifies():
    result = verify_chain([])
    assert (result.ok, result.count, result.head_seq, result.head_hash) == (
        True,
        0,
        0,
        GENESIS_HASH,
    )
    assert verify_chain([], expected_head=(0, GENESIS_HASH)).ok


def test_an_intact_chain_verifies_and_reports_its_head():
    rows = make_chain(50)
    result = verify_chain(rows)
    assert result.ok
    assert result.count == 50
    assert (result.head_seq, result.head_hash) == (50, rows[-1]["hash"])
    assert result.first_bad_seq is None
    assert result.reason is None
    assert verify_chain(rows, expected_head=(50, rows[-1]["hash"])).ok
    # A head exported earlier still matches after later appends.
    assert verify_chain(rows, expected_head=(20, rows[19]["hash"])).ok


def test_the_chain_survives_a_json_round_trip():
    # An auditor may verify an export: the verifier must not depend on Python types.
    rows = make_chain(5)
    exported = json.loads(canonical_json(rows))
    assert verify_chain(exported).ok


def test_an_edited_row_is_a_hash_mismatch_at_that_row():
    rows = make_chain(10)
    rows[4]["note"] = "nothing to see"
    result = verify_chain(rows)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 5, Reason.HASH_MISMATCH)
    assert (result.count, result.head_seq, result.head_hash) == (4, 4, rows[3]["hash"])


def test_a_deleted_middle_row_is_a_sequence_gap_at_the_missing_seq():
    rows = make_chain(10)
    del rows[4]
    result = verify_chain(rows)
    assert (result.first_bad_seq, result.reason) == (5, "sequence gap")


def test_a_deleted_first_row_is_a_sequence_gap_at_one():
    result = verify_chain(make_chain(3)[1:])
    assert (result.first_bad_seq, result.reason) == (1, Reason.SEQUENCE_GAP)


def test_a_deleted_and_renumbered_row_is_a_broken_link():
    rows = make_chain(10)
    del rows[4]
    for row in rows[4:]:
        row["seq"] -= 1
        row["hash"] = event_hash(row, row["prev_hash"])  # re-hashed but still linked to #5
    result = verify_chain(rows)
    assert (result.first_bad_seq, result.reason) == (5, Reason.BROKEN_LINK)


def test_an_inserted_row_breaks_the_row_after_it():
    rows = make_chain(10)
    forged = {**make_fields(5), "note": "forged", "prev_hash": rows[3]["hash"]}
    forged["hash"] = event_hash(forged, forged["prev_hash"])
    for row in rows[4:]:
        row["seq"] += 1
    rows.insert(4, forged)
    result = verify_chain(rows)
    # The forgery itself is well-formed; the original #5 (now #6) no longer links to it.
    assert (result.first_bad_seq, result.reason) == (6, Reason.BROKEN_LINK)


def test_swapped_rows_are_detected_at_the_first_of_them():
    rows = make_chain(10)
    rows[3], rows[5] = rows[5], rows[3]
    rows[3]["seq"], rows[5]["seq"] = 4, 6
    result = verify_chain(rows)
    assert (result.first_bad_seq, result.reason) == (4, Reason.BROKEN_LINK)


def test_rows_out_of_seq_order_are_out_of_order():
    rows = make_chain(10)
    rows[3], rows[4] = rows[4], rows[3]  # seq 5 arrives where seq 4 was due
    result = verify_chain(rows)
    assert (result.first_bad_seq, result.reason) == (4, Reason.SEQUENCE_GAP)
    repeated = make_chain(4)
    repeated.insert(2, dict(repeated[1]))  # seq 2 twice
    result = verify_chain(repeated)
    assert (result.first_bad_seq, result.reason) == (2, Reason.OUT_OF_ORDER)


def test_an_edited_link_is_a_broken_link():
    rows = make_chain(5)
    rows[2]["prev_hash"] = "f" * 64
    assert verify_chain(rows).reason == Reason.BROKEN_LINK


def test_a_truncated_tail_is_detected_only_against_an_exported_head():
    rows = make_chain(10)
    exported = (10, rows[-1]["hash"])
    del rows[7:]
    assert verify_chain(rows).ok  # without a trusted head a shorter log looks fine
    result = verify_chain(rows, expected_head=exported)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 8, Reason.TRUNCATED)
    assert result.count == 7
    assert verify_chain([], expected_head=exported).first_bad_seq == 1


def test_a_recomputed_chain_is_detected_only_against_an_exported_head():
    rows = make_chain(10)
    exported = (10, rows[-1]["hash"])
    rows[2]["note"] = "rewritten"
    rehash_from(rows, 2)
    assert verify_chain(rows).ok
    result = verify_chain(rows, expected_head=exported)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 10, Reason.HEAD_MISMATCH)


# --- many random tampers ------------------------------------------------------------------------

TAMPERS = ("edit", "delete", "insert", "swap", "truncate", "recompute", "relink")


@settings(max_examples=600, deadline=None)
@given(
    length=st.integers(min_value=2, max_value=25),
    kind=st.sampled_from(TAMPERS),
    data=st.data(),
)
def test_every_single_tamper_is_detected(length, kind, data):
    rows = make_chain(length)
    exported = (length, rows[-1]["hash"])
    i = data.draw(st.integers(min_value=0, max_value=length - 1), label="row")
    if kind == "edit":
        name = data.draw(st.sampled_from(HASHED_FIELDS[1:]), label="field")  # seq: see swap
        rows[i][name] = _changed(rows[i][name])
    elif kind == "delete":
        del rows[i]
    elif kind == "insert":
        forged = {**make_fields(i + 1), "note": "forged", "prev_hash": rows[i]["prev_hash"]}
        forged["hash"] = event_hash(forged, forged["prev_hash"])
        for row in rows[i:]:
            row["seq"] += 1
        rows.insert(i, forged)
    elif kind == "swap":
        j = data.draw(st.integers(min_value=0, max_value=length - 1).filter(lambda j: j != i))
        rows[i], rows[j] = rows[j], rows[i]
        rows[i]["seq"], rows[j]["seq"] = i + 1, j + 1
    elif kind == "truncate":
        del rows[i + 1 if i + 1 < length else i :]
    elif kind == "recompute":
        rows[i]["note"] = "rewritten"
        rehash_from(rows, i)
    elif kind == "relink":
        rows[i]["prev_hash"] = "e" * 64
    result = verify_chain(rows, expected_head=exported)
    assert not result.ok
    assert result.reason is not None
    assert 1 <= result.first_bad_seq <= length + 1

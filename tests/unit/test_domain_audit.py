"""Audit entries' canonical bytes and the tree-head layout the hub signs."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.audit import AuditEntry, Outcome, SignedTreeHead, tree_head_bytes

WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LABEL = b"policenet-tree-head-v1\x00"


def test_canonical_bytes_are_exactly_the_documented_form() -> None:
    entry = AuditEntry(
        time=WHEN.replace(microsecond=7),
        member="ncb-gb",
        officer="pc.léa",
        action="enquiry.documents",
        target="GB/123456789",
        outcome=Outcome.HIT,
        detail={"score": 97, "mode": "full", "reviewed": False, "note": None},
    )
    expected = (
        '{"action":"enquiry.documents",'
        '"detail":{"mode":"full","note":null,"reviewed":false,"score":97},'
        '"member":"ncb-gb","officer":"pc.léa","outcome":"hit","target":"GB/123456789",'
        '"time":"2025-03-01T12:00:00.000007Z"}'
    ).encode()
    assert entry.canonical() == expected
    # UTF-8 as such, not \\u escapes.
    assert "é".encode() in entry.canonical()
    assert b"\\u" not in entry.canonical()


def test_absent_people_and_targets_are_written_as_null() -> None:
    entry = AuditEntry(time=WHEN, member=None, action="tls.refused", outcome=Outcome.REFUSED)
    body = json.loads(entry.canonical())
    assert body == {
        "time": "2025-03-01T12:00:00.000000Z",
        "member": None,
        "officer": None,
        "action": "tls.refused",
        "target": None,
        "outcome": "refused",
        "detail": {},
    }


def test_detail_order_does_not_change_the_bytes() -> None:
    one = AuditEntry(WHEN, "gs", "member.add", "ok", detail={"a": 1, "b": "x", "c": True})
    other = AuditEntry(WHEN, "gs", "member.add", "ok", detail={"c": True, "b": "x", "a": 1})
    assert one.canonical() == other.canonical()


@pytest.mark.parametrize("hours", [-11, -5, 1, 2, 5.5, 14])
def test_times_in_other_zones_are_written_in_utc(hours: float) -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=hours)))
    entry = AuditEntry(local, "ncb-in", "enquiry.dna", Outcome.NO_HIT)
    assert b'"time":"2025-03-01T12:00:00.000000Z"' in entry.canonical()
    assert entry.canonical() == AuditEntry(WHEN, "ncb-in", "enquiry.dna", "no-hit").canonical()
    back = AuditEntry.from_canonical(entry.canonical())
    assert back.time == WHEN
    assert back.time.utcoffset() == timedelta(0)


# Names of people and actions come from everywhere; keep every script but
# surrogates (which UTF-8 cannot carry).
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
optional_texts = st.none() | texts
detail_values = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | texts
aware_times = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
    ),
)
entries = st.builds(
    AuditEntry,
    time=aware_times,
    member=optional_texts,
    action=texts,
    outcome=st.sampled_from(["ok", "refused", "hit", "no-hit", "failed"]),
    officer=optional_texts,
    target=optional_texts,
    detail=st.dictionaries(texts, detail_values, max_size=5),
)


@given(entries)
def test_canonical_round_trips(entry: AuditEntry) -> None:
    data = entry.canonical()
    back = AuditEntry.from_canonical(data)
    assert back == entry
    assert back.time.tzinfo is UTC
    assert back.canonical() == data
    assert dict(back.detail) == dict(entry.detail)
    # Booleans stay booleans, not 0 and 1.
    for key, value in entry.detail.items():
        assert type(back.detail[key]) is type(value)


@given(entries)
def test_canonical_bytes_are_compact_sorted_utf8_json(entry: AuditEntry) -> None:
    data = entry.canonical()
    text = data.decode("utf-8")
    body = json.loads(text)
    assert list(body) == sorted(body)
    assert list(body["detail"]) == sorted(body["detail"])
    # Re-encoding the parsed body compactly gives the same bytes: no stray spaces.
    assert json.dumps(body, separators=(",", ":"), ensure_ascii=False) == text


@given(entries, entries)
def test_different_entries_have_different_bytes(a: AuditEntry, b: AuditEntry) -> None:
    if a != b:
        assert a.canonical() != b.canonical()


# --- tree heads ---------------------------------------------------------------------


def test_tree_head_layout() -> None:
    root = bytes(range(32))
    data = tree_head_bytes(3, 1_700_000_000_123, root)
    assert data == LABEL + bytes(7) + b"\x03" + (1_700_000_000_123).to_bytes(8, "big") + root
    assert len(data) == 23 + 8 + 8 + 32


@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
)
def test_tree_head_fields_read_back(size: int, timestamp_ms: int, root: bytes) -> None:
    head = SignedTreeHead(size, timestamp_ms, root, signature=b"\x00" * 64)
    data = head.signed_bytes()
    assert data == tree_head_bytes(size, timestamp_ms, root)
    assert data.startswith(LABEL)
    assert struct.unpack(">QQ", data[len(LABEL) : len(LABEL) + 16]) == (size, timestamp_ms)
    assert data[len(LABEL) + 16 :] == root

"""The record repository keeps one contract on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from policenet.domain.envelope import Envelope, Mode, Restrictions
from policenet.store.ports import PutOutcome, RecordPut, Store

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
REG = "documents"


def _put(key: str, status: str = "lost", owner: str = "ncb-us", **envelope: object) -> RecordPut:
    return RecordPut(
        key=key,
        payload={"number": key.rsplit(":", 1)[-1], "status": status, "remarks": "élan ü"},
        envelope=Envelope(owner=owner, created=T0, **envelope),  # type: ignore[arg-type]
    )


def test_put_is_idempotent_and_changes_are_logged_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        first = uow.records.put_many(REG, [_put("USA:passport:A1"), _put("USA:passport:A2")], T0)
    assert first == [PutOutcome.ADDED, PutOutcome.ADDED]
    later = T0 + timedelta(hours=1)
    with store.unit_of_work() as uow:
        again = uow.records.put_many(
            REG, [_put("USA:passport:A1"), _put("USA:passport:A2", status="revoked")], later
        )
        changes = uow.records.changes(REG, 0, 100)
        stored = uow.records.get_many(REG, ["USA:passport:A1", "USA:passport:A2", "nope"])
    assert again == [PutOutcome.UNCHANGED, PutOutcome.CHANGED]
    assert [(c.key, c.removed) for c in changes] == [
        ("USA:passport:A1", False),
        ("USA:passport:A2", False),
        ("USA:passport:A2", False),
    ]
    assert [c.seq for c in changes] == sorted({c.seq for c in changes})
    assert set(stored) == {"USA:passport:A1", "USA:passport:A2"}
    changed = stored["USA:passport:A2"]
    assert changed.payload["status"] == "revoked"
    assert changed.payload["remarks"] == "élan ü"
    assert changed.envelope.created == T0, "a changed record keeps its first creation time"
    assert changed.updated == later


def test_envelope_round_trips(store: Store) -> None:
    envelope = {
        "expires": T0 + timedelta(days=3650),
        "review_due": T0 + timedelta(days=365),
        "mode": Mode.REFERENCE_ONLY,
        "restrictions": Restrictions(
            allow_countries=frozenset({"FR", "GB"}), deny_members=frozenset({"us-nypd"})
        ),
        "caveats": "do not disclose to the holder",
    }
    with store.unit_of_work() as uow:
        uow.records.put_many(REG, [_put("USA:passport:B1", **envelope)], T0)
    with store.unit_of_work() as uow:
        got = uow.records.get_many(REG, ["USA:passport:B1"])["USA:passport:B1"].envelope
    assert got == Envelope(owner="ncb-us", created=T0, **envelope)  # type: ignore[arg-type]


def test_remove_reports_what_was_there_and_logs_it(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.records.put_many(REG, [_put("USA:passport:C1")], T0)
    with store.unit_of_work() as uow:
        assert uow.records.remove_many(REG, ["USA:passport:C1", "USA:passport:C9"], T0) == [
            True,
            False,
        ]
        assert uow.records.get_many(REG, ["USA:passport:C1"]) == {}
        assert uow.records.changes(REG, 0, 10)[-1].removed is True
        assert uow.records.count(REG) == 0


def test_keys_page_in_order_and_registers_are_apart(store: Store) -> None:
    keys = [f"USA:passport:K{i:03d}" for i in range(25)]
    with store.unit_of_work() as uow:
        uow.records.put_many(REG, [_put(k) for k in reversed(keys)], T0)
        uow.records.put_many("persons", [_put("p-1")], T0)
    pages: list[str] = []
    after = ""
    with store.unit_of_work() as uow:
        while page := uow.records.keys(REG, after, 10):
            pages.extend(page)
            after = page[-1]
        assert uow.records.count(REG) == 25
        assert uow.records.count("persons") == 1
        assert uow.records.last_change("persons") > uow.records.last_change(REG)
        assert [c.key for c in uow.records.changes("persons", 0, 10)] == ["p-1"]
    assert pages == keys


def test_a_rolled_back_put_leaves_neither_record_nor_change(store: Store) -> None:
    try:
        with store.unit_of_work() as uow:
            uow.records.put_many(REG, [_put("USA:passport:R1")], T0)
            raise RuntimeError("crash mid-load")
    except RuntimeError:
        pass
    with store.unit_of_work() as uow:
        assert uow.records.count(REG) == 0
        assert uow.records.last_change(REG) == 0


def test_a_batch_larger_than_one_query_chunk(store: Store) -> None:
    keys = [f"USA:passport:N{i:05d}" for i in range(1200)]
    with store.unit_of_work() as uow:
        assert set(uow.records.put_many(REG, [_put(k) for k in keys], T0)) == {PutOutcome.ADDED}
    with store.unit_of_work() as uow:
        assert len(uow.records.get_many(REG, keys)) == 1200
        assert set(uow.records.put_many(REG, [_put(k) for k in keys], T0)) == {PutOutcome.UNCHANGED}
        assert uow.records.remove_many(REG, keys, T0).count(True) == 1200

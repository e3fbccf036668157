"""Retention at the hub over a MemoryStore: reminders, removal on schedule, extensions.

The network (codes as the hub would assign them):

==========================  ======  =======  ======================
code                        kind    country  notes
==========================  ======  =======  ======================
gs                          gs      -
ncb-us                      ncb     US       owns records itself
us-nypd                     agency  US       owns records
us-cbp                      agency  US       a sibling of the NYPD
ncb-gb                      ncb     GB       another country
==========================  ======  =======  ======================
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.envelope import Envelope
from policenet.domain.events import Event
from policenet.domain.members import Member, MemberKind
from policenet.domain.registers import RegisterName
from policenet.errors import InvalidField, NotFound
from policenet.hub.caller import Caller
from policenet.hub.retention import due_for, extend, purge, remind
from policenet.security.auditlog import AuditLog
from policenet.store.memory import MemoryStore
from policenet.store.ports import RecordPut, StoredRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOCS = RegisterName.DOCUMENTS
NOTICE = {r: timedelta(days=183) for r in RegisterName}
REVIEW_NOTICE = timedelta(days=30)
GRACE = timedelta(days=30)
DAY = timedelta(days=1)

MEMBERS = (
    Member("gs", MemberKind.GENERAL_SECRETARIAT, "General Secretariat", None),
    Member("ncb-us", MemberKind.NCB, "NCB Washington", "US"),
    Member("us-nypd", MemberKind.AGENCY, "NYPD", "US", parent="ncb-us"),
    Member("us-cbp", MemberKind.AGENCY, "CBP", "US", parent="ncb-us"),
    Member("ncb-gb", MemberKind.NCB, "NCB London", "GB"),
)
BY_CODE = {m.code: m for m in MEMBERS}


class World:
    """A MemoryStore with the members above, an audit log and helpers to read it back."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        key = Ed25519PrivateKey.generate()
        self.audit = AuditLog(key, key.public_key())
        with self.store.unit_of_work() as uow:
            for m in MEMBERS:
                uow.members.add(m)

    def put(
        self,
        key: str,
        owner: str,
        *,
        expires: datetime | None = None,
        review_due: datetime | None = None,
        created: datetime = T0 - timedelta(days=400),
    ) -> None:
        """Report (or re-report) a record; a new one is stored as created at ``created``."""
        envelope = Envelope(owner=owner, created=created, expires=expires, review_due=review_due)
        with self.store.unit_of_work() as uow:
            uow.records.put_many(DOCS.value, [RecordPut(key, {"number": key}, envelope)], created)

    def record(self, key: str) -> StoredRecord | None:
        with self.store.unit_of_work() as uow:
            return uow.records.get_many(DOCS.value, [key]).get(key)

    def remind(self, now: datetime) -> int:
        with self.store.unit_of_work() as uow:
            return remind(uow, now, NOTICE, REVIEW_NOTICE)

    def purge(self, now: datetime) -> int:
        with self.store.unit_of_work() as uow:
            return purge(uow, self.audit, now, GRACE)

    def extend(
        self, who: str, key: str, expires: date, reason: str, now: datetime = T0
    ) -> StoredRecord:
        with self.store.unit_of_work() as uow:
            return extend(uow, self.audit, caller(who), DOCS, key, expires, reason, now)

    def due(self, who: str, within: timedelta, now: datetime = T0) -> list[str]:
        with self.store.unit_of_work() as uow:
            return [r.key for r in due_for(uow, caller(who), DOCS, within, now)]

    def events(self, kind: str | None = None) -> list[Event]:
        with self.store.unit_of_work() as uow:
            found = {e.id: e for m in MEMBERS for e in uow.events.after(m.code, 0, 10_000)}
        return [e for _, e in sorted(found.items()) if kind is None or e.kind == kind]

    def told(self, kind: str) -> list[tuple[str, str]]:
        """(recipient, record key) of each event of ``kind``, in order."""
        return [(e.recipient, str(e.payload["key"])) for e in self.events(kind)]

    def audit_entries(self) -> list[AuditEntry]:
        with self.store.unit_of_work() as uow:
            stored = uow.audit.entries(0, uow.audit.size())
        return [AuditEntry.from_canonical(e.canonical) for e in stored]


def caller(code: str, officer: str | None = "det.garcia") -> Caller:
    return Caller(member=BY_CODE[code], officer=officer, serial=1)


@pytest.fixture
def world() -> Iterator[World]:
    yield World()


# --- reminders ----------------------------------------------------------------------------


def test_the_owner_and_its_ncb_are_reminded_of_an_expiry_once(world: World) -> None:
    world.put("A", "us-nypd", expires=T0 + timedelta(days=100))
    world.put("B", "ncb-us", expires=T0 + timedelta(days=150))
    world.put("FAR", "us-nypd", expires=T0 + timedelta(days=200))
    world.put("NEVER", "us-nypd")
    assert world.remind(T0) == 2
    assert sorted(world.told("record.expiry-reminder")) == [
        ("ncb-us", "A"),
        ("ncb-us", "B"),
        ("us-nypd", "A"),
    ]
    (reminder,) = [e for e in world.events("record.expiry-reminder") if e.recipient == "us-nypd"]
    assert reminder.payload["expires"] == (T0 + timedelta(days=100)).isoformat()
    assert reminder.payload["owner"] == "us-nypd"
    assert reminder.payload["register"] == "documents"
    # the next runs send nothing more for the same date
    assert world.remind(T0 + timedelta(hours=1)) == 0
    assert world.remind(T0 + timedelta(days=10)) == 0
    assert len(world.events("record.expiry-reminder")) == 3


def test_a_record_is_reminded_of_once_it_comes_within_the_notice(world: World) -> None:
    world.put("A", "us-nypd", expires=T0 + timedelta(days=200))
    assert world.remind(T0) == 0
    assert world.remind(T0 + timedelta(days=16)) == 0  # 184 days ahead
    assert world.remind(T0 + timedelta(days=18)) == 1  # 182 days ahead
    assert world.told("record.expiry-reminder") == [("ncb-us", "A"), ("us-nypd", "A")]


def test_an_extension_brings_a_new_reminder_for_the_new_date(world: World) -> None:
    world.put("A", "us-nypd", expires=T0 + timedelta(days=100))
    world.remind(T0)
    new_date = (T0 + timedelta(days=150)).date()
    world.extend("us-nypd", "A", new_date, "suspect still at large")
    assert world.remind(T0 + timedelta(hours=1)) == 1
    reminders = [e for e in world.events("record.expiry-reminder") if e.recipient == "us-nypd"]
    assert [e.payload["expires"][:10] for e in reminders] == [
        (T0 + timedelta(days=100)).date().isoformat(),
        new_date.isoformat(),
    ]
    assert world.remind(T0 + timedelta(hours=2)) == 0


def test_review_reminders_go_out_once_per_review_date(world: World) -> None:
    world.put("A", "us-cbp", review_due=T0 + timedelta(days=20))
    world.put("LATER", "us-cbp", review_due=T0 + timedelta(days=40))
    assert world.remind(T0) == 1
    assert world.told("record.review-reminder") == [("ncb-us", "A"), ("us-cbp", "A")]
    assert world.remind(T0 + timedelta(hours=1)) == 0
    # the owner moves the review date (reloads the record with another review date)
    world.put("A", "us-cbp", review_due=T0 + timedelta(days=25))
    assert world.remind(T0 + timedelta(hours=2)) == 1
    assert world.told("record.review-reminder")[-2:] == [("ncb-us", "A"), ("us-cbp", "A")]
    # and the other record when its turn comes
    assert world.remind(T0 + timedelta(days=11)) == 1
    assert world.told("record.review-reminder")[-1] == ("us-cbp", "LATER")


def test_expiry_and_review_reminders_are_counted_apart(world: World) -> None:
    world.put("A", "ncb-us", expires=T0 + 10 * DAY, review_due=T0 + 5 * DAY)
    assert world.remind(T0) == 2
    assert world.told("record.expiry-reminder") == [("ncb-us", "A")]
    assert world.told("record.review-reminder") == [("ncb-us", "A")]
    assert world.remind(T0 + DAY) == 0


def test_reminders_change_nothing_when_the_transaction_fails(world: World) -> None:
    world.put("A", "us-nypd", expires=T0 + timedelta(days=100))
    with pytest.raises(RuntimeError), world.store.unit_of_work() as uow:
        remind(uow, T0, NOTICE, REVIEW_NOTICE)
        raise RuntimeError("the database went away")
    assert world.events("record.expiry-reminder") == []
    assert world.remind(T0) == 1  # still due, so sent now


# --- removal on schedule ---------------------------------------------------------------------


def test_purge_removes_only_records_expired_longer_than_the_grace(world: World) -> None:
    now = T0 + timedelta(days=400)
    world.put("LONG-GONE", "us-nypd", expires=now - GRACE - DAY)
    world.put("JUST-PAST", "ncb-us", expires=now - GRACE - timedelta(seconds=1))
    world.put("AT-GRACE", "us-nypd", expires=now - GRACE)
    world.put("RECENT", "us-nypd", expires=now - DAY)
    world.put("CURRENT", "us-nypd", expires=now + DAY)
    world.put("NEVER", "us-nypd")
    assert world.purge(now) == 2
    for key in ("LONG-GONE", "JUST-PAST"):
        assert world.record(key) is None, key
    for key in ("AT-GRACE", "RECENT", "CURRENT", "NEVER"):
        assert world.record(key) is not None, key
    assert sorted(world.told("record.removed")) == [
        ("ncb-us", "JUST-PAST"),
        ("ncb-us", "LONG-GONE"),
        ("us-nypd", "LONG-GONE"),
    ]
    assert {e.payload["reason"] for e in world.events("record.removed")} == {"expired"}
    (audited,) = [e for e in world.audit_entries() if e.action == "records.documents.purge"]
    assert audited.member == "hub" and audited.outcome == Outcome.OK
    assert audited.detail == {"removed": 2, "grace_days": 30}
    # removals are in the change feed, so every index drops the records
    with world.store.unit_of_work() as uow:
        removed = [c.key for c in uow.records.changes(DOCS.value, 0, 100) if c.removed]
    assert sorted(removed) == ["JUST-PAST", "LONG-GONE"]


def test_purge_with_nothing_due_changes_nothing_and_audits_nothing(world: World) -> None:
    world.put("CURRENT", "us-nypd", expires=T0 + DAY)
    before = len(world.audit_entries())
    assert world.purge(T0) == 0
    assert len(world.audit_entries()) == before
    assert world.events("record.removed") == []


def test_purge_a_second_time_removes_nothing_more(world: World) -> None:
    world.put("OLD", "us-nypd", expires=T0 - 60 * DAY)
    assert world.purge(T0) == 1
    assert world.purge(T0 + DAY) == 0
    assert len(world.events("record.removed")) == 2


# --- extensions ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["us-nypd", "ncb-us"])
def test_the_owner_side_extends_with_a_reason_and_the_review_moves_a_year(
    world: World, who: str
) -> None:
    world.put("A", "us-nypd", expires=T0 + 10 * DAY, review_due=T0 + 5 * DAY)
    now = T0 + timedelta(hours=3)
    extended = world.extend(who, "A", date(2027, 6, 30), "  investigation continues  ", now)
    assert extended.envelope.expires == datetime(2027, 6, 30, tzinfo=UTC)
    assert extended.envelope.review_due == now + timedelta(days=365)
    assert extended.envelope.owner == "us-nypd"  # the NCB does not take the record over
    stored = world.record("A")
    assert stored is not None
    assert stored.envelope == extended.envelope
    assert stored.payload == {"number": "A"}
    (audited,) = [e for e in world.audit_entries() if e.action == "record.documents.extend"]
    assert (audited.member, audited.officer, audited.target) == (who, "det.garcia", "A")
    assert audited.outcome == Outcome.OK
    assert audited.detail == {"expires": "2027-06-30", "reason": "investigation continues"}


@pytest.mark.parametrize("who", ["us-cbp", "ncb-gb", "gs"])
def test_anyone_else_is_told_there_is_no_such_record(world: World, who: str) -> None:
    world.put("A", "us-nypd", expires=T0 + 10 * DAY)
    with pytest.raises(NotFound) as raised:
        world.extend(who, "A", date(2027, 1, 1), "because")
    with pytest.raises(NotFound) as absent:
        world.extend(who, "NO-SUCH-KEY", date(2027, 1, 1), "because")
    # the same kind of answer whether the record exists or not (no existence leak)
    assert type(raised.value) is type(absent.value)
    stored = world.record("A")
    assert stored is not None and stored.envelope.expires == T0 + 10 * DAY
    assert not [e for e in world.audit_entries() if e.action == "record.documents.extend"]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_an_extension_needs_a_reason_of_at_most_500_characters(world: World, reason: str) -> None:
    world.put("A", "us-nypd", expires=T0 + 10 * DAY)
    with pytest.raises(InvalidField) as raised:
        world.extend("us-nypd", "A", date(2027, 1, 1), reason)
    assert raised.value.field == "reason"


def test_a_reason_of_500_characters_is_enough(world: World) -> None:
    world.put("A", "us-nypd", expires=T0 + 10 * DAY)
    world.extend("us-nypd", "A", date(2027, 1, 1), "x" * 500)
    stored = world.record("A")
    assert stored is not None and stored.envelope.expires == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_new_expiry_must_be_later_than_the_current_one(world: World) -> None:
    current = datetime(2026, 9, 1, 13, 0, tzinfo=UTC)
    world.put("A", "us-nypd", expires=current)
    for earlier_or_same in (date(2026, 8, 1), date(2026, 9, 1)):
        with pytest.raises(InvalidField) as raised:
            world.extend("us-nypd", "A", earlier_or_same, "because")
        assert raised.value.field == "expires"
        assert "2026-09-01" in raised.value.reason
    world.extend("us-nypd", "A", date(2026, 9, 2), "because")
    stored = world.record("A")
    assert stored is not None and stored.envelope.expires == datetime(2026, 9, 2, tzinfo=UTC)


def test_the_new_expiry_must_be_in_the_future(world: World) -> None:
    # the record expired (not yet removed): extending it into the past is refused
    world.put("A", "us-nypd", expires=T0 - 10 * DAY)
    for past in (T0.date() - 5 * DAY, T0.date()):
        with pytest.raises(InvalidField) as raised:
            world.extend("us-nypd", "A", past, "found again")
        assert raised.value.field == "expires"
    world.extend("us-nypd", "A", T0.date() + DAY, "found again")
    stored = world.record("A")
    assert stored is not None and not stored.envelope.expired(T0)


def test_extending_a_record_that_never_expires_is_refused(world: World) -> None:
    world.put("FOREVER", "us-nypd")
    with pytest.raises(InvalidField):
        world.extend("us-nypd", "FOREVER", date(2027, 1, 1), "keep it")


@settings(max_examples=40, deadline=None)
@given(
    days_ahead=st.integers(min_value=-30, max_value=400),
    new_in_days=st.integers(min_value=-30, max_value=800),
)
def test_an_extension_is_accepted_exactly_when_it_is_later_and_in_the_future(
    days_ahead: int, new_in_days: int
) -> None:
    world = World()
    current = T0 + days_ahead * DAY
    world.put("A", "us-nypd", expires=current, created=T0 - 1000 * DAY)
    new_date = T0.date() + new_in_days * DAY
    new_expiry = datetime.combine(new_date, datetime.min.time(), tzinfo=UTC)
    should = new_expiry > T0 and new_expiry > current
    try:
        world.extend("us-nypd", "A", new_date, "because")
    except InvalidField as exc:
        assert not should, exc.message
        assert exc.field == "expires"
        stored = world.record("A")
        assert stored is not None and stored.envelope.expires == current
    else:
        assert should
        stored = world.record("A")
        assert stored is not None and stored.envelope.expires == new_expiry


# --- the owner's list of records due ------------------------------------------------------------


def test_due_lists_the_callers_records_and_its_agencies_within_the_horizon(world: World) -> None:
    world.put("NYPD-EXPIRES", "us-nypd", expires=T0 + 20 * DAY)
    world.put("NYPD-REVIEW", "us-nypd", review_due=T0 + 10 * DAY)
    world.put("NYPD-FAR", "us-nypd", expires=T0 + 400 * DAY, review_due=T0 + 300 * DAY)
    world.put("CBP-EXPIRES", "us-cbp", expires=T0 + 5 * DAY)
    world.put("NCB-EXPIRES", "ncb-us", expires=T0 + 30 * DAY)
    world.put("GB-EXPIRES", "ncb-gb", expires=T0 + DAY)
    world.put("NYPD-NEVER", "us-nypd")
    within = timedelta(days=60)
    # an NCB sees its own and its agencies' records, soonest first
    assert world.due("ncb-us", within) == [
        "CBP-EXPIRES",
        "NYPD-REVIEW",
        "NYPD-EXPIRES",
        "NCB-EXPIRES",
    ]
    # an agency only its own; not its sibling's, not its NCB's
    assert world.due("us-nypd", within) == ["NYPD-REVIEW", "NYPD-EXPIRES"]
    assert world.due("us-cbp", within) == ["CBP-EXPIRES"]
    assert world.due("ncb-gb", within) == ["GB-EXPIRES"]
    assert world.due("gs", within) == []
    # a longer horizon brings the far record in
    assert "NYPD-FAR" in world.due("us-nypd", timedelta(days=320))
    assert world.due("us-nypd", timedelta(0)) == []


def test_due_lists_records_already_reminded_too(world: World) -> None:
    world.put("A", "us-nypd", expires=T0 + 20 * DAY)
    world.remind(T0)
    assert world.due("us-nypd", timedelta(days=60)) == ["A"]


def test_due_refuses_a_horizon_beyond_ten_years(world: World) -> None:
    with pytest.raises(InvalidField):
        world.due("ncb-us", timedelta(days=3661))
    assert world.due("ncb-us", timedelta(days=3660)) == []

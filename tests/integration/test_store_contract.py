"""The store contract (policenet.store.ports), run on the in-memory fake, SQLite and PostgreSQL.

Each test runs once per backend (ids ``memory``, ``sqlite``, ``postgresql``),
so the fake used by unit tests is held to the behaviour of the real adapters.
Tests that use the ``store_url`` fixture are about the SQL adapter alone.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policenet.domain.audit import SignedTreeHead
from policenet.domain.cases import Case, CaseState, DeadlinePolicy, case_number, open_case
from policenet.domain.certificates import CertificatePurpose, IssuedCertificate
from policenet.domain.events import BROADCAST, Event
from policenet.domain.members import Member, MemberKind, MemberStatus
from policenet.domain.officers import Officer, Role
from policenet.domain.registers import RegisterName
from policenet.errors import Conflict, InvalidField, NotFound
from policenet.store.database import open_store
from policenet.store.memory import MemoryStore
from policenet.store.ports import (
    NewEvent,
    OfficerSession,
    Store,
    StoredAuditEntry,
    SystemToken,
    TimelineEntry,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1), "CET")
HYPOTHESIS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Discard(Exception):
    """Raised to end a unit of work without keeping it."""


def gs() -> Member:
    return Member("gs", MemberKind.GENERAL_SECRETARIAT, "General Secretariat", country=None)


def ncb(country: str) -> Member:
    return Member(f"ncb-{country.lower()}", MemberKind.NCB, f"NCB {country}", country=country)


def agency() -> Member:
    return Member(
        code="gb-metropolitan-police",
        kind=MemberKind.AGENCY,
        name="Metropolitan Police — London",
        country="GB",
        parent="ncb-gb",
        registers=frozenset({RegisterName.DOCUMENTS, RegisterName.PERSONS}),
        copy_enquiries_to_ncb=True,
    )


def certificate(serial: int, member: str = "ncb-gb", days: int = 0) -> IssuedCertificate:
    return IssuedCertificate(
        serial=serial,
        member=member,
        purpose=CertificatePurpose.MEMBER,
        fingerprint=f"{serial:064x}"[-64:],
        not_before=T0 + timedelta(days=days),
        not_after=T0 + timedelta(days=days + 365),
        pem="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    )


def officer(username: str = "pc.jones") -> Officer:
    return Officer(
        username=username,
        display_name="PC Jones",
        role=Role.OFFICER,
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        totp_secret="JBSWY3DPEHPK3PXP",
        created=T0,
    )


def session(token_hash: str, username: str = "pc.jones") -> OfficerSession:
    return OfficerSession(token_hash, username, T0, T0, csrf_token=f"csrf-{token_hash}")


# --- members ---------------------------------------------------------------------------


def test_members_come_back_as_added_sorted_by_code(store: Store) -> None:
    added = [agency(), ncb("GB"), gs(), ncb("US")]
    with store.unit_of_work() as uow:
        for member in added:
            uow.members.add(member)
    with store.unit_of_work() as uow:
        assert uow.members.list() == sorted(added, key=lambda m: m.code)
        assert uow.members.get("gb-metropolitan-police") == agency()
        assert uow.members.get("ncb-fr") is None


def test_adding_a_member_code_twice_conflicts_and_keeps_the_first(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.members.add(ncb("GB"))
    with store.unit_of_work() as uow:
        with pytest.raises(Conflict, match="ncb-gb"):
            uow.members.add(replace(ncb("GB"), name="Impostor"))
        # The transaction is still usable after the conflict (PostgreSQL aborts on errors).
        uow.members.add(ncb("FR"))
    with store.unit_of_work() as uow:
        assert uow.members.get("ncb-gb") == ncb("GB")
        assert uow.members.get("ncb-fr") == ncb("FR")


def test_updating_a_member_replaces_every_field(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.members.add(agency())
    changed = replace(
        agency(),
        name="Met",
        registers=frozenset(),
        status=MemberStatus.REVOKED,
        copy_enquiries_to_ncb=False,
    )
    with store.unit_of_work() as uow:
        uow.members.update(changed)
    with store.unit_of_work() as uow:
        assert uow.members.get(agency().code) == changed


def test_updating_an_unknown_member_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="ncb-zz"), store.unit_of_work() as uow:
        uow.members.update(ncb("ZZ"))


member_strategy = st.builds(
    Member,
    code=st.from_regex(r"[a-z0-9][a-z0-9-]{1,62}", fullmatch=True),
    kind=st.sampled_from(MemberKind),
    name=st.text(st.characters(exclude_categories=("C",)), min_size=1, max_size=200),
    country=st.sampled_from([None, "GB", "US", "JP"]),
    parent=st.one_of(st.none(), st.just("ncb-gb")),
    registers=st.frozensets(st.sampled_from(RegisterName)),
    status=st.sampled_from(MemberStatus),
    copy_enquiries_to_ncb=st.booleans(),
)


@HYPOTHESIS
@given(member=member_strategy)
def test_any_member_round_trips_and_a_discarded_unit_keeps_nothing(
    store: Store, member: Member
) -> None:
    with contextlib.suppress(Discard), store.unit_of_work() as uow:
        uow.members.add(member)
        assert uow.members.get(member.code) == member
        raise Discard
    with store.unit_of_work() as uow:
        assert uow.members.get(member.code) is None


# --- reading ---------------------------------------------------------------------------


def test_reading_sees_what_was_committed_and_keeps_nothing_written(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.members.add(ncb("GB"))
    with store.reading() as view:
        assert view.members.get("ncb-gb") == ncb("GB")
    # a programming error: the SQL store refuses it (the driver's error), the fake discards it
    with contextlib.suppress(Exception), store.reading() as view:
        view.members.add(ncb("FR"))
    with store.reading() as view:
        assert [m.code for m in view.members.list()] == ["ncb-gb"]


def test_reading_neither_waits_for_a_unit_of_work_nor_holds_one_up(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.members.add(ncb("GB"))
    writing, read_done = threading.Event(), threading.Event()
    seen: list[list[str]] = []

    def writer() -> None:
        with store.unit_of_work() as uow:
            uow.members.add(ncb("FR"))
            writing.set()
            # the unit stays open until the reader has read (or a minute has gone by)
            read_done.wait(60)

    thread = threading.Thread(target=writer)
    thread.start()
    assert writing.wait(60)
    with store.reading() as view:
        seen.append([m.code for m in view.members.list()])
    read_done.set()
    thread.join(60)
    assert seen == [["ncb-gb"]]  # read while the writer held its unit: the committed state
    with store.reading() as view:
        assert view.members.get("ncb-fr") == ncb("FR")
        # an open reading does not keep the next writer out, and keeps its view
        with store.unit_of_work() as uow:
            uow.members.add(ncb("JP"))
        assert [m.code for m in view.members.list()] == ["ncb-fr", "ncb-gb"]
    with store.reading() as view:
        assert [m.code for m in view.members.list()] == ["ncb-fr", "ncb-gb", "ncb-jp"]


# --- certificates ----------------------------------------------------------------------


def test_certificates_by_serial_and_by_member_in_start_order(store: Store) -> None:
    # An X.509 serial can be 159 bits (cryptography's random_serial_number).
    big, small, other = 2**159 - 1, 7, 2**64 + 3
    with store.unit_of_work() as uow:
        uow.certificates.add(certificate(big, days=30))
        uow.certificates.add(certificate(small, days=0))
        uow.certificates.add(certificate(other, member="ncb-fr"))
    with store.unit_of_work() as uow:
        assert uow.certificates.get(big) == certificate(big, days=30)
        assert uow.certificates.get(12345) is None
        assert uow.certificates.for_member("ncb-gb") == [
            certificate(small, days=0),
            certificate(big, days=30),
        ]
        assert uow.certificates.for_member("ncb-us") == []
        assert uow.certificates.revoked() == []


def test_a_certificate_serial_is_added_once(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.certificates.add(certificate(99))
    with pytest.raises(Conflict, match="99"), store.unit_of_work() as uow:
        uow.certificates.add(certificate(99, member="ncb-fr"))
    with store.unit_of_work() as uow:
        assert [c.member for c in uow.certificates.for_member("ncb-gb")] == ["ncb-gb"]


def test_revocation_is_recorded_once_and_listed(store: Store) -> None:
    with store.unit_of_work() as uow:
        for serial in (3, 1, 2):
            uow.certificates.add(certificate(serial))
    first = T0 + timedelta(days=1)
    with store.unit_of_work() as uow:
        uow.certificates.revoke(3, first, "keyCompromise")
        uow.certificates.revoke(1, first, "superseded")
    with store.unit_of_work() as uow:
        uow.certificates.revoke(3, first + timedelta(days=1), "cessationOfOperation")
    with store.unit_of_work() as uow:
        revoked = sorted(uow.certificates.revoked(), key=lambda c: c.serial)
        assert [(c.serial, c.revoked_at, c.revocation_reason) for c in revoked] == [
            (1, first, "superseded"),
            (3, first, "keyCompromise"),
        ]
        cert = uow.certificates.get(3)
        assert cert is not None
        assert not cert.valid_at(T0 + timedelta(days=2))
        assert uow.certificates.get(2) == certificate(2)


def test_revoking_an_unknown_certificate_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="404"), store.unit_of_work() as uow:
        uow.certificates.revoke(404, T0, "superseded")


# --- audit log -------------------------------------------------------------------------


def test_audit_entries_are_numbered_from_zero_and_read_back_by_range(store: Store) -> None:
    # Bytes that are not UTF-8 and contain NUL must survive unchanged.
    payloads = [bytes([i, 0, 255, i]) + b'{"a":1}' for i in range(5)]
    hashes = [bytes([i]) * 32 for i in range(5)]
    with store.unit_of_work() as uow:
        assert uow.audit.size() == 0
        assert [uow.audit.append(payloads[i], hashes[i]) for i in range(3)] == [0, 1, 2]
    with store.unit_of_work() as uow:
        assert [uow.audit.append(payloads[i], hashes[i]) for i in (3, 4)] == [3, 4]
    with store.unit_of_work() as uow:
        assert uow.audit.size() == 5
        assert uow.audit.entries(1, 3) == [
            StoredAuditEntry(1, payloads[1], hashes[1]),
            StoredAuditEntry(2, payloads[2], hashes[2]),
        ]
        assert uow.audit.entries(0, 100) == [
            StoredAuditEntry(i, payloads[i], hashes[i]) for i in range(5)
        ]
        assert uow.audit.entries(2, 2) == []
        assert uow.audit.entries(7, 9) == []
        assert uow.audit.leaf_hashes(3) == hashes[3:]
        assert uow.audit.leaf_hashes(0) == hashes
        assert uow.audit.leaf_hashes(5) == []


def test_a_rolled_back_append_leaves_no_gap(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.audit.append(b"first", b"\x01" * 32)
    with contextlib.suppress(Discard), store.unit_of_work() as uow:
        assert uow.audit.append(b"lost", b"\x02" * 32) == 1
        raise Discard
    with store.unit_of_work() as uow:
        assert uow.audit.append(b"second", b"\x03" * 32) == 1
    with store.unit_of_work() as uow:
        assert [e.canonical for e in uow.audit.entries(0, 10)] == [b"first", b"second"]


def test_tree_heads_come_back_by_size_then_time(store: Store) -> None:
    heads = [
        SignedTreeHead(5, 2000, b"\x05" * 32, b"\xaa" * 64),
        SignedTreeHead(2, 3000, b"\x02" * 32, b"\xbb" * 64),
        SignedTreeHead(5, 1000, b"\x15" * 32, b"\xcc" * 64),
        SignedTreeHead(0, 500, b"\x00" * 32, b"\xdd" * 64),
    ]
    with store.unit_of_work() as uow:
        assert uow.audit.tree_heads() == []
        for head in heads:
            uow.audit.add_tree_head(head)
    with store.unit_of_work() as uow:
        assert uow.audit.tree_heads() == [heads[3], heads[1], heads[2], heads[0]]


def test_threads_appending_at_once_get_every_number_once(store: Store) -> None:
    threads, per_thread = 4, 15
    taken: dict[int, bytes] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def appender(name: str) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                canonical = f"{name}-{i}".encode()
                with store.unit_of_work() as uow:
                    seq = uow.audit.append(canonical, b"\x00" * 32)
                with lock:
                    taken[seq] = canonical
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=appender, args=(f"t{n}",)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert sorted(taken) == list(range(threads * per_thread))
    with store.unit_of_work() as uow:
        assert {e.seq: e.canonical for e in uow.audit.entries(0, 1000)} == taken


_APPENDER = """
import json, sys
from policenet.store.database import open_store
url, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = open_store(url)
seqs = []
for i in range(count):
    with store.unit_of_work() as uow:
        seqs.append(uow.audit.append(f"{tag}-{i}".encode(), bytes(32)))
store.close()
print(json.dumps(seqs))
"""


def test_processes_appending_at_once_get_every_number_once(store_url: str) -> None:
    open_store(store_url, create=True).close()
    count = 40
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _APPENDER, store_url, tag, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("p0", "p1")
    ]
    taken: dict[int, bytes] = {}
    for tag, child in zip(("p0", "p1"), children, strict=True):
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        for i, seq in enumerate(json.loads(out)):
            assert seq not in taken
            taken[seq] = f"{tag}-{i}".encode()
    assert sorted(taken) == list(range(2 * count))
    store = open_store(store_url)
    try:
        with store.unit_of_work() as uow:
            assert {e.seq: e.canonical for e in uow.audit.entries(0, 1000)} == taken
    finally:
        store.close()


# --- events ----------------------------------------------------------------------------


def test_events_go_to_their_recipient_and_broadcasts_to_all_in_id_order(store: Store) -> None:
    plan = [
        ("ncb-gb", "member.admitted", {"code": "gb-met"}),
        (BROADCAST, "hub.notice", {"text": "maintenance at 02:00 UTC"}),
        ("ncb-fr", "member.admitted", {"code": "fr-pn"}),
        ("ncb-gb", "agency.enquiry", {"nested": {"list": [1, "two", None, True, 2.5]}}),
    ]
    with store.unit_of_work() as uow:
        assert uow.events.last_id() == 0
        made = [
            uow.events.append(r, k, p, T0 + timedelta(seconds=n))
            for n, (r, k, p) in enumerate(plan)
        ]
    ids = [e.id for e in made]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(i > 0 for i in ids)
    assert [(e.recipient, e.kind, dict(e.payload)) for e in made] == plan
    with store.unit_of_work() as uow:
        assert uow.events.last_id() == ids[-1]
        assert uow.events.after("ncb-gb", 0) == [made[0], made[1], made[3]]
        assert uow.events.after("ncb-fr", 0) == [made[1], made[2]]
        assert uow.events.after("ncb-gb", ids[1]) == [made[3]]
        assert uow.events.after("ncb-gb", 0, limit=2) == [made[0], made[1]]
        assert uow.events.after("ncb-gb", ids[-1]) == []
        assert uow.events.after("ncb-us", 0) == [made[1]]
        assert uow.events.after("ncb-gb", 0, limit=0) == []


def test_event_ids_keep_growing_across_units_of_work(store: Store) -> None:
    seen: list[int] = []
    for n in range(3):
        with store.unit_of_work() as uow:
            seen.append(uow.events.append("ncb-gb", "hub.notice", {"n": n}, T0).id)
    assert seen == sorted(seen)
    assert len(set(seen)) == 3
    with store.unit_of_work() as uow:
        assert [e.payload["n"] for e in uow.events.after("ncb-gb", 0)] == [0, 1, 2]


def test_a_reader_resuming_from_its_last_id_never_misses_an_event(store: Store) -> None:
    writers, per_writer = 3, 20
    total = writers * per_writer
    received: list[int] = []
    errors: list[BaseException] = []
    writing_done = threading.Event()

    def writer(name: str) -> None:
        try:
            for i in range(per_writer):
                with store.unit_of_work() as uow:
                    uow.events.append("ncb-gb", "hub.notice", {"w": name, "i": i}, T0)
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            last = 0
            while True:
                finished = writing_done.is_set()
                with store.unit_of_work() as uow:
                    batch = uow.events.after("ncb-gb", last, limit=7)
                if not batch and finished:
                    return
                received.extend(e.id for e in batch)
                last = batch[-1].id if batch else last
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(writers)]
    follower = threading.Thread(target=reader)
    follower.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writing_done.set()
    follower.join(timeout=60)
    assert errors == []
    with store.unit_of_work() as uow:
        every = [e.id for e in uow.events.after("ncb-gb", 0, limit=1000)]
    assert len(every) == total
    assert received == every


def test_audit_and_event_appends_in_either_order_do_not_deadlock(store: Store) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(audit_first: bool) -> None:
        try:
            start.wait()
            for i in range(10):
                with store.unit_of_work() as uow:
                    if audit_first:
                        uow.audit.append(f"a{i}".encode(), bytes(32))
                        uow.events.append("ncb-gb", "hub.notice", {"i": i}, T0)
                    else:
                        uow.events.append("ncb-gb", "hub.notice", {"i": i}, T0)
                        uow.audit.append(f"e{i}".encode(), bytes(32))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n % 2 == 0,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with store.unit_of_work() as uow:
        assert uow.audit.size() == 40
        assert len(uow.events.after("ncb-gb", 0, limit=100)) == 40


def test_a_unit_of_work_inside_another_on_one_thread_is_refused_at_once(
    store_url: str,
) -> None:
    store = open_store(store_url, create=True)
    try:
        with store.unit_of_work() as uow:
            uow.members.add(ncb("GB"))
            if store_url.startswith("sqlite"):
                # SQLite has one writer: the inner unit would wait for the outer forever
                with pytest.raises(RuntimeError, match="inside another"), store.unit_of_work():
                    pass
            with store.reading() as view:  # a reading is no unit of work
                assert view.members.get("ncb-gb") is None  # not committed yet
        with store.reading() as view:
            assert view.members.get("ncb-gb") == ncb("GB")
    finally:
        store.close()


def test_event_payload_must_be_json(store_url: str) -> None:
    store = open_store(store_url, create=True)
    try:
        with pytest.raises(InvalidField, match="payload"), store.unit_of_work() as uow:
            uow.events.append("ncb-gb", "hub.notice", {"when": T0}, T0)
        with store.unit_of_work() as uow:
            assert uow.events.last_id() == 0
    finally:
        store.close()


# --- officers, sessions, national-system tokens ----------------------------------------


def test_officers_add_update_list(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.officers.add(officer("pc.jones"))
        uow.officers.add(replace(officer("dc.ahmed"), role=Role.OPERATOR))
    locked = replace(
        officer("pc.jones"), failed_logins=0, locked_until=T0 + timedelta(minutes=10), disabled=True
    )
    with store.unit_of_work() as uow:
        uow.officers.update(locked)
    with store.unit_of_work() as uow:
        assert [o.username for o in uow.officers.list()] == ["dc.ahmed", "pc.jones"]
        assert uow.officers.get("pc.jones") == locked
        assert uow.officers.get("dc.ahmed") == replace(officer("dc.ahmed"), role=Role.OPERATOR)
        assert uow.officers.get("nobody") is None


def test_officer_conflict_and_not_found(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.officers.add(officer())
    with pytest.raises(Conflict, match=r"pc\.jones"), store.unit_of_work() as uow:
        uow.officers.add(replace(officer(), display_name="Someone else"))
    with pytest.raises(NotFound, match="ghost"), store.unit_of_work() as uow:
        uow.officers.update(officer("ghost"))
    with store.unit_of_work() as uow:
        assert uow.officers.list() == [officer()]


def test_sessions_touch_replace_and_delete(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.sessions.add(session("a"))
        uow.sessions.add(session("b"))
        uow.sessions.add(session("c", username="dc.ahmed"))
    later = T0 + timedelta(minutes=5)
    with store.unit_of_work() as uow:
        uow.sessions.touch("a", later)
        uow.sessions.touch("unknown", later)
        uow.sessions.delete("b")
        uow.sessions.delete("unknown")
    with store.unit_of_work() as uow:
        assert uow.sessions.get("a") == replace(session("a"), last_seen=later)
        assert uow.sessions.get("b") is None
        assert uow.sessions.get("unknown") is None
    with store.unit_of_work() as uow:
        uow.sessions.add(replace(session("a"), csrf_token="renewed"))
    with store.unit_of_work() as uow:
        assert uow.sessions.get("a") == replace(session("a"), csrf_token="renewed")
        uow.sessions.delete_for("pc.jones")
    with store.unit_of_work() as uow:
        assert uow.sessions.get("a") is None
        assert uow.sessions.get("c") == session("c", username="dc.ahmed")


def test_system_tokens_by_hash_by_name_and_revocation(store: Store) -> None:
    border = SystemToken("border-gates", "hash-1", T0)
    afis = SystemToken("afis", "hash-2", T0 + timedelta(hours=1))
    with store.unit_of_work() as uow:
        uow.system_tokens.add(border)
        uow.system_tokens.add(afis)
    with pytest.raises(Conflict, match="border-gates"), store.unit_of_work() as uow:
        uow.system_tokens.add(SystemToken("border-gates", "hash-3", T0))
    with pytest.raises(NotFound, match="nothing"), store.unit_of_work() as uow:
        uow.system_tokens.revoke("nothing")
    with store.unit_of_work() as uow:
        uow.system_tokens.revoke("border-gates")
    with store.unit_of_work() as uow:
        assert uow.system_tokens.list() == [afis, replace(border, revoked=True)]
        assert uow.system_tokens.get("hash-1") == replace(border, revoked=True)
        assert uow.system_tokens.get("hash-3") is None


# --- inbox -----------------------------------------------------------------------------


def test_inbox_keeps_each_event_id_once(store: Store) -> None:
    first = Event(7, "gb-met", "member.admitted", T0, {"code": "gb-met"})
    with store.unit_of_work() as uow:
        assert uow.inbox.last_id() == 0
        assert uow.inbox.store(first) is True
        assert uow.inbox.store(first) is False
    with store.unit_of_work() as uow:
        assert uow.inbox.store(replace(first, kind="hub.notice", payload={})) is False
        assert uow.inbox.store(Event(3, BROADCAST, "hub.notice", T0, {})) is True
        assert uow.inbox.store(Event(12, "gb-met", "hub.notice", T0, {"n": 1})) is True
    with store.unit_of_work() as uow:
        assert uow.inbox.last_id() == 12
        assert [e.id for e in uow.inbox.list()] == [3, 7, 12]
        assert uow.inbox.list(after_id=3, limit=1) == [first]
        assert uow.inbox.list(after_id=12) == []


# --- transactions and time -------------------------------------------------------------


def test_an_exception_rolls_back_everything_in_the_unit_of_work(store: Store) -> None:
    with pytest.raises(Discard), store.unit_of_work() as uow:
        uow.members.add(gs())
        uow.certificates.add(certificate(1))
        uow.audit.append(b"x", bytes(32))
        uow.audit.add_tree_head(SignedTreeHead(1, 1, bytes(32), bytes(64)))
        uow.events.append("ncb-gb", "hub.notice", {}, T0)
        uow.officers.add(officer())
        uow.sessions.add(session("a"))
        uow.system_tokens.add(SystemToken("afis", "h", T0))
        uow.inbox.store(Event(1, "gb-met", "hub.notice", T0, {}))
        raise Discard
    with store.unit_of_work() as uow:
        assert uow.members.list() == []
        assert uow.certificates.get(1) is None
        assert uow.audit.size() == 0
        assert uow.audit.tree_heads() == []
        assert uow.events.last_id() == 0
        assert uow.officers.list() == []
        assert uow.sessions.get("a") is None
        assert uow.system_tokens.list() == []
        assert uow.inbox.last_id() == 0


zones = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60)
)
aware_times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=zones
)


@HYPOTHESIS
@given(when=aware_times)
def test_times_in_any_zone_come_back_as_the_same_instant(store: Store, when: datetime) -> None:
    with store.unit_of_work() as uow:
        made = uow.events.append("ncb-gb", "hub.notice", {}, when)
        uow.sessions.add(OfficerSession("tz", "pc.jones", when, when, "c"))
    with store.unit_of_work() as uow:
        (back,) = uow.events.after("ncb-gb", made.id - 1)
        kept = uow.sessions.get("tz")
        uow.sessions.delete("tz")
    assert kept is not None
    assert back.created == when
    assert kept.last_seen == when
    if not isinstance(store, MemoryStore):
        assert back.created.tzinfo is UTC
        assert kept.created.tzinfo is UTC
        assert made.created.tzinfo is UTC


def test_a_time_without_a_zone_is_refused(store_url: str) -> None:
    store = open_store(store_url, create=True)
    try:
        with pytest.raises(InvalidField, match="created"), store.unit_of_work() as uow:
            uow.officers.add(replace(officer(), created=datetime(2026, 3, 1, 12)))
        with pytest.raises(InvalidField, match="when"), store.unit_of_work() as uow:
            uow.sessions.add(session("a"))
            uow.sessions.touch("a", datetime(2026, 3, 1, 12))
        with store.unit_of_work() as uow:
            assert uow.officers.list() == []
            assert uow.sessions.get("a") is None
        with store.unit_of_work() as uow:
            uow.officers.add(replace(officer(), created=datetime(2026, 3, 1, 13, tzinfo=PARIS)))
        with store.unit_of_work() as uow:
            kept = uow.officers.get(officer().username)
        assert kept is not None
        assert kept.created == datetime(2026, 3, 1, 12, tzinfo=UTC)
        assert kept.created.tzinfo is UTC
    finally:
        store.close()


# --- batches: the *_many methods do what one call per item does -----------------------


def case_of(number: int, key: str, *, enquirer: Member | None = None, hours: int = 0) -> Case:
    return open_case(
        case_number(2026, number),
        RegisterName.DOCUMENTS,
        key,
        ncb("US"),
        enquirer or agency(),
        "pc.jones",
        False,
        {"strength": "exact", "access": "full", "explanation": ["élan"]},
        T0 + timedelta(hours=hours),
        DeadlinePolicy(),
    )


def test_audit_append_many_numbers_entries_on_from_the_last(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.audit.append_many([]) == []
        assert uow.audit.append(b"first", b"\x01" * 32) == 0
        assert uow.audit.append_many([(b"a", b"\x02" * 32), (b"b", b"\x03" * 32)]) == [1, 2]
        assert uow.audit.append(b"last", b"\x04" * 32) == 3
    with store.unit_of_work() as uow:
        assert uow.audit.entries(0, 10) == [
            StoredAuditEntry(0, b"first", b"\x01" * 32),
            StoredAuditEntry(1, b"a", b"\x02" * 32),
            StoredAuditEntry(2, b"b", b"\x03" * 32),
            StoredAuditEntry(3, b"last", b"\x04" * 32),
        ]


def test_a_rolled_back_append_many_leaves_no_gap(store: Store) -> None:
    with pytest.raises(Discard), store.unit_of_work() as uow:
        uow.audit.append_many([(b"lost", bytes(32)), (b"lost too", bytes(32))])
        raise Discard
    with store.unit_of_work() as uow:
        assert uow.audit.append_many([(b"kept", bytes(32))]) == [0]


def test_events_append_many_gives_growing_ids_in_the_order_given(store: Store) -> None:
    # More events than one multi-row INSERT holds (SQLAlchemy sends 1000 rows a statement).
    wanted = [
        NewEvent(["ncb-gb", "ncb-us", BROADCAST][n % 3], "register.hit", {"n": n, "k": [n]})
        for n in range(2500)
    ]
    with store.unit_of_work() as uow:
        assert uow.events.append_many([], T0) == []
        before = uow.events.append("ncb-fr", "hub.notice", {}, T0)
        ids = uow.events.append_many(wanted, T0 + timedelta(seconds=1))
        after = uow.events.append("ncb-fr", "hub.notice", {}, T0)
    assert ids == sorted(set(ids))
    assert len(ids) == len(wanted)
    assert before.id < ids[0] and ids[-1] < after.id
    with store.unit_of_work() as uow:
        seen = uow.events.after("ncb-gb", before.id, limit=5000)
    assert seen == [
        Event(i, w.recipient, w.kind, T0 + timedelta(seconds=1), w.payload)
        for i, w in zip(ids, wanted, strict=True)
        if w.recipient in ("ncb-gb", BROADCAST)
    ]


def test_events_append_many_refuses_a_payload_that_is_not_json(store_url: str) -> None:
    store = open_store(store_url, create=True)
    try:
        with pytest.raises(InvalidField, match="payload"), store.unit_of_work() as uow:
            uow.events.append_many([NewEvent("ncb-gb", "hub.notice", {"when": T0})], T0)
        with store.unit_of_work() as uow:
            assert uow.events.last_id() == 0
    finally:
        store.close()


def test_next_numbers_continue_the_years_numbering(store: Store) -> None:
    with store.unit_of_work() as uow:
        assert uow.cases.next_numbers(2026, 0) == []
        assert uow.cases.next_numbers(2026, 3) == [case_number(2026, n) for n in (1, 2, 3)]
        uow.cases.add(case_of(1, "USA:passport:1"))
        uow.cases.add(case_of(2, "USA:passport:2"))
        assert uow.cases.next_numbers(2026, 2) == [case_number(2026, 3), case_number(2026, 4)]
        assert uow.cases.next_number(2026) == case_number(2026, 3)
        assert uow.cases.next_numbers(2027, 1) == [case_number(2027, 1)]


def test_add_many_adds_every_case_or_none(store: Store) -> None:
    cases = [case_of(n, f"USA:passport:{n}") for n in range(1, 4)]
    with store.unit_of_work() as uow:
        uow.cases.add_many([])
        uow.cases.add_many(cases)
    with store.unit_of_work() as uow:
        assert [uow.cases.get(c.number) for c in cases] == cases
    with store.unit_of_work() as uow:
        with pytest.raises(Conflict, match=case_number(2026, 3)):
            uow.cases.add_many([case_of(4, "USA:passport:4"), case_of(3, "USA:passport:3")])
        with pytest.raises(Conflict, match=case_number(2026, 5)):
            uow.cases.add_many([case_of(5, "USA:passport:5"), case_of(5, "USA:passport:6")])
        # the transaction is still usable after the conflicts (PostgreSQL aborts on errors)
        assert uow.cases.get(case_number(2026, 4)) is None
        assert uow.cases.get(case_number(2026, 5)) is None
        assert uow.cases.next_number(2026) == case_number(2026, 4)


def test_open_for_many_finds_what_open_for_finds(store: Store) -> None:
    keys = [f"USA:passport:{n}" for n in range(600)]  # more than one IN (...) chunk
    cases = [case_of(n + 1, key) for n, key in enumerate(keys[:550])]
    closed = replace(cases[3], state=CaseState.CLOSED)
    newer = case_of(551, keys[4], hours=1)
    other = case_of(552, keys[5], enquirer=ncb("FR"))
    with store.unit_of_work() as uow:
        uow.cases.add_many([*cases, newer, other])
        uow.cases.update(closed)
    asked = [*reversed(keys), keys[4], "FRA:passport:none"]
    with store.unit_of_work() as uow:
        found = uow.cases.open_for_many("documents", asked, agency().code)
        one_by_one = {
            key: case
            for key in asked
            if (case := uow.cases.open_for("documents", key, agency().code)) is not None
        }
        assert uow.cases.open_for_many("documents", [], agency().code) == {}
        assert uow.cases.open_for_many("persons", keys, agency().code) == {}
    assert found == one_by_one
    assert set(found) == set(keys[:550]) - {keys[3]}
    assert found[keys[4]] == newer
    assert found[keys[5]] == cases[5]


def test_add_timeline_many_keeps_the_order(store: Store) -> None:
    first, second = case_of(1, "USA:passport:1"), case_of(2, "USA:passport:2")
    entries = [
        TimelineEntry(number, T0 + timedelta(minutes=n), "gb-met", None, action, {"n": n})
        for n, (number, action) in enumerate(
            [(first.number, "opened"), (second.number, "opened"), (first.number, "hit-again")]
        )
    ]
    with store.unit_of_work() as uow:
        uow.cases.add_many([first, second])
        uow.cases.add_timeline_many([])
        uow.cases.add_timeline(entries[0])
        uow.cases.add_timeline_many(entries[1:])
    with store.unit_of_work() as uow:
        assert uow.cases.timeline(first.number) == [entries[0], entries[2]]
        assert uow.cases.timeline(second.number) == [entries[1]]

"""The travel documents register at the hub: who may report, what a check shows, audit, events.

Over a :class:`MemoryStore`. The network (codes as the hub assigns them):

==========================  ======  =======  =========================================
code                        kind    country  notes
==========================  ======  =======  =========================================
ncb-gb                      ncb     GB
gb-metropolitan-police      agency  GB       under ncb-gb
gb-border-force             agency  GB       under ncb-gb, may report for GB
ncb-us                      ncb     US
us-nypd                     agency  US       under ncb-us, may report for US
ncb-fr                      ncb     FR       persons only (no documents)
==========================  ======  =======  =========================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from policenet.domain.access import Access
from policenet.domain.audit import AuditEntry, Outcome
from policenet.domain.cases import DeadlinePolicy
from policenet.domain.events import Event
from policenet.domain.members import Member, MemberKind
from policenet.domain.registers import ALL_REGISTERS, RegisterName
from policenet.errors import Forbidden
from policenet.hub.caller import Caller
from policenet.hub.documents import DocumentRegister, DocumentRules
from policenet.hub.reporting import apply_rows
from policenet.registers.base import MatchStrength
from policenet.registers.documents.index import DocumentProbe
from policenet.registers.hits import Hit
from policenet.registers.loading import LoadReport, LoadRow, split_row
from policenet.security.auditlog import AuditLog
from policenet.store.memory import MemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MET = "gb-metropolitan-police"
BORDER = "gb-border-force"
NYPD = "us-nypd"


def _ncb(country: str, registers: frozenset[RegisterName] = ALL_REGISTERS) -> Member:
    return Member(
        code=f"ncb-{country.lower()}",
        kind=MemberKind.NCB,
        name=f"NCB {country}",
        country=country,
        registers=registers,
    )


def _agency(code: str, country: str, *, may_report: bool = False) -> Member:
    return Member(
        code=code,
        kind=MemberKind.AGENCY,
        name=code.replace("-", " ").title(),
        country=country,
        parent=f"ncb-{country.lower()}",
        may_report=may_report,
    )


NETWORK = (
    _ncb("GB"),
    _agency(MET, "GB"),
    _agency(BORDER, "GB", may_report=True),
    _ncb("US"),
    _agency(NYPD, "US", may_report=True),
    _ncb("FR", frozenset({RegisterName.PERSONS})),
)


class World:
    """A hub's store, audit log and documents register, and helpers to drive them."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        key = Ed25519PrivateKey.generate()
        self.audit = AuditLog(key, key.public_key())
        self.register = DocumentRegister()
        with self.store.unit_of_work() as uow:
            for member in NETWORK:
                uow.members.add(member)

    def member(self, code: str) -> Member:
        with self.store.unit_of_work() as uow:
            found = uow.members.get(code)
        assert found is not None, code
        return found

    def update(self, member: Member) -> None:
        with self.store.unit_of_work() as uow:
            uow.members.update(member)

    def caller(self, code: str, officer: str | None = "pc.jones") -> Caller:
        return Caller(self.member(code), officer, serial=1)

    def report(self, code: str, *rows: dict[str, Any], now: datetime = T0) -> LoadReport:
        parsed = [split_row(line, dict(raw)) for line, raw in enumerate(rows, start=2)]
        return self.apply(code, parsed, now)

    def apply(self, code: str, rows: list[LoadRow], now: datetime = T0) -> LoadReport:
        with self.store.unit_of_work() as uow:
            return apply_rows(uow, self.caller(code), DocumentRules(), rows, now, now.date())

    def check(
        self, code: str, *probes: DocumentProbe, now: datetime = T0, officer: str = "pc.jones"
    ) -> list[list[Hit]]:
        with self.store.unit_of_work() as uow:
            return self.register.check(
                uow, self.audit, self.caller(code, officer), probes, now, DeadlinePolicy()
            )

    def audit_entries(self, action: str | None = None) -> list[AuditEntry]:
        with self.store.unit_of_work() as uow:
            stored = uow.audit.entries(0, uow.audit.size())
        found = [AuditEntry.from_canonical(e.canonical) for e in stored]
        return [e for e in found if action is None or e.action == action]

    def enquiries(self) -> list[AuditEntry]:
        return self.audit_entries("enquiry.documents")

    def events(self, recipient: str) -> list[Event]:
        with self.store.unit_of_work() as uow:
            return uow.events.after(recipient, 0, 10_000)

    def stored_owner(self, key: str) -> str | None:
        with self.store.unit_of_work() as uow:
            found = uow.records.get_many("documents", [key]).get(key)
        return None if found is None else found.envelope.owner


@pytest.fixture
def world() -> Iterator[World]:
    yield World()


def doc(number: str = "A1234567", state: str = "GBR", **extra: str) -> dict[str, Any]:
    return {
        "issuing_state": state,
        "document_type": "passport",
        "number": number,
        "status": "stolen-from-holder",
        **extra,
    }


def removal(number: str = "A1234567", state: str = "GBR") -> dict[str, Any]:
    return {"op": "remove", "issuing_state": state, "document_type": "passport", "number": number}


def reasons(report: LoadReport) -> dict[int, str]:
    return {e.line: e.reason for e in report.rejected}


def counts(report: LoadReport) -> tuple[int, int, int, int, int, int]:
    return (
        report.added,
        report.changed,
        report.unchanged,
        report.removed,
        report.absent,
        report.rejected_count,
    )


# --- who may report what ------------------------------------------------------------


def test_an_ncb_reports_its_own_countrys_documents(world: World) -> None:
    report = world.report("ncb-gb", doc("A1"), doc("A2"))
    assert counts(report) == (2, 0, 0, 0, 0, 0)
    assert world.stored_owner("GBR:passport:A1") == "ncb-gb"


def test_another_countrys_ncb_is_refused_per_row_naming_the_country(world: World) -> None:
    report = world.report("ncb-gb", doc("A1"), doc("B2", "USA"), doc("C3", "D"))
    assert counts(report) == (1, 0, 0, 0, 0, 2)
    assert "NCB of US" in reasons(report)[3] and "ncb-gb may not" in reasons(report)[3]
    assert "NCB of DE" in reasons(report)[4]
    assert world.stored_owner("USA:passport:B2") is None


def test_documents_of_no_member_country_are_refused(world: World) -> None:
    report = world.report("ncb-gb", doc("L898902C3", "UTO"))
    assert "belong to no member country" in reasons(report)[2]


def test_an_agency_reports_only_if_its_ncb_lets_it(world: World) -> None:
    refused = world.report(MET, doc("A1"))
    assert refused.added == 0
    assert f"{MET} may not" in reasons(refused)[2]
    world.update(replace(world.member(MET), may_report=True))
    allowed = world.report(MET, doc("A1"))
    assert counts(allowed) == (1, 0, 0, 0, 0, 0)
    assert world.stored_owner("GBR:passport:A1") == MET


def test_an_agency_that_may_report_is_still_held_to_its_own_country(world: World) -> None:
    report = world.report(BORDER, doc("A1", "USA"))
    assert "NCB of US" in reasons(report)[2]


def test_a_record_owned_by_another_member_cannot_be_changed_or_removed(world: World) -> None:
    world.report("ncb-gb", doc("A1"), doc("A2"))
    report = world.report(BORDER, doc("A1", status="lost"), removal("A2"), doc("A3"))
    assert counts(report) == (1, 0, 0, 0, 0, 2)
    assert reasons(report)[2].startswith("GBR:passport:A1 is owned by ncb-gb")
    assert reasons(report)[3].startswith("GBR:passport:A2 is owned by ncb-gb")
    assert world.stored_owner("GBR:passport:A2") == "ncb-gb"


def test_an_agency_cannot_change_a_sister_agencys_record(world: World) -> None:
    world.report(BORDER, doc("A1"))
    world.update(replace(world.member(MET), may_report=True))
    report = world.report(MET, doc("A1", status="lost"))
    assert reasons(report)[2].startswith(f"GBR:passport:A1 is owned by {BORDER}")


def test_an_ncb_may_change_and_remove_its_agencys_record(world: World) -> None:
    world.report(BORDER, doc("A1"), doc("A2"))
    report = world.report("ncb-gb", doc("A1", status="lost"), removal("A2"))
    assert counts(report) == (0, 1, 0, 1, 0, 0)
    assert world.stored_owner("GBR:passport:A2") is None


def test_another_countrys_ncb_cannot_touch_an_agencys_record(world: World) -> None:
    world.report(NYPD, doc("B1", "USA"))
    report = world.report("ncb-us", removal("B1", "USA"))
    assert report.removed == 1
    world.report(NYPD, doc("B2", "USA"))
    assert world.report("ncb-gb", removal("B2", "USA")).removed == 0


def test_the_same_document_twice_in_one_batch_is_refused_naming_the_first_line(
    world: World,
) -> None:
    report = world.report("ncb-gb", doc("a12 345"), doc("Z9"), doc("A12345", status="lost"))
    assert counts(report) == (2, 0, 0, 0, 0, 1)
    assert "the same document as line 2" in reasons(report)[4]


def test_a_put_and_a_remove_of_one_document_in_one_batch_clash(world: World) -> None:
    report = world.report("ncb-gb", removal("A1"), doc("A1"))
    assert "the same document as line 2" in reasons(report)[3]
    assert report.absent == 1 and report.added == 0


def test_putting_the_same_record_twice_changes_nothing(world: World) -> None:
    assert world.report("ncb-gb", doc("A1")).added == 1
    again = world.report("ncb-gb", doc("A1"), now=T0 + timedelta(hours=2))
    assert counts(again) == (0, 0, 1, 0, 0, 0)
    with world.store.unit_of_work() as uow:
        assert len(uow.records.changes("documents", 0, 100)) == 1


def test_the_same_document_written_differently_changes_nothing(world: World) -> None:
    assert world.report("ncb-gb", doc("L898902C3")).added == 1
    again = world.report("ncb-gb", doc("L 898-902 C3"), now=T0 + timedelta(hours=2))
    assert counts(again) == (0, 0, 1, 0, 0, 0)


def test_the_same_file_loaded_again_the_next_day_changes_nothing(world: World) -> None:
    assert world.report("ncb-gb", doc("A1")).added == 1
    again = world.report("ncb-gb", doc("A1"), now=T0 + timedelta(days=1))
    assert counts(again) == (0, 0, 1, 0, 0, 0)


def test_a_changed_envelope_is_a_change(world: World) -> None:
    world.report("ncb-gb", doc("A1"))
    report = world.report("ncb-gb", doc("A1", mode="reference-only"))
    assert counts(report) == (0, 1, 0, 0, 0, 0)


def test_remove_removes_and_an_unknown_document_is_absent(world: World) -> None:
    world.report("ncb-gb", doc("A1"))
    report = world.report("ncb-gb", removal("A1"), removal("NOPE1"))
    assert counts(report) == (0, 0, 0, 1, 1, 0)
    assert world.stored_owner("GBR:passport:A1") is None


def test_a_bad_record_is_refused_naming_the_field(world: World) -> None:
    report = world.report("ncb-gb", doc("A1", status="misplaced"), doc("A.1"))
    assert reasons(report)[2].startswith("status: ")
    assert reasons(report)[3].startswith("number: ")


def test_an_expiry_before_now_is_refused(world: World) -> None:
    report = world.report("ncb-gb", doc("A1", expires=(T0 - timedelta(days=1)).date().isoformat()))
    assert reasons(report)[2].startswith("expires: ")


# --- checking: the register over the store ------------------------------------------


def probe(number: str = "A1234567", **kwargs: Any) -> DocumentProbe:
    return DocumentProbe(number, **kwargs)


def test_load_builds_the_index_from_the_store(world: World) -> None:
    world.report("ncb-gb", doc("A1"), doc("A2"), doc("A3"))
    world.report("ncb-gb", removal("A3"))
    assert world.register.load(world.store) == 2
    ((hit,), ()) = world.check(MET, probe("A1"), probe("A3"))
    assert hit.key == "GBR:passport:A1"


def test_a_check_finds_a_record_reported_after_the_index_was_built(world: World) -> None:
    world.register.load(world.store)
    assert world.check(MET, probe("A1")) == [[]]
    world.report("ncb-gb", doc("A1"))
    ((hit,),) = world.check(MET, probe("A1"))
    assert hit.key == "GBR:passport:A1"
    assert hit.owner == "ncb-gb" and hit.owner_country == "GB"


def test_a_record_reported_through_another_hub_process_is_found(world: World) -> None:
    other = DocumentRegister()  # another hub process over the same database
    other.load(world.store)
    world.register.load(world.store)
    world.report("ncb-gb", doc("A1"))
    with world.store.unit_of_work() as uow:
        ((hit,),) = other.check(
            uow, world.audit, world.caller(MET), [probe("A1")], T0, DeadlinePolicy()
        )
    assert hit.key == "GBR:passport:A1"


def test_a_removed_record_is_not_found_after_refresh(world: World) -> None:
    world.report("ncb-gb", doc("A1"))
    world.register.load(world.store)
    assert len(world.check(MET, probe("A1"))[0]) == 1
    world.report("ncb-gb", removal("A1"))
    assert world.check(MET, probe("A1")) == [[]]
    with world.store.unit_of_work() as uow:
        world.register.refresh(uow)
    assert len(world.register) == 0


def test_a_record_removed_and_reported_again_is_found_again(world: World) -> None:
    world.register.load(world.store)
    world.report("ncb-gb", doc("A1"))
    world.report("ncb-gb", removal("A1"))
    world.report("ncb-gb", doc("A1"))
    assert len(world.check(MET, probe("A1"))[0]) == 1


def test_answers_come_in_probe_order_and_narrow_by_state_and_type(world: World) -> None:
    world.report("ncb-gb", doc("A1"), doc("A2"))
    world.report("ncb-us", doc("A1", "USA"))
    answers = world.check(
        MET, probe("A2"), probe("A1"), probe("A1", issuing_state="USA"), probe("ZZ")
    )
    assert [[h.key for h in hits] for hits in answers] == [
        ["GBR:passport:A2"],
        ["GBR:passport:A1", "USA:passport:A1"],
        ["USA:passport:A1"],
        [],
    ]


def test_a_full_hit_shows_the_record_and_the_caveats(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA", caveats="armed and dangerous"))
    ((hit,),) = world.check(MET, probe("B1"))
    assert hit.access is Access.FULL
    assert hit.record is not None and hit.record["number"] == "B1"
    assert hit.record["status"] == "stolen-from-holder"
    assert hit.caveats == "armed and dangerous"
    assert hit.strength is MatchStrength.EXACT and hit.score == 1.0
    assert hit.advice.startswith("Hit.")
    assert "Confirm with NCB US (US) through your NCB" in hit.advice


def test_a_reference_only_record_gives_no_data_and_says_contact_your_ncb(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA", mode="reference-only"))
    ((hit,),) = world.check(MET, probe("B1"))
    assert hit.access is Access.REFERENCE_ONLY
    assert hit.record is None
    assert hit.key == "USA:passport:B1" and hit.owner == "ncb-us"
    assert "contact your NCB" in hit.advice
    assert hit.to_json()["record"] is None
    # the owner sees its own record in full
    ((own,),) = world.check("ncb-us", probe("B1"))
    assert own.access is Access.FULL and own.record is not None


def test_a_record_denied_to_the_enquirers_country_is_invisible(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA", deny_countries="GB"))
    assert world.check(MET, probe("B1")) == [[]]
    assert world.check("ncb-gb", probe("B1")) == [[]]
    assert [e.outcome for e in world.enquiries()] == [Outcome.NO_HIT, Outcome.NO_HIT]
    assert world.events("ncb-us") == []
    # a member of another country still finds it
    assert len(world.check(NYPD, probe("B1"))[0]) == 1


def test_an_allow_list_hides_the_record_from_everyone_else(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA", allow_members=MET))
    assert len(world.check(MET, probe("B1"))[0]) == 1
    assert world.check(BORDER, probe("B1")) == [[]]


def test_an_expired_record_matches_only_for_its_owner(world: World) -> None:
    expiry_day = (T0 + timedelta(days=10)).date()
    world.report("ncb-us", doc("B1", "USA", expires=expiry_day.isoformat()))
    expires = datetime(expiry_day.year, expiry_day.month, expiry_day.day, tzinfo=UTC)
    before = expires - timedelta(seconds=1)
    assert len(world.check(MET, probe("B1"), now=before)[0]) == 1
    assert world.check(MET, probe("B1"), now=expires) == [[]]
    assert world.check(NYPD, probe("B1"), now=expires) == [[]]
    ((own,),) = world.check("ncb-us", probe("B1"), now=expires)
    assert own.access is Access.FULL
    outcomes = [e.outcome for e in world.enquiries()]
    assert outcomes == [Outcome.HIT, Outcome.NO_HIT, Outcome.NO_HIT, Outcome.HIT]


def test_a_member_without_documents_in_scope_is_forbidden_and_nothing_is_audited(
    world: World,
) -> None:
    world.report("ncb-gb", doc("A1"))
    with pytest.raises(Forbidden, match="ncb-fr may not search the documents register"):
        world.check("ncb-fr", probe("A1"))
    assert world.enquiries() == []
    assert world.events("ncb-gb") == []


def test_a_tolerant_check_gives_a_possible_hit_with_the_confusion_explained(
    world: World,
) -> None:
    world.report("ncb-us", doc("B0123", "USA"))
    assert world.check(MET, probe("BO123")) == [[]]
    ((hit,),) = world.check(MET, probe("BO123", tolerant=True))
    assert hit.strength is MatchStrength.POSSIBLE
    assert hit.score < 1.0
    assert any("position 2: read 'O', register has '0'" in line for line in hit.explanation)
    assert hit.advice.startswith("Possible hit only")


# --- audit --------------------------------------------------------------------------


def test_every_check_is_one_audit_entry_naming_who_what_and_the_outcome(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA"))
    world.check(MET, probe("B1"), probe("ZZ"), officer="pc.jones")
    assert len(world.enquiries()) == 1
    world.check(MET, probe("ZZ"), officer="pc.smith")
    hit, miss = world.enquiries()
    assert (hit.member, hit.officer, hit.action, hit.outcome) == (
        MET,
        "pc.jones",
        "enquiry.documents",
        Outcome.HIT,
    )
    assert hit.detail["probes"] == 2 and hit.detail["hits"] == 1
    assert hit.target == "USA:passport:B1"
    assert hit.detail["owners"] == "ncb-us"
    assert (miss.officer, miss.outcome, miss.detail["probes"], miss.detail["hits"]) == (
        "pc.smith",
        Outcome.NO_HIT,
        1,
        0,
    )


def test_an_empty_check_is_audited_too(world: World) -> None:
    assert world.check(MET) == []
    (entry,) = world.enquiries()
    assert entry.outcome == Outcome.NO_HIT and entry.detail["probes"] == 0


# --- events to the NCBs -------------------------------------------------------------


def _hit_events(world: World, recipient: str) -> list[Event]:
    return [e for e in world.events(recipient) if e.kind == "register.hit"]


def test_an_agencys_hit_abroad_tells_its_ncb_and_the_owners_ncb(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA"))
    world.check(MET, probe("B1"), probe("B1", issuing_state="USA"))
    (to_gb,) = _hit_events(world, "ncb-gb")
    (to_us,) = _hit_events(world, "ncb-us")
    assert to_gb.payload == to_us.payload
    assert to_gb.payload["key"] == "USA:passport:B1"
    assert to_gb.payload["enquirer"] == MET
    assert to_gb.payload["owner"] == "ncb-us"
    assert to_gb.payload["officer"] == "pc.jones"
    assert _hit_events(world, MET) == []
    assert _hit_events(world, NYPD) == []


def test_a_hit_on_an_agencys_record_tells_the_agency_and_its_ncb(world: World) -> None:
    world.report(NYPD, doc("B1", "USA"))
    world.check(MET, probe("B1"))
    assert len(_hit_events(world, "ncb-gb")) == 1
    assert len(_hit_events(world, "ncb-us")) == 1
    assert len(_hit_events(world, NYPD)) == 1
    assert _hit_events(world, MET) == []


def test_a_hit_on_ones_own_countrys_record_goes_to_ones_own_ncb_only(world: World) -> None:
    world.report("ncb-gb", doc("A1"))
    world.check(MET, probe("A1"))
    assert len(_hit_events(world, "ncb-gb")) == 1
    for other in (MET, BORDER, "ncb-us", NYPD):
        assert _hit_events(world, other) == []


def test_an_ncbs_own_hit_on_its_own_record_tells_nobody(world: World) -> None:
    world.report("ncb-gb", doc("A1"))
    world.check("ncb-gb", probe("A1"))
    for member in NETWORK:
        assert _hit_events(world, member.code) == []


def test_an_ncbs_hit_abroad_tells_the_owners_ncb(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA"))
    world.check("ncb-gb", probe("B1"))
    assert _hit_events(world, "ncb-gb") == []
    assert len(_hit_events(world, "ncb-us")) == 1


def test_a_reference_only_hit_is_told_with_its_access(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA", mode="reference-only"))
    world.check(MET, probe("B1"))
    (event,) = _hit_events(world, "ncb-us")
    assert event.payload["access"] == "reference-only"


def test_a_miss_tells_nobody(world: World) -> None:
    world.report("ncb-us", doc("B1", "USA"))
    world.check(MET, probe("ZZZ"))
    for member in NETWORK:
        assert world.events(member.code) == []


def test_an_ncb_that_asked_is_told_of_its_agencys_enquiries(world: World) -> None:
    world.check(MET, probe("A1"))
    assert [e for e in world.events("ncb-gb") if e.kind == "agency.enquiry"] == []
    world.update(replace(world.member(MET), copy_enquiries_to_ncb=True))
    world.check(MET, probe("A1"), probe("A2"), officer="pc.smith")
    (event,) = [e for e in world.events("ncb-gb") if e.kind == "agency.enquiry"]
    assert event.payload == {
        "register": "documents",
        "enquirer": MET,
        "officer": "pc.smith",
        "probes": 2,
        "hits": 0,
    }

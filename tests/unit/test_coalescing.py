"""The node merges one caller's concurrent document checks (policenet.node.coalescing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from policenet.errors import IntegrityFailure, Unavailable
from policenet.node.coalescing import CHECK_PATH, CheckCoalescer
from tests.fakes import FakeHub


class HeldHub(FakeHub):
    """Answers each check with one answer per document (its number as ``seen``); every
    request waits for ``release`` so that checks can pile up behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.answer_count: int | None = None  # answer this many instead (a broken hub)

    async def post(self, path: str, body: Any, *, officer: str | None = None) -> Any:
        self.calls.append(("POST", path, officer, body))
        await self.release.wait()
        if self.down:
            raise Unavailable("fake hub is down")
        documents = body["documents"]
        count = len(documents) if self.answer_count is None else self.answer_count
        return {
            "checked_at": "2026-11-29T10:00:00+00:00",
            "source": "live",
            "answers": [
                {"index": i, "seen": documents[i % len(documents)]["number"]} for i in range(count)
            ],
        }


def numbers(*values: str) -> list[Mapping[str, Any]]:
    return [{"number": v} for v in values]


async def checks_behind_one_in_flight(
    hub: HeldHub, coalescer: CheckCoalescer, batches: Sequence[tuple[str, list[Any], bool]]
) -> list[Any]:
    """Start the first check, let the others queue behind it, then let the hub answer."""
    tasks = []
    for officer, documents, tolerant in batches:
        tasks.append(asyncio.create_task(coalescer.check(officer, documents, tolerant=tolerant)))
        await asyncio.sleep(0)  # each check reaches the coalescer in this order
    hub.release.set()
    answers = await asyncio.gather(*tasks, return_exceptions=True)
    return [json.loads(a) if isinstance(a, bytes) else a for a in answers]


def test_a_lone_check_goes_at_once_and_comes_back_as_the_hub_gave_it() -> None:
    async def run() -> Any:
        hub = HeldHub()
        hub.release.set()
        return hub, json.loads(await CheckCoalescer(hub).check("pc.smith", numbers("A1", "B2")))

    hub, answer = asyncio.run(run())
    assert [(c[1], c[2], c[3]) for c in hub.calls] == [
        (CHECK_PATH, "pc.smith", {"documents": numbers("A1", "B2"), "tolerant": False})
    ]
    assert answer["answers"] == [{"index": 0, "seen": "A1"}, {"index": 1, "seen": "B2"}]


def test_checks_waiting_behind_one_in_flight_go_as_one_request_and_get_their_own_answers() -> None:
    hub = HeldHub()

    async def run() -> list[Any]:
        coalescer = CheckCoalescer(hub)
        return await checks_behind_one_in_flight(
            hub,
            coalescer,
            [
                ("sys.gates", numbers("A1"), False),
                ("sys.gates", numbers("B2", "C3"), False),
                ("sys.gates", numbers("D4"), False),
            ],
        )

    first, second, third = asyncio.run(run())
    sent = [call[3] for call in hub.calls]
    assert sent == [
        {"documents": numbers("A1"), "tolerant": False},
        {"documents": numbers("B2", "C3", "D4"), "tolerant": False, "requests": 2},
    ]
    assert first["answers"] == [{"index": 0, "seen": "A1"}]
    assert second["answers"] == [{"index": 0, "seen": "B2"}, {"index": 1, "seen": "C3"}]
    assert third["answers"] == [{"index": 0, "seen": "D4"}]
    assert second["checked_at"] == third["checked_at"] == "2026-11-29T10:00:00+00:00"


def test_checks_of_other_callers_or_tolerance_are_never_merged() -> None:
    hub = HeldHub()

    async def run() -> list[Any]:
        return await checks_behind_one_in_flight(
            hub,
            CheckCoalescer(hub),
            [
                ("pc.smith", numbers("A1"), False),
                ("pc.jones", numbers("B2"), False),
                ("pc.smith", numbers("C3"), True),
            ],
        )

    answers = asyncio.run(run())
    assert sorted((c[2], c[3]["tolerant"], len(c[3]["documents"])) for c in hub.calls) == [
        ("pc.jones", False, 1),
        ("pc.smith", False, 1),
        ("pc.smith", True, 1),
    ]
    assert [a["answers"][0]["seen"] for a in answers] == ["A1", "B2", "C3"]


def test_a_merged_request_never_holds_more_than_the_limit() -> None:
    hub = HeldHub()

    async def run() -> list[Any]:
        return await checks_behind_one_in_flight(
            hub,
            CheckCoalescer(hub, limit=3),
            [("sys.gates", numbers(f"N{i}", f"M{i}"), False) for i in range(4)],
        )

    answers = asyncio.run(run())
    assert [len(c[3]["documents"]) for c in hub.calls] == [2, 2, 2, 2]
    assert [a["answers"][1]["seen"] for a in answers] == ["M0", "M1", "M2", "M3"]

    # single documents fill a request up to the limit exactly, the rest go in the next
    hub = HeldHub()

    async def singles() -> list[Any]:
        return await checks_behind_one_in_flight(
            hub,
            CheckCoalescer(hub, limit=3),
            [("sys.gates", numbers(f"S{i}"), False) for i in range(6)],
        )

    answers = asyncio.run(singles())
    assert [len(c[3]["documents"]) for c in hub.calls] == [1, 3, 2]
    assert [a["answers"][0]["seen"] for a in answers] == [f"S{i}" for i in range(6)]
    with pytest.raises(ValueError, match="1 to 3 documents"):
        asyncio.run(CheckCoalescer(hub, limit=3).check("sys.gates", numbers("A", "B", "C", "D")))


def test_the_hubs_error_reaches_every_check_of_the_request() -> None:
    hub = HeldHub()
    hub.down = True

    async def run() -> list[Any]:
        return await checks_behind_one_in_flight(
            hub, CheckCoalescer(hub), [("sys.gates", numbers(n), False) for n in "ABC"]
        )

    answers = asyncio.run(run())
    assert [type(a) for a in answers] == [Unavailable] * 3
    assert len(hub.calls) == 2  # the first alone, then the two that waited, together


def test_a_merged_answer_that_does_not_match_its_documents_is_refused() -> None:
    hub = HeldHub()
    hub.answer_count = 1

    async def run() -> list[Any]:
        return await checks_behind_one_in_flight(
            hub,
            CheckCoalescer(hub),
            [("sys.gates", numbers("A", "B"), False)] * 3,
        )

    alone, *merged = asyncio.run(run())
    # a check that went alone is passed on as the hub sent it, never decoded
    assert alone["answers"] == [{"index": 0, "seen": "A"}]
    assert [type(a) for a in merged] == [IntegrityFailure] * 2
    assert [a.message for a in merged] == ["the hub gave 1 answers to a check of 4 documents"] * 2


def test_a_caller_that_goes_away_does_not_hold_up_the_others() -> None:
    hub = HeldHub()

    async def run() -> tuple[list[Any], bool]:
        coalescer = CheckCoalescer(hub)
        first = asyncio.create_task(coalescer.check("sys.gates", numbers("A1")))
        await asyncio.sleep(0)
        gone = asyncio.create_task(coalescer.check("sys.gates", numbers("B2")))
        kept = asyncio.create_task(coalescer.check("sys.gates", numbers("C3")))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        hub.release.set()
        answers = await asyncio.gather(first, kept)
        return [json.loads(a) for a in answers], gone.cancelled()

    (first, kept), cancelled = asyncio.run(run())
    assert cancelled
    assert [c[3]["documents"] for c in hub.calls] == [numbers("A1"), numbers("C3")]
    assert kept["answers"] == [{"index": 0, "seen": "C3"}]
    assert first["answers"] == [{"index": 0, "seen": "A1"}]

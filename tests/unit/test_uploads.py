"""Bulk uploads at the node: the node's own pass over a file, and what reaches the hub.

The hub is :class:`tests.fakes.FakeHub` with a canned answer for the load
route; what the node streamed is read back from ``FakeHub.calls``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.node.uploads import (
    Checked,
    check_rows,
    format_report,
    merge_reports,
    upload_file,
    wire_line,
)
from policenet.registers.loading import (
    MAX_REPORTED_ERRORS,
    LoadReport,
    LoadRow,
    RowError,
    byte_lines,
    read_rows,
)
from tests.fakes import FakeHub

TODAY = date(2026, 3, 2)
LOAD = ("POST-STREAM", "/v1/documents/load")
HEADER = "issuing_state,document_type,number,status,reported_date,mode,deny_countries"


def csv_rows(*lines: str) -> list[LoadRow | RowError]:
    return list(read_rows([HEADER, *lines], "csv"))


def check(rows: list[LoadRow | RowError]) -> tuple[list[dict[str, Any]], Checked]:
    checked = Checked()
    sent = [json.loads(line) for line in check_rows(rows, TODAY, checked)]
    return sent, checked


def rejected(report: LoadReport) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in report.rejected]


def hub_report(**values: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "added": 0,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "absent": 0,
        "rejected_count": 0,
        "rejected": [],
        "committed": True,
    }
    answer.update(values)
    return answer


# --- the node's pass ----------------------------------------------------------------


def test_good_rows_become_ndjson_lines_with_their_line_op_and_envelope() -> None:
    sent, checked = check(
        csv_rows(
            "USA,passport,A12345,stolen-blank,2026-02-01,reference-only,FR;de",
            "USA,passport,B77,lost,,,",
        )
    )
    assert checked.good == 2 and checked.report.rejected_count == 0
    first, second = sent
    assert first == {
        "line": 2,
        "op": "put",
        "issuing_state": "USA",
        "document_type": "passport",
        "number": "A12345",
        "status": "stolen-blank",
        "reported_date": "2026-02-01",
        "mode": "reference-only",
        "deny_countries": "DE;FR",
    }
    # empty envelope fields are left out, the mode too: the hub applies the register's default
    assert second["line"] == 3 and "mode" not in second
    assert "deny_countries" not in second and "expires" not in second


def test_a_remove_row_is_sent_without_an_envelope() -> None:
    rows = list(
        read_rows(
            ["op,issuing_state,document_type,number,caveats", "remove,USA,passport,A12345,x"],
            "csv",
        )
    )
    sent, checked = check(rows)
    assert sent == [
        {
            "line": 2,
            "op": "remove",
            "issuing_state": "USA",
            "document_type": "passport",
            "number": "A12345",
        }
    ]
    assert checked.good == 1


def test_the_hub_reads_a_wire_line_back_as_the_row_the_node_read() -> None:
    (row,) = [
        r
        for r in csv_rows("D,id-card,T22000129,revoked,2026-01-05,reference-only,GB;FR")
        if isinstance(r, LoadRow)
    ]
    (again,) = read_rows([wire_line(row)], "ndjson")
    assert again == row


def test_bad_rows_are_reported_by_line_and_not_sent() -> None:
    sent, checked = check(
        csv_rows(
            "USA,passport,A1,lost,,,",
            "USA,passport,A2,misplaced,,,",
            "USA,passport,A3,lost,2099-01-01,,",
            "USA,passport,A4,lost,,secret,",
            "XYZ,passport,A5,lost,,,",
            "USA,passport,A6,lost,,,",
        )
    )
    assert [s["line"] for s in sent] == [2, 7]
    assert checked.good == 2
    reasons = dict(rejected(checked.report))
    assert set(reasons) == {3, 4, 5, 6}
    assert reasons[3].startswith("status: 'misplaced' is not one of")
    assert reasons[4].startswith("reported_date: 2099-01-01 is in the future")
    assert reasons[5].startswith("mode: 'secret'")
    assert reasons[6].startswith("issuing_state: ")


@pytest.mark.parametrize(("first", "second"), [("a12 345", "A12345"), ("A-12345", "a12345")])
def test_the_same_document_twice_is_reported_with_both_lines(first: str, second: str) -> None:
    sent, checked = check(
        csv_rows(
            f"USA,passport,{first},lost,,,",
            "USA,passport,C9,lost,,,",
            f"USA,passport,{second},stolen-blank,,,",
        )
    )
    assert [s["line"] for s in sent] == [2, 3]
    ((line, reason),) = rejected(checked.report)
    assert line == 4
    assert "the same document as line 2" in reason and "USA:passport:A12345" in reason


def test_the_same_number_of_another_state_or_type_is_another_document() -> None:
    sent, checked = check(
        csv_rows(
            "USA,passport,A12345,lost,,,",
            "CAN,passport,A12345,lost,,,",
            "USA,visa,A12345,lost,,,",
        )
    )
    assert [s["line"] for s in sent] == [2, 3, 4]
    assert checked.report.rejected_count == 0


def test_a_remove_and_a_put_of_one_document_clash() -> None:
    rows = list(
        read_rows(
            [
                "op,issuing_state,document_type,number,status",
                "remove,USA,passport,a 12345,",
                "put,USA,passport,A12345,lost",
            ],
            "csv",
        )
    )
    sent, checked = check(rows)
    assert [s["line"] for s in sent] == [2]
    assert rejected(checked.report) == [(3, "the same document as line 2 (USA:passport:A12345)")]


def test_parse_errors_pass_through_in_order() -> None:
    rows = list(read_rows([b"number,status", b"A1,lost,extra", b"\xff,lost"], "csv"))
    sent, checked = check(rows)
    assert sent == []
    assert [line for line, _ in rejected(checked.report)] == [2, 3]


@given(
    st.lists(
        st.tuples(st.sampled_from(["A1", "a 1", "B2", "b-2", "C3"]), st.booleans()),
        min_size=1,
        max_size=12,
    )
)
def test_every_row_is_either_sent_once_or_reported(rows: list[tuple[str, bool]]) -> None:
    lines = [f"USA,passport,{n},{'lost' if ok else 'gone'},,," for n, ok in rows]
    sent, checked = check(csv_rows(*lines))
    sent_lines = [s["line"] for s in sent]
    rejected_lines = [line for line, _ in rejected(checked.report)]
    assert sorted(sent_lines + rejected_lines) == list(range(2, len(rows) + 2))
    keys = [s["number"].replace(" ", "").replace("-", "").upper() for s in sent]
    assert len(keys) == len(set(keys))
    assert checked.good == len(sent)


# --- sending to the hub -------------------------------------------------------------

FILE = "\n".join(
    [
        HEADER,
        "USA,passport,A1,lost,,,",  # 2: good, the hub adds it
        "USA,passport,A2,gone,,,",  # 3: bad here
        "USA,passport,A3,lost,,,",  # 4: good, the hub refuses it
        "USA,passport,a 1,lost,,,",  # 5: the same as line 2
        "USA,passport,A6,lost,,reference-only,",  # 6: good
    ]
)


def upload(
    tmp_path: Path, hub: FakeHub, text: str, *, all_or_nothing: bool, **kwargs: Any
) -> LoadReport:
    path = tmp_path / "upload.csv"
    path.write_text(text, encoding="utf-8")
    return asyncio.run(
        upload_file(
            hub,
            path,
            "csv",
            all_or_nothing=all_or_nothing,
            today=TODAY,
            officer="op.smith",
            **kwargs,
        )
    )


def sent_lines(hub: FakeHub) -> list[dict[str, Any]]:
    ((method, path, _, body),) = hub.calls
    assert (method, path) == LOAD
    return [json.loads(line) for line in body["body"].splitlines()]


def test_best_effort_sends_only_good_rows_and_merges_the_reports_in_line_order(
    tmp_path: Path,
) -> None:
    hub = FakeHub()
    hub.routes[LOAD] = hub_report(
        added=2,
        rejected_count=1,
        rejected=[{"line": 4, "reason": "USA documents may be reported only by the NCB of US"}],
    )
    report = upload(tmp_path, hub, FILE, all_or_nothing=False)
    ((_, _, officer, body),) = hub.calls
    assert officer == "op.smith"
    assert body["params"] == {"all_or_nothing": "false"}
    assert [s["line"] for s in sent_lines(hub)] == [2, 4, 6]
    assert report.added == 2
    assert report.committed is True
    assert report.rejected_count == 3
    assert [line for line, _ in rejected(report)] == [3, 4, 5]
    assert rejected(report)[1][1].startswith("USA documents may be reported only")
    assert "the same document as line 2" in rejected(report)[2][1]


def test_all_or_nothing_with_a_bad_row_sends_nothing(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.routes[LOAD] = hub_report(added=99)
    report = upload(tmp_path, hub, FILE, all_or_nothing=True)
    assert hub.calls == []
    assert report.committed is False
    assert report.added == 0
    assert [line for line, _ in rejected(report)] == [3, 5]
    assert report.rejected_count == 2


def test_all_or_nothing_with_good_rows_sends_them_for_one_transaction(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.routes[LOAD] = hub_report(added=2)
    text = "\n".join([HEADER, "USA,passport,A1,lost,,,", "USA,passport,A2,lost,,,"])
    report = upload(tmp_path, hub, text, all_or_nothing=True)
    ((_, _, _, body),) = hub.calls
    assert body["params"] == {"all_or_nothing": "true"}
    assert [s["line"] for s in sent_lines(hub)] == [2, 3]
    assert (report.added, report.committed, report.rejected_count) == (2, True, 0)


def test_all_or_nothing_refused_by_the_hub_is_not_committed(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.routes[LOAD] = hub_report(
        rejected_count=1, rejected=[{"line": 3, "reason": "owned by ncb-us"}], committed=False
    )
    text = "\n".join([HEADER, "USA,passport,A1,lost,,,", "USA,passport,A2,lost,,,"])
    report = upload(tmp_path, hub, text, all_or_nothing=True)
    assert report.committed is False
    assert rejected(report) == [(3, "owned by ncb-us")]


def test_the_progress_callback_sees_every_byte(tmp_path: Path) -> None:
    hub = FakeHub()
    hub.routes[LOAD] = hub_report(added=3)
    seen: list[int] = []
    upload(tmp_path, hub, FILE, all_or_nothing=False, on_bytes=seen.append)
    assert sum(seen) == len(FILE.encode())


def test_an_empty_file_is_reported_by_the_node_without_calling_the_hub(
    tmp_path: Path,
) -> None:
    hub = FakeHub()
    hub.routes[LOAD] = hub_report()
    report = upload(tmp_path, hub, "", all_or_nothing=False)
    assert hub.calls == []
    assert report.rejected_count == 1
    assert rejected(report)[0][0] == 1
    assert "empty" in rejected(report)[0][1]


def test_merging_keeps_the_count_beyond_what_is_listed() -> None:
    checked = Checked()
    for line in range(2, MAX_REPORTED_ERRORS + 12):
        checked.report.reject(RowError(line, "local"))
    answer = hub_report(
        rejected_count=MAX_REPORTED_ERRORS + 50,
        rejected=[{"line": 1, "reason": "hub"}],
        added=7,
    )
    report = merge_reports(checked, answer)
    assert report.rejected_count == (MAX_REPORTED_ERRORS + 10) + (MAX_REPORTED_ERRORS + 50)
    assert len(report.rejected) == MAX_REPORTED_ERRORS
    assert report.rejected[0] == RowError(1, "hub")
    assert report.added == 7


# --- the report for a person --------------------------------------------------------


def test_format_report_names_counts_lines_and_the_rest() -> None:
    report = LoadReport(added=3, changed=1, unchanged=2, removed=4, absent=5)
    for line in range(2, MAX_REPORTED_ERRORS + 4):
        report.reject(RowError(line, "status: required"))
    lines = format_report(report)
    assert lines[0] == (
        "added 3, changed 1, unchanged 2, removed 4, not found for removal 5, "
        f"rejected {MAX_REPORTED_ERRORS + 2}"
    )
    assert lines[1] == "  line 2: status: required"
    assert lines[-1] == "  ... and 2 more"
    assert len(lines) == 1 + MAX_REPORTED_ERRORS + 1
    assert not any("NOTHING" in line for line in lines)


def test_format_report_says_when_nothing_was_applied() -> None:
    report = LoadReport(committed=False)
    report.reject(RowError(9, "number: empty"))
    assert format_report(report) == [
        "added 0, changed 0, unchanged 0, removed 0, not found for removal 0, rejected 1",
        "NOTHING WAS APPLIED (all or nothing, and some rows were rejected)",
        "  line 9: number: empty",
    ]


def test_byte_lines_of_a_wire_stream_give_back_every_row() -> None:
    rows = csv_rows("USA,passport,A1,lost,,,", "USA,visa,B2,lost,,,")
    checked = Checked()
    stream = b"".join(check_rows(rows, TODAY, checked))
    assert list(read_rows(byte_lines([stream[:7], stream[7:]]), "ndjson")) == rows

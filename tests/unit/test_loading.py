"""Reading bulk uploads: CSV and NDJSON rows, envelope fields, errors by line, the report.

Every test here is pure: lines in, rows and row errors out. Line numbers
count from 1 with the CSV header as line 1, as a person sees them in an editor.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policenet.domain.envelope import Mode
from policenet.registers.loading import (
    ENVELOPE_FIELDS,
    MAX_LINE_CHARS,
    MAX_REPORTED_ERRORS,
    EnvelopeFields,
    LoadReport,
    LoadRow,
    RowError,
    byte_lines,
    parse_envelope,
    read_rows,
    split_row,
)

HEADER = "issuing_state,document_type,number,status"
ROW = "UTO,passport,L898902C3,stolen-from-holder"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def rows(lines: Sequence[str | bytes], fmt: str) -> list[LoadRow | RowError]:
    assert fmt in ("csv", "ndjson")
    return list(read_rows(lines, "csv" if fmt == "csv" else "ndjson"))


def good(parsed: Sequence[LoadRow | RowError]) -> list[LoadRow]:
    return [r for r in parsed if isinstance(r, LoadRow)]


def errors(parsed: Sequence[LoadRow | RowError]) -> dict[int, str]:
    found = {r.line: r.reason for r in parsed if isinstance(r, RowError)}
    assert len(found) == sum(isinstance(r, RowError) for r in parsed), "two errors on one line"
    return found


def ndjson(*objects: object) -> list[str]:
    return [json.dumps(o) for o in objects]


# --- CSV ----------------------------------------------------------------------------


def test_csv_rows_are_keyed_by_the_header_and_numbered_from_the_header_line() -> None:
    parsed = rows([HEADER, ROW, "D,id-card,T22000129,lost"], "csv")
    assert errors(parsed) == {}
    first, second = good(parsed)
    assert first.line == 2 and second.line == 3
    assert dict(first.record) == {
        "issuing_state": "UTO",
        "document_type": "passport",
        "number": "L898902C3",
        "status": "stolen-from-holder",
    }
    assert second.record["issuing_state"] == "D"
    assert first.op == "put"
    assert first.envelope == EnvelopeFields()


def test_csv_header_names_are_trimmed_and_lower_cased() -> None:
    (row,) = good(rows([" Number , STATUS", "A1,lost"], "csv"))
    assert dict(row.record) == {"number": "A1", "status": "lost"}


@pytest.mark.parametrize("header", ["number,number", "number,,status"])
def test_a_header_naming_a_field_twice_or_empty_is_refused(header: str) -> None:
    parsed = rows([header, "A1,lost,x"], "csv")
    assert good(parsed) == []
    reason = errors(parsed)[1]
    assert "header" in reason and "twice" in reason


@pytest.mark.parametrize(
    ("line", "fields"), [(ROW + ",extra", 5), ("UTO,passport,L898902C3", 3), ("UTO", 1)]
)
def test_a_line_with_too_many_or_too_few_fields_names_the_line_and_the_counts(
    line: str, fields: int
) -> None:
    parsed = rows([HEADER, ROW, line, ROW.replace("L898902C3", "X1")], "csv")
    assert [r.line for r in good(parsed)] == [2, 4]
    reason = errors(parsed)[3]
    assert reason.startswith(f"{fields} fields where the header has 4")


def test_a_quoted_comma_is_part_of_the_value() -> None:
    (row,) = good(rows(["number,remarks", 'A1,"taken at a station, platform 2"'], "csv"))
    assert row.record["remarks"] == "taken at a station, platform 2"


def test_an_empty_csv_upload_is_one_error_on_line_1() -> None:
    for lines in ([], [""], ["   "], [b""]):
        parsed = rows(lines, "csv")
        assert len(parsed) == 1
        assert errors(parsed)[1].startswith("the upload is empty")


def test_a_csv_header_without_rows_is_reported() -> None:
    for lines in ([HEADER], [HEADER, "", "  "], [HEADER.encode() + b"\r", b""]):
        parsed = rows(lines, "csv")
        assert len(parsed) == 1
        assert "header but no rows" in errors(parsed)[1]


def test_a_byte_order_mark_and_crlf_line_ends_are_read_away() -> None:
    data = ("\ufeff" + HEADER + "\r\n" + ROW + "\r\n").encode("utf-8")
    parsed = rows(list(byte_lines([data])), "csv")
    (row,) = good(parsed)
    assert "issuing_state" in row.record  # not "\ufeffissuing_state"
    assert row.record["status"] == "stolen-from-holder"  # not "...holder\r"
    assert errors(parsed) == {}


def test_text_lines_keep_their_line_ends_off_too() -> None:
    (row,) = good(rows(["\ufeff" + HEADER + "\r\n", ROW + "\r\n"], "csv"))
    assert row.record["issuing_state"] == "UTO"
    assert row.record["status"] == "stolen-from-holder"


def test_a_line_that_is_not_utf8_is_reported_with_its_number_and_the_rest_parse() -> None:
    text = "UTO,passport,L898902C3,vol\xe9"
    latin1 = text.encode("latin-1")
    lines = [HEADER.encode(), ROW.encode(), latin1, b"D,id-card,T22000129,lost"]
    parsed = rows(lines, "csv")
    assert [r.line for r in good(parsed)] == [2, 4]
    reason = errors(parsed)[3]
    assert "not UTF-8" in reason and "0xe9" in reason and f"column {len(text)}" in reason


def test_a_header_that_is_not_utf8_stops_the_csv() -> None:
    parsed = rows([b"num\xffber", ROW.encode()], "csv")
    assert good(parsed) == []
    assert "not UTF-8" in errors(parsed)[1]


def test_blank_csv_lines_are_skipped_but_keep_the_numbering() -> None:
    parsed = rows([HEADER, "", ROW, "   ", ROW.replace("L8", "X8")], "csv")
    assert [r.line for r in good(parsed)] == [3, 5]


def test_an_over_long_csv_line_is_refused_whole() -> None:
    long_row = "UTO,passport,L1," + "x" * MAX_LINE_CHARS
    parsed = rows([HEADER, long_row, ROW], "csv")
    assert [r.line for r in good(parsed)] == [3]
    assert f"at most {MAX_LINE_CHARS}" in errors(parsed)[2]


def test_a_csv_line_of_exactly_the_limit_is_read() -> None:
    prefix = "UTO,passport,L1,"
    exact = prefix + "x" * (MAX_LINE_CHARS - len(prefix))
    assert len(exact) == MAX_LINE_CHARS
    (row,) = good(rows([HEADER, exact], "csv"))
    assert len(row.record["status"]) == MAX_LINE_CHARS - len(prefix)


# --- NDJSON ------------------------------------------------------------------------


def test_ndjson_rows_are_numbered_by_position() -> None:
    parsed = rows(ndjson({"number": "A1"}, {"number": "B2", "op": "remove"}), "ndjson")
    first, second = good(parsed)
    assert (first.line, first.op, dict(first.record)) == (1, "put", {"number": "A1"})
    assert (second.line, second.op, dict(second.record)) == (2, "remove", {"number": "B2"})


def test_an_ndjson_line_field_overrides_the_position() -> None:
    """A node forwards only good rows, each carrying its line in the member's file."""
    parsed = rows(
        ndjson({"line": 7, "number": "A1"}, {"line": 12, "number": "?", "op": "zap"}), "ndjson"
    )
    (row,) = good(parsed)
    assert row.line == 7
    assert "line" not in row.record
    assert errors(parsed) == {12: "op: 'zap' is not put or remove"}


@pytest.mark.parametrize("given_line", [True, "7", 7.0, None])
def test_an_ndjson_line_field_that_is_not_an_integer_is_ignored(given_line: object) -> None:
    (row,) = good(rows(["", json.dumps({"line": given_line, "number": "A1"})], "ndjson"))
    assert row.line == 2
    assert "line" not in row.record


def test_an_ndjson_file_saved_with_a_byte_order_mark_and_crlf_parses() -> None:
    data = b'\xef\xbb\xbf{"number": "A1"}\r\n{"number": "B2"}\r\n'
    parsed = rows(list(byte_lines([data])), "ndjson")
    assert errors(parsed) == {}
    assert [dict(r.record) for r in good(parsed)] == [{"number": "A1"}, {"number": "B2"}]


def test_an_invalid_json_line_is_reported_and_the_rest_parse() -> None:
    lines = [json.dumps({"number": "A1"}), '{"number": "B2"', json.dumps({"number": "C3"})]
    parsed = rows(lines, "ndjson")
    assert [r.line for r in good(parsed)] == [1, 3]
    assert errors(parsed)[2].startswith("not valid JSON")


@pytest.mark.parametrize("value", ["[1, 2]", '"text"', "42", "null"])
def test_a_json_line_that_is_not_an_object_is_reported(value: str) -> None:
    parsed = rows([value, json.dumps({"number": "A1"})], "ndjson")
    assert [r.line for r in good(parsed)] == [2]
    assert errors(parsed) == {1: "a line must be one JSON object"}


def test_an_ndjson_line_that_is_not_utf8_is_reported_and_the_rest_parse() -> None:
    lines = [b'{"number": "A1"}', b'{"number": "\xc3\x28"}', b'{"number": "C3"}']
    parsed = rows(lines, "ndjson")
    assert [r.line for r in good(parsed)] == [1, 3]
    assert "not UTF-8" in errors(parsed)[2]


@pytest.mark.parametrize("lines", [[], [""], ["  ", ""], [b"", b"\r"]])
def test_an_empty_ndjson_upload_is_one_error_on_line_1(lines: list[str | bytes]) -> None:
    parsed = rows(lines, "ndjson")
    assert len(parsed) == 1
    assert errors(parsed)[1].startswith("the upload is empty")


def test_an_over_long_ndjson_line_is_refused_whole() -> None:
    long_line = json.dumps({"number": "A1", "remarks": "x" * MAX_LINE_CHARS})
    parsed = rows([long_line, json.dumps({"number": "B2"})], "ndjson")
    assert [r.line for r in good(parsed)] == [2]
    assert f"at most {MAX_LINE_CHARS}" in errors(parsed)[1]


def test_ndjson_values_that_are_not_text_or_numbers_are_refused_by_field() -> None:
    parsed = rows(ndjson({"number": ["A1"]}, {"number": {"a": 1}}, {"number": 12345}), "ndjson")
    assert errors(parsed) == {1: "number: must be a string", 2: "number: must be a string"}
    (row,) = good(parsed)
    assert row.record["number"] == "12345"


def test_ndjson_null_values_are_absent_fields() -> None:
    (row,) = good(rows(ndjson({"number": "A1", "remarks": None}), "ndjson"))
    assert dict(row.record) == {"number": "A1"}


# --- op and envelope fields ---------------------------------------------------------


@pytest.mark.parametrize(("text", "op"), [("", "put"), ("PUT", "put"), (" Remove ", "remove")])
def test_op_is_put_by_default_and_read_in_any_case(text: str, op: str) -> None:
    assert split_row(3, {"op": text, "number": "A1"}).op == op


def test_op_remove_in_a_csv_file() -> None:
    (row,) = good(rows(["op,issuing_state,document_type,number", "remove,UTO,passport,L1"], "csv"))
    assert row.op == "remove"
    assert dict(row.record) == {"issuing_state": "UTO", "document_type": "passport", "number": "L1"}


def test_an_unknown_op_is_named() -> None:
    parsed = rows(["op,number", "delete,A1"], "csv")
    assert errors(parsed) == {2: "op: 'delete' is not put or remove"}


def test_every_envelope_field_is_read_and_kept_out_of_the_record() -> None:
    raw = {
        "number": "A1",
        "expires": "2027-01-31",
        "review_due": " 2026-09-01 ",
        "mode": "Reference-Only",
        "allow_countries": "gb; FR ;",
        "deny_countries": "US",
        "allow_members": "ncb-gb;gb-metropolitan-police",
        "deny_members": "fr-police-nationale",
        "caveats": "  do not detain on this alone  ",
    }
    row = split_row(4, raw)
    assert dict(row.record) == {"number": "A1"}
    env = row.envelope
    assert env.expires == date(2027, 1, 31)
    assert env.review_due == date(2026, 9, 1)
    assert env.mode is Mode.REFERENCE_ONLY
    assert env.restrictions.allow_countries == {"GB", "FR"}
    assert env.restrictions.deny_countries == {"US"}
    assert env.restrictions.allow_members == {"ncb-gb", "gb-metropolitan-police"}
    assert env.restrictions.deny_members == {"fr-police-nationale"}
    assert env.caveats == "do not detain on this alone"


def test_envelope_fields_in_a_csv_header_are_envelope_fields() -> None:
    header = "number," + ",".join(ENVELOPE_FIELDS)
    line = "A1,2027-01-31,2026-09-01,full,GB,,,,handle with care"
    (row,) = good(rows([header, line], "csv"))
    assert dict(row.record) == {"number": "A1"}
    assert row.envelope.expires == date(2027, 1, 31)
    assert row.envelope.restrictions.allow_countries == {"GB"}
    assert row.envelope.caveats == "handle with care"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("expires", "31/01/2027", "expires: '31/01/2027' is not a date (yyyy-mm-dd)"),
        ("review_due", "2026-02-30", "review_due: '2026-02-30' is not a date (yyyy-mm-dd)"),
        ("mode", "secret", "mode: 'secret' is not full or reference-only"),
        ("allow_countries", "GB;XX", "allow_countries: "),
        ("deny_countries", "Britain", "deny_countries: "),
        ("allow_members", "NCB GB", "allow_members: 'NCB GB' is not a member code"),
        ("deny_members", "x", "deny_members: 'x' is not a member code"),
        ("caveats", "c" * 2001, "caveats: 2001 characters; at most 2000"),
    ],
)
def test_a_bad_envelope_field_is_named_in_the_row_error(
    field: str, value: str, reason: str
) -> None:
    parsed = rows(ndjson({"number": "A1"}, {"number": "B2", field: value}), "ndjson")
    assert [r.line for r in good(parsed)] == [1]
    assert errors(parsed)[2].startswith(reason)


def test_an_envelope_round_trips_through_its_json_form() -> None:
    """What the node sends for a row is what the hub reads back."""
    env = parse_envelope(
        {
            "expires": "2027-01-31",
            "mode": "reference-only",
            "allow_countries": "FR;GB",
            "deny_members": "gb-metropolitan-police",
            "caveats": "armed",
        }
    )
    assert parse_envelope(env.to_json()) == env


def test_the_envelope_a_row_asks_for_becomes_a_utc_envelope() -> None:
    fields = parse_envelope({"expires": "2027-01-31", "mode": "reference-only"})
    env = fields.envelope("ncb-gb", NOW, date(2027, 3, 2))
    assert env.owner == "ncb-gb" and env.created == NOW
    assert env.expires == datetime(2027, 1, 31, tzinfo=UTC)
    assert env.review_due == datetime(2027, 3, 2, tzinfo=UTC)  # the default review
    assert env.mode is Mode.REFERENCE_ONLY
    asked = parse_envelope({"review_due": "2026-06-01"}).envelope("ncb-gb", NOW, date(2027, 3, 2))
    assert asked.review_due == datetime(2026, 6, 1, tzinfo=UTC)


# --- byte_lines ---------------------------------------------------------------------


def test_byte_lines_splits_on_newlines_and_keeps_blank_lines() -> None:
    assert list(byte_lines([b"a\nb", b"c\n\nd\r\n", b"e"])) == [b"a", b"bc", b"", b"d\r", b"e"]
    assert list(byte_lines([b"a\n"])) == [b"a"]
    assert list(byte_lines([])) == []
    assert list(byte_lines([b"", b""])) == []


@given(
    data=st.lists(
        st.sampled_from([b"a", b"\n", b"\r", b"\xff", b"{", b"\xc3\xa9"]), max_size=60
    ).map(b"".join),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=10),
)
def test_byte_lines_gives_the_same_lines_for_any_chunking(data: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(data)) for c in cuts})
    bounds = [0, *points, len(data)]
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()
    assert list(byte_lines(chunks)) == expected
    assert list(byte_lines([data])) == expected


@given(
    st.lists(
        st.dictionaries(st.sampled_from(["number", "remarks"]), st.text(max_size=20), min_size=1),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=1, max_value=7),
)
def test_ndjson_parsed_from_any_chunking_gives_the_rows_in_order(
    objects: list[dict[str, str]], chunk: int
) -> None:
    data = "\r\n".join(json.dumps(o, ensure_ascii=False) for o in objects).encode()
    chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    parsed = list(read_rows(byte_lines(chunks), "ndjson"))
    assert [(r.line, dict(r.record)) for r in good(parsed)] == list(enumerate(objects, start=1))


# --- the report ---------------------------------------------------------------------


def test_reject_keeps_at_most_the_cap_and_counts_all() -> None:
    report = LoadReport()
    for line in range(1, MAX_REPORTED_ERRORS + 6):
        report.reject(RowError(line, "bad"))
    assert report.rejected_count == MAX_REPORTED_ERRORS + 5
    assert len(report.rejected) == MAX_REPORTED_ERRORS
    assert report.rejected[0].line == 1
    assert report.rejected[-1].line == MAX_REPORTED_ERRORS


def test_merge_adds_counts_and_keeps_the_cap() -> None:
    total = LoadReport(added=1, changed=2, unchanged=3, removed=4, absent=5)
    for line in range(600):
        total.reject(RowError(line, "a"))
    other = LoadReport(added=10, changed=20, unchanged=30, removed=40, absent=50)
    for line in range(MAX_REPORTED_ERRORS + 300):
        other.reject(RowError(10_000 + line, "b"))
    assert other.rejected_count == MAX_REPORTED_ERRORS + 300
    total.merge(other)
    assert (total.added, total.changed, total.unchanged, total.removed, total.absent) == (
        11,
        22,
        33,
        44,
        55,
    )
    assert total.rejected_count == 600 + MAX_REPORTED_ERRORS + 300
    assert len(total.rejected) == MAX_REPORTED_ERRORS
    assert [e.reason for e in total.rejected].count("b") == MAX_REPORTED_ERRORS - 600


@given(st.lists(st.integers(min_value=0, max_value=2 * MAX_REPORTED_ERRORS), max_size=4))
def test_merging_reports_counts_every_rejection(sizes: list[int]) -> None:
    total = LoadReport()
    for size in sizes:
        part = LoadReport()
        for line in range(size):
            part.reject(RowError(line, "x"))
        total.merge(part)
    assert total.rejected_count == sum(sizes)
    assert len(total.rejected) == min(sum(sizes), MAX_REPORTED_ERRORS)


def test_report_json_lists_the_rejected_rows() -> None:
    report = LoadReport(added=2)
    report.reject(RowError(5, "number: required"))
    assert report.to_json() == {
        "added": 2,
        "changed": 0,
        "unchanged": 0,
        "removed": 0,
        "absent": 0,
        "rejected_count": 1,
        "rejected": [{"line": 5, "reason": "number: required"}],
        "committed": True,
    }

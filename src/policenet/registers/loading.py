"""Reading bulk uploads: CSV or NDJSON rows into records, with errors by line.

Shared by every register. A row carries the register's record fields, an
optional ``op`` (``put``, the default, or ``remove``) and optional envelope
fields:

========================  ====================================================
``expires``               ISO date; the record stops matching from that day
``review_due``            ISO date the owner must confirm the record by
``mode``                  ``full`` or ``reference-only`` (default: the register's)
``allow_countries``       ``;``-separated ISO 3166 codes that may see it
``deny_countries``        ``;``-separated ISO 3166 codes that may not
``allow_members``         ``;``-separated member codes that may see it
``deny_members``          ``;``-separated member codes that may not
``caveats``               handling conditions shown with the data
========================  ====================================================

Parsing never stops at a bad row: each row comes back either as a
:class:`LoadRow` or as a :class:`RowError` with its line number (1 is the first
line of the file, the CSV header included) and a reason naming the field.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from policenet.domain.envelope import Envelope, Mode, Restrictions
from policenet.errors import InvalidField, PolicenetError

ENVELOPE_FIELDS = (
    "expires",
    "review_due",
    "mode",
    "allow_countries",
    "deny_countries",
    "allow_members",
    "deny_members",
    "caveats",
)
MAX_LINE_CHARS = 8192
Op = Literal["put", "remove"]
Format = Literal["csv", "ndjson"]


@dataclass(frozen=True, slots=True)
class EnvelopeFields:
    """The envelope a row asks for; the owner and creation time are the store's to set."""

    expires: date | None = None
    review_due: date | None = None
    mode: Mode | None = None
    """None: the register's default (full for documents, reference-only for DNA)."""
    restrictions: Restrictions = field(default_factory=Restrictions)
    caveats: str = ""

    def envelope(
        self,
        owner: str,
        now: datetime,
        default_review: date | None,
        default_mode: Mode = Mode.FULL,
    ) -> Envelope:
        review = self.review_due or default_review
        return Envelope(
            owner=owner,
            created=now,
            expires=_midnight(self.expires),
            review_due=_midnight(review),
            mode=self.mode or default_mode,
            restrictions=self.restrictions,
            caveats=self.caveats,
        )

    def to_json(self) -> dict[str, object]:
        r = self.restrictions
        return {
            "expires": self.expires.isoformat() if self.expires else None,
            "review_due": self.review_due.isoformat() if self.review_due else None,
            "mode": self.mode.value if self.mode else None,
            "allow_countries": ";".join(sorted(r.allow_countries)),
            "deny_countries": ";".join(sorted(r.deny_countries)),
            "allow_members": ";".join(sorted(r.allow_members)),
            "deny_members": ";".join(sorted(r.deny_members)),
            "caveats": self.caveats,
        }


def _midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


MAX_REPORTED_ERRORS = 1000


@dataclass
class LoadReport:
    """What a load did. ``rejected`` lists at most :data:`MAX_REPORTED_ERRORS` rows."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    absent: int = 0
    rejected_count: int = 0
    rejected: list[RowError] = field(default_factory=list)
    committed: bool = True

    def reject(self, error: RowError) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED_ERRORS:
            self.rejected.append(error)

    def merge(self, other: LoadReport) -> None:
        self.added += other.added
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.removed += other.removed
        self.absent += other.absent
        for error in other.rejected:
            self.reject(error)
        self.rejected_count += other.rejected_count - len(other.rejected)
        self.committed = self.committed and other.committed

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "absent": self.absent,
            "rejected_count": self.rejected_count,
            "rejected": [{"line": e.line, "reason": e.reason} for e in self.rejected],
            "committed": self.committed,
        }


@dataclass(frozen=True, slots=True)
class LoadRow:
    """One good row: what to do, the register's raw record fields, the envelope asked for."""

    line: int
    op: Op
    record: Mapping[str, str]
    envelope: EnvelopeFields


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


def parse_envelope(raw: Mapping[str, object]) -> EnvelopeFields:
    """The envelope fields of a row (all optional); InvalidField naming a bad one."""

    def text(name: str) -> str:
        value = raw.get(name)
        return "" if value is None else str(value).strip()

    def day(name: str) -> date | None:
        value = text(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidField(name, f"{value!r} is not a date (yyyy-mm-dd)") from None

    def codes(name: str) -> frozenset[str]:
        return frozenset(c.strip() for c in text(name).split(";") if c.strip())

    mode_text = text("mode")
    try:
        mode = Mode(mode_text.lower()) if mode_text else None
    except ValueError:
        raise InvalidField("mode", f"{mode_text!r} is not full or reference-only") from None
    caveats = text("caveats")
    if len(caveats) > 2000:
        raise InvalidField("caveats", f"{len(caveats)} characters; at most 2000")
    return EnvelopeFields(
        expires=day("expires"),
        review_due=day("review_due"),
        mode=mode,
        restrictions=Restrictions(
            allow_members=codes("allow_members"),
            deny_members=codes("deny_members"),
            allow_countries=codes("allow_countries"),
            deny_countries=codes("deny_countries"),
        ),
        caveats=caveats,
    )


def split_row(line: int, raw: Mapping[str, object]) -> LoadRow:
    """Separate a row's ``op`` and envelope fields from its record fields."""
    op_text = str(raw.get("op") or "put").strip().lower()
    if op_text not in ("put", "remove"):
        raise InvalidField("op", f"{op_text!r} is not put or remove")
    envelope = parse_envelope(raw)
    record: dict[str, str] = {}
    for name, value in raw.items():
        if name in ENVELOPE_FIELDS or name == "op" or name == "line":
            continue
        if value is None:
            continue
        if not isinstance(value, str | int | float):
            raise InvalidField(str(name), "must be a string")
        record[str(name)] = str(value)
    return LoadRow(
        line=line, op="remove" if op_text == "remove" else "put", record=record, envelope=envelope
    )


def read_rows(lines: Iterable[str | bytes], fmt: Format) -> Iterator[LoadRow | RowError]:
    """Parse the lines (text, or bytes that must be UTF-8) of a CSV or NDJSON upload.

    CSV needs a header naming the fields. An empty upload yields one
    RowError for line 1. A line over :data:`MAX_LINE_CHARS` is refused whole.
    """
    if fmt == "csv":
        yield from _csv_rows(lines)
    else:
        yield from _ndjson_rows(lines)


def _guarded(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str | RowError]]:
    for number, line in enumerate(lines, start=1):
        try:
            yield number, _decode(line)
        except NotUtf8 as exc:
            yield number, RowError(number, str(exc))


def _ndjson_rows(lines: Iterable[str | bytes]) -> Iterator[LoadRow | RowError]:
    seen = False
    for number, line in _guarded(lines):
        if isinstance(line, RowError):
            seen = True
            yield line
            continue
        if not line.strip():
            continue
        seen = True
        if len(line) > MAX_LINE_CHARS:
            yield RowError(number, f"line is {len(line)} characters; at most {MAX_LINE_CHARS}")
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(raw, dict):
            yield RowError(number, "a line must be one JSON object")
            continue
        # a node forwarding an upload numbers each row by its line in the original file
        given = raw.pop("line", number)
        at = given if isinstance(given, int) and not isinstance(given, bool) else number
        try:
            yield split_row(at, raw)
        except PolicenetError as exc:
            yield RowError(at, exc.message)
    if not seen:
        yield RowError(1, "the upload is empty: no rows")


def _csv_rows(lines: Iterable[str | bytes]) -> Iterator[LoadRow | RowError]:
    numbered = _guarded(lines)
    header_line = next(numbered, None)
    if header_line is not None and isinstance(header_line[1], RowError):
        yield header_line[1]
        return
    if header_line is None or not str(header_line[1]).strip():
        yield RowError(1, "the upload is empty: a CSV file needs a header line naming the fields")
        return
    header = [h.strip().lower() for h in next(csv.reader([str(header_line[1])]))]
    if len(set(header)) != len(header) or "" in header:
        yield RowError(1, f"the header names a field twice or has an empty name: {header}")
        return
    rows = 0
    for number, line in numbered:
        if isinstance(line, RowError):
            rows += 1
            yield line
            continue
        if not line.strip():
            continue
        rows += 1
        if len(line) > MAX_LINE_CHARS:
            yield RowError(number, f"line is {len(line)} characters; at most {MAX_LINE_CHARS}")
            continue
        try:
            values = next(csv.reader([line]))
        except csv.Error as exc:
            yield RowError(number, f"not valid CSV: {exc}")
            continue
        if len(values) != len(header):
            yield RowError(
                number,
                f"{len(values)} fields where the header has {len(header)} "
                "(a truncated line, or a comma inside an unquoted value?)",
            )
            continue
        try:
            yield split_row(number, dict(zip(header, values, strict=True)))
        except PolicenetError as exc:
            yield RowError(number, exc.message)
    if rows == 0:
        yield RowError(1, "the upload has a header but no rows")


def byte_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a byte stream (any chunking) into lines without their line ends.

    A line longer than :data:`MAX_LINE_CHARS` (times four, for UTF-8) is cut
    there and the rest of it dropped, so a stream without line ends cannot
    fill memory; the cut line is then refused as over-long by the row readers.
    """
    cap = MAX_LINE_CHARS * 4
    buffer = b""
    skipping = False
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            if skipping:
                skipping = False
                continue
            yield line
        if len(buffer) > cap:
            if not skipping:
                yield buffer[: cap + 1]
            skipping = True
            buffer = b""
    if buffer and not skipping:
        yield buffer


class NotUtf8(ValueError):
    pass


def _decode(raw: str | bytes) -> str:
    if isinstance(raw, str):
        return raw.rstrip("\r\n").removeprefix("\ufeff")
    try:
        return raw.decode("utf-8").rstrip("\r").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise NotUtf8(
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "save the file as UTF-8"
        ) from None

"""Bulk uploads at the node: check every row here, then stream the good ones to the hub.

A node checks a file before a byte of it leaves: rows that fail the
register's validation, repeat an earlier row's document, or cannot be read
are reported with their line numbers and are not sent. With
``all_or_nothing`` the file is read twice: a first pass that sends nothing if
any row is bad, and a second that streams it to the hub, which applies it in
one transaction. Without it, good rows land in batches while bad rows are
reported. The hub checks everything again; the node's pass only saves a
round trip and keeps bad data on the member's side.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from policenet.errors import PolicenetError
from policenet.node.hubclient import HubClient
from policenet.registers.base import RegisterRules
from policenet.registers.documents.rules import DocumentRules
from policenet.registers.loading import (
    Format,
    LoadReport,
    LoadRow,
    RowError,
    byte_lines,
    read_rows,
)

CHUNK = 1 << 20
DOCUMENT_RULES = DocumentRules()


def wire_line(row: LoadRow) -> bytes:
    """The NDJSON line the hub receives for a good row (with its line in the file)."""
    body: dict[str, Any] = {"line": row.line, "op": row.op, **row.record}
    if row.op == "put":
        body.update({k: v for k, v in row.envelope.to_json().items() if v not in (None, "")})
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


@dataclass
class Checked:
    """The outcome of the node's own pass: how many rows were good, the bad ones reported."""

    good: int = 0
    report: LoadReport = field(default_factory=LoadReport)


def check_rows(
    rows: Iterable[LoadRow | RowError],
    today: date,
    checked: Checked,
    rules: RegisterRules = DOCUMENT_RULES,
) -> Iterator[bytes]:
    """Yield wire lines for good rows; record bad ones (and repeats) in ``checked.report``.

    ``rules`` are the register's (travel documents unless said otherwise).
    """
    report = checked.report
    seen: dict[bytes, int] = {}
    for row in rows:
        if isinstance(row, RowError):
            report.reject(row)
            continue
        try:
            if row.op == "remove":
                key = rules.removal_key(row.record)
            else:
                key = rules.parse(row.record, today)[0]
        except PolicenetError as exc:
            report.reject(RowError(row.line, exc.message))
            continue
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        first = seen.get(digest)
        if first is not None:
            report.reject(RowError(row.line, f"the same {rules.noun} as line {first} ({key})"))
            continue
        seen[digest] = row.line
        checked.good += 1
        yield wire_line(row)


def file_chunks(path: Path, on_bytes: Callable[[int], None] | None = None) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            if on_bytes:
                on_bytes(len(chunk))
            yield chunk


async def _batched(lines: Iterator[bytes], size: int = 1 << 18) -> AsyncIterator[bytes]:
    buffer = bytearray()
    for line in lines:
        buffer += line
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


async def upload_file(
    hub: HubClient,
    path: Path,
    fmt: Format,
    *,
    all_or_nothing: bool,
    today: date,
    officer: str | None,
    on_bytes: Callable[[int], None] | None = None,
    rules: RegisterRules = DOCUMENT_RULES,
) -> LoadReport:
    """Check ``path`` and send its good rows to the hub's load route of ``rules``' register."""
    if all_or_nothing:
        dry = Checked()
        for _ in check_rows(read_rows(byte_lines(file_chunks(path)), fmt), today, dry, rules):
            pass
        if dry.report.rejected_count:
            dry.report.committed = False
            return dry.report
    checked = Checked()
    lines = check_rows(
        read_rows(byte_lines(file_chunks(path, on_bytes)), fmt), today, checked, rules
    )
    first = next(lines, None)
    if first is None:
        # nothing good to send: the node's own report is the whole answer
        return checked.report
    answer = await hub.post_stream(
        f"/v1/{rules.register.value}/load",
        _batched(itertools.chain([first], lines)),
        params={"all_or_nothing": "true" if all_or_nothing else "false"},
        officer=officer,
    )
    return merge_reports(checked, answer)


def merge_reports(checked: Checked, hub_answer: dict[str, Any]) -> LoadReport:
    """The node's rejections and the hub's report together, rejections in line order."""
    report = checked.report
    for name in ("added", "changed", "unchanged", "removed", "absent"):
        setattr(report, name, int(hub_answer.get(name, 0)))
    local = list(report.rejected)
    hub_rejected = [RowError(int(r["line"]), str(r["reason"])) for r in hub_answer["rejected"]]
    report.rejected = []
    total = report.rejected_count + int(hub_answer["rejected_count"])
    for error in sorted(local + hub_rejected, key=lambda e: e.line):
        report.reject(error)
    report.rejected_count = total
    report.committed = bool(hub_answer.get("committed", True))
    return report


def format_report(report: LoadReport) -> list[str]:
    """The report as lines for a person."""
    lines = [
        f"added {report.added}, changed {report.changed}, unchanged {report.unchanged}, "
        f"removed {report.removed}, not found for removal {report.absent}, "
        f"rejected {report.rejected_count}"
    ]
    if not report.committed:
        lines.append("NOTHING WAS APPLIED (all or nothing, and some rows were rejected)")
    lines += [f"  line {e.line}: {e.reason}" for e in report.rejected]
    if report.rejected_count > len(report.rejected):
        lines.append(f"  ... and {report.rejected_count - len(report.rejected)} more")
    return lines


async def upload_body(
    chunks: AsyncIterator[bytes],
    spool_dir: Path,
    hub: HubClient,
    fmt: Format,
    *,
    all_or_nothing: bool,
    today: date,
    officer: str | None,
    rules: RegisterRules = DOCUMENT_RULES,
) -> LoadReport:
    """A bulk load received as a request body: spooled to disk, then :func:`upload_file`."""
    spool_dir.mkdir(exist_ok=True, mode=0o700)
    with tempfile.NamedTemporaryFile(dir=spool_dir) as spool:
        async for chunk in chunks:
            spool.write(chunk)
        spool.flush()
        return await upload_file(
            hub,
            Path(spool.name),
            fmt,
            all_or_nothing=all_or_nothing,
            today=today,
            officer=officer,
            rules=rules,
        )

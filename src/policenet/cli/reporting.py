"""Loading a file of records and exporting a member's own, for every register's commands.

``policenet node documents load``, ``dna load`` and ``persons load`` (and
their ``export``) differ only by the register; the work is done here: rows
are checked at the node with the register's rules, good rows are streamed
to the hub with a progress bar over the file's bytes, and the report lists
rejected rows with their line numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from policenet.cli.common import NodeDir, node_settings, now, out
from policenet.errors import InvalidInput
from policenet.node.app import tunnel_to_hub
from policenet.node.hubclient import HubClient
from policenet.node.uploads import format_report, upload_file
from policenet.registers.base import RegisterRules

T = TypeVar("T")


def with_hub(directory: Path, work: Callable[[HubClient], Awaitable[T]]) -> T:
    """Run ``work`` with a tunnel to the hub from the node in ``directory`` (closed after)."""
    settings = node_settings(directory)

    async def run() -> T:
        hub = tunnel_to_hub(settings)
        try:
            return await work(hub)
        finally:
            await hub.aclose()

    return asyncio.run(run())


def file_format(path: Path, given: str | None) -> Literal["csv", "ndjson"]:
    """The format given, or the one the file name says (.csv, .ndjson, .jsonl)."""
    fmt = given or {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}.get(path.suffix.lower())
    if fmt not in ("csv", "ndjson"):
        raise InvalidInput(f"cannot tell the format of {path.name}; give --format csv or ndjson")
    return "csv" if fmt == "csv" else "ndjson"


def load_file(
    directory: Path,
    file: Path,
    fmt: str | None,
    *,
    all_or_nothing: bool,
    officer: str,
    rules: RegisterRules,
) -> None:
    """Load ``file`` into ``rules``' register; print the report; exit 1 if a row was refused."""
    fmt_used = file_format(file, fmt)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        task = progress.add_task(f"loading {file.name}", total=file.stat().st_size)
        report = with_hub(
            directory,
            lambda hub: upload_file(
                hub,
                file,
                fmt_used,
                all_or_nothing=all_or_nothing,
                today=now().date(),
                officer=officer,
                on_bytes=lambda n: progress.update(task, advance=n),
                rules=rules,
            ),
        )
    for line in format_report(report):
        out(line)
    if report.rejected_count:
        raise typer.Exit(1)


def export_file(directory: Path, save_to: Path, fmt: str, *, officer: str, register: str) -> None:
    """Write this member's own records of ``register`` to ``save_to`` (CSV or NDJSON)."""
    if fmt not in ("csv", "ndjson"):
        raise InvalidInput("--format must be csv or ndjson")

    async def work(hub: HubClient) -> int:
        written = 0
        with save_to.open("wb") as sink:
            async for chunk in hub.get_stream(
                f"/v1/{register}/export?format={fmt}", officer=officer
            ):
                sink.write(chunk)
                written += len(chunk)
        return written

    size = with_hub(directory, work)
    out(f"{size} bytes written to {save_to}")


def add_export_command(app: typer.Typer, register: str, records: str) -> None:
    """Add ``export`` to a register's command group: this member's own ``records`` to a file
    (:func:`export_file`)."""

    def export(
        directory: NodeDir,
        save_to: Annotated[Path, typer.Option("--out", help="the file to write")],
        fmt: Annotated[str, typer.Option("--format", help="csv or ndjson")] = "ndjson",
        officer: Annotated[
            str, typer.Option(help="who the hub's audit log names as acting")
        ] = "node-admin",
    ) -> None:
        export_file(directory, save_to, fmt, officer=officer, register=register)

    export.__doc__ = (
        f"Write this member's own {records} to a file, in the form `{register} load` reads."
    )
    app.command("export")(export)

"""``policenet node dna ...``: load, search and rank DNA profiles from a node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from policenet.cli.common import NodeDir, now, out
from policenet.cli.documents import file_format, with_hub
from policenet.errors import InvalidInput
from policenet.node.hubclient import HubClient
from policenet.node.uploads import format_report, upload_file
from policenet.registers.dna.rules import DnaRules

app = typer.Typer(help="DNA profiles: bulk loads, searches, kinship.", no_args_is_help=True)
Officer = Annotated[str, typer.Option(help="who the hub's audit log names as acting")]


def _profile(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a JSON profile: {exc}") from None
    if not isinstance(found, dict):
        raise InvalidInput(f"{path} must hold one JSON object (the profile)")
    return found


@app.command("load")
def load(
    directory: NodeDir,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (with a header) or NDJSON of profiles", exists=True, dir_okay=False
        ),
    ],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or ndjson")] = None,
    all_or_nothing: Annotated[
        bool, typer.Option(help="apply nothing unless every row is good")
    ] = False,
    officer: Officer = "node-admin",
) -> None:
    """Load profiles (one row each: reference, category, loci...); exit 1 if a row is refused."""
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
                rules=DnaRules(),
            ),
        )
    for line in format_report(report):
        out(line)
    if report.rejected_count:
        raise typer.Exit(1)


@app.command("search")
def search(
    directory: NodeDir,
    profile: Annotated[Path, typer.Argument(help="a JSON file with one profile", exists=True)],
    stringency: Annotated[str, typer.Option(help="high, moderate or low")] = "moderate",
    min_loci: Annotated[int, typer.Option(help="loci a match must compare")] = 6,
    officer: Officer = "node-admin",
) -> None:
    """Search one profile; exit 3 when something matches."""
    body = {"profile": _profile(profile), "stringency": stringency, "min_loci": min_loci}
    answer = with_hub(directory, lambda hub: hub.post("/v1/dna/search", body, officer=officer))
    if not answer["hits"]:
        out(f"no match ({stringency} stringency, at least {min_loci} loci)")
        return
    for hit in answer["hits"]:
        details = hit["details"]
        lr = details.get("likelihood_ratio")
        weight = f", LR {lr:.3g}" if lr else ""
        out(
            f"MATCH {details['rule']}: {hit['key']} owned by {hit['owner_name']} over "
            f"{details['loci_count']} loci{weight}; case {hit['case'] or '-'}"
        )
        out(f"  {hit['advice']}")
    raise typer.Exit(3)


@app.command("kinship")
def kinship(
    directory: NodeDir,
    profile: Annotated[Path, typer.Argument(help="missing person or remains, JSON", exists=True)],
    relationship: Annotated[
        str, typer.Option(help="parent-child, full siblings, ...")
    ] = "parent-child",
    limit: Annotated[int, typer.Option(help="how many candidates")] = 10,
    officer: Officer = "node-admin",
) -> None:
    """Rank relatives' profiles by kinship likelihood ratio against a profile."""
    body = {"profile": _profile(profile), "relationship": relationship, "limit": limit}
    answer = with_hub(directory, lambda hub: hub.post("/v1/dna/kinship", body, officer=officer))
    for rank, candidate in enumerate(answer["candidates"], start=1):
        out(
            f"{rank:>3}. {candidate['key']} ({candidate['owner']}): "
            f"LR {candidate['likelihood_ratio']:.3g} over {len(candidate['loci'])} loci"
        )
    if not answer["candidates"]:
        out("no relatives' profiles to compare with")


@app.command("export")
def export(
    directory: NodeDir,
    save_to: Annotated[Path, typer.Option("--out", help="the file to write")],
    fmt: Annotated[str, typer.Option("--format", help="csv or ndjson")] = "ndjson",
    officer: Officer = "node-admin",
) -> None:
    """Write this member's own profiles to a file, in the form `dna load` reads."""
    if fmt not in ("csv", "ndjson"):
        raise InvalidInput("--format must be csv or ndjson")

    async def work(hub: HubClient) -> int:
        written = 0
        with save_to.open("wb") as sink:
            async for chunk in hub.get_stream(f"/v1/dna/export?format={fmt}", officer=officer):
                sink.write(chunk)
                written += len(chunk)
        return written

    size = with_hub(directory, work)
    out(f"{size} bytes written to {save_to}")

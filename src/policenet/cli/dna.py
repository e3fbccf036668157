"""``policenet node dna ...``: load, search and rank DNA profiles from a node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from policenet.cli.common import NodeDir, out
from policenet.cli.reporting import add_export_command, load_file, with_hub
from policenet.errors import InvalidInput
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
    load_file(
        directory, file, fmt, all_or_nothing=all_or_nothing, officer=officer, rules=DnaRules()
    )


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


add_export_command(app, "dna", "profiles")

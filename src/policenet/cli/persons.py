"""``policenet node persons ...``: search names, screen lists, load notices and watchlists."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from policenet.cli.common import NodeDir, out
from policenet.cli.reporting import add_export_command, load_file, with_hub
from policenet.errors import InvalidInput
from policenet.node.hubclient import HubClient
from policenet.registers.persons.requests import MAX_SCREENING
from policenet.registers.persons.rules import PersonRules
from policenet.registers.persons.sdn import DEFAULT_LIST_NAME, sdn_rows

app = typer.Typer(
    help="Persons: name searches, screening, notices and watchlists.", no_args_is_help=True
)
Officer = Annotated[str, typer.Option(help="who the hub's audit log names as acting")]

SCREEN_BATCH = MAX_SCREENING
"""Names per screening request (the hub's limit)."""


def _show_hit(hit: dict[str, Any], indent: str = "") -> None:
    record = hit.get("record") or {}
    kind = f" {record['kind']} notice" if record.get("kind") else ""
    out(
        f"{indent}HIT{kind} {hit['key']} owned by {hit['owner_name']}: score {hit['score']:.2f} "
        f"({hit['strength']}); case {hit['case'] or '-'}"
    )
    for line in hit["explanation"]:
        out(f"{indent}  - {line}")
    out(f"{indent}  {hit['advice']}")


@app.command("search")
def search(
    directory: NodeDir,
    name: Annotated[str, typer.Option(help="the name as written, in any script")],
    date_of_birth: Annotated[
        str | None, typer.Option("--dob", help="YYYY, YYYY-MM or YYYY-MM-DD")
    ] = None,
    nationality: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2")] = None,
    sex: Annotated[str | None, typer.Option(help="M, F or X")] = None,
    limit: Annotated[int, typer.Option(help="most hits shown")] = 10,
    officer: Officer = "node-admin",
) -> None:
    """Search one person by name; exit 3 when there is a hit."""
    body = {
        "name": name,
        "date_of_birth": date_of_birth,
        "nationality": nationality,
        "sex": sex,
        "limit": limit,
    }
    answer = with_hub(directory, lambda hub: hub.post("/v1/persons/search", body, officer=officer))
    if not answer["hits"]:
        out(f"no hit for {answer['query']} (searched {answer['searched_at']})")
        return
    for hit in answer["hits"]:
        _show_hit(hit)
    raise typer.Exit(3)


def _names(path: Path) -> list[dict[str, Any]]:
    """Names to screen: a CSV with a header (``name`` and optional ``date_of_birth``,
    ``nationality``, ``sex``), or plain text with one name a line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if rows and "name" not in rows[0]:
            raise InvalidInput(f"{path.name}: the CSV header has no 'name' column")
        keep = ("name", "date_of_birth", "nationality", "sex")
        return [{k: (r.get(k) or None) for k in keep} for r in rows]
    return [{"name": line} for line in text.splitlines() if line.strip()]


@app.command("screen")
def screen(
    directory: NodeDir,
    file: Annotated[
        Path,
        typer.Argument(help="CSV with a name column, or one name a line", exists=True),
    ],
    limit: Annotated[int, typer.Option(help="most hits shown per name")] = 3,
    officer: Officer = "node-admin",
) -> None:
    """Screen a list of names (a passenger list); exit 3 when any name hits."""
    names = _names(file)
    if not names:
        raise InvalidInput(f"{file.name} has no names")

    async def work(hub: HubClient) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        for start in range(0, len(names), SCREEN_BATCH):
            body = {"persons": names[start : start + SCREEN_BATCH], "limit": limit}
            answer = await hub.post("/v1/persons/screen", body, officer=officer)
            answers += [{**a, "index": a["index"] + start} for a in answer["answers"]]
        return answers

    answers = with_hub(directory, work)
    hits = 0
    for answer in answers:
        line = answer["index"] + (2 if file.suffix.lower() == ".csv" else 1)
        if "error" in answer:
            out(f"line {line}: {answer['error']}")
            continue
        for hit in answer["hits"]:
            hits += 1
            out(f"line {line}: {answer['query']}")
            _show_hit(hit, indent="  ")
    out(f"{len(names)} names screened, {hits} hits")
    if hits:
        raise typer.Exit(3)


@app.command("load")
def load(
    directory: NodeDir,
    file: Annotated[
        Path,
        typer.Argument(help="CSV (with a header) or NDJSON of person records", exists=True),
    ],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or ndjson")] = None,
    all_or_nothing: Annotated[
        bool, typer.Option(help="apply nothing unless every row is good")
    ] = False,
    officer: Officer = "node-admin",
) -> None:
    """Load notices, diffusions and watchlist entries; exit 1 if a row is refused."""
    rules = PersonRules()
    load_file(directory, file, fmt, all_or_nothing=all_or_nothing, officer=officer, rules=rules)


@app.command("import-sdn")
def import_sdn(
    directory: NodeDir,
    file: Annotated[
        Path, typer.Argument(help="the US SDN list as published (sdn.csv)", exists=True)
    ],
    list_name: Annotated[str, typer.Option(help="the list's name on each entry")] = (
        DEFAULT_LIST_NAME
    ),
    include_entities: Annotated[
        bool, typer.Option(help="also import companies, vessels and aircraft")
    ] = False,
    all_or_nothing: Annotated[
        bool, typer.Option(help="apply nothing unless every row is good")
    ] = False,
    officer: Officer = "node-admin",
) -> None:
    """Import the US Treasury SDN list as watchlist entries owned by this member.

    Each entry becomes a row (names, aliases, dates of birth, nationalities
    and passports read from the remarks column); lines that cannot be read are
    reported with their line numbers, then the rows are loaded like a file.
    """
    skipped = 0
    with (
        file.open(encoding="utf-8", errors="strict", newline="") as source,
        tempfile.TemporaryDirectory() as work,
    ):
        converted = Path(work) / "sdn.ndjson"
        with converted.open("w", encoding="utf-8") as sink:
            try:
                for item in sdn_rows(
                    source, list_name=list_name, include_entities=include_entities
                ):
                    if item.row is None:
                        skipped += 1
                        out(f"line {item.line}: {item.error}")
                        continue
                    sink.write(json.dumps(item.row, ensure_ascii=False) + "\n")
            except UnicodeDecodeError:
                raise InvalidInput(f"{file.name} is not UTF-8 text") from None
        if skipped:
            out(f"{skipped} lines of {file.name} could not be read (above)")
            if all_or_nothing:
                out("nothing loaded (--all-or-nothing)")
                raise typer.Exit(1)
        load_file(
            directory,
            converted,
            "ndjson",
            all_or_nothing=all_or_nothing,
            officer=officer,
            rules=PersonRules(),
        )


add_export_command(app, "persons", "person records")

"""``policenet node documents ...``: report, load and check travel documents from a node."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from policenet.cli.common import NodeDir, out
from policenet.cli.reporting import add_export_command, load_file, with_hub
from policenet.errors import InvalidInput
from policenet.registers.documents.rules import DocumentRules

app = typer.Typer(help="Travel documents: bulk loads, reports and checks.", no_args_is_help=True)

Officer = Annotated[
    str, typer.Option(help="who the hub's audit log names as acting (an account name)")
]
T = TypeVar("T")


@app.command("load")
def load(
    directory: NodeDir,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (with a header) or NDJSON file", exists=True, dir_okay=False, readable=True
        ),
    ],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or ndjson (default: from the file name)")
    ] = None,
    all_or_nothing: Annotated[
        bool, typer.Option(help="apply nothing unless every row is good")
    ] = False,
    officer: Officer = "node-admin",
) -> None:
    """Load a file of stolen and lost documents (rows with op=remove take records out).

    Rows are checked here first; bad rows are reported with their line numbers
    while good rows land (or, with --all-or-nothing, nothing lands). Exit 1 if
    any row was rejected.
    """
    load_file(
        directory, file, fmt, all_or_nothing=all_or_nothing, officer=officer, rules=DocumentRules()
    )


@app.command("remove")
def remove(
    directory: NodeDir,
    country: Annotated[str, typer.Option(help="issuing state, ICAO code (e.g. USA, D)")],
    number: Annotated[str, typer.Option(help="the document number")],
    document_type: Annotated[
        str, typer.Option("--type", help="passport, id-card, ...")
    ] = "passport",
    officer: Officer = "node-admin",
) -> None:
    """Take one document out of the register (it was recovered)."""
    row = {
        "op": "remove",
        "issuing_state": country,
        "document_type": document_type,
        "number": number,
    }
    answer: dict[str, Any] = with_hub(
        directory,
        lambda hub: hub.post("/v1/documents/records", {"rows": [row]}, officer=officer),
    )
    if answer["rejected"]:
        raise InvalidInput(answer["rejected"][0]["reason"])
    out("removed" if answer["removed"] else "not in the register: nothing to remove")


@app.command("check")
def check(
    directory: NodeDir,
    number: Annotated[str | None, typer.Argument(help="the document number")] = None,
    country: Annotated[str | None, typer.Option(help="issuing state (ICAO code)")] = None,
    document_type: Annotated[str | None, typer.Option("--type", help="document type")] = None,
    mrz: Annotated[str | None, typer.Option(help="the MRZ lines instead of a number")] = None,
    tolerant: Annotated[bool, typer.Option(help="also report OCR confusions")] = False,
    officer: Officer = "node-admin",
    as_json: Annotated[bool, typer.Option("--json", help="print the hub's answer as JSON")] = False,
) -> None:
    """Check one document against the register (exit 3 on a hit)."""
    if not number and not mrz:
        raise InvalidInput("give a document number or --mrz")
    item = {"number": number, "issuing_state": country, "document_type": document_type, "mrz": mrz}
    body = {"documents": [{k: v for k, v in item.items() if v}], "tolerant": tolerant}
    answer: dict[str, Any] = with_hub(
        directory, lambda hub: hub.post("/v1/documents/check", body, officer=officer)
    )
    if as_json:
        out(json.dumps(answer, indent=2))
    first = answer["answers"][0]
    if "error" in first:
        raise InvalidInput(first["error"])
    hits = first["hits"]
    if not hits:
        out(f"no hit ({answer['source']} register, checked {answer['checked_at']})")
        return
    for hit in hits:
        out(
            f"HIT {hit['strength'].upper()}: {hit['key']} owned by {hit['owner_name']} "
            f"({hit['owner_country']})"
        )
        if hit["record"]:
            out(f"  status {hit['record']['status']}, reference {hit['record']['reference']}")
        for why in hit["explanation"]:
            out(f"  - {why}")
        out(f"  {hit['advice']}")
    raise typer.Exit(3)


add_export_command(app, "documents", "documents")

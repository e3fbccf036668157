"""What every command shares: error output, directories, time."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from policenet.settings import HubSettings, NodeSettings, load

HubDir = Annotated[
    Path, typer.Option("--dir", help="the hub's directory (made by policenet hub init)")
]
NodeDir = Annotated[
    Path, typer.Option("--dir", help="the node's directory (made by policenet node init)")
]


def now() -> datetime:
    return datetime.now(UTC)


def hub_settings(directory: Path) -> HubSettings:
    return load(HubSettings, directory)


def node_settings(directory: Path) -> NodeSettings:
    return load(NodeSettings, directory)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def out(text: str) -> None:
    typer.echo(text)

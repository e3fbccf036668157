"""``policenet hub ...``: set up and run the hub."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from policenet.cli.common import HubDir, hub_settings, now, out, setup_logging
from policenet.hub.server import run_hub
from policenet.hub.setup import init_hub, renew_hub_certificate
from policenet.store.database import migrate

app = typer.Typer(help="Set up and run the hub.", no_args_is_help=True)


@app.command("init")
def init(
    directory: Annotated[Path, typer.Option("--dir", help="directory to create the hub in")],
    db: Annotated[
        str | None, typer.Option("--db", help="database URL (default: SQLite in the directory)")
    ] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TLS port for members")] = 8443,
    hostname: Annotated[
        list[str] | None,
        typer.Option("--hostname", help="name or address in the hub certificate (repeatable)"),
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="address members use (default https://HOSTNAME:PORT)")
    ] = None,
    network_name: Annotated[
        str, typer.Option(help="name of the network in CA names")
    ] = "policenet",
) -> None:
    """Create the CA, the hub's certificate, the audit key and the database."""
    names = tuple(hostname) if hostname else ("localhost", "127.0.0.1", "::1")
    settings = init_hub(
        directory,
        db_url=db,
        host=host,
        port=port,
        hostnames=names,
        public_url=public_url,
        network_name=network_name,
        now=now(),
    )
    out(f"hub created in {settings.directory}")
    out(f"  members reach it at {settings.public_url}")
    out(f"  root CA for nodes:  {settings.ca_dir / 'root.pem'}")
    out(f"  next: policenet member add --dir {directory} ...")


@app.command("run")
def run(
    directory: HubDir,
    host: Annotated[str | None, typer.Option(help="override the listening address")] = None,
    port: Annotated[int | None, typer.Option(help="override the port")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log requests")] = False,
) -> None:
    """Serve the hub (TLS 1.3, member certificates required) until Ctrl-C."""
    setup_logging(verbose)
    settings = hub_settings(directory)
    settings = replace(
        settings, host=host or settings.host, port=port if port is not None else settings.port
    )
    out(f"hub serving on https://{settings.host}:{settings.port} (Ctrl-C stops)")
    run_hub(settings, verbose=verbose)


@app.command("renew-certificate")
def renew_certificate(directory: HubDir) -> None:
    """Issue the hub's next TLS server certificate (restart the hub to serve it)."""
    settings = hub_settings(directory)
    cert = renew_hub_certificate(settings, now())
    out(
        f"new hub certificate {cert.serial_number}, valid until {cert.not_valid_after_utc:%Y-%m-%d}"
    )
    out("  restart the hub to serve it")


@app.command("upgrade")
def upgrade(directory: HubDir) -> None:
    """Bring the hub's database schema up to this version of policenet (safe to repeat)."""
    settings = hub_settings(directory)
    migrate(settings.db_url)
    out("hub database is up to date")

"""``policenet audit ...``: check and read the hub's audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from policenet.cli.common import HubDir, hub_settings, out
from policenet.domain.audit import AuditEntry
from policenet.hub.keys import load_audit_public_key
from policenet.security.auditlog import verify_store
from policenet.store.database import open_store

app = typer.Typer(help="Check and read the hub's audit log.", no_args_is_help=True)


@app.command("verify")
def verify(directory: HubDir) -> None:
    """Check every entry, signed tree head and consistency proof; exit 1 on any fault."""
    settings = hub_settings(directory)
    public_key = load_audit_public_key(settings.audit_key_path)
    store = open_store(settings.db_url)
    try:
        with store.unit_of_work() as uow:
            report = verify_store(uow, public_key)
    finally:
        store.close()
    out(
        f"{report.entries} entries, {report.tree_heads} signed tree heads, "
        f"{report.uncovered} entries not yet under a signed tree head"
    )
    if report.ok:
        out("audit log verified: every tree head is signed and consistent with the entries")
        return
    for problem in report.problems:
        out(f"PROBLEM: {problem}")
    raise typer.Exit(1)


@app.command("show")
def show(
    directory: HubDir,
    last: Annotated[int, typer.Option(help="how many of the newest entries")] = 20,
) -> None:
    """Print the newest entries of the log."""
    settings = hub_settings(directory)
    store = open_store(settings.db_url)
    try:
        with store.unit_of_work() as uow:
            size = uow.audit.size()
            stored = uow.audit.entries(max(0, size - last), size)
    finally:
        store.close()
    for item in stored:
        e = AuditEntry.from_canonical(item.canonical)
        who = e.member or "-"
        if e.officer:
            who += f"/{e.officer}"
        out(
            f"{item.seq:>6} {e.time:%Y-%m-%d %H:%M:%S} {who:<28} {e.action:<20} "
            f"{e.outcome:<8} {e.target or ''}"
        )

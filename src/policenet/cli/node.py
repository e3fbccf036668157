"""``policenet node ...``: set up and run a member's node, and manage its officers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from policenet.cli import dna, documents, followup, persons, webhooks
from policenet.cli.common import NodeDir, node_settings, now, out, setup_logging
from policenet.domain.officers import Role
from policenet.node.app import officer_directory
from policenet.node.officers import OfficerDirectory
from policenet.node.server import run_node
from policenet.node.setup import init_node, install_bundle
from policenet.store.database import migrate, open_store
from policenet.store.ports import CopyState

app = typer.Typer(help="Set up and run a member's node.", no_args_is_help=True)
users = typer.Typer(help="Officer accounts at this node.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens for national systems.", no_args_is_help=True)
app.add_typer(users, name="user")
app.add_typer(documents.app, name="documents")
app.add_typer(dna.app, name="dna")
app.add_typer(persons.app, name="persons")
app.add_typer(followup.cases, name="cases")
app.add_typer(followup.messages, name="messages")
app.add_typer(followup.records, name="records")
app.command("oversight")(followup.oversight)
app.add_typer(tokens, name="token")
app.add_typer(webhooks.app, name="webhook")


@contextmanager
def _officers(directory: Path) -> Iterator[OfficerDirectory]:
    """The node's officer accounts, over its database (closed afterwards)."""
    settings = node_settings(directory)
    store = open_store(settings.db_url)
    try:
        yield officer_directory(settings, store)
    finally:
        store.close()


@app.command("init")
def init(
    bundle: Annotated[Path, typer.Option(help="the bundle from policenet member add")],
    directory: Annotated[Path, typer.Option("--dir", help="directory to create the node in")],
    host: Annotated[str, typer.Option(help="address of the node's HTTPS port")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="the node's HTTPS port")] = 9443,
    db: Annotated[str | None, typer.Option(help="database URL (default SQLite)")] = None,
) -> None:
    """Check a bundle and create a node directory from it."""
    settings = init_node(bundle, directory, host=host, port=port, db_url=db, now=now())
    out(f"node for {settings.member} created in {settings.directory}")
    out(f"  hub: {settings.hub_url}")
    out(
        f"  next: policenet node user add --dir {directory} ...; "
        f"policenet node run --dir {directory}"
    )


@app.command("run")
def run(
    directory: NodeDir,
    port: Annotated[int | None, typer.Option(help="override the HTTPS port")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Serve the node's HTTPS port and follow the hub's events until Ctrl-C."""
    setup_logging(verbose)
    settings = node_settings(directory)
    if port is not None:
        settings = replace(settings, port=port)
    out(f"node {settings.member} serving on https://{settings.host}:{settings.port}")
    run_node(settings, verbose=verbose)


@app.command("rotate")
def rotate(
    directory: NodeDir,
    bundle: Annotated[Path, typer.Option(help="the renewed bundle (policenet member renew)")],
) -> None:
    """Install a renewed bundle for this node's member (restart the node afterwards)."""
    settings = node_settings(directory)
    install_bundle(settings, bundle, now())
    out(f"new bundle installed for {settings.member}; the previous one is in bundle.old")


@app.command("upgrade")
def upgrade(directory: NodeDir) -> None:
    """Bring the node's database schema up to this version of policenet (safe to repeat)."""
    migrate(node_settings(directory).db_url)
    out("node database is up to date")


copies = typer.Typer(help="The node's offline copy of travel documents.", no_args_is_help=True)
app.add_typer(copies, name="copy")


@copies.command("status")
def copy_status(directory: NodeDir) -> None:
    """How many documents the copy holds, and when it was last brought up to date."""
    settings = node_settings(directory)
    store = open_store(settings.db_url)
    try:
        with store.unit_of_work() as uow:
            state = uow.copies.state("documents")
            count = len(uow.copies.keys("documents", "", 10_000_000))
    finally:
        store.close()
    if not settings.offline_copy:
        out("offline copy is turned off (offline_copy = false in node.toml)")
    if state is None:
        out("no copy yet: the node makes one when it first reaches the hub")
        return
    synced = f"{state.synced_at:%Y-%m-%d %H:%M:%S} UTC" if state.synced_at else "never"
    out(f"{count} documents, change-feed position {state.position}, last synced {synced}")
    if not state.snapshot_done:
        out("  the first snapshot is still being fetched")


@copies.command("clear")
def copy_clear(directory: NodeDir) -> None:
    """Drop the copy and the pinned hub key; the next sync fetches a fresh snapshot."""
    settings = node_settings(directory)
    store = open_store(settings.db_url)
    try:
        with store.unit_of_work() as uow:
            uow.copies.clear("documents")
            uow.copies.set_state(
                "documents", CopyState(position=0, synced_at=None, hub_key="", snapshot_done=False)
            )
    finally:
        store.close()
    out("offline copy cleared; restart the node (or wait for its next sync) to fetch it again")


@users.command("add")
def user_add(
    directory: NodeDir,
    username: Annotated[str, typer.Argument(help="login name (a-z, 0-9, . _ -)")],
    name: Annotated[str, typer.Option(help="the officer's full name")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="POLICENET_PASSWORD",
            help="at least 12 characters",
        ),
    ],
    role: Annotated[Role, typer.Option(help="officer, operator (NCB) or admin")] = Role.OFFICER,
) -> None:
    """Add an officer; prints the second-factor secret once (put it in an authenticator app)."""
    with _officers(directory) as directory_:
        created = directory_.add_officer(username, name, role, password, now())
    out(f"officer {created.officer.username} added ({created.officer.role.value})")
    out(f"  second factor secret: {created.totp_secret}")
    out(f"  authenticator URI:    {created.provisioning_uri}")


@users.command("list")
def user_list(directory: NodeDir) -> None:
    """List officers with their state."""
    with _officers(directory) as directory_:
        officers = directory_.list_officers()
    moment = now()
    for o in officers:
        state = "disabled" if o.disabled else "locked" if o.locked(moment) else "active"
        out(f"{o.username:<24} {o.role.value:<9} {state:<9} {o.display_name}")


@users.command("disable")
def user_disable(directory: NodeDir, username: str) -> None:
    """Disable an officer and end their sessions."""
    with _officers(directory) as directory_:
        directory_.disable(username)
    out(f"officer {username} disabled")


@users.command("enable")
def user_enable(directory: NodeDir, username: str) -> None:
    """Enable a disabled officer."""
    with _officers(directory) as directory_:
        directory_.enable(username)
    out(f"officer {username} enabled")


@users.command("unlock")
def user_unlock(directory: NodeDir, username: str) -> None:
    """Lift a lockout after failed logins."""
    with _officers(directory) as directory_:
        directory_.unlock(username)
    out(f"officer {username} unlocked")


@users.command("reset-2fa")
def user_reset_second_factor(directory: NodeDir, username: str) -> None:
    """Give an officer a new second-factor secret (the old one stops working)."""
    with _officers(directory) as directory_:
        factor = directory_.reset_second_factor(username)
    out(f"new second factor secret for {username}: {factor.totp_secret}")
    out(f"  authenticator URI: {factor.provisioning_uri}")


@tokens.command("add")
def token_add(
    directory: NodeDir,
    name: Annotated[str, typer.Argument(help="the national system, e.g. border-gates")],
) -> None:
    """Issue an API token for a national system; it is shown once."""
    with _officers(directory) as directory_:
        token = directory_.issue_system_token(name, now())
    out(token)


@tokens.command("list")
def token_list(directory: NodeDir) -> None:
    """List national-system tokens (names and state, never the tokens)."""
    with _officers(directory) as directory_:
        listed = directory_.list_system_tokens()
    for t in listed:
        out(f"{t.name:<24} {'revoked' if t.revoked else 'active':<8} issued {t.created:%Y-%m-%d}")


@tokens.command("revoke")
def token_revoke(directory: NodeDir, name: str) -> None:
    """Revoke a national system's token."""
    with _officers(directory) as directory_:
        directory_.revoke_system_token(name)
    out(f"token {name} revoked")

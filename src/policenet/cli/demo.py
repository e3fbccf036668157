"""``policenet demo``: the whole network on this machine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from policenet.cli.common import out
from policenet.demo.network import DEMO_PASSWORD, DemoNetwork
from policenet.demo.script import DemoFailure, run_script
from policenet.hub.keys import load_audit_public_key
from policenet.security.auditlog import verify_store
from policenet.store.database import open_store


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="where to build the demo network (replaced each run)")
    ] = Path("demo-network"),
    once: Annotated[
        bool, typer.Option("--once", help="run the scripted part, stop everything, exit 0 or 1")
    ] = False,
) -> None:
    """Build a hub and five member nodes on localhost, run the scripted enquiry, keep serving."""
    network = DemoNetwork(directory.resolve())
    out(f"building the demo network in {network.root} ...")
    network.create(fast_hashing=once)
    network.start_hub()
    try:
        network.start_nodes()
        network.wait_until_up()
        out(f"hub on https://localhost:{network.hub_settings().port} (members only)")
        run_script(network, out)
        settings = network.hub_settings()
        store = open_store(settings.db_url)
        try:
            with store.unit_of_work() as uow:
                report = verify_store(uow, load_audit_public_key(settings.audit_key_path))
        finally:
            store.close()
        if not report.ok:
            raise DemoFailure("audit verify found problems: " + "; ".join(report.problems))
        out(
            f"12. policenet audit verify: {report.entries} entries, {report.tree_heads} signed "
            "tree heads, all consistent"
        )
        out("demo script passed")
        if once:
            return
        out("")
        out("The network keeps running. Open a node's web UI in a browser (each node has its")
        out("own self-signed certificate: accept it), or call its API at /api/v1:")
        for login in network.logins:
            out(
                f"  {login.node:<11} {login.url + '/ui/':<28} {login.username:<11} "
                f"role {login.role:<9} 2FA secret {login.totp_secret}"
            )
        out(f"  password for all: {DEMO_PASSWORD}; one-time codes from the secret (RFC 6238),")
        out(
            "  e.g. with: .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('<secret>').now())\""
        )
        out("  NCB London's inbox and the Met officer's search side by side show a hit live.")
        out(f"  logins are also in {network.root / 'logins.json'}; Ctrl-C stops everything")
        while True:
            time.sleep(1)
    except DemoFailure as exc:
        out(f"DEMO FAILED: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        out("stopping")
    finally:
        network.stop()

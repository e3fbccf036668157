"""``policenet member ...``: the hub administrator admits, lists, revokes and renews members."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from policenet.cli.common import HubDir, hub_settings, out
from policenet.domain.members import Admission, Member, MemberKind
from policenet.domain.registers import format_registers, parse_registers
from policenet.errors import NotFound
from policenet.hub.admission import HUB_ADMIN, REVOCATION_REASONS, public_member
from policenet.hub.app import create_administration

app = typer.Typer(
    help="Admit, list, revoke and renew members (run at the hub).", no_args_is_help=True
)


def _line(m: Member) -> str:
    parent = f" under {m.parent}" if m.parent else ""
    return (
        f"{m.code:<28} {m.kind.value:<6} {m.country or '--':<3} {m.status.value:<8} "
        f"{m.name}{parent} [{format_registers(m.registers)}]"
    )


@app.command("add")
def add(
    directory: HubDir,
    kind: Annotated[
        MemberKind, typer.Option(help="ncb, agency (or gs for the General Secretariat)")
    ],
    name: Annotated[str, typer.Option(help="the member's name, e.g. 'NCB London'")],
    bundle: Annotated[Path, typer.Option(help="directory to write the member's bundle into")],
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. GB")] = None,
    parent: Annotated[str | None, typer.Option(help="an agency's NCB, e.g. ncb-gb")] = None,
    registers: Annotated[
        str | None, typer.Option(help="registers it may search, comma-separated or 'all'")
    ] = None,
    code: Annotated[
        str | None, typer.Option(help="an agency's code (default from its name)")
    ] = None,
) -> None:
    """Admit a member and write its bundle (key 0600, certificate, CA, hub address)."""
    admin, store = create_administration(hub_settings(directory))
    try:
        issued = admin.admit(
            Admission(
                kind=kind,
                name=name,
                country=country,
                parent=parent,
                code=code,
                registers=parse_registers(registers) if registers is not None else None,
            ),
            bundle,
        )
    finally:
        store.close()
    out(f"admitted {issued.member.code} ({issued.member.name})")
    out(
        f"  certificate serial {issued.certificate.serial}, valid until "
        f"{issued.certificate.not_after:%Y-%m-%d}"
    )
    out(f"  bundle written to {bundle}: hand it to the member out of band (it holds a private key)")


@app.command("list")
def list_members(
    directory: HubDir,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List every member."""
    _, store = create_administration(hub_settings(directory))
    try:
        with store.unit_of_work() as uow:
            members = uow.members.list()
    finally:
        store.close()
    if as_json:
        out(json.dumps([public_member(m) for m in members], indent=2))
        return
    for m in members:
        out(_line(m))


@app.command("show")
def show(directory: HubDir, code: Annotated[str, typer.Argument(help="member code")]) -> None:
    """Show one member and its certificates."""
    _, store = create_administration(hub_settings(directory))
    try:
        with store.unit_of_work() as uow:
            member = uow.members.get(code)
            certs = uow.certificates.for_member(code)
    finally:
        store.close()
    if member is None:
        raise NotFound(f"no member with code {code!r} (see policenet member list)")
    out(_line(member))
    for c in certs:
        state = (
            f"revoked {c.revoked_at:%Y-%m-%d %H:%M} ({c.revocation_reason})"
            if c.revoked_at
            else "valid"
        )
        out(f"  certificate {c.serial}: {c.not_before:%Y-%m-%d} to {c.not_after:%Y-%m-%d}, {state}")


@app.command("revoke")
def revoke(
    directory: HubDir,
    code: Annotated[str, typer.Argument(help="member code")],
    reason: Annotated[
        str, typer.Option(help=f"one of: {', '.join(REVOCATION_REASONS)}")
    ] = "key_compromise",
) -> None:
    """Revoke every certificate of a member (the running hub refuses it within seconds)."""
    admin, store = create_administration(hub_settings(directory))
    try:
        member = admin.revoke(code, reason)
    finally:
        store.close()
    out(
        f"revoked {member.code}: its certificates are on the CRL; "
        f"issue a new bundle with: policenet member renew {member.code}"
    )


@app.command("renew")
def renew(
    directory: HubDir,
    code: Annotated[str, typer.Argument(help="member code")],
    bundle: Annotated[Path, typer.Option(help="directory to write the new bundle into")],
    revoke_previous: Annotated[
        bool, typer.Option(help="revoke the member's other certificates now")
    ] = False,
) -> None:
    """Issue a new key and certificate (rotation, or after a revocation) in a new bundle."""
    admin, store = create_administration(hub_settings(directory))
    try:
        issued = admin.renew(code, bundle, revoke_previous=revoke_previous)
    finally:
        store.close()
    out(f"renewed {issued.member.code}: certificate {issued.certificate.serial} in {bundle}")
    out(f"  install it at the node with: policenet node rotate --dir NODEDIR --bundle {bundle}")


@app.command("scope")
def scope(
    directory: HubDir,
    code: Annotated[str, typer.Argument(help="the agency's code")],
    registers: Annotated[str, typer.Option(help="registers it may search, or 'all'")],
    copy_enquiries_to_ncb: Annotated[
        bool, typer.Option(help="tell the agency's NCB of each of its enquiries")
    ] = False,
    may_report: Annotated[
        bool | None,
        typer.Option(help="may report records of its country for its NCB (omit to keep)"),
    ] = None,
) -> None:
    """Set an agency's registers (normally its NCB does this from its node)."""
    admin, store = create_administration(hub_settings(directory))
    try:
        member = admin.set_scope(
            HUB_ADMIN,
            code,
            parse_registers(registers),
            copy_enquiries_to_ncb,
            may_report=may_report,
        )
    finally:
        store.close()
    out(_line(member))

"""``policenet node cases|messages|records|oversight ...``: an NCB's follow-up work from the node.

These commands act as the node's member over its tunnel to the hub (like
``policenet node documents``); ``--officer`` names who acts, for the hub's
audit log. Messages are sealed and opened here with the member's key.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from policenet.cli.common import NodeDir, node_settings, now, out
from policenet.cli.reporting import with_hub
from policenet.errors import InvalidField
from policenet.node.hubclient import HubClient
from policenet.node.messages import Messenger, Outbox

Officer = Annotated[str, typer.Option(help="who the hub's audit log names as acting")]

cases = typer.Typer(help="Follow-up cases between NCBs.", no_args_is_help=True)
messages = typer.Typer(help="Sealed messages between NCBs.", no_args_is_help=True)
records = typer.Typer(help="This member's records: reviews and expiry.", no_args_is_help=True)


def _messenger(directory: Path, hub: HubClient) -> Messenger:
    settings = node_settings(directory)
    return Messenger(
        settings.member, settings.bundle_dir, hub, Outbox(settings.directory / "outbox")
    )


def _case_line(case: dict[str, Any]) -> str:
    flag = "URGENT " if case["urgent"] else ""
    late = " ESCALATED" if case["escalated"] else ""
    return (
        f"{case['number']}  {flag}{case['state']:<12} {case['register']}:{case['record_key']}  "
        f"{case['enquirer']} -> {case['owner']}  due {case['deadline'][:16]}{late}"
    )


@cases.command("list")
def list_cases(
    directory: NodeDir,
    include_closed: Annotated[bool, typer.Option("--all", help="closed cases too")] = False,
    officer: Officer = "node-admin",
) -> None:
    """This member's cases, urgent first, then by deadline."""
    found = with_hub(
        directory,
        lambda hub: hub.get(
            "/v1/cases", officer=officer, params={"include_closed": include_closed}
        ),
    )
    for case in found:
        out(_case_line(case))
    if not found:
        out("no cases")


@cases.command("show")
def show_case(
    directory: NodeDir,
    number: Annotated[str, typer.Argument(help="the case number, e.g. PN-2026-000001")],
    officer: Officer = "node-admin",
) -> None:
    """One case with its timeline."""
    case = with_hub(directory, lambda hub: hub.get(f"/v1/cases/{number}", officer=officer))
    out(_case_line(case))
    if case["note"]:
        out(f"  note: {case['note']}")
    for entry in case["timeline"]:
        who = entry["actor"] + (f"/{entry['officer']}" if entry["officer"] else "")
        out(f"  {entry['at'][:19]} {who:<36} {entry['action']}")


@cases.command("move")
def move_case(
    directory: NodeDir,
    number: Annotated[str, typer.Argument(help="the case number")],
    to: Annotated[str, typer.Option(help="acknowledged, confirmed, rejected or closed")],
    reason: Annotated[
        str | None, typer.Option(help="for a rejection: not-the-same, record-out-of-date, other")
    ] = None,
    note: Annotated[str, typer.Option(help="free text for the timeline")] = "",
    officer: Officer = "node-admin",
) -> None:
    """Acknowledge, confirm, reject (with a reason) or close a case."""
    body: dict[str, Any] = {"to": to, "note": note}
    if reason:
        body["reason"] = reason
    case = with_hub(
        directory, lambda hub: hub.post(f"/v1/cases/{number}/transition", body, officer=officer)
    )
    out(_case_line(case))


@messages.command("send")
def send_message(
    directory: NodeDir,
    case: Annotated[str | None, typer.Option(help="the case (recipients: its other NCB)")] = None,
    to: Annotated[list[str] | None, typer.Option(help="a recipient member code (repeat)")] = None,
    kind: Annotated[str, typer.Option(help="the form, e.g. request-for-information")] = "free-text",
    text: Annotated[str, typer.Option(help="the message text")] = "",
    field: Annotated[list[str] | None, typer.Option(help="a form field as name=value")] = None,
    attach: Annotated[
        list[Path] | None,
        typer.Option(help="a file to attach (repeat)", exists=True, dir_okay=False),
    ] = None,
    officer: Officer = "node-admin",
) -> None:
    """Seal a message (signed by this member) for its recipients and send it."""
    fields: dict[str, str] = {}
    for item in field or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidField("field", f"{item!r} is not name=value")
        fields[name.strip()] = value

    async def work(hub: HubClient) -> dict[str, Any]:
        messenger = _messenger(directory, hub)
        recipients = list(to or [])
        if not recipients:
            if not case:
                raise InvalidField("to", "name the recipients of a message outside a case")
            found = await hub.get(f"/v1/cases/{case}", officer=officer)
            recipients = sorted({found["enquirer_ncb"], found["owner_ncb"]} - {messenger.member})
        uploads = []
        for path in attach or []:
            upload_id, spooled = messenger.outbox.new()
            shutil.copyfile(path, spooled)
            uploads.append((upload_id, path.name))
        return await messenger.send(
            recipients=recipients,
            case=case,
            kind=kind,
            text=text,
            fields=fields,
            uploads=uploads,
            now=now(),
            officer=officer,
        )

    sent = with_hub(directory, work)
    out(f"message {sent['id']} sent to {', '.join(sent['recipients'])}")


@messages.command("list")
def list_messages(
    directory: NodeDir,
    case: Annotated[str | None, typer.Option(help="only this case")] = None,
    officer: Officer = "node-admin",
) -> None:
    """This member's messages, opened and checked here."""

    async def work(hub: HubClient) -> list[dict[str, Any]]:
        messenger = _messenger(directory, hub)
        params: dict[str, Any] = {"case": case} if case else {}
        stored = await hub.get("/v1/messages", officer=officer, params=params)
        return [await messenger.read(item) for item in stored]

    for message in with_hub(directory, work):
        mark = "verified" if message["signature_verified"] else f"NOT VERIFIED: {message['error']}"
        out(
            f"#{message['id']} {message['created'][:19]} {message['sender']} -> "
            f"{', '.join(message['recipients'])} [{message['kind']}] ({mark})"
        )
        if message["signature_verified"]:
            if message["fields"]:
                out(f"  {json.dumps(message['fields'], ensure_ascii=False)}")
            out(f"  {message['text']}")
            for index, name in enumerate(message["attachment_names"]):
                out(f"  attachment {index}: {name}")


@messages.command("get")
def get_attachment(
    directory: NodeDir,
    message_id: Annotated[int, typer.Argument(help="the message number")],
    index: Annotated[int, typer.Argument(help="the attachment's number (from 0)")],
    save_to: Annotated[Path, typer.Option("--out", help="where to write the file")],
    officer: Officer = "node-admin",
) -> None:
    """Decrypt an attachment; written only if the whole of it checked out."""

    async def work(hub: HubClient) -> str:
        name, path = await _messenger(directory, hub).attachment(message_id, index, officer=officer)
        shutil.move(path, save_to)
        return name

    name = with_hub(directory, work)
    out(f"{name} written to {save_to}")


@records.command("due")
def records_due(
    directory: NodeDir,
    register: Annotated[str, typer.Option(help="the register")] = "documents",
    days: Annotated[int, typer.Option(help="look this many days ahead")] = 183,
    officer: Officer = "node-admin",
) -> None:
    """This member's records expiring or due for review within --days."""
    found = with_hub(
        directory,
        lambda hub: hub.get(f"/v1/records/{register}/due", officer=officer, params={"days": days}),
    )
    for record in found:
        out(
            f"{record['key']:<40} expires {str(record['expires'])[:10]:<10} "
            f"review {str(record['review_due'])[:10]}"
        )
    if not found:
        out(f"nothing expires or is due for review within {days} days")


@records.command("extend")
def extend_record(
    directory: NodeDir,
    key: Annotated[str, typer.Argument(help="the record's key, e.g. USA:passport:561204317")],
    until: Annotated[str, typer.Option(help="the new expiry date, yyyy-mm-dd")],
    reason: Annotated[str, typer.Option(help="why the record stays (audited)")],
    register: Annotated[str, typer.Option(help="the register")] = "documents",
    officer: Officer = "node-admin",
) -> None:
    """Give one of this member's records a later expiry."""
    record = with_hub(
        directory,
        lambda hub: hub.post(
            f"/v1/records/{register}/{key}/extend",
            {"expires": until, "reason": reason},
            officer=officer,
        ),
    )
    out(f"{record['key']} now expires {record['expires'][:10]}")


def oversight(
    directory: NodeDir,
    after: Annotated[int, typer.Option(help="audit entries after this number")] = -1,
    officer: Officer = "node-admin",
) -> None:
    """Who searched and hit this member's records (and, for an NCB, its agencies')."""
    page = with_hub(
        directory,
        lambda hub: hub.get("/v1/oversight/enquiries", officer=officer, params={"after": after}),
    )
    for item in page["items"]:
        who = item["member"] + (f"/{item['officer']}" if item["officer"] else "")
        out(f"{item['seq']:>6} {item['time'][:19]} {who:<40} {', '.join(item['keys'])}")
    out(f"(continue with --after {page['next']})")

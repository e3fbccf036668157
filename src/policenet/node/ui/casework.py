"""NCB operators' pages: the case inbox, a case with its messages, records due, agency scope."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from policenet.domain.cases import NEXT_STATES, CaseState, RejectionReason
from policenet.domain.registers import RegisterName
from policenet.errors import InvalidField, TooLarge
from policenet.node import api, cases_api, messages_api, records_api
from policenet.node.auth import NodeDep
from policenet.node.messages import ACTIONS, FORMS
from policenet.node.ui.pages import PageDep, forget_scope
from policenet.node.ui.web import (
    PREFIX,
    form_text,
    language,
    read_form,
    render,
    require_csrf,
    require_operator,
)
from policenet.security.sealed import MAX_ATTACHMENT_BYTES

router = APIRouter(prefix=PREFIX, include_in_schema=False)

MAX_NOTE_CHARS = 2000
MAX_MESSAGE_CHARS = 20_000
ATTACHMENT_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "text/plain",
        "text/csv",
        "application/zip",
    }
)
"""What an attachment may be: documents, photographs, scans, plain data, archives."""
MESSAGE_KINDS = tuple(FORMS)
"""The message forms, as the node's messenger knows them."""


def _remaining(deadline: str, now: datetime) -> int:
    """Whole minutes to ``deadline`` (negative when it has passed)."""
    return int((datetime.fromisoformat(deadline) - now).total_seconds() // 60)


def _inbox_context(cases: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    for case in cases:
        case["minutes_left"] = _remaining(case["deadline"], now)
    new = [c for c in cases if c["state"] == CaseState.OPEN.value]
    return {"cases": cases, "new_count": len(new), "now": now.isoformat()}


@router.get("/cases")
async def inbox(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    """The member's open cases: urgent first, then by deadline (the hub's order)."""
    words = language(request)
    require_operator(page, words)
    cases = await cases_api.list_cases(node, page.user)
    return render(request, "cases.html", _inbox_context(cases, node.clock()), page=page)


@router.get("/cases/list")
async def inbox_rows(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    """The inbox's table alone, for the live update script."""
    require_operator(page, language(request))
    cases = await cases_api.list_cases(node, page.user)
    return render(request, "cases_rows.html", _inbox_context(cases, node.clock()), page=page)


@router.get("/cases/{number}")
async def case_page(request: Request, number: str, node: NodeDep, page: PageDep) -> HTMLResponse:
    words = language(request)
    require_operator(page, words)
    case = await cases_api.show_case(number, node, page.user)
    messages = await messages_api.read_messages(node, page.user, case=number)
    moves = sorted(s.value for s in _next_states(case["state"]))
    context = {
        "case": case,
        "messages": messages,
        "moves": moves,
        "reasons": [r.value for r in RejectionReason],
        "kinds": MESSAGE_KINDS,
        "forms": {k: v for k, v in FORMS.items() if v},
        "actions": ACTIONS,
        "minutes_left": _remaining(case["deadline"], node.clock()),
        "max_attachment_mb": MAX_ATTACHMENT_BYTES // (1 << 20),
        "notice": request.query_params.get("notice", "")[:200],
    }
    return render(request, "case.html", context, page=page)


def _next_states(state: str) -> frozenset[CaseState]:
    return NEXT_STATES.get(CaseState(state), frozenset())


@router.post("/cases/{number}/transition")
async def move_case(request: Request, number: str, node: NodeDep, page: PageDep) -> Response:
    words = language(request)
    require_operator(page, words)
    form = await read_form(request)
    require_csrf(page, form)
    body = cases_api.Transition(
        to=form_text(form, "to", 20),
        reason=form_text(form, "reason", 40) or None,
        note=form_text(form, "note", MAX_NOTE_CHARS),
    )
    await cases_api.transition(number, body, node, page.user)
    notice = words.text("case.moved", state=words.text(f"state.{body.to}"))
    return RedirectResponse(f"{PREFIX}/cases/{number}?notice={quote(notice)}", status_code=303)


async def _keep_attachment(node: NodeDep, upload: UploadFile) -> tuple[str, str]:
    """Spool an uploaded file at the node (as ``POST /api/v1/uploads`` does)."""
    name = (upload.filename or "attachment").replace("/", "_").replace("\\", "_")[:200]
    if (upload.content_type or "") not in ATTACHMENT_TYPES:
        raise InvalidField(
            "attachment",
            f"{name}: files of type {upload.content_type or 'unknown'} are not accepted "
            f"(PDF, JPEG, PNG, TIFF, text, CSV or ZIP)",
        )
    upload_id, path = node.messenger.outbox.new()
    size = 0
    try:
        with path.open("wb") as sink:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > MAX_ATTACHMENT_BYTES:
                    raise TooLarge(
                        f"{name}: an attachment may be at most "
                        f"{MAX_ATTACHMENT_BYTES // (1 << 20)} MB"
                    )
                sink.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise InvalidField("attachment", f"{name} is empty")
    return upload_id, name


@router.post("/cases/{number}/messages")
async def send_message(request: Request, number: str, node: NodeDep, page: PageDep) -> Response:
    words = language(request)
    require_operator(page, words)
    async with request.form(max_part_size=MAX_ATTACHMENT_BYTES + 1) as form:
        require_csrf(page, form)
        text = form_text(form, "text", MAX_MESSAGE_CHARS)
        kind = form_text(form, "kind", 40) or "free-text"
        fields = {
            name: value
            for name in FORMS.get(kind, ())
            if (value := form_text(form, f"field-{kind}-{name}", MAX_NOTE_CHARS))
        }
        upload = form.get("attachment")
        attachments = []
        if isinstance(upload, UploadFile) and upload.filename:
            upload_id, name = await _keep_attachment(node, upload)
            attachments.append(messages_api.Attachment(upload=upload_id, name=name))
    if not text and not attachments and not fields:
        raise InvalidField("text", words.text("message.empty"))
    body = messages_api.NewMessage(
        case=number, recipients=None, kind=kind, text=text, fields=fields, attachments=attachments
    )
    await messages_api.send(body, node, page.user)
    notice = quote(words.text("message.sent"))
    return RedirectResponse(f"{PREFIX}/cases/{number}?notice={notice}", status_code=303)


@router.get("/messages/{message_id}/attachments/{index}")
async def attachment(
    request: Request, message_id: int, index: int, node: NodeDep, page: PageDep
) -> FileResponse:
    require_operator(page, language(request))
    return await messages_api.download(message_id, index, node, page.user)


@router.get("/records")
async def records(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    """This member's notices and records due for review or expiring within six months."""
    require_operator(page, language(request))
    due: dict[str, list[dict[str, Any]]] = {}
    for register in (RegisterName.PERSONS, RegisterName.DOCUMENTS, RegisterName.DNA):
        due[register.value] = await records_api.records_due(register.value, node, page.user)
    return render(request, "records.html", {"due": due}, page=page)


@router.get("/scope")
async def scope(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    """At an NCB's node: its agencies and the registers each may search."""
    require_operator(page, language(request))
    members = await api.members(node, page.user)
    agencies = [m for m in members if m.get("parent") == node.settings.member]
    context = {
        "agencies": agencies,
        "all_registers": [r.value for r in RegisterName],
        "notice": request.query_params.get("notice", "")[:200],
    }
    return render(request, "scope.html", context, page=page)


@router.post("/scope/{code}")
async def set_scope(request: Request, code: str, node: NodeDep, page: PageDep) -> Response:
    words = language(request)
    require_operator(page, words)
    form = await read_form(request)
    require_csrf(page, form)
    chosen = [r.value for r in RegisterName if form.get(f"register-{r.value}") == "on"]
    body = api.Scope(
        registers=chosen,
        copy_enquiries_to_ncb=form.get("copy_enquiries_to_ncb") == "on",
        may_report=form.get("may_report") == "on",
    )
    await api.agency_scope(code, body, node, page.user)
    forget_scope(node)
    notice = words.text("scope.saved", agency=code)
    return RedirectResponse(f"{PREFIX}/scope?notice={quote(notice)}", status_code=303)

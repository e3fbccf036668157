"""Logging in and out, the language, the home page and the officers' searches."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from policenet.errors import (
    InvalidField,
    InvalidInput,
    PolicenetError,
    Unauthenticated,
    Unavailable,
)
from policenet.node import dna_api, documents_api, persons_api
from policenet.node.auth import NodeDep
from policenet.node.context import NodeContext
from policenet.node.ui.i18n import COOKIE, available
from policenet.node.ui.web import (
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    Page,
    current_page,
    form_text,
    language,
    new_login_token,
    read_form,
    render,
    require_csrf,
    safe_next,
)
from policenet.registers.dna.profile import Category
from policenet.registers.documents.record import DocumentType
from policenet.registers.documents.requests import CheckRequest, DocumentItem
from policenet.registers.persons.requests import SearchRequest

router = APIRouter(prefix=PREFIX, include_in_schema=False)

SCOPE_TTL_SECONDS = 30.0
"""How long the member's registers, read from the hub, are kept for the menus."""


async def page_of(request: Request, node: NodeDep) -> Page:
    page = await current_page(request, node)
    registers = await registers_of(node, page)
    return replace(page, registers=None if registers is None else tuple(registers))


PageDep = Annotated[Page, Depends(page_of)]


async def registers_of(node: NodeContext, page: Page) -> list[str] | None:
    """The registers this member may search (from the hub; None when the hub is unreachable)."""
    cache = node.scope_cache
    if cache and time.monotonic() - cache["at"] < SCOPE_TTL_SECONDS:
        return list(cache["registers"])
    try:
        me = await node.hub.get("/v1/whoami", officer=page.officer.username)
    except Unavailable:
        return list(cache["registers"]) if cache else None
    registers = list(me["member"]["registers"])
    node.scope_cache.update(at=time.monotonic(), registers=registers)
    return registers


def forget_scope(node: NodeContext) -> None:
    """Drop the cached registers (after a scope change made here)."""
    node.scope_cache.clear()


# --- login ---------------------------------------------------------------------------------


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    token = new_login_token()
    response = render(
        request,
        "login.html",
        {
            "next": safe_next(request.query_params.get("next")),
            "reason": request.query_params.get("reason", "")[:300],
            "login_csrf": token,
        },
        police_data=False,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, secure=True, samesite="strict", path=PREFIX
    )
    return response


@router.post("/login")
async def login(request: Request, node: NodeDep) -> Response:
    form = await read_form(request)
    words = language(request)
    target = safe_next(form_text(form, "next", 500))
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    submitted = form.get("login_csrf")
    if not cookie or not isinstance(submitted, str) or cookie != submitted:
        reason = words.text("login.form_expired")
        return RedirectResponse(
            f"{PREFIX}/login?next={quote(target)}&reason={quote(reason)}", status_code=303
        )
    username = form_text(form, "username", 64)
    password = form.get("password")
    code = form_text(form, "code", 10)
    try:
        result = await run_in_threadpool(
            node.officers.login,
            username,
            password if isinstance(password, str) else "",
            code,
            node.clock(),
        )
    except Unauthenticated as exc:
        token = new_login_token()
        refused = render(
            request,
            "login.html",
            {"next": target, "reason": exc.message, "login_csrf": token, "username": username},
            status=401,
            police_data=False,
        )
        refused.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, secure=True, samesite="strict", path=PREFIX
        )
        return refused
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        secure=True,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request, node: NodeDep, page: PageDep) -> Response:
    require_csrf(page, await read_form(request))
    await run_in_threadpool(node.officers.logout, page.token)
    reason = language(request).text("login.logged_out")
    response = RedirectResponse(f"{PREFIX}/login?reason={quote(reason)}", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language")
async def choose_language(request: Request) -> RedirectResponse:
    """Keep the officer's language choice (a preference, not police data) and go back."""
    code = request.query_params.get("code", "")
    response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    if code in available():
        response.set_cookie(
            COOKIE, code, secure=True, samesite="strict", path="/", max_age=365 * 86400
        )
    return response


# --- home ------------------------------------------------------------------------------------


@router.get("/")
async def home(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    return render(
        request,
        "home.html",
        {
            "registers": page.registers,
            "hub": node.follower.state.as_dict(),
            "copy": node.copy.status() if node.copy else None,
        },
        page=page,
    )


# --- travel documents ------------------------------------------------------------------------


@router.get("/documents")
async def documents_form(request: Request, page: PageDep) -> HTMLResponse:
    return render(
        request,
        "documents.html",
        {"types": [t.value for t in DocumentType], "form": {}, "registers": None},
        page=page,
    )


@router.post("/documents")
async def documents_check(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    form = await read_form(request)
    require_csrf(page, form)
    number = form_text(form, "number", 64)
    state = form_text(form, "issuing_state", 3).upper()
    kind = form_text(form, "document_type", 32)
    mrz = form_text(form, "mrz", 200)
    tolerant = form.get("tolerant") == "on"
    fields = {
        "number": number,
        "issuing_state": state,
        "document_type": kind,
        "mrz": mrz,
        "tolerant": tolerant,
    }
    context: dict[str, Any] = {"types": [t.value for t in DocumentType], "form": fields}
    if not number and not mrz:
        context["problem"] = language(request).text("documents.need_number")
        return render(request, "documents.html", context, status=422, page=page)
    item = DocumentItem(
        number=number or None, issuing_state=state or None, document_type=kind or None
    )
    if mrz:
        item["mrz"] = mrz
    body = CheckRequest(documents=[item], tolerant=tolerant, answered_offline_at=None, requests=1)
    answer = json.loads(await documents_api.answer_check(node, page.user, body))
    (result,) = answer["answers"]
    context.update(answer=answer, result=result)
    status = 422 if "error" in result else 200
    return render(request, "documents.html", context, status=status, page=page)


# --- persons ---------------------------------------------------------------------------------


@router.get("/persons")
async def persons_form(request: Request, page: PageDep) -> HTMLResponse:
    return render(request, "persons.html", {"form": {}}, page=page)


@router.post("/persons")
async def persons_search(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    form = await read_form(request)
    require_csrf(page, form)
    fields = {
        "name": form_text(form, "name", 200),
        "date_of_birth": form_text(form, "date_of_birth", 10),
        "nationality": form_text(form, "nationality", 2).upper(),
        "sex": form_text(form, "sex", 1).upper(),
    }
    context: dict[str, Any] = {"form": fields}
    body = SearchRequest(
        name=fields["name"],
        date_of_birth=fields["date_of_birth"] or None,
        nationality=fields["nationality"] or None,
        sex=fields["sex"] or None,
        limit=10,
    )
    try:
        answer = await persons_api.search(body, node, page.user)
    except InvalidInput as exc:
        context["problem"] = exc.message
        return render(request, "persons.html", context, status=422, page=page)
    except Unavailable as exc:
        context["unavailable"] = exc.message
        return render(request, "persons.html", context, status=503, page=page)
    except PolicenetError:
        raise
    context["answer"] = answer
    return render(request, "persons.html", context, page=page)


# --- DNA -------------------------------------------------------------------------------------


def _loci(text: str) -> dict[str, str]:
    """``LOCUS: alleles`` lines (or ``LOCUS=alleles``) as profile fields; InvalidField naming
    the line that is neither."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, alleles = line.replace("=", ":", 1).partition(":")
        if not sep or not name.strip() or not alleles.strip():
            raise InvalidField("loci", f"line {number} is not 'LOCUS: alleles' ({line[:40]!r})")
        fields[name.strip()] = alleles.strip()
    return fields


@router.get("/dna")
async def dna_form(request: Request, page: PageDep) -> HTMLResponse:
    return render(
        request, "dna.html", {"form": {}, "categories": [c.value for c in Category]}, page=page
    )


@router.post("/dna")
async def dna_search(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    form = await read_form(request)
    require_csrf(page, form)
    fields = {
        "reference": form_text(form, "reference", 64),
        "category": form_text(form, "category", 40),
        "mixture": form.get("mixture") == "on",
        "stringency": form_text(form, "stringency", 10) or "moderate",
        "loci": form_text(form, "loci", 4000),
    }
    context: dict[str, Any] = {"form": fields, "categories": [c.value for c in Category]}
    try:
        profile: dict[str, Any] = {
            "reference": fields["reference"],
            "category": fields["category"],
            "mixture": fields["mixture"],
            **_loci(str(fields["loci"])),
        }
        body = dna_api.Search(
            profile=profile, stringency=str(fields["stringency"]), min_loci=6, limit=20
        )
        answer = await dna_api.search(body, node, page.user)
    except InvalidInput as exc:
        context["problem"] = exc.message
        return render(request, "dna.html", context, status=422, page=page)
    except Unavailable as exc:
        context["unavailable"] = exc.message
        return render(request, "dna.html", context, status=503, page=page)
    context["answer"] = answer
    return render(request, "dna.html", context, page=page)

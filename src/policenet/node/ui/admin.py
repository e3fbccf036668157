"""Administration at a node: officer accounts, national-system tokens, the link to the hub."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from policenet.domain.officers import Role
from policenet.errors import Forbidden, InvalidField
from policenet.node.auth import NodeDep
from policenet.node.ui.pages import PageDep
from policenet.node.ui.web import PREFIX, Page, form_text, language, read_form, render, require_csrf

router = APIRouter(prefix=f"{PREFIX}/admin", include_in_schema=False)


def _require_admin(page: Page, request: Request) -> None:
    if not page.is_admin:
        raise Forbidden(language(request).text("error.admin_only", user=page.officer.username))


def _admin_context(
    node: NodeDep, notice: str = "", shown: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "officers": node.officers.list_officers(),
        "tokens": node.officers.list_system_tokens(),
        "hub": node.follower.state.as_dict(),
        "copy": node.copy.status() if node.copy else None,
        "roles": [r.value for r in Role],
        "notice": notice,
        "shown": shown or {},
        "hub_url": node.settings.hub_url,
    }


@router.get("")
async def admin_page(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    _require_admin(page, request)
    context = await run_in_threadpool(
        _admin_context, node, request.query_params.get("notice", "")[:200]
    )
    return render(request, "admin.html", context, page=page)


@router.post("/officers")
async def add_officer(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    """Create an account; its second-factor secret is shown once, on the answer page."""
    _require_admin(page, request)
    form = await read_form(request)
    require_csrf(page, form)
    role_text = form_text(form, "role", 20)
    try:
        role = Role(role_text)
    except ValueError:
        raise InvalidField("role", f"{role_text!r} is not a role") from None
    password = form.get("password")
    created = await run_in_threadpool(
        node.officers.add_officer,
        form_text(form, "username", 64),
        form_text(form, "display_name", 128),
        role,
        password if isinstance(password, str) else "",
        node.clock(),
    )
    words = language(request)
    shown = {
        "title": words.text("admin.second_factor_for", user=created.officer.username),
        "secret": created.totp_secret,
        "uri": created.provisioning_uri,
    }
    context = await run_in_threadpool(_admin_context, node, "", shown)
    return render(request, "admin.html", context, page=page)


@router.post("/officers/{username}/{action}")
async def change_officer(
    request: Request, username: str, action: str, node: NodeDep, page: PageDep
) -> Response:
    _require_admin(page, request)
    form = await read_form(request)
    require_csrf(page, form)
    words = language(request)
    if action == "reset-second-factor":
        factor = await run_in_threadpool(node.officers.reset_second_factor, username)
        shown = {
            "title": words.text("admin.second_factor_for", user=username),
            "secret": factor.totp_secret,
            "uri": factor.provisioning_uri,
        }
        context = await run_in_threadpool(_admin_context, node, "", shown)
        return render(request, "admin.html", context, page=page)
    actions = {
        "disable": node.officers.disable,
        "enable": node.officers.enable,
        "unlock": node.officers.unlock,
    }
    if action not in actions:
        raise InvalidField("action", f"{action!r} is not disable, enable, unlock or reset")
    if action == "disable" and username == page.officer.username:
        raise Forbidden(words.text("admin.not_yourself"))
    await run_in_threadpool(actions[action], username)
    notice = quote(words.text(f"admin.done_{action}", user=username))
    return RedirectResponse(f"{PREFIX}/admin?notice={notice}", status_code=303)


@router.post("/tokens")
async def issue_token(request: Request, node: NodeDep, page: PageDep) -> HTMLResponse:
    """Issue a national-system token; shown once, on the answer page."""
    _require_admin(page, request)
    form = await read_form(request)
    require_csrf(page, form)
    name = form_text(form, "name", 64)
    token = await run_in_threadpool(node.officers.issue_system_token, name, node.clock())
    shown = {"title": language(request).text("admin.token_for", name=name), "secret": token}
    context = await run_in_threadpool(_admin_context, node, "", shown)
    return render(request, "admin.html", context, page=page)


@router.post("/tokens/{name}/revoke")
async def revoke_token(request: Request, name: str, node: NodeDep, page: PageDep) -> Response:
    _require_admin(page, request)
    require_csrf(page, await read_form(request))
    await run_in_threadpool(node.officers.revoke_system_token, name)
    notice = quote(language(request).text("admin.token_revoked", name=name))
    return RedirectResponse(f"{PREFIX}/admin?notice={notice}", status_code=303)

"""The page where staff keep their canned replies (``/console/snelle-antwoorden``):
personal ones for everyone, the centre's shared ones for coordinators. Plain forms, no
JavaScript needed; errors are shown next to their field."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.counsellor_tools import canned
from chat.counsellor_tools.canned import InvalidCannedReply
from chat.counsellor_tools.router import ConsoleStaff
from clb.auth.models import StaffAccount
from clb.web.deps import SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/snelle-antwoorden"
DONE = ("toegevoegd", "bewaard", "verwijderd")  # ?klaar=… after a change (the page says it)

# Generous transport limits; the clear limits (80 / 2000) are checked by chat.canned.
TitleField = Annotated[str, Form(max_length=400)]
BodyField = Annotated[str, Form(max_length=10_000)]
ScopeField = Annotated[str, Form(max_length=20)]


async def _list_page(
    request: Request,
    session: AsyncSession,
    staff: StaffAccount,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    replies = await canned.visible_to(session, staff)
    done = request.query_params.get("klaar", "")
    context: dict[str, Any] = {
        "shared_replies": [r for r in replies if r.owner_id is None],
        "own_replies": [r for r in replies if r.owner_id is not None],
        "may_share": canned.may_manage_shared(staff),
        "form_errors": errors or {},
        "form_values": values or {},
        "done": done if done in DONE else "",
        "title_max": canned.TITLE_MAX,
        "body_max": canned.BODY_MAX,
    }
    return render(request, "console_canned_replies.html", context, status_code=status_code)


def _done(what: str) -> RedirectResponse:
    return RedirectResponse(f"{PAGE}?klaar={what}#main", status_code=303)


def _field_errors(exc: InvalidCannedReply) -> dict[str, str]:
    fields = exc.details.get("fields", {})
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {}


@router.get(PAGE, response_class=HTMLResponse)
async def canned_replies_page(
    request: Request, staff: ConsoleStaff, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    return await _list_page(request, session, staff)


@router.post(PAGE)
async def add_canned_reply(
    request: Request,
    staff: ConsoleStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    title: TitleField = "",
    body: BodyField = "",
    scope: ScopeField = "personal",
) -> Response:
    request.state.staff = staff
    shared = scope == "shared"
    try:
        await canned.create(session, staff, title, body, shared=shared)
    except InvalidCannedReply as exc:
        values = {"title": title, "body": body, "scope": "shared" if shared else "personal"}
        return await _list_page(
            request, session, staff, errors=_field_errors(exc), values=values, status_code=422
        )
    return _done("toegevoegd")


@router.get(PAGE + "/{reply_id}", response_class=HTMLResponse)
async def edit_canned_reply_page(
    request: Request, reply_id: uuid.UUID, staff: ConsoleStaff, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    reply = await canned.editable(session, staff, reply_id)
    context = {
        "reply_id": str(reply.id),
        "shared": reply.owner_id is None,
        "form_values": {"title": reply.title, "body": reply.body},
        "form_errors": {},
        "title_max": canned.TITLE_MAX,
        "body_max": canned.BODY_MAX,
    }
    return render(request, "console_canned_reply_edit.html", context)


@router.post(PAGE + "/{reply_id}")
async def save_canned_reply(
    request: Request,
    reply_id: uuid.UUID,
    staff: ConsoleStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    title: TitleField = "",
    body: BodyField = "",
) -> Response:
    request.state.staff = staff
    try:
        await canned.update(session, staff, reply_id, title, body)
    except InvalidCannedReply as exc:
        reply = await canned.editable(session, staff, reply_id)
        context = {
            "reply_id": str(reply_id),
            "shared": reply.owner_id is None,
            "form_values": {"title": title, "body": body},
            "form_errors": _field_errors(exc),
            "title_max": canned.TITLE_MAX,
            "body_max": canned.BODY_MAX,
        }
        return render(request, "console_canned_reply_edit.html", context, status_code=422)
    return _done("bewaard")


@router.post(PAGE + "/{reply_id}/verwijderen")
async def delete_canned_reply(
    reply_id: uuid.UUID, staff: ConsoleStaff, _csrf: CsrfProtected, session: SessionDep
) -> Response:
    await canned.delete(session, staff, reply_id)
    return _done("verwijderd")

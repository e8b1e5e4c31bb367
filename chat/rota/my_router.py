"""``/console/rooster/mijn``: a counsellor's own chat shifts; asking a colleague to take
one over or to swap, and answering such a request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import ChatClock
from chat.rota import swaps
from chat.rota.my_shifts import my_rota
from chat.rota.service import RotaRefused
from clb.web.deps import CurrentCounsellor, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/rooster/mijn"
REQUESTS = "/console/rooster/vragen"
IdField = Annotated[str, Form(max_length=40)]


async def _page(
    request: Request,
    session: AsyncSession,
    now: datetime,
    *,
    error: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "my_rota": await my_rota(session, request.state.staff, now),
        "my_error": error,
        "my_done": request.query_params.get("klaar", ""),
    }
    return render(request, "console_rota_mine.html", context, status_code=status_code)


def _done(what: str, anchor: str = "main") -> RedirectResponse:
    return RedirectResponse(f"{PAGE}?klaar={what}#{anchor}", status_code=303)


async def _refused(
    request: Request, session: AsyncSession, now: datetime, refused: RotaRefused, about: str
) -> HTMLResponse:
    error = {"about": about, "field": refused.field, "message": refused.detail_message}
    return await _page(request, session, now, error=error, status_code=422)


@router.get(PAGE, response_class=HTMLResponse)
async def my_rota_page(
    request: Request, staff: CurrentCounsellor, session: SessionDep, now: ChatClock
) -> HTMLResponse:
    request.state.staff = staff
    return await _page(request, session, now)


@router.post(f"{PAGE}/{{shift_id}}/overnemen")
async def ask_take_over(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
    shift_id: int,
    colleague_id: IdField = "",
) -> Response:
    request.state.staff = staff
    try:
        await swaps.ask_take_over(session, staff, shift_id, colleague_id, now)
    except RotaRefused as refused:
        return await _refused(request, session, now, refused, f"shift-{shift_id}")
    return _done("gevraagd")


@router.post(f"{PAGE}/{{shift_id}}/ruilen")
async def ask_swap(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
    shift_id: int,
    counter_shift_id: IdField = "",
) -> Response:
    request.state.staff = staff
    try:
        await swaps.ask_swap(session, staff, shift_id, counter_shift_id, now)
    except RotaRefused as refused:
        return await _refused(request, session, now, refused, f"shift-{shift_id}")
    return _done("gevraagd")


@router.post(f"{REQUESTS}/{{swap_id}}/aanvaarden")
async def accept(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
    swap_id: int,
) -> Response:
    request.state.staff = staff
    try:
        outcome = await swaps.accept(session, staff, swap_id, now)
    except RotaRefused as refused:
        return await _refused(request, session, now, refused, "requests")
    return _done("aanvaard" if outcome == swaps.Outcome.accepted else "vervallen")


@router.post(f"{REQUESTS}/{{swap_id}}/weigeren")
async def decline(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
    swap_id: int,
) -> Response:
    request.state.staff = staff
    try:
        await swaps.decline(session, staff, swap_id, now)
    except RotaRefused as refused:
        return await _refused(request, session, now, refused, "requests")
    return _done("geweigerd")


@router.post(f"{REQUESTS}/{{swap_id}}/intrekken")
async def cancel(
    request: Request,
    staff: CurrentCounsellor,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: ChatClock,
    swap_id: int,
) -> Response:
    request.state.staff = staff
    try:
        await swaps.cancel(session, staff, swap_id, now)
    except RotaRefused as refused:
        return await _refused(request, session, now, refused, "sent")
    return _done("ingetrokken")

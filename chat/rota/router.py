"""``/console/rooster``: a coordinator plans their centre's counsellors on the chat's
opening slots, week by week, and sees which slots are not covered."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import ChatClock
from chat.rota import service, views
from chat.rota.service import RotaRefused
from chat.rota.slots import monday_of, planning_weeks
from clb.i18n import gettext as _
from clb.web.deps import CurrentCoordinator, ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE = "/console/rooster"
WeekField = Annotated[str, Form(max_length=20)]


def _week_of(value: str, weeks: list[date]) -> date | None:
    """The Monday a ``week`` value names, when it is one of the weeks planned."""
    if not value.strip():
        return weeks[0]
    try:
        monday = monday_of(date.fromisoformat(value.strip()))
    except ValueError:
        return None
    return monday if monday in weeks else None


async def _page(
    request: Request,
    services: ServicesDep,
    session: AsyncSession,
    now: datetime,
    week: str,
    *,
    error: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    staff = request.state.staff
    settings = services.settings
    mondays = planning_weeks(now, settings.chat_rota_weeks_ahead)
    monday = _week_of(week, mondays)
    notice = ""
    if monday is None:
        notice = _("Kies een week uit de lijst.")
        monday = mondays[0]
    wanted = settings.chat_rota_wanted_per_slot
    summaries = await service.week_summaries(
        session, staff.centre_id, now, settings.chat_rota_weeks_ahead, wanted
    )
    chosen = next(s for s in summaries if s.monday == monday)
    week_view = views.week(chosen, now, error)
    failed = [s["form_id"] for d in week_view["days"] for s in d["slots"] if s["error"]]
    context: dict[str, Any] = {
        "rota_weeks": [
            {
                "monday": s.monday.isoformat(),
                "label": views.day_label(s.monday),
                "uncovered": s.uncovered,
                "outside": s.outside,
                "current": s.monday == monday,
            }
            for s in summaries
        ],
        "rota_week": week_view,
        "rota_wanted": wanted,
        "rota_error": error,
        "rota_error_anchor": failed[0] if failed else "",
        "rota_notice": notice,
        "rota_saved": request.query_params.get("bewaard", ""),
    }
    return render(request, "console_rota.html", context, status_code=status_code)


def _back(week: str, done: str, anchor: str = "main") -> RedirectResponse:
    """Back to the week the form was on (a week that is not a date: the first one)."""
    try:
        monday = date.fromisoformat(week.strip()).isoformat()
    except ValueError:
        monday = ""
    query = f"?week={monday}&bewaard={done}" if monday else f"?bewaard={done}"
    return RedirectResponse(f"{PAGE}{query}#{anchor}", status_code=303)


@router.get(PAGE, response_class=HTMLResponse)
async def rota_page(
    request: Request,
    staff: CurrentCoordinator,
    services: ServicesDep,
    session: SessionDep,
    now: ChatClock,
    week: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    request.state.staff = staff
    return await _page(request, services, session, now, week)


@router.post(f"{PAGE}/inplannen")
async def plan(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    now: ChatClock,
    slot: Annotated[str, Form(max_length=40)] = "",
    staff_id: Annotated[str, Form(max_length=40)] = "",
    week: WeekField = "",
) -> Response:
    request.state.staff = staff
    weeks = services.settings.chat_rota_weeks_ahead
    try:
        await service.plan(session, staff, slot, staff_id, now, weeks)
    except RotaRefused as refused:
        error = {"slot": slot.strip(), "message": refused.detail_message, "staff_id": staff_id}
        return await _page(request, services, session, now, week, error=error, status_code=422)
    return _back(week, "ingepland")


@router.post(f"{PAGE}/beurten/{{shift_id}}/schrappen")
async def unplan(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    now: ChatClock,
    shift_id: int,
    week: WeekField = "",
) -> Response:
    request.state.staff = staff
    try:
        await service.unplan(session, staff, shift_id, now)
    except RotaRefused as refused:
        error = {"slot": "", "message": refused.detail_message}
        return await _page(request, services, session, now, week, error=error, status_code=422)
    return _back(week, "geschrapt")

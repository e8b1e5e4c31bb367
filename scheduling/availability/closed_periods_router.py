"""Coordinators list, add and remove the days their centre takes no appointments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.org.models import Centre
from clb.web.deps import CurrentCoordinator, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling.agenda.service import AgendaClock
from scheduling.availability import closed_periods as cp
from scheduling.availability import repository
from scheduling.availability.slots import local_day
from scheduling.form_state import BLANK, FormState, refused

router = APIRouter(include_in_schema=False)

PAGE = "/console/afspraken/sluitingsdagen"

ShortField = Annotated[str, Form(max_length=40)]


async def _page(
    request: Request,
    session: AsyncSession,
    staff: StaffAccount,
    now: datetime,
    form: FormState = BLANK,
) -> HTMLResponse:
    centre = await session.get_one(Centre, staff.centre_id)
    request.state.staff = staff
    today = local_day(now)
    admin = cp.is_admin(staff)
    periods = await repository.periods_for_centre(session, staff.centre_id, since=today)
    booked = request.query_params.get("afspraken", "")
    context: dict[str, Any] = {
        "centre_name": centre.name,
        "is_admin": admin,
        "all_centres": cp.ALL_CENTRES,
        "periods": [
            {
                **cp.period_view(period),
                "id": period.id,
                "removable": period.centre_id is not None or admin,
                "running": period.first_day <= today,
            }
            for period in periods
        ],
        "today": today.isoformat(),
        **form.context(),
        "saved": request.query_params.get("bewaard", ""),
        "booked": int(booked) if booked.isdigit() else 0,
    }
    return render(request, "console_closed_periods.html", context, status_code=form.status_code)


@router.get(PAGE, response_class=HTMLResponse)
async def closed_periods_page(
    request: Request, staff: CurrentCoordinator, session: SessionDep, now: AgendaClock
) -> HTMLResponse:
    return await _page(request, session, staff, now)


@router.post(PAGE)
async def add_closed_period(
    request: Request,
    staff: CurrentCoordinator,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    name: Annotated[str, Form(max_length=1000)] = "",
    first_day: ShortField = "",
    last_day: ShortField = "",
    scope: ShortField = "",
) -> Response:
    period, errors = cp.validate(cp.PeriodInput(name, first_day, last_day, scope), staff)
    if period is None:
        values = {"name": name, "first_day": first_day, "last_day": last_day, "scope": scope}
        return await _page(request, session, staff, now, refused(errors, values))
    booked = await cp.add_period(session, period, staff)
    return RedirectResponse(f"{PAGE}?bewaard=toegevoegd&afspraken={booked}#main", status_code=303)


@router.post(f"{PAGE}/{{period_id}}/verwijderen")
async def remove_closed_period(
    staff: CurrentCoordinator, _csrf: CsrfProtected, session: SessionDep, period_id: int
) -> Response:
    await cp.remove_period(session, period_id, staff)
    return RedirectResponse(f"{PAGE}?bewaard=verwijderd#main", status_code=303)

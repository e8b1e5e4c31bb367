"""The counsellor's agenda in the console (day and week, Brussels time) and their personal
calendar feed."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clb.errors import NotFound
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling.agenda.feed import build_feed, current_token, feed_path, owner_of, renew_token
from scheduling.agenda.repository import centre_counsellors
from scheduling.agenda.service import (
    AgendaClock,
    AgendaStaff,
    agenda_days,
    agenda_owner,
    may_see_others,
    record_contact_reads,
)
from scheduling.agenda.view import day_heading, entry_view, long_day
from scheduling.availability.service import holiday_name
from scheduling.availability.slots import local_day

router = APIRouter(include_in_schema=False)

PAGE = "/console/agenda"
DAY, WEEK = "dag", "week"

QueryText = Annotated[str, Query(max_length=60)]


def parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def parse_id(value: str) -> uuid.UUID | None:
    """An id from a query string: empty is None, anything malformed is a 404."""
    if not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise NotFound() from None


def agenda_url(view: str, day: date, counsellor: uuid.UUID | None = None) -> str:
    params = {"weergave": view, "datum": day.isoformat()}
    if counsellor is not None:
        params["medewerker"] = str(counsellor)
    return f"{PAGE}?{urlencode(params)}"


def _navigation(view: str, first: date, today: date, chosen: uuid.UUID | None) -> dict[str, Any]:
    step = timedelta(days=1 if view == DAY else 7)
    in_week = first <= today <= first + timedelta(days=6)
    return {
        "previous": agenda_url(view, first - step, chosen),
        "next": agenda_url(view, first + step, chosen),
        "today": agenda_url(view, today, chosen),
        "day_view": agenda_url(DAY, today if view == WEEK and in_week else first, chosen),
        "week_view": agenda_url(WEEK, first, chosen),
    }


@router.get(PAGE, response_class=HTMLResponse)
async def agenda_page(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    services: ServicesDep,
    now: AgendaClock,
    weergave: QueryText = WEEK,
    datum: QueryText = "",
    medewerker: QueryText = "",
    feed: QueryText = "",
) -> HTMLResponse:
    request.state.staff = viewer
    view = DAY if weergave == DAY else WEEK
    today = local_day(now)
    chosen_day = parse_date(datum) or today
    chosen = parse_id(medewerker)
    owner = await agenda_owner(session, viewer, chosen)
    first = chosen_day if view == DAY else chosen_day - timedelta(days=chosen_day.weekday())
    last = first if view == DAY else first + timedelta(days=6)
    days = await agenda_days(session, owner.id, first, last) if owner is not None else {}
    record_contact_reads(session, viewer, [e.appointment for es in days.values() for e in es])
    colleagues = (
        await centre_counsellors(session, viewer.centre_id) if may_see_others(viewer) else []
    )
    feed_url = ""
    if owner is not None and owner.id == viewer.id:
        token = await current_token(session, services.settings.secret_key or "", viewer.id)
        feed_url = services.settings.public_url + feed_path(token)
    # Links keep the colleague chosen; one's own agenda needs no parameter.
    keep = owner.id if owner is not None and owner.id != viewer.id else None
    context: dict[str, Any] = {
        "view": view,
        "owner_name": owner.full_name if owner is not None else "",
        "own_agenda": owner is not None and owner.id == viewer.id,
        "has_owner": owner is not None,
        "owner_id": str(owner.id) if owner is not None else "",
        "colleagues": [{"id": str(c.id), "name": c.full_name} for c in colleagues],
        "chosen_date": (first if view == DAY else chosen_day).isoformat(),
        "period": f"{long_day(first)} – {long_day(last)}" if view == WEEK else "",
        "days": [
            {
                "iso": day.isoformat(),
                "label": day_heading(day),
                "is_today": day == today,
                "holiday": holiday_name(day),
                "entries": [entry_view(entry, services.settings, now) for entry in found],
            }
            for day, found in days.items()
        ],
        "nav": _navigation(view, first, today, keep),
        "feed_url": feed_url,
        "feed_renewed": feed == "nieuw",
    }
    return render(request, "console_agenda.html", context)


@router.post(f"{PAGE}/feed/nieuw")
async def renew_feed(
    viewer: AgendaStaff, _csrf: CsrfProtected, session: SessionDep, services: ServicesDep
) -> RedirectResponse:
    await renew_token(session, services.settings.secret_key or "", viewer.id, actor_id=viewer.id)
    return RedirectResponse(f"{PAGE}?feed=nieuw#feed", status_code=303)


@router.get("/agenda/feed/{token}.ics")
async def agenda_feed(
    token: str, session: SessionDep, services: ServicesDep, now: AgendaClock
) -> Response:
    """The counsellor's appointments as a calendar to subscribe to (no login: the URL is
    the key). A wrong or revoked token is a plain 404."""
    owner = await owner_of(session, services.settings.secret_key or "", token)
    if owner is None:
        raise NotFound()
    body = await build_feed(session, owner, services.settings, now)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'inline; filename="clb-agenda.ics"',
        },
    )

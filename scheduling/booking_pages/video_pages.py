"""The platform page in front of a video room: it sends the browser on to the room only
while the room is open, and otherwise says when it opens, that it has ended, or that the
appointment was cancelled. The room's address never appears in a page.

The person reaches it through the manage link (``/afspraak/beheer/<token>/video`` in the
mails, swapped for the manage cookie like the manage link itself); staff through the console
(scheduling.agenda.appointment_router). Registered before the manage router: its
``/{token}`` must not take ``video`` for a token.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.config import Settings
from clb.db import utcnow
from clb.errors import NotFound
from clb.web.deps import SessionDep
from clb.web.templating import render
from scheduling.appointments import changes, repository, video_room
from scheduling.appointments.models import Appointment
from scheduling.booking_pages.manage_router import (
    MANAGE_COOKIE,
    MANAGE_PATH,
    link_not_working,
    set_manage_cookie,
)

VIDEO_PATH = f"{MANAGE_PATH}/video"

router = APIRouter(prefix=MANAGE_PATH, include_in_schema=False)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    # The room's address (and its token) must not reach another site through a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def room_page(
    request: Request,
    session: AsyncSession,
    appointment: Appointment,
    now: datetime,
    *,
    name: str,
    staff: bool,
    back_url: str,
) -> Response:
    """Into the room while it is open; otherwise a page that says why not (yet)."""
    settings: Settings = request.app.state.settings
    room = video_room.room_view(settings, appointment, now)
    if room is None:  # not a video appointment
        if staff:
            raise NotFound()
        return link_not_working(request, forget=False)
    url = video_room.join_url(settings, appointment, now, name=name, moderator=staff)
    if url is not None:
        return _no_store(RedirectResponse(url, status_code=303))
    details = await repository.details(session, appointment)
    context = {
        "room": room,
        "back_url": back_url,
        "instead": video_room.without_server_text(appointment, details.counsellor_name),
        "phone": appointment.phone or "",
        "email": appointment.email or "",
        "first_name": appointment.first_name,
    }
    template = "console_video_room.html" if staff else "video_room.html"
    return _no_store(render(request, template, context))


@router.get("/video", response_class=HTMLResponse)
async def person_room(request: Request, session: SessionDep) -> Response:
    appointment = await changes.by_manage_token(session, MANAGE_COOKIE.token(request))
    if appointment is None:
        return link_not_working(request)
    return await room_page(
        request,
        session,
        appointment,
        utcnow(),
        name=appointment.first_name,
        staff=False,
        back_url=MANAGE_PATH,
    )


@router.get("/{token}/video")
async def open_room_link(request: Request, token: str, session: SessionDep) -> Response:
    """The mail's room link: swap its token for the manage cookie, like the manage link."""
    appointment = await changes.by_manage_token(session, token)
    if appointment is None:
        return link_not_working(request, forget=False)
    response = RedirectResponse(VIDEO_PATH, status_code=303)
    set_manage_cookie(response, request.app.state.settings, token)
    return _no_store(response)

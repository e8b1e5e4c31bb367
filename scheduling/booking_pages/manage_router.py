"""The manage link: see, move or cancel an appointment, and put it in a calendar.

The link in the mails (``/afspraak/beheer/<token>``) is exchanged at once for an HttpOnly
cookie that only ``/afspraak/beheer…`` receives, and the browser goes on to
``/afspraak/beheer``: the token does not stay in the address bar, the history, a Referer
or the logs (those name the route, never the path). A wrong or expired token or cookie
gets one neutral page that never says whether an appointment exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.config import Settings
from clb.db import rollback, utcnow
from clb.i18n import gettext as _
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.forms import form_text
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling import labels
from scheduling.appointments import (
    booking,
    changes,
    chat_room,
    ics,
    messages,
    repository,
    video_room,
)
from scheduling.appointments.models import Appointment, AppointmentType, Mode, Status
from scheduling.appointments.repository import Details
from scheduling.availability import slot_picker
from scheduling.availability.slots import local_day
from scheduling.errors import AppointmentGone, ChangeClosed, InvalidBooking, SlotTaken
from scheduling.link_cookie import LinkCookie

MANAGE_PATH = "/afspraak/beheer"
MANAGE_COOKIE = LinkCookie("clb_afspraak", MANAGE_PATH)
DONE_NOTICES = ("verplaatst", "geannuleerd")

router = APIRouter(prefix=MANAGE_PATH, include_in_schema=False)


def cookie_name(settings: Settings) -> str:
    return MANAGE_COOKIE.name_for(settings)


def set_manage_cookie(response: Response, settings: Settings, token: str) -> None:
    MANAGE_COOKIE.set(response, settings, token)


def link_not_working(request: Request, *, forget: bool = True) -> HTMLResponse:
    """The same page for every token or cookie that does not (or no longer) open anything.
    ``forget``: drop this browser's cookie (it opens nothing any more)."""
    # The language switch leads back to the manage page, never to a path with a token.
    context = {"current_path": MANAGE_PATH}
    response = render(request, "booking_link_invalid.html", context, status_code=404)
    settings: Settings = request.app.state.settings
    if forget and cookie_name(settings) in request.cookies:
        MANAGE_COOKIE.clear(response, settings)
    return response


@dataclass(frozen=True)
class AppointmentView:
    """What the pages say about an appointment, ready to show."""

    when: str
    mode: str
    mode_label: str
    place: str | None  # None for a chat: that has its own note
    counsellor: str
    kind: str
    school: str
    centre: str
    centre_phone: str | None
    centre_email: str | None
    first_name: str
    email: str | None
    phone: str | None
    active: bool
    cancelled: bool
    can_change: bool
    cutoff_hours: int
    school_id: str
    chat_open: bool = False  # a chat appointment whose chat can be started now
    chat_opens_at: str = ""
    video: video_room.RoomView | None = None  # a video appointment's room


def appointment_view(
    services: Services, appointment: Appointment, details: Details, now: datetime
) -> AppointmentView:
    chat = appointment.mode == Mode.chat.value
    video = video_room.room_view(services.settings, appointment, now)
    # A chat and a video room have their own note; without a video server, the place says
    # how the counsellor calls instead.
    own_note = chat or (video is not None and video.state != video_room.RoomState.no_server)
    return AppointmentView(
        when=labels.when(appointment.starts_at, appointment.ends_at),
        mode=appointment.mode,
        mode_label=labels.mode_label(appointment.mode),
        place=None if own_note else messages.place(appointment, details, "", services.settings),
        counsellor=details.counsellor_name,
        kind=_(details.type_name),
        school=details.school_name,
        centre=details.centre_name,
        centre_phone=details.centre_phone,
        centre_email=details.centre_email,
        first_name=appointment.first_name,
        email=appointment.email,
        phone=appointment.phone,
        active=appointment.is_active,
        cancelled=appointment.status == Status.cancelled.value,
        can_change=changes.can_change_online(services, appointment, now),
        cutoff_hours=services.settings.booking_change_cutoff_hours,
        school_id=str(appointment.school_id),
        chat_open=chat_room.chat_is_open(appointment, now),
        chat_opens_at=labels.clock(chat_room.opens_at(appointment)) if chat else "",
        video=video,
    )


async def _appointment(request: Request, session: AsyncSession) -> Appointment | None:
    return await changes.by_manage_token(session, MANAGE_COOKIE.token(request))


async def _page(
    request: Request,
    services: Services,
    session: AsyncSession,
    appointment: Appointment,
    template: str,
    context: dict[str, object] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    details = await repository.details(session, appointment)
    view = appointment_view(services, appointment, details, utcnow())
    return render(request, template, {"view": view, **(context or {})}, status_code=status_code)


@router.get("", response_class=HTMLResponse)
async def manage_page(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    gedaan: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    done = gedaan if gedaan in DONE_NOTICES else None
    return await _page(
        request, services, session, appointment, "booking_manage.html", {"done": done}
    )


@router.get("/bevestiging", response_class=HTMLResponse)
async def confirmation_page(
    request: Request, services: ServicesDep, session: SessionDep
) -> Response:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    if not appointment.is_active:
        return RedirectResponse(MANAGE_PATH, status_code=303)
    return await _page(request, services, session, appointment, "booking_done.html")


@router.get("/afspraak.ics")
async def calendar_file(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    details = await repository.details(session, appointment)
    link = booking.manage_url(services, appointment)
    event = messages.calendar_event(appointment, details, link, services.settings)
    if appointment.is_active:
        data, method = ics.invitation(event), "REQUEST"
    else:
        data, method = ics.cancellation(event), "CANCEL"
    return Response(
        data,
        media_type=f"text/calendar; method={method}; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="afspraak-clb.ics"',
            "Cache-Control": "no-store",
        },
    )


# --- Reschedule --------------------------------------------------------------------------


async def _reschedule_page(
    request: Request,
    services: Services,
    session: AsyncSession,
    appointment: Appointment,
    *,
    week: date | None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = utcnow()
    if not changes.can_change_online(services, appointment, now):
        return await _page(request, services, session, appointment, "booking_manage.html")
    kind = await session.get_one(AppointmentType, appointment.type_id)
    found = await slot_picker.load_week(
        session,
        appointment.centre_id,
        kind,
        appointment.mode,
        week=week,
        now=now,
        ignore_appointment=appointment.id,
    )
    return await _page(
        request,
        services,
        session,
        appointment,
        "booking_reschedule.html",
        {"week": found, "error": error},
        status_code=status_code,
    )


@router.get("/verplaatsen", response_class=HTMLResponse)
async def reschedule_form(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    week: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    return await _reschedule_page(
        request, services, session, appointment, week=slot_picker.parse_week(week)
    )


@router.post("/verplaatsen", response_class=HTMLResponse)
async def reschedule(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    chosen = slot_picker.parse_slot_value(form_text(await request.form(), "moment"))
    if chosen is None:
        return await _reschedule_page(
            request,
            services,
            session,
            appointment,
            week=None,
            error=InvalidBooking("Kies een moment uit de lijst.").detail_message,
            status_code=422,
        )
    try:
        await changes.reschedule(
            session,
            services,
            appointment.id,
            chosen.counsellor_id,
            chosen.starts_at,
            by_staff=False,
            location_id=chosen.location_id,
        )
    except (SlotTaken, InvalidBooking) as exc:
        # Fresh slots from a clean transaction (the failed attempt is undone).
        await rollback(session)
        fresh = await _appointment(request, session)
        if fresh is None:
            return link_not_working(request)
        return await _reschedule_page(
            request,
            services,
            session,
            fresh,
            week=slot_picker.monday(local_day(chosen.starts_at)),
            error=exc.detail_message,
            status_code=exc.status,
        )
    except (ChangeClosed, AppointmentGone):
        await rollback(session)
        return RedirectResponse(MANAGE_PATH, status_code=303)
    return RedirectResponse(f"{MANAGE_PATH}?gedaan=verplaatst", status_code=303)


# --- Cancel ------------------------------------------------------------------------------


@router.get("/annuleren", response_class=HTMLResponse)
async def cancel_form(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    if not changes.can_change_online(services, appointment, utcnow()):
        return RedirectResponse(MANAGE_PATH, status_code=303)
    return await _page(request, services, session, appointment, "booking_cancel.html")


@router.post("/annuleren")
async def cancel(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    try:
        await changes.cancel(session, services, appointment.id, by_staff=False)
    except (ChangeClosed, AppointmentGone):
        await rollback(session)
        return RedirectResponse(MANAGE_PATH, status_code=303)
    return RedirectResponse(f"{MANAGE_PATH}?gedaan=geannuleerd", status_code=303)


@router.post("/chat", response_class=HTMLResponse)
async def start_chat(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    """Chat by appointment: a visitor identity for this browser, handed to the chat page
    through sessionStorage (see chat-handoff.js), never through the address."""
    appointment = await _appointment(request, session)
    if appointment is None:
        return link_not_working(request)
    handoff = await chat_room.open_chat(session, services, appointment, utcnow())
    if handoff is None:
        return RedirectResponse(MANAGE_PATH, status_code=303)
    return render(request, "booking_chat_handoff.html", {"handoff": handoff})


@router.post("/sluiten")
async def close(request: Request, _csrf: CsrfProtected) -> Response:
    """Done: this browser forgets the appointment (the link in the mail still works)."""
    response = RedirectResponse("/", status_code=303)
    MANAGE_COOKIE.clear(response, request.app.state.settings)
    return response


# Last: the fixed paths above must not be taken for a token.
@router.get("/{token}")
async def open_link(request: Request, token: str, session: SessionDep) -> Response:
    """Swap the link's token for the cookie, and get it out of the address bar."""
    appointment = await changes.by_manage_token(session, token)
    if appointment is None:
        return link_not_working(request, forget=False)
    response = RedirectResponse(MANAGE_PATH, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_manage_cookie(response, request.app.state.settings, token)
    return response

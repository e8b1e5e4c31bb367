"""One appointment in the console: details, private note, reschedule, cancel, no-show.

The counsellor and the coordinators of the centre may act on it; staff changes go through
scheduling.appointments.changes, which tells the person (with the reason) through the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat import public as chat_public
from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.i18n import gettext as _
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling import labels
from scheduling.agenda.router import DAY, agenda_url, parse_date
from scheduling.agenda.service import (
    AgendaClock,
    AgendaStaff,
    entries,
    record_contact_reads,
    visible_appointment,
)
from scheduling.agenda.view import day_heading, detail_url, entry_view, long_day
from scheduling.appointments import changes
from scheduling.appointments.models import Appointment, AppointmentType
from scheduling.availability import offers
from scheduling.availability.slots import Slot, local_day
from scheduling.booking_pages import video_pages
from scheduling.errors import AppointmentGone, InvalidBooking, SlotTaken
from scheduling.form_state import BLANK, FormState, refused

router = APIRouter(include_in_schema=False)

DETAIL = "/console/agenda/afspraken/{appointment_id}"
RESCHEDULE_DAYS = 14
MAX_NOTE = 5000
MAX_REASON = 500

LongText = Annotated[str, Form(max_length=20000)]


@dataclass(frozen=True)
class _Screen:
    """One console page about one appointment, as this viewer gets it now."""

    request: Request
    session: AsyncSession
    viewer: StaffAccount
    appointment: Appointment
    now: datetime


async def _detail(screen: _Screen, form: FormState = BLANK) -> HTMLResponse:
    request, session, viewer = screen.request, screen.session, screen.viewer
    appointment = screen.appointment
    request.state.staff = viewer
    [entry] = await entries(session, [appointment])
    record_contact_reads(session, viewer, [appointment])
    other = appointment.counsellor_id if appointment.counsellor_id != viewer.id else None
    context: dict[str, Any] = {
        "appt": entry_view(entry, request.app.state.settings, screen.now),
        "note": appointment.counsellor_note,
        "show_counsellor": other is not None,
        "is_active": appointment.is_active,
        "has_started": appointment.starts_at <= screen.now,
        "back_url": agenda_url(DAY, local_day(appointment.starts_at), other),
        "reschedule_url": detail_url(appointment) + "/verplaatsen",
        "flash": request.query_params.get("bewaard", ""),
        **form.context(),
        # Booked with a chat's handover code: that chat's outcome, never its transcript.
        "handover": await chat_public.summary_for_conversation(
            session, appointment.handover_conversation_id
        ),
    }
    return render(request, "console_appointment.html", context, status_code=form.status_code)


async def _shown_appointment(
    viewer: AgendaStaff, session: SessionDep, appointment_id: uuid.UUID
) -> Appointment:
    """The appointment of the path, if this viewer may see it (404 or 403 otherwise)."""
    return await visible_appointment(session, viewer, appointment_id)


# After the route's own AgendaStaff and CSRF check (FastAPI reuses their values).
ShownAppointment = Annotated[Appointment, Depends(_shown_appointment)]


def _done(appointment: Appointment, what: str) -> RedirectResponse:
    return RedirectResponse(f"{detail_url(appointment)}?bewaard={what}#main", status_code=303)


def _reason(reason: str) -> tuple[str, str | None]:
    """The reason told to the person, or an error message."""
    cleaned = " ".join(reason.split())
    if not cleaned:
        return "", _("Geef een reden: de persoon krijgt die te lezen.")
    if len(cleaned) > MAX_REASON:
        return cleaned, _("Schrijf hoogstens 500 tekens.")
    return cleaned, None


def _audit(
    session: AsyncSession, action: str, viewer: StaffAccount, appointment: Appointment
) -> None:
    record_audit(
        session,
        f"scheduling.appointment.{action}",
        actor_id=viewer.id,
        object_type="appointment",
        object_id=str(appointment.id),
    )


@router.get(DETAIL, response_class=HTMLResponse)
async def appointment_page(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    now: AgendaClock,
    appointment: ShownAppointment,
) -> HTMLResponse:
    return await _detail(_Screen(request, session, viewer, appointment, now))


@router.get(f"{DETAIL}/video", response_class=HTMLResponse)
async def video_room_page(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    now: AgendaClock,
    appointment: ShownAppointment,
) -> Response:
    """Into the appointment's video room while it is open (the audit log records who)."""
    request.state.staff = viewer
    response = await video_pages.room_page(
        request,
        session,
        appointment,
        now,
        name=viewer.display_name,
        staff=True,
        back_url=detail_url(appointment),
    )
    if isinstance(response, RedirectResponse):
        _audit(session, "video_opened", viewer, appointment)
    return response


@router.post(f"{DETAIL}/notitie")
async def save_note(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    appointment: ShownAppointment,
    note: LongText = "",
) -> Response:
    note = note.strip()
    if len(note) > MAX_NOTE:
        errors = {"note": _("Je notitie mag hoogstens 5000 tekens lang zijn.")}
        screen = _Screen(request, session, viewer, appointment, now)
        return await _detail(screen, refused(errors, {"note": note}))
    appointment.counsellor_note = note
    _audit(session, "note_saved", viewer, appointment)
    return _done(appointment, "notitie")


@router.post(f"{DETAIL}/annuleren")
async def cancel_appointment(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    services: ServicesDep,
    now: AgendaClock,
    appointment: ShownAppointment,
    reason: LongText = "",
) -> Response:
    cleaned, problem = _reason(reason)
    errors = {"reason": problem} if problem is not None else {}
    status_code = 422
    if not errors:
        try:
            await changes.cancel(
                session,
                services,
                appointment.id,
                by_staff=True,
                reason=cleaned,
                now=now,
                actor_id=viewer.id,
            )
        except InvalidBooking as exc:
            errors = {"reason": _(exc.detail_message)}
        except AppointmentGone as exc:
            errors, status_code = {"general": _(exc.detail_message)}, exc.status
    if errors:
        screen = _Screen(request, session, viewer, appointment, now)
        return await _detail(screen, refused(errors, {"reason": reason}, status_code))
    _audit(session, "cancelled", viewer, appointment)
    return _done(appointment, "geannuleerd")


@router.post(f"{DETAIL}/niet-gekomen")
async def mark_no_show(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    appointment: ShownAppointment,
) -> Response:
    screen = _Screen(request, session, viewer, appointment, now)
    try:
        await changes.mark_no_show(session, appointment.id, now=now)
    except InvalidBooking as exc:
        return await _detail(screen, refused({"no_show": _(exc.detail_message)}))
    except AppointmentGone as exc:
        errors = {"general": _(exc.detail_message)}
        return await _detail(screen, refused(errors, status_code=exc.status))
    _audit(session, "no_show", viewer, appointment)
    return _done(appointment, "niet-gekomen")


# --- Reschedule --------------------------------------------------------------------------


def slot_value(slot: Slot) -> str:
    return f"{slot.starts_at.isoformat()}|{slot.location_id or ''}"


def parse_slot(value: str) -> tuple[datetime, uuid.UUID | None] | None:
    start, _sep, location = value.partition("|")
    try:
        starts_at = datetime.fromisoformat(start)
        location_id = uuid.UUID(location) if location else None
    except ValueError:
        return None
    if starts_at.tzinfo is None:
        return None
    return starts_at, location_id


async def _free_slots(
    session: AsyncSession, appointment: Appointment, first: date, now: datetime
) -> list[Slot]:
    kind = await session.get_one(AppointmentType, appointment.type_id)
    slots = await offers.offer(
        session,
        appointment.centre_id,
        kind,
        appointment.mode,
        now=now,
        first=first,
        last=first + timedelta(days=RESCHEDULE_DAYS - 1),
        counsellor_ids=[appointment.counsellor_id],
        ignore_appointment=appointment.id,
        for_staff=True,
    )
    return [slot for slot in slots if slot.starts_at != appointment.starts_at]


async def _reschedule_page(screen: _Screen, vanaf: str, form: FormState = BLANK) -> HTMLResponse:
    """The free moments of two weeks from ``vanaf`` (never before today)."""
    request, session, now = screen.request, screen.session, screen.now
    appointment = screen.appointment
    if not appointment.is_active:
        raise AppointmentGone()
    today = local_day(now)
    first = max(parse_date(vanaf) or today, today)
    request.state.staff = screen.viewer
    [entry] = await entries(session, [appointment])
    slots = await _free_slots(session, appointment, first, now)
    base = detail_url(appointment) + "/verplaatsen"
    earlier = max(first - timedelta(days=RESCHEDULE_DAYS), today)
    context: dict[str, Any] = {
        "appt": entry_view(entry, request.app.state.settings, now),
        "detail_url": detail_url(appointment),
        "action": base + f"?vanaf={first.isoformat()}",
        "period": f"{long_day(first)} – {long_day(first + timedelta(days=RESCHEDULE_DAYS - 1))}",
        "earlier_url": base + f"?vanaf={earlier.isoformat()}" if first > today else "",
        "later_url": base + f"?vanaf={(first + timedelta(days=RESCHEDULE_DAYS)).isoformat()}",
        "slot_days": [
            {
                "label": day_heading(day),
                "slots": [
                    {"value": slot_value(s), "label": labels.clock(s.starts_at)} for s in group
                ],
            }
            for day, group in groupby(slots, key=lambda s: s.day)
        ],
        **form.context(),
    }
    return render(
        request, "console_appointment_reschedule.html", context, status_code=form.status_code
    )


@router.get(f"{DETAIL}/verplaatsen", response_class=HTMLResponse)
async def reschedule_page(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    now: AgendaClock,
    appointment: ShownAppointment,
    vanaf: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    return await _reschedule_page(_Screen(request, session, viewer, appointment, now), vanaf)


@router.post(f"{DETAIL}/verplaatsen")
async def reschedule_appointment(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    services: ServicesDep,
    now: AgendaClock,
    appointment: ShownAppointment,
    vanaf: Annotated[str, Query(max_length=20)] = "",
    slot: Annotated[str, Form(max_length=120)] = "",
    reason: LongText = "",
) -> Response:
    errors: dict[str, str] = {}
    status_code = 422
    chosen = parse_slot(slot)
    if chosen is None:
        errors["slot"] = _("Kies een nieuw moment.")
    cleaned, problem = _reason(reason)
    if problem is not None:
        errors["reason"] = problem
    if chosen is not None and not errors:
        starts_at, location_id = chosen
        try:
            await changes.reschedule(
                session,
                services,
                appointment.id,
                appointment.counsellor_id,
                starts_at,
                by_staff=True,
                location_id=location_id,
                reason=cleaned,
                now=now,
                actor_id=viewer.id,
            )
        except (InvalidBooking, SlotTaken, AppointmentGone) as exc:
            errors["slot"] = _(exc.detail_message)
            status_code = exc.status
    if errors:
        screen = _Screen(request, session, viewer, appointment, now)
        values = {"slot": slot, "reason": reason}
        return await _reschedule_page(screen, vanaf, refused(errors, values, status_code))
    _audit(session, "rescheduled", viewer, appointment)
    return _done(appointment, "verplaatst")

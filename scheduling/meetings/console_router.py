"""Face-to-face requests in the console (``/console/aanvragen``): the centre's list, one
request with its history, and the steps assign → contacted → scheduled → closed.

Counsellors and coordinators of the request's centre may see and move it; others get 404
(an id of another centre reveals nothing). The steps are scheduling.meeting_requests';
"inplannen" books through scheduling.booking, so the database refuses a double booking and
a moment taken meanwhile shows the message again with fresh moments.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat import public as chat_public
from clb.auth.models import StaffAccount
from clb.db import rollback
from clb.errors import NotFound
from clb.org.models import School
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling.agenda.service import AgendaClock, AgendaStaff, centre_counsellors
from scheduling.agenda.view import detail_url, short_moment
from scheduling.appointments import repository
from scheduling.appointments.models import Appointment, Mode
from scheduling.availability import slot_picker
from scheduling.availability.slots import local_day
from scheduling.errors import InvalidBooking, InvalidRequest, RequestStateConflict, SlotTaken
from scheduling.meetings import labels as ml
from scheduling.meetings import service as meeting_requests
from scheduling.meetings.models import MeetingRequest, Place, RequestStatus

router = APIRouter(include_in_schema=False)

LIST = "/console/aanvragen"
DETAIL = LIST + "/{request_id}"
DEFAULT_TYPE = "gesprek"
Text = Annotated[str, Form(max_length=2000)]


def request_url(request_id: uuid.UUID) -> str:
    return f"{LIST}/{request_id}"


def is_overdue(found: MeetingRequest, now: datetime) -> bool:
    return found.is_open and found.first_contact_due_at <= now


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.full_name).where(StaffAccount.id.in_(ids))
    )
    return {staff_id: name for staff_id, name in rows}


async def _school_names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(School.id, School.name).where(School.id.in_(ids)))
    return {school_id: name for school_id, name in rows}


async def _visible(
    session: AsyncSession, viewer: StaffAccount, request_id: uuid.UUID
) -> MeetingRequest:
    found = await session.get(MeetingRequest, request_id, populate_existing=True)
    if found is None or found.centre_id != viewer.centre_id:
        raise NotFound()
    return found


@router.get(LIST, response_class=HTMLResponse)
async def request_list(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    now: AgendaClock,
    status: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    request.state.staff = viewer
    chosen = status if status in RequestStatus.__members__ else ""
    statuses = (RequestStatus(chosen),) if chosen else ()
    found = await meeting_requests.for_centre(session, viewer.centre_id, statuses)
    # Overdue first (the oldest deadline on top), then the rest by deadline.
    found.sort(key=lambda r: (not is_overdue(r, now), r.first_contact_due_at))
    names = await _names(session, {r.assigned_to for r in found if r.assigned_to})
    schools = await _school_names(session, {r.school_id for r in found})
    rows = [
        {
            "url": request_url(r.id),
            "reference": r.reference,
            "status": r.status,
            "overdue": is_overdue(r, now),
            "created": short_moment(r.created_at),
            "due": short_moment(r.first_contact_due_at),
            "for_whom": ml.FOR_WHOM_LABELS[r.for_whom],
            "relation": ml.RELATION_LABELS.get(r.requester_relation or "", ""),
            "school": schools.get(r.school_id, ""),
            "assigned": names.get(r.assigned_to) if r.assigned_to else None,
        }
        for r in found
    ]
    context = {
        "rows": rows,
        "status": chosen,
        "status_labels": ml.CONSOLE_STATUS_LABELS,
        "overdue_count": sum(1 for row in rows if row["overdue"]),
    }
    return render(request, "console_requests.html", context)


async def _detail(
    request: Request,
    session: AsyncSession,
    viewer: StaffAccount,
    found: MeetingRequest,
    now: datetime,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    request.state.staff = viewer
    history = await meeting_requests.events(session, found.id)
    colleagues = await centre_counsellors(session, found.centre_id)
    names = await _names(
        session,
        {e.actor_id for e in history if e.actor_id} | {found.assigned_to or viewer.id},
    )
    school = await session.get(School, found.school_id)
    appointment = None
    if found.appointment_id:
        booked = await session.get(Appointment, found.appointment_id)
        if booked is not None:
            appointment = {"when": short_moment(booked.starts_at), "url": detail_url(booked)}
    # By the linked conversation, not the code: a later code for that chat stops the earlier
    # one working, but must not cut the link.
    handed_over = await chat_public.summary_for_conversation(
        session, found.handover_conversation_id
    )
    context: dict[str, Any] = {
        "req": found,
        "handover": handed_over,
        "url": request_url(found.id),
        "overdue": is_overdue(found, now),
        "due": short_moment(found.first_contact_due_at),
        "created": short_moment(found.created_at),
        "school": school.name if school else "",
        "assigned": names.get(found.assigned_to) if found.assigned_to else None,
        "colleagues": [(str(c.id), c.full_name) for c in colleagues],
        "viewer_id": str(viewer.id),
        "events": [
            {
                "at": short_moment(e.at),
                "who": names.get(e.actor_id, "") if e.actor_id else "",
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in history
        ],
        "appointment": appointment,
        "status_labels": ml.CONSOLE_STATUS_LABELS,
        "labels": {
            "for_whom": ml.FOR_WHOM_LABELS,
            "relation": ml.RELATION_LABELS,
            "day": ml.DAY_LABELS,
            "time": ml.TIME_LABELS,
            "place": ml.PLACE_LABELS,
        },
        "flash": request.query_params.get("bewaard", ""),
        "form_errors": errors or {},
        "form_values": values or {},
    }
    return render(request, "console_request.html", context, status_code=status_code)


async def _undo(session: AsyncSession, viewer: StaffAccount) -> None:
    """Drop the refused step; the viewer's account (expired by the rollback) is read
    again for the page."""
    await rollback(session)
    await session.refresh(viewer)


def _done(request_id: uuid.UUID, what: str) -> RedirectResponse:
    return RedirectResponse(f"{request_url(request_id)}?bewaard={what}#main", status_code=303)


@router.get(DETAIL, response_class=HTMLResponse)
async def request_page(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
) -> HTMLResponse:
    found = await _visible(session, viewer, request_id)
    return await _detail(request, session, viewer, found, now)


async def _refused(
    request: Request,
    session: AsyncSession,
    viewer: StaffAccount,
    request_id: uuid.UUID,
    now: datetime,
    exc: InvalidRequest | RequestStateConflict,
    field: str,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    await _undo(session, viewer)
    found = await _visible(session, viewer, request_id)
    errors = {field: exc.detail_message}
    return await _detail(
        request, session, viewer, found, now, errors=errors, values=values, status_code=exc.status
    )


@router.post(f"{DETAIL}/toewijzen")
async def assign_request(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    counsellor: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    await _visible(session, viewer, request_id)
    try:
        counsellor_id = uuid.UUID(counsellor)
    except ValueError:
        counsellor_id = uuid.UUID(int=0)
    try:
        await meeting_requests.assign(session, request_id, counsellor_id, viewer, now=now)
    except (InvalidRequest, RequestStateConflict) as exc:
        return await _refused(request, session, viewer, request_id, now, exc, "assign")
    return _done(request_id, "toegewezen")


@router.post(f"{DETAIL}/contact")
async def mark_contacted(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    note: Text = "",
) -> Response:
    await _visible(session, viewer, request_id)
    try:
        await meeting_requests.mark_contacted(session, request_id, viewer, now=now, note=note)
    except (InvalidRequest, RequestStateConflict) as exc:
        return await _refused(request, session, viewer, request_id, now, exc, "contact")
    return _done(request_id, "contact")


@router.post(f"{DETAIL}/afsluiten")
async def close_request(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    reason: Text = "",
) -> Response:
    await _visible(session, viewer, request_id)
    try:
        await meeting_requests.close(session, request_id, viewer, reason, now=now)
    except (InvalidRequest, RequestStateConflict) as exc:
        values = {"reason": reason}
        return await _refused(request, session, viewer, request_id, now, exc, "reason", values)
    return _done(request_id, "afgesloten")


# --- Schedule: a real appointment at a free moment ---------------------------------------


def mode_for(found: MeetingRequest) -> str:
    """As meeting_requests.schedule books it: at school when preferred, else at the CLB."""
    return Mode.school.value if found.preferred_place == Place.school.value else Mode.office.value


async def _schedule_page(
    request: Request,
    session: AsyncSession,
    viewer: StaffAccount,
    found: MeetingRequest,
    now: datetime,
    type_slug: str,
    week: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    request.state.staff = viewer
    types = await repository.active_types(session)
    kind = next((t for t in types if t.slug == type_slug), None) or next(
        (t for t in types if t.slug == DEFAULT_TYPE), types[0] if types else None
    )
    mode = mode_for(found)
    slots = None
    if kind is not None:
        slots = await slot_picker.load_week(
            session, found.centre_id, kind, mode, week=slot_picker.parse_week(week), now=now
        )
    base = f"{request_url(found.id)}/inplannen?soort={kind.slug if kind else ''}"
    context: dict[str, Any] = {
        "req": found,
        "url": request_url(found.id),
        "types": types,
        "kind": kind,
        "mode_label": ml.PLACE_LABELS[Place.school.value if mode == "school" else "office"],
        "week": slots,
        "week_url": {
            "earlier": f"{base}&week={slots.earlier.isoformat()}"
            if slots and slots.earlier
            else "",
            "later": f"{base}&week={slots.later.isoformat()}" if slots and slots.later else "",
            "next_free": (
                f"{base}&week={slots.next_free.isoformat()}" if slots and slots.next_free else ""
            ),
        },
        "action": f"{request_url(found.id)}/inplannen",
        "error": error,
        "schedulable": found.status in meeting_requests.SCHEDULABLE,
    }
    return render(request, "console_request_schedule.html", context, status_code=status_code)


@router.get(f"{DETAIL}/inplannen", response_class=HTMLResponse)
async def schedule_page(
    request: Request,
    viewer: AgendaStaff,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    soort: Annotated[str, Query(max_length=40)] = DEFAULT_TYPE,
    week: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    found = await _visible(session, viewer, request_id)
    return await _schedule_page(request, session, viewer, found, now, soort, week)


@router.post(f"{DETAIL}/inplannen")
async def schedule_request(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    soort: Annotated[str, Form(max_length=40)] = DEFAULT_TYPE,
    moment: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    await _visible(session, viewer, request_id)
    chosen = slot_picker.parse_slot_value(moment)
    error: str | None = None
    status_code = 422
    if chosen is None:
        error = InvalidBooking("Kies een moment uit de lijst.").detail_message
    else:
        try:
            await meeting_requests.schedule(
                session,
                services,
                request_id,
                viewer,
                chosen.counsellor_id,
                chosen.starts_at,
                soort,
                chosen.location_id,
                now,
            )
        except (SlotTaken, InvalidBooking, InvalidRequest, RequestStateConflict) as exc:
            await _undo(session, viewer)
            error, status_code = exc.detail_message, exc.status
    if error is not None:
        found = await _visible(session, viewer, request_id)
        # Fresh moments of the week that was chosen from (the first free week otherwise).
        week = slot_picker.monday(local_day(chosen.starts_at)).isoformat() if chosen else ""
        return await _schedule_page(
            request, session, viewer, found, now, soort, week, error=error, status_code=status_code
        )
    return _done(request_id, "ingepland")

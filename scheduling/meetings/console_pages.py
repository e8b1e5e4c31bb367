"""The console pages of a face-to-face request: the request with its history, and the
free moments to schedule it at (scheduling.meetings.console_router has the routes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from chat import public as chat_public
from clb.auth.models import StaffAccount
from clb.org.models import School
from clb.web.templating import render
from scheduling.agenda.repository import centre_counsellors
from scheduling.agenda.view import detail_url, short_moment
from scheduling.appointments import repository
from scheduling.appointments.models import Appointment, Mode
from scheduling.availability import slot_picker
from scheduling.form_state import BLANK, FormState
from scheduling.meetings import labels as ml
from scheduling.meetings import repository as meeting_repository
from scheduling.meetings import service as meeting_requests
from scheduling.meetings.models import MeetingRequest, Place

LIST = "/console/aanvragen"
DEFAULT_TYPE = "gesprek"


def request_url(request_id: uuid.UUID) -> str:
    return f"{LIST}/{request_id}"


def is_overdue(found: MeetingRequest, now: datetime) -> bool:
    return found.is_open and found.first_contact_due_at <= now


# The labels the request page shows its answers with.
_LABELS = {
    "for_whom": ml.FOR_WHOM_LABELS,
    "relation": ml.RELATION_LABELS,
    "day": ml.DAY_LABELS,
    "time": ml.TIME_LABELS,
    "place": ml.PLACE_LABELS,
}


async def linked_appointment(session: AsyncSession, found: MeetingRequest) -> dict[str, str] | None:
    """When and where to open the appointment the request was scheduled as, if any."""
    if not found.appointment_id:
        return None
    booked = await session.get(Appointment, found.appointment_id)
    if booked is None:
        return None
    return {"when": short_moment(booked.starts_at), "url": detail_url(booked)}


async def detail_page(
    request: Request,
    session: AsyncSession,
    viewer: StaffAccount,
    found: MeetingRequest,
    now: datetime,
    form: FormState = BLANK,
) -> HTMLResponse:
    request.state.staff = viewer
    history = await meeting_requests.events(session, found.id)
    colleagues = await centre_counsellors(session, found.centre_id)
    names = await meeting_repository.staff_names(
        session,
        {e.actor_id for e in history if e.actor_id} | {found.assigned_to or viewer.id},
    )
    school = await session.get(School, found.school_id)
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
        "appointment": await linked_appointment(session, found),
        "status_labels": ml.CONSOLE_STATUS_LABELS,
        "labels": _LABELS,
        "flash": request.query_params.get("bewaard", ""),
        **form.context(),
    }
    return render(request, "console_request.html", context, status_code=form.status_code)


def mode_for(found: MeetingRequest) -> str:
    """As meeting_requests.schedule books it: at school when preferred, else at the CLB."""
    return Mode.school.value if found.preferred_place == Place.school.value else Mode.office.value


async def schedule_form_page(
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

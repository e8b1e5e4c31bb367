"""Face-to-face requests in the console (``/console/aanvragen``): the centre's list, one
request with its history, and the steps assign → contacted → scheduled → closed.

Counsellors and coordinators of the request's centre may see and move it; others get 404
(an id of another centre reveals nothing). The steps are scheduling.meetings.service's;
"inplannen" books through scheduling.appointments.booking, so the database refuses a double
booking and a moment taken meanwhile shows the message again with fresh moments. The pages
themselves are built in scheduling.meetings.console_pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import rollback
from clb.errors import NotFound
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling.agenda.service import AgendaClock, AgendaStaff
from scheduling.agenda.view import short_moment
from scheduling.availability import slot_picker
from scheduling.availability.slots import local_day
from scheduling.errors import InvalidBooking, InvalidRequest, RequestStateConflict, SlotTaken
from scheduling.form_state import refused
from scheduling.meetings import labels as ml
from scheduling.meetings import repository as meeting_repository
from scheduling.meetings import service as meeting_requests
from scheduling.meetings.console_pages import (
    DEFAULT_TYPE,
    LIST,
    detail_page,
    is_overdue,
    request_url,
    schedule_form_page,
)
from scheduling.meetings.models import MeetingRequest, RequestStatus

router = APIRouter(include_in_schema=False)

DETAIL = LIST + "/{request_id}"
Text = Annotated[str, Form(max_length=2000)]


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
    names = await meeting_repository.staff_names(
        session, {r.assigned_to for r in found if r.assigned_to}
    )
    schools = await meeting_repository.school_names(session, {r.school_id for r in found})
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
    return await detail_page(request, session, viewer, found, now)


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
    form = refused({field: exc.detail_message}, values, exc.status)
    return await detail_page(request, session, viewer, found, now, form)


async def _step(
    request: Request,
    session: AsyncSession,
    viewer: StaffAccount,
    now: datetime,
    request_id: uuid.UUID,
    take: Callable[[], Awaitable[MeetingRequest]],
    *,
    field: str,
    done: str,
    values: dict[str, str] | None = None,
) -> Response:
    """Take one workflow step on a request the viewer may see; a refused step shows the
    request again with the message next to ``field``."""
    await _visible(session, viewer, request_id)
    try:
        await take()
    except (InvalidRequest, RequestStateConflict) as exc:
        return await _refused(request, session, viewer, request_id, now, exc, field, values)
    return _done(request_id, done)


@router.post(f"{DETAIL}/toewijzen")
async def assign_request(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    counsellor: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        counsellor_id = uuid.UUID(counsellor)
    except ValueError:
        counsellor_id = uuid.UUID(int=0)

    def take() -> Awaitable[MeetingRequest]:
        return meeting_requests.assign(
            session, request_id, counsellor_id, viewer, now=now, services=services
        )

    return await _step(
        request, session, viewer, now, request_id, take, field="assign", done="toegewezen"
    )


@router.post(f"{DETAIL}/contact")
async def mark_contacted(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    note: Text = "",
) -> Response:
    def take() -> Awaitable[MeetingRequest]:
        return meeting_requests.mark_contacted(
            session, request_id, viewer, now=now, services=services, note=note
        )

    return await _step(
        request, session, viewer, now, request_id, take, field="contact", done="contact"
    )


@router.post(f"{DETAIL}/afsluiten")
async def close_request(
    request: Request,
    viewer: AgendaStaff,
    _csrf: CsrfProtected,
    services: ServicesDep,
    session: SessionDep,
    now: AgendaClock,
    request_id: uuid.UUID,
    reason: Text = "",
) -> Response:
    def take() -> Awaitable[MeetingRequest]:
        return meeting_requests.close(
            session, request_id, viewer, reason, now=now, services=services
        )

    values = {"reason": reason}
    return await _step(
        request,
        session,
        viewer,
        now,
        request_id,
        take,
        field="reason",
        done="afgesloten",
        values=values,
    )


# --- Schedule: a real appointment at a free moment ---------------------------------------


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
    return await schedule_form_page(request, session, viewer, found, now, soort, week)


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
        return await schedule_form_page(
            request, session, viewer, found, now, soort, week, error=error, status_code=status_code
        )
    return _done(request_id, "ingepland")

"""Public pages of "Ik wil liever iemand van het CLB zien": the request form, its paper
version, the confirmation and the status page.

The form is one POST route that shows one question per step (scheduling.meetings.form);
it works without JavaScript. The status link (``/liever-iemand-zien/status/<token>``) is
exchanged at once for an HttpOnly cookie that only the status pages receive, as the manage
link of an appointment is (scheduling.link_cookie): the token leaves the address bar. Any
token or cookie that opens nothing gets one neutral 404 page.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from chat import public as chat_public
from clb import i18n
from clb.config import Settings
from clb.db import utcnow
from clb.jobs import NewJob, schedule_jobs
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.forms import form_text
from clb.web.security import CsrfProtected
from clb.web.templating import render
from scheduling import labels
from scheduling.appointments import booking, repository
from scheduling.appointments.api import limited_page
from scheduling.appointments.models import Appointment, Mode
from scheduling.booking_pages.school_search import exact_match, search_schools
from scheduling.errors import InvalidRequest
from scheduling.link_cookie import LinkCookie
from scheduling.meetings import labels as ml
from scheduling.meetings import service as meeting_requests
from scheduling.meetings.form import FIELD_STEP, Draft, ordered, school_id_of, step_errors
from scheduling.meetings.models import MeetingRequest, Place, RequestStatus
from scheduling.meetings.tasks import MEETING_CONFIRMATION_JOB

router = APIRouter(include_in_schema=False)

FORM_PATH = "/liever-iemand-zien"
STATUS_PATH = f"{FORM_PATH}/status"
STATUS_COOKIE = LinkCookie("clb_aanvraag", STATUS_PATH)
QUERY_MAX = 80
MIN_QUERY = 2


# --- Status cookie -----------------------------------------------------------------------


def cookie_name(settings: Settings) -> str:
    return STATUS_COOKIE.name_for(settings)


def _not_found(request: Request) -> HTMLResponse:
    """The same page for every token or cookie that opens nothing."""
    response = render(
        request, "meeting_link_invalid.html", {"current_path": STATUS_PATH}, status_code=404
    )
    settings: Settings = request.app.state.settings
    if cookie_name(settings) in request.cookies:
        response.delete_cookie(cookie_name(settings), path=STATUS_PATH, httponly=True)
    return response


async def _from_cookie(request: Request, session: AsyncSession) -> MeetingRequest | None:
    return await meeting_requests.by_status_token(session, STATUS_COOKIE.token(request))


# --- The form ----------------------------------------------------------------------------


async def places_of(session: AsyncSession, centre_id: uuid.UUID | None) -> list[str]:
    """Where the centre receives people: at a CLB location always (that is what a CLB
    has), at school when a counsellor offers that. "Elsewhere" has no centre setting yet,
    so it is not offered."""
    offered = await repository.offered_modes(session, centre_id) if centre_id else set()
    places = [Place.office.value]
    if Mode.school.value in offered:
        places.append(Place.school.value)
    return places


async def _step_page(
    request: Request,
    session: AsyncSession,
    draft: Draft,
    step: str,
    *,
    errors: dict[str, str] | None = None,
    query: str = "",
    status_code: int | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    steps = draft.steps()
    step = step if step in steps else steps[0]
    school_id = school_id_of(draft)
    found = await repository.school_and_centre(session, school_id) if school_id else None
    context: dict[str, Any] = {
        "step": step,
        "number": steps.index(step) + 1,
        "steps": len(steps),
        "last": step == steps[-1],
        "draft": draft,
        "hidden": draft.hidden(step),
        "errors": errors or {},
        "error_list": ordered(errors or {}),
        "school": found[0] if found else None,
        "centre": found[1] if found else None,
        "for_whom_labels": ml.FOR_WHOM_LABELS,
        "for_whom_hints": ml.FOR_WHOM_HINTS,
        "relation_labels": ml.RELATION_LABELS,
        "day_labels": ml.DAY_LABELS,
        "time_labels": ml.TIME_LABELS,
        "place_labels": ml.PLACE_LABELS,
        "places": await places_of(session, found[1].id if found else None),
        "query": query,
        "query_max": QUERY_MAX,
        "min_query": MIN_QUERY,
        "matches": None,
        "too_short": False,
    }
    if step == "school" and query:
        context["too_short"] = len(query) < MIN_QUERY
        if not context["too_short"]:
            context["matches"] = await search_schools(session, query)
    code = 422 if errors or context["too_short"] else 200
    return render(
        request, "meeting_step.html", context, status_code=status_code or code, headers=headers
    )


@router.get(FORM_PATH, response_class=HTMLResponse)
async def request_form(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Query(max_length=40)] = "",
    school: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The first step; ``school`` (from "Mijn CLB") chooses the school beforehand, and an
    unknown one is simply not chosen."""
    draft = Draft(code=code.strip())
    chosen = _uuid_or_none(school)
    if chosen is not None and await repository.school_and_centre(session, chosen) is not None:
        draft = dataclasses.replace(draft, school=str(chosen))
    return await _step_page(request, session, draft, "wie")


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


async def _all_errors(
    session: AsyncSession, draft: Draft, school_known: bool
) -> tuple[str, dict[str, str]] | None:
    """The first step that is not right (hidden fields can be changed), with its errors."""
    school_id = school_id_of(draft)
    found = await repository.school_and_centre(session, school_id) if school_id else None
    places = await places_of(session, found[1].id if found else None)
    for step in draft.steps():
        errors = step_errors(draft, step, school_known=school_known, places=places)
        if errors:
            return step, errors
    return None


@router.post(FORM_PATH, response_class=HTMLResponse)
async def request_step(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    form = await request.form()
    many = {name: [v for v in form.getlist(name) if isinstance(v, str)] for name in form}
    draft = Draft.from_form(form, many)
    raw_step, action = form_text(form, "stap"), form_text(form, "actie")
    steps = draft.steps()
    step = raw_step if raw_step in steps else steps[0]
    index = steps.index(step)
    if action == "terug":
        return await _step_page(request, session, draft, steps[max(index - 1, 0)])
    query = " ".join(form_text(form, "q").split())[:QUERY_MAX]
    if action == "zoek":
        return await _step_page(request, session, draft, "school", query=query)
    school_id = school_id_of(draft)
    found = await repository.school_and_centre(session, school_id) if school_id else None
    if step == "school" and found is None and query:
        # "Verder" with a name typed but no school chosen: the one school of that name, or
        # the search's results to choose from.
        picked = exact_match(await search_schools(session, query), query)
        if picked is None:
            return await _step_page(request, session, draft, step, query=query)
        draft = dataclasses.replace(draft, school=str(picked.id))
        found = await repository.school_and_centre(session, picked.id)
    school_known = found is not None
    places = await places_of(session, found[1].id if found else None)
    errors = step_errors(draft, step, school_known=school_known, places=places)
    if errors:
        return await _step_page(request, session, draft, step, errors=errors)
    if index + 1 < len(steps):
        return await _step_page(request, session, draft, steps[index + 1])
    problem = await _all_errors(session, draft, school_known)
    if problem is not None:
        return await _step_page(request, session, draft, problem[0], errors=problem[1])
    limited = await limited_page(services, request, "meeting")
    if limited is not None:
        return await _step_page(request, session, draft, step, **limited)
    return await _file(request, services, session, draft)


async def _file(
    request: Request, services: Services, session: AsyncSession, draft: Draft
) -> Response:
    now = utcnow()
    handed_over = await chat_public.find_handover(session, draft.code) if draft.code else None
    if draft.code and handed_over is None:
        error = InvalidRequest("Deze code kennen we niet. Kijk ze na of laat het vak leeg.")
        return await _step_page(
            request, session, draft, "vraag", errors={"code": error.detail_message}
        )
    try:
        filed, token = await meeting_requests.file_request(
            session, services, draft.data(school_id_of(draft)), now
        )
    except InvalidRequest as exc:
        step = FIELD_STEP.get(exc.field or "", "vraag")
        errors = {exc.field or "": exc.detail_message}
        return await _step_page(request, session, draft, step, errors=errors)
    if handed_over is not None:
        # Only the chat's id is kept (scheduling.appointments.handover_link): the code is a secret
        # that chat.handover stores hashed only.
        filed.handover_conversation_id = handed_over.conversation_id
    if filed.email:
        job = {"request_id": str(filed.id), "language": i18n.current_language()}
        await schedule_jobs(session, services.jobs, [NewJob(MEETING_CONFIRMATION_JOB, job)])
    response = RedirectResponse(f"{STATUS_PATH}/bevestiging", status_code=303)
    STATUS_COOKIE.set(response, services.settings, token)
    return response


@router.get(f"{FORM_PATH}/afdrukken", response_class=HTMLResponse)
async def printable_form(request: Request) -> HTMLResponse:
    context = {
        "for_whom_labels": ml.FOR_WHOM_LABELS,
        "relation_labels": ml.RELATION_LABELS,
        "day_labels": ml.DAY_LABELS,
        "time_labels": ml.TIME_LABELS,
        "place_labels": ml.PLACE_LABELS,
        "contact_way_labels": ml.CONTACT_WAY_LABELS,
    }
    return render(request, "meeting_print.html", context)


# --- Confirmation and status -------------------------------------------------------------


async def _status_context(
    services: Services, session: AsyncSession, filed: MeetingRequest
) -> dict[str, Any]:
    appointment = None
    if filed.status == RequestStatus.scheduled.value and filed.appointment_id:
        found = await session.get(Appointment, filed.appointment_id)
        if found is not None:
            details = await repository.details(session, found)
            appointment = {
                "when": labels.when(found.starts_at, found.ends_at),
                "mode": labels.mode_label(found.mode),
                "place": _place(found, details),
                "counsellor": details.counsellor_name,
                "active": found.is_active,
                "manage_url": (
                    f"/afspraak/beheer/{booking.manage_token(services, found)}"
                    if found.is_active and found.ends_at > utcnow()
                    else None
                ),
            }
    school_centre = await repository.school_and_centre(session, filed.school_id)
    return {
        "filed": filed,
        "status_label": ml.STATUS_LABELS[filed.status],
        "status_text": ml.STATUS_EXPLANATIONS[filed.status],
        "appointment": appointment,
        "centre": school_centre[1] if school_centre else None,
        "status_url": f"{services.settings.public_url}{STATUS_PATH}/"
        + meeting_requests.status_token(services, filed),
        "current_path": STATUS_PATH,
    }


def _place(appointment: Appointment, details: repository.Details) -> str:
    if appointment.mode == Mode.school.value:
        return details.school_name
    if details.location_name:
        address = f" – {details.location_address}" if details.location_address else ""
        return f"{details.location_name}{address}"
    return ""


async def _status_response(
    request: Request, services: Services, session: AsyncSession, template: str
) -> Response:
    filed = await _from_cookie(request, session)
    if filed is None:
        return _not_found(request)
    return render(request, template, await _status_context(services, session, filed))


@router.get(f"{STATUS_PATH}/bevestiging", response_class=HTMLResponse)
async def confirmation(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    return await _status_response(request, services, session, "meeting_done.html")


@router.get(STATUS_PATH, response_class=HTMLResponse)
async def status_page(request: Request, services: ServicesDep, session: SessionDep) -> Response:
    return await _status_response(request, services, session, "meeting_status.html")


@router.get(f"{STATUS_PATH}/{{token}}")
async def open_status_link(
    request: Request, token: str, services: ServicesDep, session: SessionDep
) -> Response:
    filed = await meeting_requests.by_status_token(session, token)
    if filed is None:
        return _not_found(request)
    response = RedirectResponse(STATUS_PATH, status_code=303)
    STATUS_COOKIE.set(response, services.settings, token)
    return response

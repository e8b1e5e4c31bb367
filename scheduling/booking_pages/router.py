"""Scheduling routes: booking an appointment (the face-to-face request is in
scheduling.meetings.router).

Booking takes four steps that work without JavaScript, by keyboard and on a small phone:

1. ``/afspraak``           choose the school (by name or municipality): it decides the CLB;
2. ``/afspraak/waarover``  what the appointment is about and how to meet;
3. ``/afspraak/wanneer``   a free moment, a week at a time;
4. ``/afspraak/gegevens``  first name and how to reach you; the POST books and sends the
                           browser to the confirmation (``scheduling.booking_pages.manage_router``).

Steps 1–3 are GET forms with nothing personal in the address; step 4 posts, with CSRF.
A rejected step shows the page again with what was chosen or typed, and the error next to
its field. A handover code from a chat (``/afspraak?code=…``, scheduling.appointments.handover_link)
goes along in every step's address and form, and can be typed or changed on step 4.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.db import rollback
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected
from scheduling.appointments import booking, handover_link, repository
from scheduling.appointments.api import limited_page
from scheduling.appointments.booking_input import BookingRequest
from scheduling.availability import slot_picker
from scheduling.booking_pages.choice import Choice, StepError, school_of
from scheduling.booking_pages.contact_form import CONTACT_FIELDS, ContactForm
from scheduling.booking_pages.manage_router import MANAGE_PATH, set_manage_cookie
from scheduling.booking_pages.step_pages import (
    QUERY_MAX,
    checked_choice,
    contact_page,
    new_key,
    school_page,
    slots_page,
    topic_page,
)
from scheduling.errors import IdempotencyKeyReused, InvalidBooking, SlotTaken

router = APIRouter(include_in_schema=False)

KEY_MAX = 64
# The steps' query parameters, as their forms and links send them.
SchoolParam = Annotated[str, Query(max_length=40)]
TypeParam = Annotated[str, Query(max_length=40)]
ModeParam = Annotated[str, Query(max_length=10)]
MomentParam = Annotated[str, Query(max_length=100)]
CodeParam = Annotated[str, Query(max_length=handover_link.CODE_MAX)]


@router.get("/afspraak", response_class=HTMLResponse)
async def choose_school(
    request: Request,
    session: SessionDep,
    q: str = "",
    code: CodeParam = "",
) -> HTMLResponse:
    query = " ".join(q.split())[:QUERY_MAX]
    return await school_page(request, session, query, code=handover_link.typed_code(code))


@router.get("/afspraak/waarover", response_class=HTMLResponse)
async def choose_topic(
    request: Request,
    session: SessionDep,
    school: SchoolParam = "",
    soort: TypeParam = "",
    hoe: ModeParam = "",
    code: CodeParam = "",
    q: str = "",
) -> Response:
    code = handover_link.typed_code(code)
    found = await school_of(session, school)
    query = " ".join(q.split())[:QUERY_MAX]
    if found is None and query:  # a name typed, no school chosen: search for it
        return await school_page(request, session, query, code=code)
    if found is None:
        error = InvalidBooking("Kies je school uit de lijst.").detail_message
        return await school_page(request, session, "", error=error, code=code)
    kind = await repository.type_by_slug(session, soort) if soort else None
    choice = Choice(found[0], found[1], kind, hoe or None, code=code)
    return await topic_page(request, session, choice)


@router.get("/afspraak/wanneer", response_class=HTMLResponse)
async def choose_slot(
    request: Request,
    session: SessionDep,
    school: SchoolParam = "",
    soort: TypeParam = "",
    hoe: ModeParam = "",
    week: Annotated[str, Query(max_length=10)] = "",
    moment: MomentParam = "",
    code: CodeParam = "",
) -> Response:
    values = {"school": school, "soort": soort, "hoe": hoe, "code": code}
    try:
        choice = await checked_choice(request, session, values, need_slot=False)
    except StepError as step:
        return step.response
    slot = slot_picker.parse_slot_value(moment)
    choice = dataclasses.replace(choice, slot=slot, slot_value=moment or None)
    return await slots_page(request, session, choice, slot_picker.parse_week(week))


@router.get("/afspraak/gegevens", response_class=HTMLResponse)
async def contact_form(
    request: Request,
    session: SessionDep,
    school: SchoolParam = "",
    soort: TypeParam = "",
    hoe: ModeParam = "",
    moment: MomentParam = "",
    code: CodeParam = "",
) -> Response:
    values = {"school": school, "soort": soort, "hoe": hoe, "moment": moment, "code": code}
    try:
        choice = await checked_choice(request, session, values, need_slot=True)
    except StepError as step:
        return step.response
    contact = ContactForm(language=i18n.current_language())
    return await contact_page(request, session, choice, contact, new_key())


@router.post("/afspraak/gegevens", response_class=HTMLResponse)
async def book(
    request: Request, _csrf: CsrfProtected, services: ServicesDep, session: SessionDep
) -> Response:
    form = await request.form()
    values = {
        name: value[:100]
        for name in ("school", "soort", "hoe", "moment", "week", "sleutel", "code")
        if isinstance(value := form.get(name), str)
    }
    contact = ContactForm.from_form(form, default_language=i18n.current_language())
    key = values.get("sleutel", "")
    if not 16 <= len(key) <= KEY_MAX:
        key = new_key()
    try:
        if "week" in values:  # the week buttons after a taken moment
            choice = await checked_choice(request, session, values, need_slot=False)
            week = slot_picker.parse_week(values["week"])
            return await slots_page(request, session, choice, week, contact=contact, key=key)
        choice = await checked_choice(request, session, values, need_slot=True)
    except StepError as step:
        return step.response
    errors = contact.errors()
    if errors:
        return await contact_page(request, session, choice, contact, key, errors=errors)
    limited = await limited_page(services, request, "booking")
    if limited is not None:
        return await contact_page(request, session, choice, contact, key, **limited)
    try:
        handed_over = await handover_link.check_code(session, choice.code)
        handover = handed_over.conversation_id if handed_over is not None else None
        booked = await _book(session, services, choice, contact, key, handover)
    except (SlotTaken, InvalidBooking, IdempotencyKeyReused) as exc:
        # Undo the attempt, then show the step again from fresh data.
        await rollback(session)
        try:
            choice = await checked_choice(request, session, values, need_slot=True)
        except StepError as step:
            return step.response
        return await _not_booked(request, session, choice, contact, key, exc)
    response = RedirectResponse(f"{MANAGE_PATH}/bevestiging", status_code=303)
    set_manage_cookie(response, services.settings, booked.manage_token)
    return response


async def _book(
    session: AsyncSession,
    services: Services,
    choice: Choice,
    contact: ContactForm,
    key: str,
    handover: uuid.UUID | None,
) -> booking.Booked:
    assert choice.kind and choice.mode and choice.slot  # noqa: S101 - checked by checked_choice
    return await booking.book(
        session,
        services,
        BookingRequest(
            school_id=choice.school.id,
            type_slug=choice.kind.slug,
            mode=choice.mode,
            counsellor_id=choice.slot.counsellor_id,
            starts_at=choice.slot.starts_at,
            contact=contact.contact(),
            location_id=choice.slot.location_id,
            booker=contact.booker(),
            handover_conversation_id=handover,
        ),
        # A second click on the button books nothing twice: it finds the same booking.
        idempotency_key=f"web:{key}",
    )


async def _not_booked(
    request: Request,
    session: AsyncSession,
    choice: Choice,
    contact: ContactForm,
    key: str,
    exc: SlotTaken | InvalidBooking | IdempotencyKeyReused,
) -> Response:
    """Show the step the refusal is about, with what was typed."""
    message = exc.detail_message
    if isinstance(exc, SlotTaken):
        return await slots_page(
            request,
            session,
            choice,
            None,
            error=message,
            status_code=exc.status,
            contact=contact,
            key=key,
        )
    if isinstance(exc, IdempotencyKeyReused):
        error = InvalidBooking(
            "Dit formulier werd al eens verstuurd. Kijk na of je al een bevestiging kreeg, "
            "of verstuur het opnieuw."
        ).detail_message
        return await contact_page(
            request, session, choice, contact, new_key(), errors={"": error}, status_code=409
        )
    if exc.field in CONTACT_FIELDS or exc.field is None:
        errors = {exc.field or "": message}
        return await contact_page(request, session, choice, contact, key, errors=errors)
    if exc.field == "slot":
        return await slots_page(
            request, session, choice, None, error=message, contact=contact, key=key
        )
    if exc.field == "school":
        return await school_page(request, session, "", error=message, code=choice.code)
    return await topic_page(request, session, choice, errors={exc.field: message})

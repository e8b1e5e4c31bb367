"""Scheduling routes: booking an appointment (the face-to-face request is in
scheduling.meeting_router).

Booking takes four steps that work without JavaScript, by keyboard and on a small phone:

1. ``/afspraak``           choose the school (by name or municipality): it decides the CLB;
2. ``/afspraak/waarover``  what the appointment is about and how to meet;
3. ``/afspraak/wanneer``   a free moment, a week at a time;
4. ``/afspraak/gegevens``  first name and how to reach you; the POST books and sends the
                           browser to the confirmation (``scheduling.manage_router``).

Steps 1–3 are GET forms with nothing personal in the address; step 4 posts, with CSRF.
A rejected step shows the page again with what was chosen or typed, and the error next to
its field. A handover code from a chat (``/afspraak?code=…``, scheduling.handover_link)
goes along in every step's address and form, and can be typed or changed on step 4.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb import i18n
from clb.db import rollback, utcnow
from clb.org.models import Centre, School
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import CsrfProtected, ip_hash
from clb.web.templating import render
from scheduling import labels
from scheduling.appointments import booking, handover_link, repository
from scheduling.appointments.api import BOOKING_LIMITED, booking_rate
from scheduling.appointments.booking_form import (
    CONTACT_FIELDS,
    LANGUAGE_NAMES,
    RTL_LANGUAGES,
    ContactForm,
    ordered,
)
from scheduling.appointments.booking_input import BookingRequest
from scheduling.appointments.manage_router import MANAGE_PATH, set_manage_cookie
from scheduling.appointments.models import AppointmentType, Mode
from scheduling.availability import slot_picker
from scheduling.availability.slot_picker import ChosenSlot
from scheduling.availability.slots import local_day
from scheduling.errors import IdempotencyKeyReused, InvalidBooking, SlotTaken
from scheduling.labels import MODE_HINTS, MODE_LABELS
from scheduling.meetings.labels import RELATION_LABELS

router = APIRouter(include_in_schema=False)

QUERY_MAX = 80
MIN_QUERY = 2
KEY_MAX = 64
STEPS = 4


@dataclass(frozen=True)
class Choice:
    """What was chosen in the steps so far (each step checks it again)."""

    school: School
    centre: Centre
    kind: AppointmentType | None = None
    mode: str | None = None
    slot: ChosenSlot | None = None
    slot_value: str | None = None
    code: str = ""  # a handover code from a chat, as typed (checked when booking)

    def params(self, **extra: str | None) -> dict[str, str]:
        values = {
            "school": str(self.school.id),
            "soort": self.kind.slug if self.kind else None,
            "hoe": self.mode,
            "code": self.code,
            **extra,
        }
        return {name: value for name, value in values.items() if value}

    def url(self, path: str, **extra: str | None) -> str:
        return f"{path}?{urlencode(self.params(**extra))}"


# --- Checking what was chosen ----------------------------------------------------------


async def _school(session: AsyncSession, raw: str | None) -> tuple[School, Centre] | None:
    try:
        school_id = uuid.UUID(raw or "")
    except ValueError:
        return None
    return await repository.school_and_centre(session, school_id)


async def _modes(session: AsyncSession, centre_id: uuid.UUID) -> list[str]:
    """The ways to meet the centre offers, in a fixed order."""
    offered = await repository.offered_modes(session, centre_id)
    return [mode.value for mode in Mode if mode.value in offered]


class StepError(Exception):
    """Go back to an earlier step: ``response`` shows it with the error."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def _choice(
    request: Request,
    session: AsyncSession,
    values: dict[str, str],
    *,
    need_slot: bool,
) -> Choice:
    """The choice from steps 1–3, or StepError with the earliest step that is not right."""
    code = handover_link.typed_code(values.get("code"))
    found = await _school(session, values.get("school"))
    if found is None:
        error = InvalidBooking("Kies je school uit de lijst.").detail_message
        raise StepError(await _school_page(request, session, "", error=error, code=code))
    school, centre = found
    slug, mode = values.get("soort", ""), values.get("hoe", "")
    kind = await repository.type_by_slug(session, slug) if slug else None
    modes = await _modes(session, centre.id)
    errors: dict[str, str] = {}
    if kind is None:
        errors["type"] = InvalidBooking("Kies waarover de afspraak gaat.").detail_message
    if mode not in modes:
        errors["mode"] = InvalidBooking("Kies hoe je wil afspreken.").detail_message
    if errors:
        choice = Choice(school, centre, kind, mode if mode in modes else None, code=code)
        raise StepError(await _topic_page(request, session, choice, errors=errors))
    choice = Choice(school, centre, kind, mode, code=code)
    if not need_slot:
        return choice
    raw = values.get("moment")
    slot = slot_picker.parse_slot_value(raw)
    if slot is None:
        error = InvalidBooking("Kies een moment uit de lijst.").detail_message
        raise StepError(await _slots_page(request, session, choice, None, error=error))
    return Choice(school, centre, kind, mode, slot, raw, code)


# --- The pages -------------------------------------------------------------------------


async def _school_page(
    request: Request,
    session: AsyncSession,
    query: str,
    *,
    error: str | None = None,
    code: str = "",
) -> HTMLResponse:
    matches = None
    too_short = False
    if query:
        too_short = len(query) < MIN_QUERY
        if not too_short:
            matches = await repository.search_schools(session, query)
    return render(
        request,
        "booking_school.html",
        {
            "step": 1,
            "steps": STEPS,
            "query": query,
            "matches": matches,
            "too_short": too_short,
            "min_query": MIN_QUERY,
            "query_max": QUERY_MAX,
            "school_error": error,
            "code": code,
        },
        status_code=422 if error or too_short else 200,
    )


async def _topic_page(
    request: Request,
    session: AsyncSession,
    choice: Choice,
    *,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    modes = await _modes(session, choice.centre.id)
    return render(
        request,
        "booking_topic.html",
        {
            "step": 2,
            "steps": STEPS,
            "choice": choice,
            "types": await repository.active_types(session),
            "modes": [(mode, MODE_LABELS[Mode(mode)], MODE_HINTS[Mode(mode)]) for mode in modes],
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


async def _slots_page(
    request: Request,
    session: AsyncSession,
    choice: Choice,
    week: date | None,
    *,
    error: str | None = None,
    status_code: int | None = None,
    contact: ContactForm | None = None,
    key: str | None = None,
) -> HTMLResponse:
    """Step 3. With ``contact`` (the moment was taken while booking) the form books at
    once with what was typed, and the week buttons keep it too."""
    assert choice.kind is not None and choice.mode is not None  # noqa: S101 - checked
    if week is None and choice.slot is not None:
        week = slot_picker.monday(local_day(choice.slot.starts_at))
    found = await slot_picker.load_week(
        session,
        choice.centre.id,
        choice.kind,
        choice.mode,
        week=week,
        now=utcnow(),
        chosen=choice.slot_value if contact is None else None,
    )
    hidden = list(choice.params().items())
    if contact is not None:
        hidden += [
            ("first_name", contact.first_name),
            ("email", contact.email),
            ("phone", contact.phone),
            ("language", contact.language),
            ("topic", contact.topic),
            ("consent", "ja"),
            ("sleutel", key or _new_key()),
            *contact.hidden(),
        ]
    return render(
        request,
        "booking_slots.html",
        {
            "step": 3,
            "steps": STEPS,
            "choice": choice,
            "mode_label": labels.mode_label(choice.mode),
            "week": found,
            "hidden": hidden,
            "book_now": contact is not None,
            "week_url": {
                "earlier": choice.url("/afspraak/wanneer", week=_iso(found.earlier)),
                "later": choice.url("/afspraak/wanneer", week=_iso(found.later)),
                "next_free": choice.url("/afspraak/wanneer", week=_iso(found.next_free)),
            },
            "error": error,
        },
        status_code=status_code or (422 if error else 200),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _new_key() -> str:
    return secrets.token_urlsafe(16)


async def _contact_page(
    request: Request,
    session: AsyncSession,
    choice: Choice,
    contact: ContactForm,
    key: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    assert choice.kind and choice.mode and choice.slot  # noqa: S101 - checked by _choice
    starts_at = choice.slot.starts_at
    place = None
    if choice.mode == Mode.office.value and choice.slot.location_id:
        places = await repository.location_names(session, {choice.slot.location_id})
        place = places.get(choice.slot.location_id)
    errors = errors or {}
    return render(
        request,
        "booking_contact.html",
        {
            "step": 4,
            "steps": STEPS,
            "choice": choice,
            "when": labels.when(
                starts_at, starts_at + timedelta(minutes=choice.kind.duration_minutes)
            ),
            "mode_label": labels.mode_label(choice.mode),
            "place": place,
            "topic_url": choice.url("/afspraak/waarover"),
            "slot_url": choice.url(
                "/afspraak/wanneer",
                moment=choice.slot_value,
                week=slot_picker.monday(local_day(starts_at)).isoformat(),
            ),
            # The code is not hidden here: it has its own field on this step.
            "hidden": [
                *choice.params(moment=choice.slot_value, code=None).items(),
                ("sleutel", key),
            ],
            "contact": contact,
            "contact_languages": LANGUAGE_NAMES,
            "rtl_languages": RTL_LANGUAGES,
            "errors": errors,
            "error_list": ordered(errors),
            "contact_fields": CONTACT_FIELDS,
            "relation_labels": RELATION_LABELS,
        },
        status_code=status_code or (422 if errors else 200),
        headers=headers,
    )


# --- Routes ----------------------------------------------------------------------------


@router.get("/afspraak", response_class=HTMLResponse)
async def choose_school(
    request: Request,
    session: SessionDep,
    q: str = "",
    code: Annotated[str, Query(max_length=handover_link.CODE_MAX)] = "",
) -> HTMLResponse:
    query = " ".join(q.split())[:QUERY_MAX]
    return await _school_page(request, session, query, code=handover_link.typed_code(code))


@router.get("/afspraak/waarover", response_class=HTMLResponse)
async def choose_topic(
    request: Request,
    session: SessionDep,
    school: Annotated[str, Query(max_length=40)] = "",
    soort: Annotated[str, Query(max_length=40)] = "",
    hoe: Annotated[str, Query(max_length=10)] = "",
    code: Annotated[str, Query(max_length=handover_link.CODE_MAX)] = "",
) -> Response:
    code = handover_link.typed_code(code)
    found = await _school(session, school)
    if found is None:
        error = InvalidBooking("Kies je school uit de lijst.").detail_message
        return await _school_page(request, session, "", error=error, code=code)
    kind = await repository.type_by_slug(session, soort) if soort else None
    choice = Choice(found[0], found[1], kind, hoe or None, code=code)
    return await _topic_page(request, session, choice)


@router.get("/afspraak/wanneer", response_class=HTMLResponse)
async def choose_slot(
    request: Request,
    session: SessionDep,
    school: Annotated[str, Query(max_length=40)] = "",
    soort: Annotated[str, Query(max_length=40)] = "",
    hoe: Annotated[str, Query(max_length=10)] = "",
    week: Annotated[str, Query(max_length=10)] = "",
    moment: Annotated[str, Query(max_length=100)] = "",
    code: Annotated[str, Query(max_length=handover_link.CODE_MAX)] = "",
) -> Response:
    values = {"school": school, "soort": soort, "hoe": hoe, "code": code}
    try:
        choice = await _choice(request, session, values, need_slot=False)
    except StepError as step:
        return step.response
    slot = slot_picker.parse_slot_value(moment)
    choice = dataclasses.replace(choice, slot=slot, slot_value=moment or None)
    return await _slots_page(request, session, choice, slot_picker.parse_week(week))


@router.get("/afspraak/gegevens", response_class=HTMLResponse)
async def contact_form(
    request: Request,
    session: SessionDep,
    school: Annotated[str, Query(max_length=40)] = "",
    soort: Annotated[str, Query(max_length=40)] = "",
    hoe: Annotated[str, Query(max_length=10)] = "",
    moment: Annotated[str, Query(max_length=100)] = "",
    code: Annotated[str, Query(max_length=handover_link.CODE_MAX)] = "",
) -> Response:
    values = {"school": school, "soort": soort, "hoe": hoe, "moment": moment, "code": code}
    try:
        choice = await _choice(request, session, values, need_slot=True)
    except StepError as step:
        return step.response
    contact = ContactForm(language=i18n.current_language())
    return await _contact_page(request, session, choice, contact, _new_key())


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
        key = _new_key()
    try:
        if "week" in values:  # the week buttons after a taken moment
            choice = await _choice(request, session, values, need_slot=False)
            week = slot_picker.parse_week(values["week"])
            return await _slots_page(request, session, choice, week, contact=contact, key=key)
        choice = await _choice(request, session, values, need_slot=True)
    except StepError as step:
        return step.response
    errors = contact.errors()
    if errors:
        return await _contact_page(request, session, choice, contact, key, errors=errors)
    decision = await services.limiter.hit(f"booking:{ip_hash(request)}", booking_rate(services))
    if not decision.allowed:
        wait = str(max(1, round(decision.retry_after)))
        return await _contact_page(
            request,
            session,
            choice,
            contact,
            key,
            errors={"": BOOKING_LIMITED},
            status_code=429,
            headers={"Retry-After": wait},
        )
    try:
        handed_over = await handover_link.check_code(session, choice.code)
        handover = handed_over.conversation_id if handed_over is not None else None
        booked = await _book(session, services, choice, contact, key, handover)
    except (SlotTaken, InvalidBooking, IdempotencyKeyReused) as exc:
        # Undo the attempt, then show the step again from fresh data.
        await rollback(session)
        try:
            choice = await _choice(request, session, values, need_slot=True)
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
    assert choice.kind and choice.mode and choice.slot  # noqa: S101 - checked by _choice
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
        return await _slots_page(
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
        return await _contact_page(
            request, session, choice, contact, _new_key(), errors={"": error}, status_code=409
        )
    if exc.field in CONTACT_FIELDS or exc.field is None:
        errors = {exc.field or "": message}
        return await _contact_page(request, session, choice, contact, key, errors=errors)
    if exc.field == "slot":
        return await _slots_page(
            request, session, choice, None, error=message, contact=contact, key=key
        )
    if exc.field == "school":
        return await _school_page(request, session, "", error=message, code=choice.code)
    return await _topic_page(request, session, choice, errors={exc.field: message})

"""The four pages of the booking steps, and checking what was chosen before each.

A rejected step shows the page again with what was chosen or typed, and the error next to
its field (scheduling.booking_pages.router says which steps there are).
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import utcnow
from clb.web.templating import render
from scheduling import labels
from scheduling.appointments import handover_link, repository, video_room
from scheduling.appointments.models import Mode
from scheduling.availability import slot_picker
from scheduling.availability.slots import local_day
from scheduling.booking_pages.choice import Choice, StepError, offered_modes, school_of
from scheduling.booking_pages.contact_form import (
    CONTACT_FIELDS,
    LANGUAGE_NAMES,
    RTL_LANGUAGES,
    ContactForm,
    ordered,
)
from scheduling.booking_pages.school_search import search_schools
from scheduling.errors import InvalidBooking
from scheduling.labels import MODE_HINTS, MODE_LABELS, VIDEO_HINT_WITHOUT_SERVER
from scheduling.meetings.labels import RELATION_LABELS

QUERY_MAX = 80
MIN_QUERY = 2
STEPS = 4


async def checked_choice(
    request: Request,
    session: AsyncSession,
    values: dict[str, str],
    *,
    need_slot: bool,
) -> Choice:
    """The choice from steps 1–3, or StepError with the earliest step that is not right."""
    code = handover_link.typed_code(values.get("code"))
    found = await school_of(session, values.get("school"))
    if found is None:
        error = InvalidBooking("Kies je school uit de lijst.").detail_message
        raise StepError(await school_page(request, session, "", error=error, code=code))
    school, centre = found
    slug, mode = values.get("soort", ""), values.get("hoe", "")
    kind = await repository.type_by_slug(session, slug) if slug else None
    modes = await offered_modes(session, centre.id)
    errors: dict[str, str] = {}
    if kind is None:
        errors["type"] = InvalidBooking("Kies waarover de afspraak gaat.").detail_message
    if mode not in modes:
        errors["mode"] = InvalidBooking("Kies hoe je wil afspreken.").detail_message
    if errors:
        choice = Choice(school, centre, kind, mode if mode in modes else None, code=code)
        raise StepError(await topic_page(request, session, choice, errors=errors))
    choice = Choice(school, centre, kind, mode, code=code)
    if not need_slot:
        return choice
    raw = values.get("moment")
    slot = slot_picker.parse_slot_value(raw)
    if slot is None:
        error = InvalidBooking("Kies een moment uit de lijst.").detail_message
        raise StepError(await slots_page(request, session, choice, None, error=error))
    return Choice(school, centre, kind, mode, slot, raw, code)


async def school_page(
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
            matches = await search_schools(session, query)
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


async def topic_page(
    request: Request,
    session: AsyncSession,
    choice: Choice,
    *,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    modes = await offered_modes(session, choice.centre.id)
    hints = MODE_HINTS
    if not video_room.has_server(request.app.state.settings):
        hints = {**MODE_HINTS, **VIDEO_HINT_WITHOUT_SERVER}
    return render(
        request,
        "booking_topic.html",
        {
            "step": 2,
            "steps": STEPS,
            "choice": choice,
            "types": await repository.active_types(session),
            "modes": [(mode, MODE_LABELS[Mode(mode)], hints[Mode(mode)]) for mode in modes],
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


async def slots_page(
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
            ("sleutel", key or new_key()),
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


def new_key() -> str:
    return secrets.token_urlsafe(16)


async def contact_page(
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
    assert choice.kind and choice.mode and choice.slot  # noqa: S101 - checked by checked_choice
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

"""From chat to face to face: a handover code offered in a real chat links a request or a
booking to that chat, and the CLB worker who picks it up sees the chat's outcome (never the
transcript). Over HTTP on the real app, PostgreSQL and Redis."""

from __future__ import annotations

import html
import re
from datetime import time
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from chat.counsellor_tools import repository as tools_repository
from clb.db import commit, utcnow
from scheduling.appointments.models import Appointment
from scheduling.meetings.console_pages import request_url
from scheduling.meetings.models import MeetingRequest
from tests.scheduling.agenda_support import switch_user
from tests.scheduling.appointments.test_booking_pages import appointments, contact_form
from tests.scheduling.booking_pages_support import (
    at,
    csrf_of,
    location_of,
    open_day,
    value_of,
)
from tests.scheduling.handover_support import (
    REFERRAL_LABELS,
    SECRET_LINE,
    SUMMARY,
    TOPIC_LABELS,
    ChatHandover,
    chat_handover,
)
from tests.scheduling.meeting_pages_support import FORM, as_form, hidden_fields
from tests.scheduling.support import bookable_counsellor, booking_body, next_weekday_at

__all__ = ["chat_handover"]  # the fixture, used by name

AN = "an@clb.example"
UNKNOWN = "Deze code kennen we niet. Kijk ze na of laat het vak leeg."


def assert_shows_the_outcome(page: str) -> None:
    text = html.unescape(page)
    assert "Uit de chat" in text
    assert ", ".join(TOPIC_LABELS) in text and ", ".join(REFERRAL_LABELS) in text
    assert SUMMARY in text
    # The outcome, never what was said.
    assert SECRET_LINE not in text


def field_value(page: str, field_id: str) -> str:
    found = re.search(rf'<input id="{field_id}"[^>]*?value="([^"]*)"', page, re.S)
    assert found is not None, f"no input #{field_id}"
    return html.unescape(found[1])


def request_data(csrf: str, school_id: str, code: str) -> list[tuple[str, str]]:
    """The whole request form on its last step, as the browser posts it."""
    return [
        ("csrf_token", csrf),
        ("stap", "vraag"),
        ("for_whom", "self_pupil"),
        ("school", school_id),
        ("first_name", "Noor"),
        ("via_school", "ja"),
        ("preferred_place", "office"),
        ("interpreter", "nee"),
        ("consent_contact", "ja"),
        ("need", "Ik wil liever met iemand praten"),
        ("code", code),
        ("actie", "verder"),
    ]


# --- A face-to-face request --------------------------------------------------------------


async def test_a_request_with_the_chat_code_links_the_chat_and_the_console_shows_its_outcome(
    client: httpx.AsyncClient, db: AsyncSession, chat_handover: ChatHandover
) -> None:
    _staff, school = await bookable_counsellor(db, email=AN)
    # The visitor follows the link from the chat: the code is filled in.
    first = await client.get(FORM, params={"code": chat_handover.code})
    assert ("code", chat_handover.code) in hidden_fields(first.text)
    filed = await client.post(
        FORM, data=as_form(request_data(csrf_of(first.text), str(school.id), chat_handover.code))
    )
    assert filed.status_code == 303, filed.text
    await db.commit()
    [request] = (await db.scalars(select(MeetingRequest))).all()
    assert request.handover_conversation_id == chat_handover.conversation_id
    # The code itself is kept nowhere in plain text: only its hash, on the chat's outcome.
    stored = str((await db.execute(text("SELECT to_jsonb(r) FROM meeting_requests r"))).scalar())
    assert chat_handover.code not in stored
    assert chat_handover.code.replace("-", "") not in stored

    await switch_user(client, AN)
    page = await client.get(request_url(request.id))
    assert page.status_code == 200
    assert_shows_the_outcome(page.text)


async def test_a_request_without_a_code_shows_no_chat(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db, email=AN)
    first = await client.get(FORM)
    filed = await client.post(
        FORM, data=as_form(request_data(csrf_of(first.text), str(school.id), ""))
    )
    assert filed.status_code == 303, filed.text
    await db.commit()
    [request] = (await db.scalars(select(MeetingRequest))).all()
    assert request.handover_conversation_id is None
    await switch_user(client, AN)
    assert "Uit de chat" not in (await client.get(request_url(request.id))).text


# --- A booking ---------------------------------------------------------------------------


async def test_the_booking_link_carries_the_code_through_every_step_and_links_the_chat(
    client: httpx.AsyncClient, db: AsyncSession, chat_handover: ChatHandover
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    code = chat_handover.code
    in_url = quote(code)

    search = await client.get("/afspraak", params={"code": code, "q": "Testschool"})
    assert search.status_code == 200
    assert f'href="/afspraak/waarover?school={school.id}&amp;code={in_url}"' in search.text
    # A new search keeps it too.
    assert f'<input type="hidden" name="code" value="{code}">' in search.text

    topic = await client.get("/afspraak/waarover", params={"school": str(school.id), "code": code})
    assert f'<input type="hidden" name="code" value="{code}">' in topic.text

    params = {"school": str(school.id), "soort": "gesprek", "hoe": "office", "code": code}
    slots = await client.get("/afspraak/wanneer", params=params)
    assert slots.status_code == 200
    assert ("code", code) in hidden_fields(slots.text)

    day = await open_day(db, staff.centre_id)
    moment = value_of(staff, at(day, 10), await location_of(db, school))
    contact = await client.get("/afspraak/gegevens", params={**params, "moment": moment})
    assert contact.status_code == 200
    # On the last step the code is a field the visitor sees (and may change), not hidden.
    assert field_value(contact.text, "code") == code
    assert "code" not in dict(hidden_fields(contact.text))
    assert f"code={in_url}" in contact.text  # the "change" links keep it

    booked = await client.post(
        "/afspraak/gegevens", data=contact_form(school, moment, csrf_of(contact.text), code=code)
    )
    assert booked.status_code == 303, booked.text
    [appointment] = await appointments(db)
    assert appointment.handover_conversation_id == chat_handover.conversation_id

    await switch_user(client, AN)
    page = await client.get(f"/console/agenda/afspraken/{appointment.id}")
    assert page.status_code == 200
    assert_shows_the_outcome(page.text)

    # The retention purge takes the summary with the transcript: the page stops showing it.
    conversation = await db.get_one(Conversation, chat_handover.conversation_id)
    conversation.purged_at = utcnow()
    await tools_repository.purge_counsellor_tools(db, conversation.id)
    await commit(db)
    after = await client.get(f"/console/agenda/afspraken/{appointment.id}")
    assert after.status_code == 200 and "Uit de chat" not in after.text


@pytest.mark.parametrize("typed", ["unknown", "malformed"])
async def test_an_unknown_code_is_refused_next_to_its_field_and_keeps_what_was_typed(
    client: httpx.AsyncClient, db: AsyncSession, chat_handover: ChatHandover, typed: str
) -> None:
    staff, school = await bookable_counsellor(db)
    canonical = chat_handover.code.replace("-", "")
    # One symbol off (still a well-formed code), or not a code at all.
    wrong = canonical[:-1] + ("A" if canonical[-1] != "A" else "B")
    code = f"{wrong[:4]}-{wrong[4:]}" if typed == "unknown" else "hallo?"
    day = await open_day(db, staff.centre_id)
    moment = value_of(staff, at(day, 11), await location_of(db, school))
    params = {"school": str(school.id), "soort": "gesprek", "hoe": "office", "moment": moment}
    contact = await client.get("/afspraak/gegevens", params={**params, "code": code})
    assert field_value(contact.text, "code") == code
    data = contact_form(school, moment, csrf_of(contact.text), code=code, phone="0470123456")

    refused = await client.post("/afspraak/gegevens", data=data)
    assert refused.status_code == 422
    page = refused.text
    assert f'<p class="field-error" id="code-error">{UNKNOWN}</p>' in page
    assert 'href="#code"' in page  # the error summary points at the field
    assert re.search(r'<input id="code"[^>]*aria-describedby="code-hint code-error"', page, re.S)
    # What was typed is kept, the code too, and nothing was booked.
    assert field_value(page, "code") == code
    assert field_value(page, "first_name") == "Sara"
    assert field_value(page, "email") == "sara.ouder@example.be"
    assert field_value(page, "phone") == "0470123456"
    assert field_value(page, "topic") == "Mijn zoon slaapt slecht voor toetsen"
    assert await appointments(db) == []

    # Emptying the box books without a chat.
    again = await client.post(
        "/afspraak/gegevens", data={**data, "code": "", "csrf_token": csrf_of(page)}
    )
    assert again.status_code == 303, again.text
    [appointment] = await appointments(db)
    assert appointment.handover_conversation_id is None


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda code: code.lower(), id="lower-case"),
        pytest.param(lambda code: "  " + code.replace("-", " ") + " ", id="spaces"),
        pytest.param(lambda code: code.replace("-", ""), id="no-dash"),
        pytest.param(
            lambda code: "-".join(code.replace("-", "")[i : i + 2] for i in range(0, 8, 2)),
            id="dashes",
        ),
    ],
)
async def test_the_code_is_found_however_it_is_typed(
    client: httpx.AsyncClient,
    db: AsyncSession,
    chat_handover: ChatHandover,
    variant: object,
) -> None:
    assert callable(variant)
    typed = variant(chat_handover.code)
    assert typed != chat_handover.code
    staff, school = await bookable_counsellor(db)
    day = await open_day(db, staff.centre_id)
    moment = value_of(staff, at(day, 14), await location_of(db, school))
    params = {"school": str(school.id), "soort": "gesprek", "hoe": "office", "moment": moment}
    contact = await client.get("/afspraak/gegevens", params=params)
    booked = await client.post(
        "/afspraak/gegevens", data=contact_form(school, moment, csrf_of(contact.text), code=typed)
    )
    assert booked.status_code == 303, booked.text
    [appointment] = await appointments(db)
    assert appointment.handover_conversation_id == chat_handover.conversation_id


# --- The JSON API ------------------------------------------------------------------------


async def test_the_api_takes_a_handover_code_and_refuses_an_unknown_one(
    client: httpx.AsyncClient, db: AsyncSession, chat_handover: ChatHandover
) -> None:
    staff, school = await bookable_counsellor(db)
    starts = next_weekday_at(2, time(10))
    wrong = await client.post(
        "/api/appointments", json=booking_body(school, staff, starts, handover_code="ZZZZ-ZZZZ")
    )
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["code"] == "invalid_booking" and error["details"] == {"field": "handover_code"}
    assert error["message"] == UNKNOWN
    assert await appointments(db) == []

    typed = chat_handover.code.lower().replace("-", " ")
    booked = await client.post(
        "/api/appointments", json=booking_body(school, staff, starts, handover_code=typed)
    )
    assert booked.status_code == 201, booked.text
    [appointment] = await appointments(db)
    assert isinstance(appointment, Appointment)
    assert appointment.handover_conversation_id == chat_handover.conversation_id

    schema = (await client.get("/openapi.json")).json()
    field = schema["components"]["schemas"]["BookingIn"]["properties"]["handover_code"]
    assert "CLBch@t" in field["description"] and field["anyOf"][0]["maxLength"] == 40

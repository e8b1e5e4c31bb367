"""A face-to-face request "via mij": who files it for someone else must give their own phone
or e-mail, and the console shows it (real PostgreSQL, the real app)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import utcnow
from clb.services import Services
from scheduling.errors import InvalidRequest
from scheduling.meetings.models import MeetingRequest
from scheduling.meetings.repository import anonymise_requests
from tests.scheduling.agenda_support import switch_user
from tests.scheduling.booking_pages_support import csrf_of
from tests.scheduling.meeting_pages_support import (
    FORM,
    as_form,
    file_directly,
    hidden_fields,
    reload_request,
    step_of,
)
from tests.scheduling.support import bookable_counsellor

AN = "an@clb.example"
NEEDED = "Geef je eigen e-mailadres of telefoonnummer, zodat het CLB jou kan bereiken."


async def test_via_me_without_the_filers_contact_is_refused_next_to_the_field(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    csrf = csrf_of((await client.get(FORM)).text)
    base = [
        ("csrf_token", csrf),
        ("stap", "bereiken"),
        ("for_whom", "other"),
        ("requester_relation", "brugfiguur"),
        ("requester_name", "Fatima El Amrani"),
        ("consent_of_person", "ja"),
        ("school", str(school.id)),
        ("first_name", "Yasmina"),
        ("via_bridge", "ja"),
        ("actie", "verder"),
    ]
    refused = await client.post(FORM, data=as_form(base))
    assert refused.status_code == 422 and step_of(refused.text) == "bereiken"
    assert f'<p class="field-error" id="requester_phone-error">{NEEDED}</p>' in refused.text
    assert 'href="#requester_phone"' in refused.text  # in the summary at the top
    assert 'aria-describedby="via-me-hint requester_phone-error" aria-invalid="true"' in (
        refused.text
    )

    wrong = await client.post(
        FORM, data=as_form([*base, ("requester_phone", "04 12"), ("requester_email", "x@@y")])
    )
    assert wrong.status_code == 422
    assert 'id="requester_phone-error">Dit telefoonnummer klopt niet.' in wrong.text
    assert 'id="requester_email-error">Dit e-mailadres klopt niet.' in wrong.text
    assert 'value="04 12"' in wrong.text and 'value="x@@y"' in wrong.text

    accepted = await client.post(FORM, data=as_form([*base, ("requester_phone", "0470112233")]))
    assert accepted.status_code == 200 and step_of(accepted.text) == "wanneer"
    assert ("requester_phone", "0470112233") in hidden_fields(accepted.text)


async def test_the_service_refuses_via_me_without_the_filers_contact(
    db: AsyncSession, services: Services
) -> None:
    _staff, school = await bookable_counsellor(db)
    with pytest.raises(InvalidRequest) as refused:
        await file_directly(services, school.id, utcnow(), phone=None, via_bridge=True)
    assert refused.value.field == "requester_phone"
    await db.commit()
    assert (await db.scalars(select(MeetingRequest))).all() == []


async def test_the_console_shows_how_to_reach_who_filed_and_erasing_forgets_it(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    _staff, school = await bookable_counsellor(db, email=AN)
    request_id, _token = await file_directly(
        services,
        school.id,
        utcnow(),
        phone=None,
        via_bridge=True,
        requester_phone="0470 11 22 33",
        requester_email="fatima@example.be",
    )
    await switch_user(client, AN)
    page = await client.get(f"/console/aanvragen/{request_id}")
    assert page.status_code == 200
    assert "Via wie de aanvraag deed: Fatima El Amrani" in page.text
    assert '<a href="tel:0470112233">0470112233</a>' in page.text
    assert '<a href="mailto:fatima@example.be">fatima@example.be</a>' in page.text

    await anonymise_requests(db, [request_id])
    await db.commit()
    erased = await reload_request(db, request_id)
    assert (erased.requester_phone, erased.requester_email) == (None, None)

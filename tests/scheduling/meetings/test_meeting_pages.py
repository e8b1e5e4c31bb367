"""The pages of "Liever iemand zien" through the real app: the request form step by step
(no JavaScript), the status page by token, and the follow-up in the console."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.jobs import OutboxJob
from clb.org.models import School
from clb.services import Services
from scheduling.appointments.models import Appointment
from scheduling.meetings.models import MeetingRequest, MeetingRequestEvent
from scheduling.meetings.router import cookie_name
from scheduling.meetings.tasks import MEETING_CONFIRMATION_JOB
from scheduling.tokens import hash_token
from tests.conftest import make_staff
from tests.scheduling.agenda_support import post_form, switch_user
from tests.scheduling.appointments.test_booking_pages import (
    appointments,
    contact_form,
    open_contact_step,
)
from tests.scheduling.booking_pages_support import (
    at,
    book_directly,
    csrf_of,
    location_of,
    open_day,
    value_of,
)
from tests.scheduling.meeting_pages_support import (
    FORM,
    STATUS,
    as_form,
    file_directly,
    hidden_fields,
    next_step,
    reload_request,
    step_of,
)
from tests.scheduling.support import bookable_counsellor

AN = "an@clb.example"
NOT_WORKING = "Deze link werkt niet (meer)"
_SLOT = re.compile(r'name="moment" id="moment-[^"]+" value="([^"]+)"')


async def test_a_bridge_figure_walks_the_form_and_gets_a_reference_and_status_link(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    _staff, school = await bookable_counsellor(db, modes=["office", "school"])
    first = await client.get(FORM)
    assert first.status_code == 200
    assert "Stap 1 van 6" in first.text and 'href="/liever-iemand-zien/afdrukken"' in first.text
    assert 'class="choice-icon" aria-hidden="true"' in first.text
    page = first.text

    page = (await next_step(client, page, [("for_whom", "other")])).text
    assert step_of(page) == "relatie" and "Stap 2 van 7" in page
    relation = [
        ("requester_relation", "brugfiguur"),
        ("requester_name", "Fatima El Amrani"),
        ("consent_of_person", "ja"),
    ]
    page = (await next_step(client, page, relation)).text
    assert step_of(page) == "school"
    found = await next_step(client, page, [("q", "Testschool")], action="zoek")
    assert found.status_code == 200 and "1 school gevonden" in found.text
    assert f'value="{school.id}"' in found.text
    page = (await next_step(client, found.text, [("school", str(school.id))])).text
    assert step_of(page) == "bereiken"
    assert "Voornaam van de leerling of ouder" in page and 'name="via_bridge"' in page
    reach = [
        ("first_name", "Yasmina"),
        ("email", "yasmina@example.be"),
        ("via_bridge", "ja"),
        ("requester_phone", "0470 11 22 33"),
    ]
    page = (await next_step(client, page, reach)).text
    assert step_of(page) == "wanneer"
    assert 'id="preferred_place-office"' in page and 'id="preferred_place-school"' in page
    assert 'id="preferred_place-other"' not in page
    when = [
        ("preferred_days", "1"),
        ("preferred_days", "3"),
        ("preferred_times", "afternoon"),
        ("preferred_place", "school"),
    ]
    page = (await next_step(client, page, when)).text
    assert step_of(page) == "tolk"
    # Back keeps everything typed so far.
    back = (await next_step(client, page, [], action="terug")).text
    assert step_of(back) == "wanneer"
    assert 'id="preferred_days-3" value="3" checked' in back
    page = (
        await next_step(client, page, [("interpreter", "ja"), ("interpreter_language", "Arabisch")])
    ).text
    assert step_of(page) == "vraag"
    done = await next_step(
        client, page, [("need", "Moeder wil praten over verzuim."), ("consent_contact", "ja")]
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"{STATUS}/bevestiging"

    await db.commit()
    filed = (await db.scalars(select(MeetingRequest))).one()
    assert (filed.for_whom, filed.requester_relation, filed.requester_name) == (
        "other",
        "brugfiguur",
        "Fatima El Amrani",
    )
    assert filed.via_bridge and not filed.via_school and filed.email == "yasmina@example.be"
    assert (filed.requester_phone, filed.requester_email) == ("0470112233", None)
    assert (filed.preferred_days, filed.preferred_times) == ([1, 3], ["afternoon"])
    assert (filed.preferred_place, filed.interpreter_language) == ("school", "Arabisch")
    confirmation = await client.get(f"{STATUS}/bevestiging")
    assert confirmation.status_code == 200
    assert filed.reference in confirmation.text
    link = re.search(
        r"http://[^\"<]+/liever-iemand-zien/status/([A-Za-z0-9_-]{40,})", confirmation.text
    )
    assert link is not None
    # Only the hash of the token is stored.
    assert filed.status_token_hash == hash_token(link[1]) != link[1]
    mails = (
        await db.scalars(select(OutboxJob).where(OutboxJob.kind == MEETING_CONFIRMATION_JOB))
    ).all()
    assert [job.payload["request_id"] for job in mails] == [str(filed.id)]


async def test_for_myself_skips_the_relation_step(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await bookable_counsellor(db)
    page = (await client.get(FORM)).text
    page = (await next_step(client, page, [("for_whom", "self_parent")])).text
    assert step_of(page) == "school" and "Stap 2 van 6" in page


async def test_a_school_chosen_on_mijn_clb_comes_along_and_a_wrong_one_is_ignored(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    page = (await client.get(FORM, params={"school": str(school.id)})).text
    assert ("school", str(school.id)) in hidden_fields(page)
    page = (await next_step(client, page, [("for_whom", "self_parent")])).text
    assert step_of(page) == "school" and school.name in page
    for wrong in (str(uuid.uuid4()), "geen-id", "%00"):
        other = await client.get(FORM, params={"school": wrong})
        assert other.status_code == 200, wrong
        assert not [value for name, value in hidden_fields(other.text) if name == "school"]


async def test_no_way_to_reach_and_malformed_contact_give_errors_and_keep_the_input(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    csrf = csrf_of((await client.get(FORM)).text)
    base = [
        ("csrf_token", csrf),
        ("stap", "bereiken"),
        ("for_whom", "self_pupil"),
        ("school", str(school.id)),
        ("first_name", "Noor"),
    ]
    nobody = await client.post(FORM, data=as_form([*base, ("actie", "verder")]))
    assert nobody.status_code == 422
    assert "Kies minstens één manier waarop we iemand kunnen bereiken." in nobody.text
    assert 'value="Noor"' in nobody.text
    assert 'name="via_bridge"' not in nobody.text  # only for someone filing for another

    wrong = await client.post(
        FORM,
        data=as_form(
            [*base, ("phone", "04 12"), ("email", "noor@@voorbeeld"), ("actie", "verder")]
        ),
    )
    assert wrong.status_code == 422
    assert "Dit telefoonnummer klopt niet. Bijvoorbeeld: 0470 12 34 56" in wrong.text
    assert "Dit e-mailadres klopt niet. Bijvoorbeeld: naam@voorbeeld.be" in wrong.text
    assert 'value="04 12"' in wrong.text and 'value="noor@@voorbeeld"' in wrong.text
    assert wrong.text.count('aria-invalid="true"') == 2
    assert 'href="#phone"' in wrong.text and 'href="#email"' in wrong.text  # the summary
    assert ("school", str(school.id)) in hidden_fields(wrong.text)

    via_school = await client.post(
        FORM, data=as_form([*base, ("via_school", "ja"), ("actie", "verder")])
    )
    assert via_school.status_code == 200 and step_of(via_school.text) == "wanneer"


async def test_an_unknown_school_is_refused_and_the_rest_is_kept(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await bookable_counsellor(db)
    csrf = csrf_of((await client.get(FORM)).text)
    data = [
        ("csrf_token", csrf),
        ("stap", "school"),
        ("for_whom", "other"),
        ("requester_relation", "leerkracht"),
        ("requester_name", "Meester Tom"),
        ("consent_of_person", "ja"),
        ("school", str(uuid.uuid4())),
        ("actie", "verder"),
    ]
    refused = await client.post(FORM, data=as_form(data))
    assert refused.status_code == 422
    assert "Kies de school uit de lijst." in refused.text
    assert ("requester_name", "Meester Tom") in hidden_fields(refused.text)
    # A tampered last step goes back to the first step that is wrong.
    tampered = [(n, v) for n, v in data if n != "stap"] + [
        ("stap", "vraag"),
        ("first_name", "Noor"),
        ("via_school", "ja"),
        ("preferred_place", "office"),
        ("interpreter", "nee"),
        ("consent_contact", "ja"),
    ]
    again = await client.post(FORM, data=as_form(tampered))
    assert again.status_code == 422 and step_of(again.text) == "school"
    await db.commit()
    assert (await db.scalars(select(MeetingRequest))).all() == []


async def test_the_form_needs_the_csrf_token(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await client.get(FORM)
    refused = await client.post(FORM, data={"stap": "wie", "for_whom": "self_pupil"})
    assert refused.status_code == 403


async def test_status_link_becomes_a_cookie_and_a_wrong_token_gets_a_neutral_404(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    _staff, school = await bookable_counsellor(db)
    request_id, token = await file_directly(services, school.id, utcnow())
    filed = await reload_request(db, request_id)
    assert filed.status_token_hash == hash_token(token) and token not in filed.status_token_hash

    opened = await client.get(f"{STATUS}/{token}")
    assert opened.status_code == 303 and opened.headers["location"] == STATUS
    cookie = opened.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(services.settings)}=") and "HttpOnly" in cookie
    assert f"Path={STATUS}" in cookie
    page = await client.get(STATUS)
    assert page.status_code == 200
    assert filed.reference in page.text and "Ontvangen" in page.text
    assert token not in page.text

    client.cookies.clear()
    wrong = await client.get(f"{STATUS}/{token[:-2]}xx")
    none = await client.get(STATUS)
    for response in (wrong, none):
        assert response.status_code == 404
        assert NOT_WORKING in response.text and filed.reference not in response.text


async def test_printable_form_has_every_question_and_a_print_stylesheet(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get(f"{FORM}/afdrukken")
    assert page.status_code == 200
    for question in (
        "Voor wie vraag je een gesprek?",
        "Is er een tolk nodig?",
        "Handtekening",
        # "Via mij" on paper too: who files leaves their own contact.
        "Je eigen telefoonnummer",
        "Je eigen e-mail",
    ):
        assert question in page.text
    assert "/static/css/meeting.css" in page.text
    css = await client.get("/static/css/meeting.css")
    assert "@media print" in css.text


async def a_request_for_ans_centre(
    db: AsyncSession, services: Services
) -> tuple[StaffAccount, School, uuid.UUID, str, str]:
    """A request filed today for a school of An's centre: (An, the school, the request's
    id, its status token, its console page)."""
    staff, school = await bookable_counsellor(db, email=AN)
    request_id, token = await file_directly(services, school.id, utcnow())
    return staff, school, request_id, token, f"/console/aanvragen/{request_id}"


# --- Console -------------------------------------------------------------------------------


async def test_console_lists_the_centre_overdue_first_and_filters_by_status(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    fresh_id, _ = await file_directly(services, school.id, utcnow())
    late_id, _ = await file_directly(
        services, school.id, utcnow() - timedelta(days=10), first_name="Late"
    )
    _other, other_school = await bookable_counsellor(db)
    foreign_id, _ = await file_directly(services, other_school.id, utcnow())
    fresh, late = await reload_request(db, fresh_id), await reload_request(db, late_id)
    foreign = await reload_request(db, foreign_id)

    await switch_user(client, AN)
    home = await client.get("/console")
    assert 'href="/console/aanvragen"' in home.text
    page = await client.get("/console/aanvragen")
    assert page.status_code == 200
    assert page.text.index(late.reference) < page.text.index(fresh.reference)
    assert foreign.reference not in page.text
    assert "1 aanvraag is over de termijn voor het eerste contact." in page.text
    assert page.text.count("Over de termijn</span>") == 1
    closed_only = await client.get("/console/aanvragen", params={"status": "closed"})
    assert late.reference not in closed_only.text and "Geen aanvragen." in closed_only.text
    assert (await client.get(f"/console/aanvragen/{foreign_id}")).status_code == 404


async def test_console_assign_contact_schedule_and_the_status_page_shows_the_appointment(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, request_id, token, detail = await a_request_for_ans_centre(db, services)
    await switch_user(client, AN)
    page = await client.get(detail)
    assert page.status_code == 200
    assert (
        "Fatima El Amrani" in page.text and "Moeder wil praten over het schoolverzuim." in page.text
    )

    assigned = await post_form(
        client, f"{detail}/toewijzen", {"counsellor": str(staff.id)}, token_page=detail
    )
    assert assigned.status_code == 303
    assert (await reload_request(db, request_id)).status == "assigned"
    contacted = await post_form(client, f"{detail}/contact", {"note": "Gebeld"}, token_page=detail)
    assert contacted.status_code == 303
    assert (await reload_request(db, request_id)).status == "contacted"

    day = await open_day(db, staff.centre_id)
    choose = await client.get(f"{detail}/inplannen", params={"week": day.isoformat()})
    assert choose.status_code == 200
    values = _SLOT.findall(choose.text)
    assert values
    # Someone books the first moment meanwhile: a clear message and fresh moments.
    taken_value = values[0]
    starts = int(taken_value.split("_")[0])
    await book_directly(db, services, staff, school, datetime.fromtimestamp(starts, tz=UTC))
    conflict = await post_form(
        client,
        f"{detail}/inplannen",
        {"moment": taken_value, "soort": "gesprek"},
        token_page=detail,
    )
    assert conflict.status_code == 409
    assert "Dit moment is niet (meer) vrij. Kies een ander moment." in conflict.text
    fresh = _SLOT.findall(conflict.text)
    assert fresh and taken_value not in fresh
    assert (await reload_request(db, request_id)).status == "contacted"

    done = await post_form(
        client, f"{detail}/inplannen", {"moment": fresh[0], "soort": "gesprek"}, token_page=detail
    )
    assert done.status_code == 303
    filed = await reload_request(db, request_id)
    assert filed.status == "scheduled" and filed.appointment_id is not None
    appointment = await db.get_one(Appointment, filed.appointment_id)
    assert appointment.mode == "office" and appointment.first_name == "Yasmina"
    history = (
        await db.scalars(
            select(MeetingRequestEvent.to_status)
            .where(MeetingRequestEvent.request_id == request_id)
            .order_by(MeetingRequestEvent.id)
        )
    ).all()
    assert history == ["new", "assigned", "contacted", "scheduled"]
    shown = await client.get(detail)
    assert "Verloop" in shown.text and "An Peeters" in shown.text

    client.cookies.clear()
    await client.get(f"{STATUS}/{token}")
    status = await client.get(STATUS)
    assert "Er is een afspraak" in status.text and "Vestiging Gent" in status.text
    assert 'href="/afspraak/beheer/' in status.text


async def test_console_close_needs_a_reason_and_other_centres_cannot_act(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    _staff, _school, request_id, token, detail = await a_request_for_ans_centre(db, services)
    await make_staff(db, email="eva@clb.example")
    await switch_user(client, "eva@clb.example")
    refused = await post_form(
        client, f"{detail}/afsluiten", {"reason": "Weg"}, token_page="/console"
    )
    assert refused.status_code == 404
    await switch_user(client, AN)
    empty = await post_form(client, f"{detail}/afsluiten", {"reason": "  "}, token_page=detail)
    assert empty.status_code == 422
    assert "Geef een reden om de aanvraag af te sluiten." in empty.text
    closed = await post_form(
        client, f"{detail}/afsluiten", {"reason": "Opgelost via de school."}, token_page=detail
    )
    assert closed.status_code == 303
    assert (await reload_request(db, request_id)).close_reason == "Opgelost via de school."
    client.cookies.clear()
    await client.get(f"{STATUS}/{token}")
    status = await client.get(STATUS)
    assert "Afgesloten" in status.text and "Reden: Opgelost via de school." in status.text


# --- Booking "voor iemand anders" ----------------------------------------------------------


async def test_booking_for_someone_else_records_the_relation_and_the_booker(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    day = await open_day(db, staff.centre_id)
    moment = value_of(staff, at(day, 10), await location_of(db, school))
    csrf = await open_contact_step(client, school, moment)
    page = await client.get(
        "/afspraak/gegevens",
        params={"school": str(school.id), "soort": "gesprek", "hoe": "office", "moment": moment},
    )
    assert "Voor wie maak je de afspraak?" in page.text and "Brugfiguur" in page.text

    incomplete = await client.post(
        "/afspraak/gegevens",
        data=contact_form(school, moment, csrf, for_whom="anders", booker_phone="12"),
    )
    assert incomplete.status_code == 422
    for message in (
        "Kies hoe je de persoon kent.",
        "Vul je eigen naam in.",
        "Dit telefoonnummer klopt niet. Bijvoorbeeld: 0470 12 34 56",
        "Vraag eerst of de persoon akkoord gaat dat je deze aanvraag doet.",
    ):
        assert message in incomplete.text
    assert 'id="for_whom-other" name="for_whom" value="anders" checked' in incomplete.text
    assert 'value="12"' in incomplete.text
    assert await appointments(db) == []

    booked = await client.post(
        "/afspraak/gegevens",
        data=contact_form(
            school,
            moment,
            csrf,
            for_whom="anders",
            booker_relation="brugfiguur",
            booker_name="Fatima El Amrani",
            booker_phone="0470 11 22 33",
            person_consent="ja",
        ),
    )
    assert booked.status_code == 303, booked.text
    [appointment] = await appointments(db)
    assert (appointment.booked_for_relation, appointment.booker_name) == (
        "brugfiguur",
        "Fatima El Amrani",
    )
    assert (appointment.booker_phone, appointment.booker_email) == ("0470112233", None)
    assert appointment.first_name == "Sara"  # the person the appointment is for

    await switch_user(client, AN)
    detail = await client.get(f"/console/agenda/afspraken/{appointment.id}")
    assert "Geboekt voor iemand anders" in detail.text
    assert "Fatima El Amrani (Brugfiguur)" in detail.text


async def test_booking_for_myself_records_no_booker(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school = await bookable_counsellor(db)
    day = await open_day(db, staff.centre_id)
    moment = value_of(staff, at(day, 11), await location_of(db, school))
    csrf = await open_contact_step(client, school, moment)
    # Booker fields typed but "for myself" chosen: nothing of them is kept.
    data = contact_form(school, moment, csrf, for_whom="zelf", booker_name="Iemand")
    assert (await client.post("/afspraak/gegevens", data=data)).status_code == 303
    [appointment] = await appointments(db)
    assert appointment.booked_for_relation is None and appointment.booker_name is None


async def test_a_handover_code_is_prefilled_and_an_unknown_one_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    first = await client.get(FORM, params={"code": "K7M4-QX9P"})
    assert ("code", "K7M4-QX9P") in hidden_fields(first.text)
    data = [
        ("csrf_token", csrf_of(first.text)),
        ("stap", "vraag"),
        ("for_whom", "self_pupil"),
        ("school", str(school.id)),
        ("first_name", "Noor"),
        ("via_school", "ja"),
        ("preferred_place", "office"),
        ("interpreter", "nee"),
        ("consent_contact", "ja"),
        ("code", "K7M4-QX9P"),
        ("actie", "verder"),
    ]
    refused = await client.post(FORM, data=as_form(data))
    assert refused.status_code == 422
    assert "Deze code kennen we niet. Kijk ze na of laat het vak leeg." in refused.text
    assert 'id="code"' in refused.text and 'value="K7M4-QX9P"' in refused.text
    await db.commit()
    assert (await db.scalars(select(MeetingRequest))).all() == []

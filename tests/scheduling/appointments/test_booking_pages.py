"""The booking pages and the manage link, through the real app (no JavaScript involved)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.jobs import OutboxJob
from clb.org.models import Centre, Location, School
from clb.ratelimit import Rate
from clb.services import Services
from clb.web.security import hash_ip
from scheduling import labels
from scheduling.appointments.booking_input import LANGUAGES
from scheduling.appointments.models import Appointment
from scheduling.booking_pages.contact_form import LANGUAGE_NAMES
from scheduling.booking_pages.manage_router import cookie_name
from tests.scheduling.booking_pages_support import (
    at,
    book_directly,
    csrf_of,
    location_of,
    move_to,
    open_day,
    slot_values,
    value_of,
    week_of,
)
from tests.scheduling.support import bookable_counsellor

NOT_WORKING = "Deze link werkt niet (meer)"


async def appointments(db: AsyncSession) -> list[Appointment]:
    await db.commit()  # see what the app committed
    return list(await db.scalars(select(Appointment).execution_options(populate_existing=True)))


def contact_form(school: School, moment: str, csrf: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "school": str(school.id),
        "soort": "gesprek",
        "hoe": "office",
        "moment": moment,
        "sleutel": "een-sleutel-van-dit-formulier",
        "first_name": "Sara",
        "email": "sara.ouder@example.be",
        "phone": "",
        "language": "nl",
        "topic": "Mijn zoon slaapt slecht voor toetsen",
        "consent": "ja",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


async def open_contact_step(client: httpx.AsyncClient, school: School, moment: str) -> str:
    page = await client.get(
        "/afspraak/gegevens",
        params={"school": str(school.id), "soort": "gesprek", "hoe": "office", "moment": moment},
    )
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


async def a_moment_at_ten(db: AsyncSession) -> tuple[StaffAccount, School, datetime, str]:
    """A bookable counsellor and school, 10:00 on the next open day, and the form value
    the slot step offers for it: where most booking tests start."""
    staff, school = await bookable_counsellor(db)
    starts = at(await open_day(db, school.centre_id), 10)
    return staff, school, starts, value_of(staff, starts, await location_of(db, school))


async def submit_contact_at_ten(
    client: httpx.AsyncClient, db: AsyncSession, **changes: str
) -> tuple[str, httpx.Response]:
    """Pick 10:00 on the next open day and send the contact step, Sara's details with
    ``changes``: (the moment's form value, the answer)."""
    _staff, school, _starts, moment = await a_moment_at_ten(db)
    csrf = await open_contact_step(client, school, moment)
    data = contact_form(school, moment, csrf, **changes)
    return moment, await client.post("/afspraak/gegevens", data=data)


async def an_opened_appointment(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, *, mode: str = "office"
) -> tuple[School, Appointment, str]:
    """An appointment at 11:00 on the next open day whose manage link ``client`` opened, so
    its cookie is set: (school, appointment, manage token)."""
    staff, school = await bookable_counsellor(db)
    appointment, token = await book_directly(
        db, services, staff, school, at(await open_day(db, school.centre_id), 11), mode=mode
    )
    await client.get(f"/afspraak/beheer/{token}")
    return school, appointment, token


async def week_page(client: httpx.AsyncClient, school: School, week: str) -> httpx.Response:
    """The slot step for a talk at the office in the week starting ``week``."""
    return await client.get(
        "/afspraak/wanneer",
        params={"school": str(school.id), "soort": "gesprek", "hoe": "office", "week": week},
    )


# --- The steps ---------------------------------------------------------------------------


async def test_school_search_finds_the_school_and_names_its_centre(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    empty = await client.get("/afspraak")
    assert empty.status_code == 200
    assert 'name="q"' in empty.text and "Stap 1 van 4" in empty.text

    found = await client.get("/afspraak", params={"q": "gent"})
    assert found.status_code == 200
    assert "1 school gevonden" in found.text
    assert f'href="/afspraak/waarover?school={school.id}"' in found.text
    assert "Testschool" in found.text

    too_short = await client.get("/afspraak", params={"q": "g"})
    assert too_short.status_code == 422
    assert "Typ minstens 2 letters." in too_short.text
    assert 'aria-invalid="true"' in too_short.text

    none = await client.get("/afspraak", params={"q": "Nergensdorp"})
    assert "Geen school gevonden" in none.text


async def test_api_school_search_uses_the_same_query(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    found = await client.get("/api/schools", params={"q": "Testsch"})
    assert [s["id"] for s in found.json()] == [str(school.id)]


async def test_topic_step_names_the_centre_and_only_its_ways_to_meet(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db, modes=["office", "phone"])
    centre = await db.get_one(Centre, school.centre_id)
    page = await client.get("/afspraak/waarover", params={"school": str(school.id)})
    assert page.status_code == 200
    assert f"Je CLB is {centre.name}." in page.text
    for shown in ("Kennismaking", "Studiekeuze", "Op het CLB", "Telefonisch"):
        assert shown in page.text
    assert "Videogesprek" not in page.text and "Op school" not in page.text
    assert "De CLB-medewerker belt je op het afgesproken uur." in page.text

    unknown = await client.get("/afspraak/waarover", params={"school": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert "Kies je school uit de lijst." in unknown.text


async def test_slot_step_without_a_choice_goes_back_with_the_errors(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db, modes=["office", "phone"])
    page = await client.get(
        "/afspraak/wanneer",
        params={"school": str(school.id), "soort": "studiekeuze", "hoe": "video"},
    )
    assert page.status_code == 422
    assert "Kies hoe je wil afspreken." in page.text
    assert "Kies waarover de afspraak gaat." not in page.text
    checked = 'value="studiekeuze" aria-describedby="soort-studiekeuze-hint" checked'
    assert checked in page.text
    assert 'aria-describedby="mode-error"' in page.text
    assert 'href="#hoe-office"' in page.text  # the summary leads to the first choice


async def test_slot_step_shows_a_week_per_day_with_full_accessible_names(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school = await bookable_counsellor(db)
    location_id = await location_of(db, school)
    day = await open_day(db, school.centre_id)
    starts = at(day, 10)
    page = await week_page(client, school, week_of(starts))
    assert page.status_code == 200, page.text
    values = slot_values(page.text)
    wanted = value_of(staff, starts, location_id)
    assert wanted in values
    # The accessible name is the whole date and time; "10:00" alone is hidden from screen
    # readers. All slots are at one place: it is said once.
    full = labels.slot_label(starts)
    assert f'<span class="visually-hidden">{full}</span>' in page.text
    assert '<span aria-hidden="true"><span class="slot-time">10:00</span></span>' in page.text
    assert '<p class="week-place"><strong>Waar:</strong> Vestiging Gent</p>' in page.text
    assert "Later" in page.text
    later = re.search(r'href="(/afspraak/wanneer\?[^"]*week=[^"]+)"[^>]*>Later', page.text)
    assert later is not None
    # A week without hours: no slots, but a way to the first free moment.
    weekend = await week_page(client, school, (day + timedelta(days=7 * 60)).isoformat())
    assert weekend.status_code == 200
    assert "In deze week is er geen vrij moment." in weekend.text


async def test_slots_at_several_places_each_name_their_place(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school = await bookable_counsellor(db)
    centre = await db.get_one(Centre, school.centre_id)
    other, _school = await bookable_counsellor(db, centre=centre)
    await db.execute(
        update(Location)
        .where(Location.centre_id == centre.id, Location.id != await location_of(db, school))
        .values(name="Vestiging Eeklo")
    )
    await db.commit()
    starts = at(await open_day(db, school.centre_id), 10)
    page = await week_page(client, school, week_of(starts))
    assert page.status_code == 200
    assert "Waar:</strong>" not in page.text
    for place in ("Vestiging Gent", "Vestiging Eeklo"):
        assert (
            f'<span class="visually-hidden">{labels.slot_label(starts)}, {place}</span>'
            in page.text
        )
        assert f'<span class="slot-place">{place}</span>' in page.text
    assert staff.id != other.id


async def test_contact_step_offers_the_languages_in_their_own_names(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, school, starts, moment = await a_moment_at_ten(db)
    page = await client.get(
        "/afspraak/gegevens",
        params={"school": str(school.id), "soort": "gesprek", "hoe": "office", "moment": moment},
    )
    assert page.status_code == 200
    assert set(LANGUAGE_NAMES) == set(LANGUAGES)
    assert '<option value="ar" lang="ar" dir="rtl">العربية</option>' in page.text
    assert '<option value="nl" lang="nl" selected>Nederlands</option>' in page.text
    assert labels.when(starts, starts + timedelta(minutes=45)) in page.text
    assert "Vestiging Gent" in page.text

    no_moment = await client.get(
        "/afspraak/gegevens",
        params={"school": str(school.id), "soort": "gesprek", "hoe": "office", "moment": "x"},
    )
    assert no_moment.status_code == 422
    assert "Kies een moment uit de lijst." in no_moment.text


# --- Booking -----------------------------------------------------------------------------


async def test_invalid_contact_shows_every_error_next_to_its_field_and_keeps_the_input(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    moment, page = await submit_contact_at_ten(
        client, db, first_name=" ", email="sara-at-example", phone="12", consent=""
    )
    assert page.status_code == 422
    text = page.text
    assert "Vul je voornaam in." in text
    assert "Dit e-mailadres klopt niet. Bijvoorbeeld: naam@voorbeeld.be" in text
    assert "Dit telefoonnummer klopt niet. Bijvoorbeeld: 0470 12 34 56" in text
    assert "Vink het vakje aan, dan mag het CLB je gegevens voor deze afspraak gebruiken." in text
    # Errors are tied to their fields and summed up at the top, which takes the focus.
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in text
    assert 'id="email-error"' in text and 'href="#email"' in text
    assert 'class="error-summary" role="alert" tabindex="-1" autofocus' in text
    assert text.index("error-summary") < text.index('id="first_name"')
    # What was typed stays.
    assert 'value="sara-at-example"' in text
    assert 'value="Mijn zoon slaapt slecht voor toetsen"' in text
    assert f'name="moment" value="{moment}"' in text
    assert await appointments(db) == []


async def test_contact_needs_an_email_or_a_phone(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _moment, page = await submit_contact_at_ten(client, db, email="")
    assert page.status_code == 422
    assert "Geef een e-mailadres of een telefoonnummer" in page.text


async def test_booking_confirms_sets_the_manage_cookie_and_offers_the_calendar_file(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, starts, moment = await a_moment_at_ten(db)
    csrf = await open_contact_step(client, school, moment)
    form = contact_form(school, moment, csrf, language="tr")
    booked = await client.post("/afspraak/gegevens", data=form)
    assert booked.status_code == 303, booked.text
    assert booked.headers["location"] == "/afspraak/beheer/bevestiging"
    cookie = booked.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(services.settings)}=")
    for part in ("HttpOnly", "Path=/afspraak/beheer", "SameSite=lax", "Max-Age=3600"):
        assert part in cookie
    assert "Secure" not in cookie  # http:// in tests; https turns it on

    [appointment] = await appointments(db)
    assert (appointment.first_name, appointment.language) == ("Sara", "tr")
    assert appointment.starts_at == starts and appointment.counsellor_id == staff.id
    jobs = await db.scalar(select(func.count()).select_from(OutboxJob))
    assert jobs and jobs >= 1  # the confirmation (and reminders) go out through the outbox

    # A second click sends the same form again: still one appointment.
    again = await client.post("/afspraak/gegevens", data=form)
    assert again.status_code == 303
    assert len(await appointments(db)) == 1

    done = await client.get("/afspraak/beheer/bevestiging")
    assert done.status_code == 200
    assert "Je afspraak staat vast" in done.text
    assert labels.when(starts, starts + timedelta(minutes=45)) in done.text
    assert "Vestiging Gent" in done.text and ">An, CLB " in done.text
    assert "Je krijgt een e-mail met een agendabestand." in done.text
    assert "persoonlijke link" in done.text

    calendar = await client.get("/afspraak/beheer/afspraak.ics")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    assert "attachment" in calendar.headers["content-disposition"]
    assert "METHOD:REQUEST" in calendar.text and appointment.uid in calendar.text


async def test_a_taken_moment_shows_fresh_slots_and_keeps_the_contact_details(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, starts, moment = await a_moment_at_ten(db)
    location_id = await location_of(db, school)
    csrf = await open_contact_step(client, school, moment)
    await book_directly(db, services, staff, school, starts)  # someone else was faster

    page = await client.post("/afspraak/gegevens", data=contact_form(school, moment, csrf))
    assert page.status_code == 409
    assert "Dit moment is niet (meer) vrij. Kies een ander moment." in page.text
    offered = slot_values(page.text)
    assert moment not in offered and offered
    # The form books at once with what was typed.
    assert 'method="post" action="/afspraak/gegevens" class="slot-form"' in page.text
    assert 'name="first_name" value="Sara"' in page.text
    assert 'name="topic" value="Mijn zoon slaapt slecht voor toetsen"' in page.text
    # The week buttons keep it too.
    later = await client.post(
        "/afspraak/gegevens",
        data={
            **contact_form(school, "", csrf),
            "week": (starts.date() + timedelta(days=7)).isoformat(),
        },
    )
    assert later.status_code == 200
    assert 'name="first_name" value="Sara"' in later.text

    other = value_of(staff, starts + timedelta(hours=2), location_id)
    assert other in offered
    booked = await client.post(
        "/afspraak/gegevens", data=contact_form(school, other, csrf_of(page.text))
    )
    assert booked.status_code == 303
    assert len(await appointments(db)) == 2


async def test_bookings_from_one_address_are_limited_like_the_api(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, _starts, moment = await a_moment_at_ten(db)
    csrf = await open_contact_step(client, school, moment)
    settings = services.settings
    key = f"booking:{hash_ip('127.0.0.1', settings.secret_key or '')}"
    rate = Rate(settings.booking_rate_per_hour, 3600)
    for _ in range(settings.booking_rate_per_hour):
        await services.limiter.hit(key, rate)
    page = await client.post("/afspraak/gegevens", data=contact_form(school, moment, csrf))
    assert page.status_code == 429
    assert "Je maakte heel veel afspraken na elkaar." in page.text
    assert 'value="sara.ouder@example.be"' in page.text
    assert int(page.headers["retry-after"]) > 0
    assert await appointments(db) == []


async def test_booking_needs_the_csrf_token(client: httpx.AsyncClient, db: AsyncSession) -> None:
    staff, school, _starts, moment = await a_moment_at_ten(db)
    await open_contact_step(client, school, moment)
    page = await client.post("/afspraak/gegevens", data=contact_form(school, moment, "vals" * 10))
    assert page.status_code == 403
    assert await appointments(db) == []


# --- The manage link ---------------------------------------------------------------------


async def test_the_link_becomes_a_cookie_and_leaves_the_address_bar(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db)
    starts = at(await open_day(db, school.centre_id), 11)
    _appointment, token = await book_directly(db, services, staff, school, starts)

    opened = await client.get(f"/afspraak/beheer/{token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/afspraak/beheer"
    assert opened.headers["cache-control"] == "no-store"
    cookie = opened.headers["set-cookie"]
    assert f"={token};" in cookie
    for part in ("HttpOnly", "Path=/afspraak/beheer", "SameSite=lax"):
        assert part in cookie

    page = await client.get("/afspraak/beheer", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert token not in str(page.url) and token not in page.text
    assert labels.when(starts, starts + timedelta(minutes=45)) in page.text
    assert "Een ander moment kiezen" in page.text and "Afspraak annuleren" in page.text
    # The cookie is not sent anywhere else.
    assert client.cookies.get(cookie_name(services.settings), path="/afspraak/beheer") == token


async def test_wrong_missing_and_expired_links_all_get_the_same_neutral_page(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db)
    appointment, token = await book_directly(
        db, services, staff, school, at(await open_day(db, school.centre_id), 11)
    )
    wrong = await client.get("/afspraak/beheer/" + "A" * 43)
    no_cookie = await client.get("/afspraak/beheer")
    await move_to(db, appointment, utcnow() - timedelta(hours=3))
    expired = await client.get(f"/afspraak/beheer/{token}")
    for response in (wrong, no_cookie, expired):
        assert response.status_code == 404
        assert f"<h1>{NOT_WORKING}</h1>" in response.text
        cookies = " ".join(response.headers.get_list("set-cookie"))
        assert cookie_name(services.settings) not in cookies
    # Nothing tells an expired link apart from one that never existed.
    strip = re.compile(r'value="[^"]*"|clb_csrf=[^;]*')
    assert strip.sub("", wrong.text) == strip.sub("", expired.text)
    for path in (
        "/afspraak/beheer/verplaatsen",
        "/afspraak/beheer/annuleren",
        "/afspraak/beheer/afspraak.ics",
        "/afspraak/beheer/bevestiging",
    ):
        assert (await client.get(path)).status_code == 404


async def test_an_old_cookie_is_dropped(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    school, appointment, token = await an_opened_appointment(client, db, services)
    await move_to(db, appointment, utcnow() - timedelta(hours=3))
    page = await client.get("/afspraak/beheer")
    assert page.status_code == 404
    assert "Max-Age=0" in page.headers["set-cookie"]


async def test_cancel_asks_first_then_cancels(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    school, appointment, token = await an_opened_appointment(client, db, services)
    ask = await client.get("/afspraak/beheer/annuleren")
    assert ask.status_code == 200
    assert "Wil je deze afspraak echt annuleren?" in ask.text
    assert [a.status for a in await appointments(db)] == ["confirmed"]

    done = await client.post("/afspraak/beheer/annuleren", data={"csrf_token": csrf_of(ask.text)})
    assert done.status_code == 303
    assert done.headers["location"] == "/afspraak/beheer?gedaan=geannuleerd"
    [cancelled] = await appointments(db)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "person")

    page = await client.get(done.headers["location"])
    assert "Je afspraak is geannuleerd." in page.text
    assert "Deze afspraak is geannuleerd." in page.text
    assert f'href="/afspraak/waarover?school={school.id}"' in page.text
    assert "Nieuwe afspraak maken" in page.text
    calendar = await client.get("/afspraak/beheer/afspraak.ics")
    assert "METHOD:CANCEL" in calendar.text and appointment.uid in calendar.text


async def test_reschedule_moves_to_a_free_slot_of_the_same_kind(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db)
    location_id = await location_of(db, school)
    starts = at(await open_day(db, school.centre_id), 11)
    _appointment, token = await book_directly(db, services, staff, school, starts)
    other_starts = at(await open_day(db, school.centre_id), 9)
    _other, _ = await book_directly(db, services, staff, school, other_starts)
    await client.get(f"/afspraak/beheer/{token}")

    page = await client.get("/afspraak/beheer/verplaatsen", params={"week": week_of(starts)})
    assert page.status_code == 200
    offered = slot_values(page.text)
    # Its own moment counts as free; someone else's does not.
    assert value_of(staff, starts, location_id) in offered
    assert value_of(staff, other_starts, location_id) not in offered
    taken = await client.post(
        "/afspraak/beheer/verplaatsen",
        data={
            "csrf_token": csrf_of(page.text),
            "moment": value_of(staff, other_starts, location_id),
        },
    )
    assert taken.status_code == 409
    assert "Dit moment is niet (meer) vrij." in taken.text

    new_starts = starts + timedelta(hours=3)
    moved = await client.post(
        "/afspraak/beheer/verplaatsen",
        data={"csrf_token": csrf_of(page.text), "moment": value_of(staff, new_starts, location_id)},
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == "/afspraak/beheer?gedaan=verplaatst"
    mine = next(a for a in await appointments(db) if a.starts_at != other_starts)
    assert (mine.starts_at, mine.sequence, mine.status) == (new_starts, 1, "confirmed")
    shown = await client.get(moved.headers["location"])
    assert "Je afspraak is verplaatst." in shown.text
    assert labels.when(new_starts, new_starts + timedelta(minutes=45)) in shown.text


async def test_past_the_cutoff_the_page_says_to_call_the_centre(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db)
    await db.execute(
        update(Centre).where(Centre.id == school.centre_id).values(phone="09 123 45 67")
    )
    await db.commit()
    appointment, token = await book_directly(
        db, services, staff, school, at(await open_day(db, school.centre_id), 11)
    )
    await move_to(db, appointment, utcnow() + timedelta(hours=1))
    await client.get(f"/afspraak/beheer/{token}")
    page = await client.get("/afspraak/beheer")
    assert page.status_code == 200
    assert "Online verplaatsen of annuleren kan tot 2 uur voor het begin." in page.text
    assert 'href="tel:091234567"' in page.text
    assert "Een ander moment kiezen" not in page.text

    reschedule = await client.get("/afspraak/beheer/verplaatsen")
    assert 'class="slot-form"' not in reschedule.text
    assert (await client.get("/afspraak/beheer/annuleren")).status_code == 303
    cancel = await client.post(
        "/afspraak/beheer/annuleren", data={"csrf_token": csrf_of(page.text)}
    )
    assert cancel.status_code == 303
    assert [a.status for a in await appointments(db)] == ["confirmed"]


async def test_a_chat_appointment_says_where_the_chat_opens(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    _school, _appointment, token = await an_opened_appointment(client, db, services, mode="chat")
    page = await client.get("/afspraak/beheer")
    assert "Op het afgesproken uur opent hier de chat met An." in page.text
    assert token not in page.text


async def test_closing_forgets_the_appointment_in_this_browser(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    _school, _appointment, token = await an_opened_appointment(client, db, services)
    page = await client.get("/afspraak/beheer")
    closed = await client.post("/afspraak/beheer/sluiten", data={"csrf_token": csrf_of(page.text)})
    assert closed.status_code == 303 and closed.headers["location"] == "/"
    assert (await client.get("/afspraak/beheer")).status_code == 404

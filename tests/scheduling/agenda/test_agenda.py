"""The counsellor's agenda in the console: views in Brussels time, who sees what, staff
changes (cancel, reschedule, no-show) and the personal calendar feed."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from fastapi import FastAPI
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.org.models import School
from clb.services import Services
from scheduling.agenda.service import CONTACT_READ
from scheduling.appointments.models import Appointment
from scheduling.availability.models import BookingPolicy
from scheduling.tokens import hash_token
from tests.conftest import make_centre, make_staff
from tests.scheduling.agenda_support import (
    HTML,
    book_at,
    clock_at,
    days_of,
    notify_jobs,
    post_form,
    reload,
    switch_user,
)
from tests.scheduling.booking_helpers import at, open_day
from tests.scheduling.support import bookable_counsellor

AGENDA = "/console/agenda"
AN = "an@clb.example"
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
_FEED_URL = re.compile(r'id="feed-url" type="text" readonly value="([^"]+)"')


def detail(appointment: Appointment) -> str:
    return f"{AGENDA}/afspraken/{appointment.id}"


def october(day: int) -> date:
    return date(2026, 10, day)


async def ans_appointment_at(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, hour: int
) -> tuple[StaffAccount, School, date, Appointment]:
    """An (the counsellor) with an appointment at ``hour`` on the next open day, and
    ``client`` logged in as her: (An, her school, the day, the appointment)."""
    staff, school = await bookable_counsellor(db, email=AN)
    day = await open_day(db, staff.centre_id)
    appointment = await book_at(db, services, staff, school, at(day, hour))
    await switch_user(client, AN)
    return staff, school, day, appointment


async def post_from_detail(
    client: httpx.AsyncClient, appointment: Appointment, action: str, data: dict[str, str]
) -> httpx.Response:
    """Post ``data`` to one of the appointment's actions, as its detail page's form does."""
    return await post_form(
        client, f"{detail(appointment)}/{action}", data, token_page=detail(appointment)
    )


# --- Views ---------------------------------------------------------------------------------


async def test_week_and_day_views_in_brussels_time_across_the_autumn_dst_change(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    # Sunday 25 October 2026: at 03:00 summer time the clocks go back to 02:00.
    staff, school = await bookable_counsellor(
        db, email=AN, weekdays=EVERY_DAY, hours=(time(0), time(23, 30))
    )
    booked_on = datetime(2026, 10, 1, 8, tzinfo=UTC)

    async def book(
        day: int, hour: int, minute: int = 0, *, kind: str = "gesprek", name: str = "Sara"
    ) -> Appointment:
        starts = at(october(day), hour, minute)
        return await book_at(
            db, services, staff, school, starts, now=booked_on, type_slug=kind, first_name=name
        )

    friday = await book(23, 10)
    saturday = await book(24, 22, kind="kennismaking", name="Lotte")
    night = await book(25, 0, 30, kind="kennismaking", name="Noor")
    morning = await book(25, 10, name="Yusuf")
    # 00:30 on Sunday is still summer time (22:30 UTC on Saturday); 10:00 is winter time.
    assert night.starts_at == datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    assert morning.starts_at == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    await switch_user(client, AN)

    page = await client.get(AGENDA, params={"weergave": "week", "datum": "2026-10-21"})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    days = days_of(page.text)
    assert list(days) == [october(d).isoformat() for d in range(19, 26)]
    assert "10:00–10:45 · Sara" in days["2026-10-23"]
    assert "22:00–22:30 · Lotte" in days["2026-10-24"]
    assert "Noor" not in days["2026-10-24"]
    assert "00:30–01:00 · Noor" in days["2026-10-25"]
    assert "10:00–10:45 · Yusuf" in days["2026-10-25"]
    assert "Geen afspraken." in days["2026-10-19"]
    # What an appointment shows: type, mode, place, first name, contact, topic, status.
    friday_html = days["2026-10-23"]
    for shown in (
        "Gesprek",
        "Op het CLB",
        "Vestiging Gent",
        "sara.ouder@example.be",
        "0470123456",
        "Mijn dochter slaapt slecht voor toetsen.",
        "Bevestigd",
        "Nog geen berichten verstuurd.",
        detail(friday),
    ):
        assert shown in friday_html, shown
    assert detail(saturday) in page.text

    day = await client.get(AGENDA, params={"weergave": "dag", "datum": "2026-10-25"})
    assert list(days_of(day.text)) == ["2026-10-25"]
    assert "00:30–01:00 · Noor" in day.text and "10:00–10:45 · Yusuf" in day.text
    assert "Lotte" not in day.text
    # Navigation keeps the view and moves by its own step.
    assert 'href="/console/agenda?weergave=dag&amp;datum=2026-10-24"' in day.text
    assert 'href="/console/agenda?weergave=dag&amp;datum=2026-10-26"' in day.text
    assert 'href="/console/agenda?weergave=week&amp;datum=2026-10-12"' in page.text
    assert 'href="/console/agenda?weergave=week&amp;datum=2026-10-26"' in page.text


async def test_spring_dst_change_and_public_holiday_in_the_week_view(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    # Sunday 28 March 2027 (Easter): 02:00 winter time becomes 03:00 summer time.
    staff, school = await bookable_counsellor(db, email=AN, horizon_days=365)
    booked_on = datetime(2027, 3, 1, 8, tzinfo=UTC)
    before = await book_at(db, services, staff, school, at(date(2027, 3, 26), 9), now=booked_on)
    after = await book_at(db, services, staff, school, at(date(2027, 3, 30), 9), now=booked_on)
    assert (before.starts_at.hour, after.starts_at.hour) == (8, 7)  # UTC+1, then UTC+2
    await switch_user(client, AN)
    week = days_of((await client.get(AGENDA, params={"datum": "2027-03-28"})).text)
    assert "09:00–09:45" in week["2027-03-26"]
    assert "Feestdag: Pasen" in week["2027-03-28"]
    following = days_of((await client.get(AGENDA, params={"datum": "2027-03-29"})).text)
    assert "Feestdag: Paasmaandag" in following["2027-03-29"]
    assert "09:00–09:45" in following["2027-03-30"]
    client.cookies.set("clb_lang", "en")
    english = days_of((await client.get(AGENDA, params={"datum": "2027-03-28"})).text)
    assert "Sunday 28 March 2027" in english["2027-03-28"]
    assert "Public holiday: Easter Sunday" in english["2027-03-28"]
    assert "Confirmed" in english["2027-03-26"] and "At the CLB" in english["2027-03-26"]


async def test_cancelled_and_no_show_appointments_stay_visible_with_their_status(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, app: FastAPI
) -> None:
    staff, school, day, first = await ans_appointment_at(client, db, services, 9)
    second = await book_at(db, services, staff, school, at(day, 11), first_name="Lotte")
    response = await post_from_detail(
        client, first, "annuleren", {"reason": "De CLB-medewerker is ziek."}
    )
    assert response.status_code == 303
    with clock_at(app, at(day, 12)):
        marked = await post_from_detail(client, second, "niet-gekomen", {})
        assert marked.status_code == 303
        page = await client.get(AGENDA, params={"weergave": "dag", "datum": day.isoformat()})
    assert "Geannuleerd" in page.text and "Niet gekomen" in page.text
    assert "09:00–09:45 · Sara" in page.text and "11:00–11:45 · Lotte" in page.text


# --- Who may see what ----------------------------------------------------------------------


async def test_counsellors_see_only_their_own_agenda_and_coordinators_their_centre(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    centre = await make_centre(db, slug="clb-gent")
    an, school = await bookable_counsellor(db, centre=centre, email=AN)
    bram, _school = await bookable_counsellor(db, centre=centre, email="bram@clb.example")
    elsewhere, other_school = await bookable_counsellor(db, email="els@clb.other")
    await make_staff(db, email="cora@clb.example", roles=("coordinator",), centre=centre)
    day = await open_day(db, centre.id)
    bram_appointment = await book_at(db, services, bram, school, at(day, 10), first_name="Bo")
    other = await book_at(db, services, elsewhere, other_school, at(day, 10), first_name="Olga")

    await switch_user(client, AN)
    colleague = await client.get(AGENDA, params={"medewerker": str(bram.id)}, headers=HTML)
    assert colleague.status_code == 403
    assert (await client.get(detail(bram_appointment), headers=HTML)).status_code == 404
    assert (await client.get(detail(other), headers=HTML)).status_code == 404
    assert (await client.get(AGENDA, params={"medewerker": "x"}, headers=HTML)).status_code == 404
    own = await client.get(AGENDA, params={"datum": day.isoformat()})
    assert not re.search(r"\bBo\b", own.text) and "Olga" not in own.text  # not "viewBox"
    assert 'id="agenda-counsellor"' not in own.text  # no selector for a counsellor

    await switch_user(client, "cora@clb.example")
    foreign = await client.get(AGENDA, params={"medewerker": str(elsewhere.id)}, headers=HTML)
    assert foreign.status_code == 404
    assert (await client.get(detail(other), headers=HTML)).status_code == 404
    assert not await _audit_rows(db)  # nothing was shown
    page = await client.get(AGENDA, params={"medewerker": str(bram.id), "datum": day.isoformat()})
    assert page.status_code == 200
    assert "10:00–10:45 · Bo" in page.text and "sara.ouder@example.be" in page.text
    assert f'<option value="{bram.id}" selected>' in page.text
    assert f'<option value="{an.id}"' in page.text
    assert 'id="feed-url"' not in page.text  # nobody else's feed link
    reads = await _audit_rows(db)
    assert [(r.actor_id, r.object_type, r.object_id) for r in reads] == [
        (reads[0].actor_id, "appointment", str(bram_appointment.id))
    ]
    opened = await client.get(detail(bram_appointment))
    assert opened.status_code == 200 and "Afspraak met Bo" in opened.text
    assert len(await _audit_rows(db)) == 2
    # The counsellor reading their own appointments leaves no trace.
    await switch_user(client, "bram@clb.example")
    await client.get(detail(bram_appointment))
    assert len(await _audit_rows(db)) == 2


async def _audit_rows(db: AsyncSession) -> list[AuditEvent]:
    await db.commit()
    rows = await db.scalars(select(AuditEvent).where(AuditEvent.action == CONTACT_READ))
    return list(rows)


async def test_the_console_needs_a_login_and_an_agenda_role(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await client.get(AGENDA, headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/agenda"
    await make_staff(db, email="eva@clb.example", roles=("editor",))
    await switch_user(client, "eva@clb.example")
    assert (await client.get(AGENDA, headers=HTML)).status_code == 403


# --- Staff changes -------------------------------------------------------------------------


async def test_staff_cancel_needs_a_reason_and_tells_the_person(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, day, appointment = await ans_appointment_at(client, db, services, 10)
    page = await client.get(detail(appointment))
    assert "Afspraak annuleren" in page.text and 'name="reason"' in page.text

    refused = await post_from_detail(client, appointment, "annuleren", {"reason": "   "})
    assert refused.status_code == 422
    assert "Geef een reden: de persoon krijgt die te lezen." in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert (await reload(db, appointment)).status == "confirmed"

    done = await post_from_detail(
        client, appointment, "annuleren", {"reason": "De CLB-medewerker is ziek."}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{detail(appointment)}?bewaard=geannuleerd#main"
    cancelled = await reload(db, appointment)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_by == "staff"
    assert cancelled.cancel_reason == "De CLB-medewerker is ziek."
    assert cancelled.sequence == 1
    jobs = await notify_jobs(db, appointment)
    notices = [j for j in jobs if j.payload["kind"] == "cancelled"]
    assert len(notices) == 1 and notices[0].done_at is None and notices[0].cancelled_at is None
    assert all(j.cancelled_at is not None for j in jobs if j.payload["kind"] == "reminder")
    after = await client.get(f"{detail(appointment)}?bewaard=geannuleerd")
    assert "De afspraak is geannuleerd." in after.text
    assert "Reden: De CLB-medewerker is ziek." in after.text
    assert 'name="reason"' not in after.text  # nothing left to change
    again = await post_form(
        client, f"{detail(appointment)}/annuleren", {"reason": "Nog eens"}, token_page=AGENDA
    )
    assert again.status_code == 409
    assert "Deze afspraak is geannuleerd of voorbij." in again.text


async def test_reschedule_moves_the_appointment_and_bumps_the_sequence(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, day, appointment = await ans_appointment_at(client, db, services, 10)
    other = await book_at(db, services, staff, school, at(day, 14), first_name="Lotte")
    choose = await client.get(f"{detail(appointment)}/verplaatsen", params={"vanaf": str(day)})
    assert choose.status_code == 200
    values = re.findall(r'name="slot" id="[^"]+" value="([^"]+)"', choose.text)
    new_start = at(day, 11)
    wanted = f"{new_start.isoformat()}|{appointment.location_id}"
    assert wanted in values
    assert f"{appointment.starts_at.isoformat()}|{appointment.location_id}" not in values
    # 14:00 is taken (and 13:15 would run into its start).
    assert f"{at(day, 14).isoformat()}|{appointment.location_id}" not in values

    form = f"{detail(appointment)}/verplaatsen?vanaf={day}"
    no_reason = await post_form(client, form, {"slot": wanted}, token_page=detail(appointment))
    assert no_reason.status_code == 422
    assert "Geef een reden: de persoon krijgt die te lezen." in no_reason.text
    no_slot = await post_form(client, form, {"reason": "Ziek"}, token_page=detail(appointment))
    assert no_slot.status_code == 422 and "Kies een nieuw moment." in no_slot.text
    taken = f"{other.starts_at.isoformat()}|{appointment.location_id}"
    clash = await post_form(
        client, form, {"slot": taken, "reason": "Ziek"}, token_page=detail(appointment)
    )
    assert clash.status_code == 409
    assert "Dit moment is niet (meer) vrij." in clash.text
    assert (await reload(db, appointment)).sequence == 0

    moved = await post_form(
        client,
        form,
        {"slot": wanted, "reason": "Ik moet naar een overleg op school."},
        token_page=detail(appointment),
    )
    assert moved.status_code == 303, moved.text
    result = await reload(db, appointment)
    assert result.starts_at == new_start
    assert result.ends_at == new_start + timedelta(minutes=45)
    assert result.sequence == 1
    assert result.status == "confirmed"
    assert result.cancel_reason == "Ik moet naar een overleg op school."
    kinds = [j.payload["kind"] for j in await notify_jobs(db, appointment) if not j.cancelled_at]
    assert "rescheduled" in kinds
    page = await client.get(f"{detail(appointment)}?bewaard=verplaatst")
    assert "De afspraak is verplaatst." in page.text and "11:00–11:45" in page.text


async def test_no_show_only_after_the_start(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, app: FastAPI
) -> None:
    staff, school, day, appointment = await ans_appointment_at(client, db, services, 10)
    path = f"{detail(appointment)}/niet-gekomen"
    with clock_at(app, at(day, 9, 59)):
        page = await client.get(detail(appointment))
        assert "Aanduiden als niet gekomen" not in page.text
        early = await post_form(client, path, {}, token_page=detail(appointment))
    assert early.status_code == 422
    assert "Je kan pas na het begin van de afspraak" in early.text
    assert (await reload(db, appointment)).status == "confirmed"
    with clock_at(app, at(day, 10, 5)):
        page = await client.get(detail(appointment))
        assert "Aanduiden als niet gekomen" in page.text
        late = await post_form(client, path, {}, token_page=detail(appointment))
    assert late.status_code == 303
    assert (await reload(db, appointment)).status == "no_show"


async def test_private_note_is_kept_for_staff_only(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school, day, appointment = await ans_appointment_at(client, db, services, 10)
    saved = await post_from_detail(
        client, appointment, "notitie", {"note": "Broer zit ook op school; ouders gescheiden."}
    )
    assert saved.status_code == 303
    assert (await reload(db, appointment)).counsellor_note == (
        "Broer zit ook op school; ouders gescheiden."
    )
    page = await client.get(detail(appointment))
    assert "Broer zit ook op school; ouders gescheiden." in page.text
    too_long = await post_form(
        client, f"{detail(appointment)}/notitie", {"note": "x" * 5001}, token_page=AGENDA
    )
    assert too_long.status_code == 422
    assert "hoogstens 5000 tekens" in too_long.text


# --- The personal calendar feed ------------------------------------------------------------


async def _feed_url(client: httpx.AsyncClient) -> str:
    page = await client.get(AGENDA)
    match = _FEED_URL.search(page.text)
    assert match, "no feed link on the agenda page"
    return match.group(1)


async def test_feed_url_gives_a_private_calendar_and_can_be_renewed(
    client: httpx.AsyncClient,
    db: AsyncSession,
    services: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    staff, school = await bookable_counsellor(db, email=AN)
    day = await open_day(db, staff.centre_id)
    kept = await book_at(db, services, staff, school, at(day, 10), topic="Pesten in de klas")
    cancelled = await book_at(db, services, staff, school, at(day, 14), first_name="Lotte")
    await switch_user(client, AN)
    await post_from_detail(client, cancelled, "annuleren", {"reason": "Ziek"})
    url = await _feed_url(client)
    assert url.startswith("http://127.0.0.1:8000/agenda/feed/") and url.endswith(".ics")
    path = url.removeprefix("http://127.0.0.1:8000")
    token = path.removeprefix("/agenda/feed/").removesuffix(".ics")

    client.cookies.clear()  # calendar apps do not log in
    feed = await client.get(path)
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    body = feed.text
    for private in ("sara.ouder@example.be", "0470123456", "Pesten in de klas", "afspraak/beheer"):
        assert private not in body.replace("\r\n ", ""), private
    calendar = Calendar.from_ical(feed.content)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {kept.uid, cancelled.uid}
    sara = events[kept.uid]
    assert str(sara["SUMMARY"]) == "Sara: Gesprek (Op het CLB)"
    assert str(sara["STATUS"]) == "CONFIRMED"
    assert sara.decoded("DTSTART") == at(day, 10)
    assert "ATTENDEE" not in sara
    assert "Vestiging Gent" in str(sara["DESCRIPTION"])
    assert str(events[cancelled.uid]["STATUS"]) == "CANCELLED"

    # Only the hash is stored.
    await db.commit()
    policy = await db.get(BookingPolicy, staff.id, populate_existing=True)
    assert policy is not None and policy.feed_token_hash == hash_token(token)
    assert token not in str([getattr(policy, c.key) for c in BookingPolicy.__table__.columns])

    assert (await client.get("/agenda/feed/" + "A" * 43 + ".ics")).status_code == 404
    await switch_user(client, AN)
    renewed = await post_form(client, f"{AGENDA}/feed/nieuw", {}, token_page=AGENDA)
    assert renewed.status_code == 303
    page = await client.get(renewed.headers["location"])
    assert "Er is een nieuwe link gemaakt." in page.text
    new_url = _FEED_URL.search(page.text)
    assert new_url and new_url.group(1) != url
    client.cookies.clear()
    assert (await client.get(path)).status_code == 404
    fresh = await client.get(new_url.group(1).removeprefix("http://127.0.0.1:8000"))
    assert fresh.status_code == 200
    # The app's logs name the route, never the token (httpx here is the test's own client).
    app_logs = [r for r in caplog.records if r.name != "httpx"]
    feed_logs = [r for r in app_logs if getattr(r, "route", "") == "/agenda/feed/{token}.ics"]
    assert len(feed_logs) >= 4
    assert not [r for r in app_logs if token in str(vars(r))]


async def test_feed_of_an_inactive_counsellor_stops_working(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, _school = await bookable_counsellor(db, email=AN)
    await switch_user(client, AN)
    path = (await _feed_url(client)).removeprefix("http://127.0.0.1:8000")
    assert (await client.get(path)).status_code == 200
    staff.is_active = False
    await db.commit()
    assert (await client.get(path)).status_code == 404

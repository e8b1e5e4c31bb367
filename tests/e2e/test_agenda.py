"""A counsellor in a real browser: sets weekly hours, finds a booked appointment in the
week view, and cancels it with a reason by keyboard; a coordinator moves an appointment and
adds closed days. axe-core checks every page."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import utcnow
from clb.org.models import Centre
from clb.services import Services
from scheduling.agenda.view import day_heading
from scheduling.availability.models import AvailabilityRule
from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.support import assert_accessible, log_in
from tests.scheduling.agenda_support import book_at
from tests.scheduling.booking_helpers import at, open_day
from tests.scheduling.support import bookable_counsellor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AN = "an@clb.example"
COORDINATOR = "cora@clb.example"


async def test_a_counsellor_sets_hours_and_cancels_an_appointment(
    page: Page, live_server: str, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN, weekdays=())
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await log_in(page, live_server, AN, TEST_PASSWORD)

    async with page.expect_navigation():
        await page.get_by_role("link", name="Mijn beschikbaarheid").click()
    await page.get_by_role("heading", level=1, name="Mijn beschikbaarheid").wait_for()
    await assert_accessible(page)

    row = page.get_by_role("group", name="Periode 1", exact=True)
    await row.get_by_label("Dag (periode 1)").select_option(label="Dinsdag")
    await row.get_by_label("Van (periode 1)").fill("09:00")
    await row.get_by_label("Tot (periode 1)").fill("12:00")
    await row.get_by_role("checkbox", name="Telefonisch").check()
    # At the CLB without a location first: refused, with the error next to the field.
    await row.get_by_role("checkbox", name="Op het CLB").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Weekuren bewaren").click()
    await expect(page.get_by_role("alert").first).to_contain_text("niet bewaard")
    location = page.get_by_label("Vestiging (periode 1)")
    await expect(location).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Van (periode 1)")).to_have_value("09:00")
    await assert_accessible(page)
    await location.select_option(label="Vestiging Gent")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Weekuren bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("Je weekuren zijn bewaard.")
    await db.commit()
    rules = (await db.scalars(select(AvailabilityRule))).all()
    assert [(r.weekday, r.modes) for r in rules] == [(1, ["office", "phone"])]

    # Someone books Tuesday 10:00 (through the booking service, as the booking pages do).
    tuesday = await open_day(db, staff.centre_id, weekday=1)
    appointment = await book_at(db, services, staff, school, at(tuesday, 10), now=utcnow())

    await page.goto(f"{live_server}/console")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Mijn agenda").click()
    await page.goto(f"{live_server}/console/agenda?weergave=week&datum={tuesday.isoformat()}")
    day = page.locator(f'section[aria-labelledby="day-{tuesday.isoformat()}"]')
    link = page.get_by_role("link", name="10:00–10:45 · Sara")
    await expect(link).to_be_visible()
    await expect(day.get_by_role("link", name="10:00–10:45 · Sara")).to_be_visible()
    await expect(day).to_contain_text("sara.ouder@example.be")
    await assert_accessible(page)

    async with page.expect_navigation():
        await link.click()
    await page.get_by_role("heading", level=1, name="Afspraak met Sara").wait_for()
    await assert_accessible(page)

    # By keyboard: the reason, then Tab to the button and Enter.
    await page.get_by_label("Reden van de annulering").fill("De CLB-medewerker is ziek.")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Afspraak annuleren"
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("De afspraak is geannuleerd.")
    await expect(page.get_by_text("Reden: De CLB-medewerker is ziek.")).to_be_visible()
    await assert_accessible(page)
    await db.commit()
    await db.refresh(appointment)
    assert appointment.status == "cancelled"

    await page.goto(f"{live_server}/console/agenda?weergave=dag&datum={tuesday.isoformat()}")
    await expect(page.get_by_text("Geannuleerd").first).to_be_visible()
    await assert_accessible(page)
    # A Content-Security-Policy violation would show up here (the refused form's 422 does).
    assert [e for e in errors if "status of 422" not in e] == []


async def test_a_coordinator_moves_a_colleagues_appointment_and_closes_days(
    page: Page, live_server: str, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    centre = await db.get_one(Centre, staff.centre_id)
    await make_staff(db, email=COORDINATOR, roles=("coordinator",), centre=centre)
    day = await open_day(db, staff.centre_id)
    appointment = await book_at(db, services, staff, school, at(day, 10), now=utcnow())
    await log_in(page, live_server, COORDINATOR, TEST_PASSWORD)

    await page.goto(f"{live_server}/console/agenda?weergave=dag&datum={day.isoformat()}")
    await page.get_by_label("Agenda van").select_option(label="An Peeters")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Tonen").click()
    async with page.expect_navigation():
        await page.get_by_role("link", name="10:00–10:45 · Sara").click()
    async with page.expect_navigation():
        await page.get_by_role("link", name="Verplaatsen naar een ander moment").click()
    await page.get_by_role("heading", level=1, name="Afspraak verplaatsen").wait_for()
    await assert_accessible(page)
    moment = page.get_by_role("group", name=day_heading(day)).get_by_label("11:00")
    await moment.check()
    await page.get_by_label("Reden van de verplaatsing").fill("Overleg op school.")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Verplaatsen", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("De afspraak is verplaatst.")
    await expect(page.get_by_text("11:00–11:45").first).to_be_visible()
    await db.commit()
    await db.refresh(appointment)
    assert appointment.starts_at == at(day, 11) and appointment.sequence == 1

    await page.goto(f"{live_server}/console")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Sluitingsdagen voor afspraken beheren").click()
    await assert_accessible(page)
    await page.get_by_label("Naam").fill("Krokusvakantie")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Periode toevoegen").click()
    await expect(page.get_by_label("Eerste dag")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)
    await page.get_by_label("Eerste dag").fill("2027-02-15")
    await page.get_by_label("Laatste dag").fill("2027-02-19")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Periode toevoegen").click()
    await expect(page.get_by_role("status")).to_contain_text("De periode is toegevoegd.")
    await expect(page.get_by_role("cell", name="Krokusvakantie", exact=True)).to_be_visible()
    await assert_accessible(page)

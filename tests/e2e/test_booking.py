"""Booking an appointment in a real browser: by mouse and mail, by keyboard only, and with
axe-core and a 320 px screen on every step."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from clb.services import Services
from tests.conftest import ServerEnv
from tests.e2e.booking_support import (
    BookingServer,
    fits_the_screen,
    running_booking_server,
    tab_to,
    wait_for_mail,
)
from tests.e2e.support import NewPage, assert_accessible
from tests.scheduling.booking_pages_support import at, book_directly, open_day
from tests.scheduling.support import bookable_counsellor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SMALL = {"width": 320, "height": 640}
CONFIRMED = "Je afspraak met het CLB:"
MOVED = "Je afspraak met het CLB is verplaatst:"
REFUSED = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture(scope="module")
def booking_server(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BookingServer]:
    data_dir = tmp_path_factory.mktemp("booking-server")
    with running_booking_server(session_server_env, data_dir) as server:
        yield server


async def slot_name(page: Page, index: int) -> str:
    """The accessible name of the index-th free moment on the page."""
    radio = page.locator('input[name="moment"]').nth(index)
    label = page.locator(f'label[for="{await radio.get_attribute("id")}"] .visually-hidden')
    return await label.inner_text()


async def test_a_parent_books_then_reschedules_through_the_link_in_the_mail(
    new_page: NewPage, booking_server: BookingServer, db: AsyncSession
) -> None:
    # Two working days' notice: the appointment is well past the cut-off for changes.
    await bookable_counsellor(db, min_notice_working_days=2)
    base = booking_server.base_url
    page = await new_page()

    await page.goto(f"{base}/afspraak")
    await page.get_by_label("Naam of gemeente van je school").fill("Testschool")
    await page.get_by_role("button", name="Zoeken").click()
    await page.get_by_role("link", name="Testschool Gent").click()

    await expect(page.get_by_text("Je CLB is CLB ")).to_be_visible()
    await page.get_by_role("radio", name="Gesprek", exact=True).check()
    await page.get_by_role("radio", name="Op het CLB", exact=True).check()
    await page.get_by_role("button", name="Verder").click()

    chosen = await slot_name(page, 0)
    assert re.fullmatch(r"\w+dag \d+ \w+ \d{4} om \d\d:\d\d", chosen), chosen
    await expect(page.locator(".week-place")).to_have_text("Waar: Vestiging Gent")
    await page.get_by_role("radio", name=chosen).check()
    await page.get_by_role("button", name="Verder").click()

    await page.get_by_label("Je voornaam").fill("Sara")
    await page.get_by_label("E-mailadres").fill("sara.ouder@example.be")
    await page.get_by_label("Waarover wil je praten?").fill("Mijn zoon slaapt slecht")
    await page.get_by_label("Ik ga akkoord").check()
    await page.get_by_role("button", name="Afspraak maken").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Je afspraak staat vast")
    when = chosen.split(" om ")[0]
    await expect(page.locator(".facts")).to_contain_text(when)
    await expect(page.get_by_text("Je krijgt een e-mail met een agendabestand.")).to_be_visible()

    # The mail, in the development mailbox, with the manage link.
    mail = await wait_for_mail(booking_server.mailbox, CONFIRMED)
    await page.goto(f"{base}/dev/postvak")
    await page.locator(f'a[href="/dev/postvak/{mail}"]').click()
    body = await page.locator(".mailbox-body").first.inner_text()
    assert "Sara" in body and when in body
    link = re.search(re.escape(base) + r"/afspraak/beheer/[\w-]+", body)
    assert link is not None
    token = link[0].rsplit("/", 1)[1]
    await expect(page.get_by_role("link", name="afspraak.ics")).to_be_visible()

    await page.goto(link[0])
    assert page.url == f"{base}/afspraak/beheer"
    assert token not in await page.content()
    # The address with the token is not in the history: back is the mail again.
    await page.go_back()
    assert page.url == f"{base}/dev/postvak/{mail}"
    await page.go_forward()
    assert page.url == f"{base}/afspraak/beheer"
    await expect(page.locator(".facts")).to_contain_text(when)

    await page.get_by_role("link", name="Een ander moment kiezen").click()
    new = await slot_name(page, 1)
    assert new != chosen
    await page.get_by_role("radio", name=new).check()
    await page.get_by_role("button", name="Verplaatsen naar dit moment").click()
    await expect(page.get_by_role("status")).to_contain_text("Je afspraak is verplaatst.")
    await expect(page.locator(".facts")).to_contain_text(new.split(" om ")[1])
    assert await wait_for_mail(booking_server.mailbox, MOVED)


async def next_step_by_keyboard(page: Page) -> None:
    """Tab to the step's "Verder" button and press Enter, as a keyboard user goes on."""
    await tab_to(page, "button.booking-next")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def tick_by_keyboard(page: Page, selector: str) -> None:
    """Tab to the radio button or box ``selector`` and tick it with the space bar."""
    await tab_to(page, selector)
    await page.keyboard.press("Space")


async def test_the_whole_booking_by_keyboard_only(
    new_page: NewPage, booking_server: BookingServer, db: AsyncSession
) -> None:
    await bookable_counsellor(db, min_notice_working_days=2)
    page = await new_page()
    await page.goto(f"{booking_server.base_url}/afspraak")

    await tab_to(page, "#q")
    await page.keyboard.type("Testschool")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/afspraak?q=Testschool")
    # The results heading has the focus: the next Tab is the school.
    assert await page.evaluate("document.activeElement.id") == "results-title"
    await page.keyboard.press("Tab")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")

    await tick_by_keyboard(page, 'input[name="soort"]')
    await tick_by_keyboard(page, 'input[name="hoe"]')
    await next_step_by_keyboard(page)

    await tick_by_keyboard(page, 'input[name="moment"]')
    assert await page.locator('input[name="moment"]:checked').count() == 1
    await next_step_by_keyboard(page)

    # Forgetting the consent: the error summary takes the focus and links to the box.
    await tab_to(page, "#first_name")
    await page.keyboard.type("Sara")
    await page.keyboard.press("Tab")
    await page.keyboard.type("sara.ouder@example.be")
    await next_step_by_keyboard(page)
    assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
    await tab_to(page, 'a[href="#consent"]')
    await page.keyboard.press("Enter")
    await tick_by_keyboard(page, "#consent")
    await next_step_by_keyboard(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Je afspraak staat vast")


async def check(page: Page) -> None:
    await assert_accessible(page)
    await fits_the_screen(page)


@pytest.mark.parametrize("locale", ["nl-BE", "en-GB"])
async def test_every_step_passes_axe_and_fits_a_small_phone(
    new_page: NewPage,
    booking_server: BookingServer,
    db: AsyncSession,
    services: Services,
    locale: str,
) -> None:
    staff, school = await bookable_counsellor(db)
    base = booking_server.base_url
    page = await new_page(locale=locale, viewport=SMALL)
    # A CSP violation or a script error shows up as a console error; a refused form (422)
    # is only "Failed to load resource".
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not message.text.startswith(REFUSED)
            else None
        ),
    )
    await page.goto(f"{base}/afspraak")
    await check(page)
    await page.goto(f"{base}/afspraak?q=x")  # too short
    await check(page)
    await page.goto(f"{base}/afspraak?q=gent")
    await check(page)
    await page.locator(".school-link").first.click()
    await check(page)
    await page.locator(".booking-next").click()  # nothing chosen
    await check(page)
    await page.locator('input[name="soort"]').first.check()
    await page.locator('input[name="hoe"]').first.check()
    await page.locator(".booking-next").click()
    await check(page)
    await page.locator('input[name="moment"]').first.check()
    await page.locator(".booking-next").click()
    await check(page)
    await page.locator(".booking-next").click()  # nothing filled in
    await expect(page.locator(".error-summary")).to_be_visible()
    await check(page)
    await page.locator("#first_name").fill("Sara")
    await page.locator("#email").fill("sara.ouder@example.be")
    await page.locator("#consent").check()
    await page.locator(".booking-next").click()
    await page.wait_for_url("**/afspraak/beheer/bevestiging")
    await check(page)

    _appointment, token = await book_directly(
        db, services, staff, school, at(await open_day(db, school.centre_id), 15)
    )
    await page.goto(f"{base}/afspraak/beheer/{token}")
    await check(page)
    await page.goto(f"{base}/afspraak/beheer/verplaatsen")
    await check(page)
    await page.goto(f"{base}/afspraak/beheer/annuleren")
    await check(page)
    await page.locator(".button.danger").click()
    await check(page)
    assert errors == [], errors
    await page.goto(f"{base}/afspraak/beheer/" + "x" * 43)
    await check(page)

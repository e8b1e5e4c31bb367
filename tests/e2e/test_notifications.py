"""Notifications in a real browser: a parent books with a counsellor on the public pages;
the counsellor sees the unread count in the console's header and the notification in the
list, opens it (it goes to the appointment and is read), and changes a setting. The mail
arrives in the development mailbox through the real worker. axe-core on every page, at
1280 and 360 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, ServerEnv
from tests.e2e.booking_support import (
    BookingServer,
    fits_the_screen,
    running_booking_server,
    wait_for_mail,
)
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, console_errors, log_in
from tests.scheduling.support import bookable_counsellor

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AN = "an@clb.example"
WAIT = 30_000  # ms: the machine is slow and busy


@pytest.fixture(scope="module")
def notification_server(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BookingServer]:
    data_dir = tmp_path_factory.mktemp("notification-server")
    with running_booking_server(session_server_env, data_dir) as server:
        yield server


async def book_as_a_parent(page: Page, base: str) -> None:
    await page.goto(f"{base}/afspraak")
    await page.get_by_label("Naam of gemeente van je school").fill("Testschool")
    await page.get_by_role("button", name="Zoeken").click()
    await page.get_by_role("link", name="Testschool Gent").click()
    await page.get_by_role("radio", name="Gesprek", exact=True).check()
    await page.get_by_role("radio", name="Op het CLB", exact=True).check()
    await page.get_by_role("button", name="Verder").click()
    await page.locator('input[name="moment"]').first.check()
    await page.get_by_role("button", name="Verder").click()
    await page.get_by_label("Je voornaam").fill("Sara")
    await page.get_by_label("E-mailadres").fill("sara.ouder@example.be")
    await page.get_by_label("Ik ga akkoord").check()
    await page.get_by_role("button", name="Afspraak maken").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Je afspraak staat vast", timeout=WAIT
    )


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["1280", "360"])
async def test_a_counsellor_sees_a_new_booking_and_changes_a_setting(
    new_page: NewPage,
    notification_server: BookingServer,
    db: AsyncSession,
    viewport: dict[str, int],
    tmp_path: Path,
) -> None:
    await bookable_counsellor(db, email=AN)
    base = notification_server.base_url
    await book_as_a_parent(await new_page(), base)
    assert await wait_for_mail(notification_server.mailbox, "CLB-platform: Nieuwe afspraak")

    page = await new_page(viewport=viewport)
    errors = console_errors(page)
    await log_in(page, base, AN, TEST_PASSWORD)
    header_link = page.get_by_role("link", name="Meldingen 1 nieuw")
    await expect(header_link).to_be_visible(timeout=WAIT)
    await fits_the_screen(page)
    await assert_accessible(page)
    shots = tmp_path / f"{viewport['width']}"
    await page.screenshot(path=shots / "console.png", full_page=True)

    async with page.expect_navigation():
        await header_link.click()
    await page.get_by_role("heading", level=1, name="Meldingen").wait_for()
    await expect(page.get_by_text("Je hebt 1 ongelezen melding.")).to_be_visible()
    item = page.get_by_role("link", name="Nieuw Nieuwe afspraak")
    await expect(item).to_be_visible()
    await expect(page.get_by_text("Er is een nieuwe afspraak bij jou op ")).to_be_visible()
    await fits_the_screen(page)
    await assert_accessible(page)
    await page.screenshot(path=shots / "list.png", full_page=True)

    async with page.expect_navigation():
        await item.click()
    await page.get_by_role("heading", level=1, name="Afspraak met Sara").wait_for()
    assert "/console/agenda/afspraken/" in page.url
    await expect(page.get_by_role("link", name="Meldingen", exact=True)).to_be_visible(timeout=WAIT)
    await expect(page.locator("[data-notification-count]")).to_be_hidden()

    await page.goto(f"{base}/console/meldingen")
    await expect(page.get_by_text("Je hebt geen ongelezen meldingen.")).to_be_visible()
    async with page.expect_navigation():
        await page.get_by_role("link", name="Kies welke meldingen je krijgt").click()
    await page.get_by_role("heading", level=1, name="Instellingen voor meldingen").wait_for()
    await assert_accessible(page)
    mail_box = page.get_by_role("checkbox", name="Per mail (Nieuwe afspraak)")
    await expect(mail_box).to_be_checked()
    await mail_box.uncheck()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Bewaren").click()
    await expect(page.get_by_role("status")).to_contain_text("Je instellingen zijn bewaard.")
    await expect(
        page.get_by_role("checkbox", name="Per mail (Nieuwe afspraak)")
    ).not_to_be_checked()
    await expect(
        page.get_by_role("checkbox", name="In de console (Nieuwe afspraak)")
    ).to_be_checked()
    await fits_the_screen(page)
    await assert_accessible(page)
    await page.screenshot(path=shots / "settings.png", full_page=True)
    assert errors == []

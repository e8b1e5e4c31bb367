"""Staff log in and out in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Page
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_wrong_password_shows_a_dutch_error_and_keeps_the_email(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    await log_in(page, live_server, "an@clb.example", "niet-het-wachtwoord")
    assert await page.get_by_role("alert").inner_text() == (
        "Dit e-mailadres of wachtwoord klopt niet."
    )
    assert await page.get_by_label("E-mailadres").input_value() == "an@clb.example"
    assert await page.get_by_label("Wachtwoord").input_value() == ""


async def test_log_in_and_out(page: Page, live_server: str, db: AsyncSession) -> None:
    await make_staff(db)
    await log_in(page, live_server, "an@clb.example", TEST_PASSWORD)
    assert page.url == live_server + "/console"
    assert await page.get_by_role("heading", level=1).inner_text() == "Welkom, An"

    async with page.expect_navigation():
        await page.get_by_role("button", name="Afmelden").click()
    assert page.url == live_server + "/console/login?afgemeld=1"
    assert await page.get_by_role("status").inner_text() == "Je bent afgemeld."

    await page.goto(live_server + "/console")
    assert page.url.startswith(live_server + "/console/login")
    await page.get_by_label("Wachtwoord").wait_for()

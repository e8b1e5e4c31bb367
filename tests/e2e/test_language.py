"""Switching to English, by choice or from the browser's language."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.e2e.support import NewPage

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_clicking_english_shows_the_english_site(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/toolbox")
    assert await page.get_by_role("link", name="Snel weg").is_visible()

    await page.get_by_role("navigation", name="Taal").get_by_role("link", name="English").click()
    await page.wait_for_url(live_server + "/toolbox")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_role("link", name="Quick exit").is_visible()

    # The choice sticks for the next page.
    await page.goto(live_server + "/")
    assert await page.get_by_role("heading", level=1).inner_text() == "How can we help you?"


async def test_english_browser_gets_english_without_asking(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page(locale="en-GB")
    await page.goto(live_server + "/")
    assert await page.locator("html").get_attribute("lang") == "en"
    assert await page.get_by_role("link", name="Quick exit").is_visible()
    assert await page.get_by_role("link", name="Chat with the CLB").is_visible()


async def test_dutch_browser_gets_dutch(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/")
    assert await page.locator("html").get_attribute("lang") == "nl-BE"
    assert await page.get_by_role("heading", level=1).inner_text() == (
        "Waarmee kunnen we je helpen?"
    )

"""A pupil finds help in the toolbox, in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.e2e.support import assert_accessible

pytestmark = pytest.mark.browser


async def test_a_pupil_filters_by_theme_and_opens_a_tool(page: Page, live_server: str) -> None:
    await page.goto(f"{live_server}/toolbox/voor-leerlingen")
    await assert_accessible(page)
    await page.get_by_text("Filters").click()
    await page.get_by_label("Faalangst").check()
    await page.get_by_role("button", name="Toon resultaten").click()
    await page.wait_for_url("**thema=faalangst**")
    results = page.locator(".tool-card h3 a")
    assert await results.count() > 0
    first = await results.first.inner_text()
    await assert_accessible(page)
    await results.first.click()
    await page.wait_for_load_state()
    assert await page.locator("h1").inner_text() == first
    await assert_accessible(page)


async def test_search_with_a_typo_still_helps(page: Page, live_server: str) -> None:
    await page.goto(f"{live_server}/toolbox")
    await page.get_by_label("Waar zoek je iets over?").fill("onderwijskeizer")
    await page.get_by_role("button", name="Zoeken").click()
    await page.wait_for_url("**q=onderwijskeizer**")
    assert await page.get_by_role("link", name="Onderwijskiezer").count() == 1

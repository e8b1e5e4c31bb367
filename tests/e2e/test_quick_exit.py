"""Quick exit: Escape or the button swaps the platform for a neutral site and leaves no way
back through the Back button; what the visitor kept in sessionStorage is gone."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, Route
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.support import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEUTRAL_SITE = "https://www.google.be/search?q=weerbericht"  # CLB_QUICK_EXIT_URL default


async def neutral_site(route: Route) -> None:
    # The network is closed in tests: answer for the neutral site ourselves.
    await route.fulfill(body="<html><body>weer</body></html>", content_type="text/html")


async def browse_the_platform(page: Page, live_server: str) -> None:
    await page.route("https://www.google.be/**", neutral_site)
    await page.goto(live_server + "/")
    await page.evaluate("sessionStorage.setItem('clb-visitor', 'geheim')")
    # An internal link replaces the current history entry instead of adding one.
    await page.get_by_role("link", name="Toolbox").click()
    await page.wait_for_url(live_server + "/toolbox")
    assert await page.evaluate("sessionStorage.getItem('clb-visitor')") == "geheim"


async def assert_left_without_a_trace(page: Page, live_server: str) -> None:
    await page.wait_for_url(NEUTRAL_SITE)
    assert await page.locator("body").inner_text() == "weer"

    await page.go_back()
    await page.wait_for_load_state()
    assert not page.url.startswith(live_server), f"Back led into the platform: {page.url}"

    await page.goto(live_server + "/")
    assert await page.evaluate("sessionStorage.length") == 0


async def test_escape_leaves_no_history_entry_and_clears_session_storage(
    page: Page, live_server: str
) -> None:
    await browse_the_platform(page, live_server)
    await page.keyboard.press("Escape")
    await assert_left_without_a_trace(page, live_server)


async def test_quick_exit_button_leaves_no_history_entry_and_clears_session_storage(
    page: Page, live_server: str
) -> None:
    await browse_the_platform(page, live_server)
    await page.get_by_role("link", name="Snel weg").click()
    await assert_left_without_a_trace(page, live_server)


async def test_quick_exit_button_stays_on_screen_while_scrolling(
    page: Page, live_server: str
) -> None:
    await page.set_viewport_size({"width": 360, "height": 640})
    await page.goto(live_server + "/")
    await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert await page.evaluate("window.scrollY") > 0
    box = await page.get_by_role("link", name="Snel weg").bounding_box()
    assert box is not None
    assert 0 <= box["y"] and box["y"] + box["height"] <= 640


@pytest.mark.browser
async def test_escape_does_not_throw_a_counsellor_out_of_the_console(
    page: Page, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db)
    await log_in(page, live_server, "an@clb.example", TEST_PASSWORD)
    await page.goto(f"{live_server}/console/chat")
    await page.keyboard.press("Escape")
    await page.wait_for_timeout(300)
    assert page.url == f"{live_server}/console/chat"

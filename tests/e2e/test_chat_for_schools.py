"""The chat on a school's website, in a real browser: the page for schools hands out the
button's snippet with a live preview; pasted into another site's page the button shows
whether the chat is open and opens the chat in a new tab; the new pages pass axe-core and
fit a phone's screen."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, console_errors
from tests.e2e.test_toolbox_schools import SCHOOL, school_page, serve_school_page

pytestmark = [pytest.mark.browser]

# Where to keep screenshots for a person to look at (not kept unless asked for).
SHOTS = os.environ.get("CLB_TEST_SCREENSHOTS", "")
# The browser tests' server runs with CLB_CHAT_ALWAYS_OPEN (tests/conftest.py).
OPEN = "Nu open"


async def shoot(page: Page, name: str) -> None:
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def fits_the_screen(page: Page) -> bool:
    return bool(
        await page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


async def test_a_school_puts_the_chat_button_on_its_site(
    new_page: NewPage, live_server: str
) -> None:
    page = await new_page()
    errors = console_errors(page)
    await page.goto(f"{live_server}/toolbox")
    await page.get_by_role("link", name="Voor scholen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Voor scholen")
    code = page.get_by_label("Code om in te sluiten").first
    snippet = await code.input_value()
    assert snippet.startswith(f'<iframe src="{live_server}/chat/knop" title="Chat met het CLB"')
    preview = page.frame_locator('.embed-preview iframe[title="Chat met het CLB"]')
    await expect(preview.get_by_role("link", name=re.compile("Chat met het CLB"))).to_be_visible()
    await expect(preview.locator("#chat-status")).to_have_text(OPEN)
    await assert_accessible(page)
    assert errors == []

    school = await new_page()
    await serve_school_page(school, school_page(html.unescape(snippet)))
    await school.goto(f"{SCHOOL}/zorg")
    button = school.frame_locator('iframe[title="Chat met het CLB"]')
    link = button.get_by_role("link", name=re.compile("^Chat met het CLB"))
    await expect(link).to_be_visible()
    await expect(link).to_have_attribute("target", "_blank")
    await expect(button.locator("#chat-status")).to_have_text(OPEN)
    # The chat opens in a new tab; the school's page stays where it was.
    async with school.context.expect_page() as opened:
        await link.click()
    chat = await opened.value
    await chat.wait_for_load_state()
    assert chat.url == f"{live_server}/chat"
    assert school.url == f"{SCHOOL}/zorg"


@pytest.mark.parametrize("path", ["/toolbox/delen", "/chat/knop", "/chat/affiche"])
@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["360", "1280"])
async def test_the_new_pages_fit_and_pass_axe(
    new_page: NewPage, live_server: str, path: str, viewport: dict[str, int]
) -> None:
    page = await new_page(viewport=viewport)
    errors = console_errors(page)
    response = await page.goto(live_server + path)
    assert response is not None and response.status == 200
    await page.wait_for_load_state("networkidle")
    assert await fits_the_screen(page)
    await assert_accessible(page)
    assert errors == []
    await shoot(page, f"{path.strip('/').replace('/', '-')}-{viewport['width']}")


async def test_a_broken_snippet_and_the_printed_poster(new_page: NewPage, live_server: str) -> None:
    page = await new_page(locale="en-GB")
    response = await page.goto(f"{live_server}/chat/knop?lang=xx")
    assert response is not None and response.status == 422
    await expect(page.get_by_text("We do not know that language: xx.")).to_be_visible()
    await assert_accessible(page)

    poster = await new_page()
    await poster.goto(f"{live_server}/chat/affiche")
    qr = poster.get_by_role("img", name="QR-code naar de chat")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")
    await poster.emulate_media(media="print")
    for chrome in (".topbar", ".site-header", ".site-footer", ".poster-instructions"):
        await expect(poster.locator(chrome)).to_be_hidden()
    await expect(qr).to_be_visible()
    # One A4 sheet.
    pdf = await poster.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page(?![a-z])", pdf)) == 1

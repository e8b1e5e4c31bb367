"""The counsellor sees who left (issue 14), in real Chromium: the pupil's quick exit shows
on the console within 2 s, a page that lost its connection shows "Verbinding verbroken
sinds …", and the typing indicator clears."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Route, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import make_staff
from tests.e2e.chat_support import chat_until_claimed, stored_chat
from tests.e2e.support import MOBILE, NewPage, assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def neutral_site(route: Route) -> None:
    await route.fulfill(body="<html><body>weer</body></html>", content_type="text/html")


async def test_quick_exit_shows_on_the_console_within_two_seconds(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor, console = await new_page(viewport=MOBILE), await new_page()
    await visitor.route("https://www.google.be/**", neutral_site)
    await chat_until_claimed(visitor, console, live_server)
    await visitor.get_by_label("Je bericht aan An").fill("Ik wil je iets vert")
    await expect(console.locator(".console-panel .typing")).to_be_visible()
    assert await stored_chat(visitor) is not None

    started = time.monotonic()
    await visitor.get_by_role("link", name="Snel weg").first.click()
    presence = console.locator(".panel-presence")
    await expect(presence).to_have_text(
        re.compile(r"^Sam heeft het gesprek verlaten \(\d\d[:.]\d\d\)$"), timeout=2000
    )
    assert time.monotonic() - started < 2
    await expect(console.locator(".console-panel .typing")).to_be_hidden()
    await expect(console.locator(".msg-system .msg-body").last).to_have_text(
        "Sam heeft het gesprek verlaten."
    )
    await visitor.wait_for_url("https://www.google.be/**")
    await visitor.goto(live_server + "/chat")
    assert await visitor.evaluate("sessionStorage.length") == 0
    await assert_accessible(console)


async def test_a_lost_connection_shows_since_when(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor, console = await new_page(), await new_page(viewport=MOBILE)
    await chat_until_claimed(visitor, console, live_server)
    await visitor.close()  # the tab is gone; a grace time later, the console says so
    presence = console.locator(".panel-presence")
    await expect(presence).to_have_text(
        re.compile(r"^Verbinding verbroken sinds \d\d[:.]\d\d$"), timeout=30_000
    )
    await expect(console.get_by_role("tab", name=re.compile(r"\(weg\)"))).to_have_count(1)
    await assert_accessible(console)

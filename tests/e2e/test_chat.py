"""The anonymous chat in real browsers: a visitor (one browser context) and a counsellor
(another) on the real server, from the form to the rating, through network drops."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from playwright.async_api import Dialog, Page, Route, WebSocketRoute, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation
from tests.conftest import make_staff
from tests.e2e.chat_support import (
    NEXT_OPENING_EN,
    NEXT_OPENING_NL,
    answer_closed,
    bodies,
    chat_until_claimed,
    claim,
    counsellor_says,
    fill_form,
    open_console,
    start_chat,
    stored_chat,
    visitor_says,
)
from tests.e2e.support import MOBILE, NewPage, assert_accessible, console_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSS = "<img src=x onerror=alert(1)>"
SCREENSHOTS = Path(tempfile.gettempdir())


def no_dialogs(page: Page, seen: list[str]) -> None:
    """A script run from message text would show up as an alert."""

    async def record(dialog: Dialog) -> None:
        seen.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", record)


async def test_visitor_and_counsellor_chat_from_form_to_rating(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor = await new_page(viewport=MOBILE)
    console = await new_page()
    alerts: list[str] = []
    no_dialogs(visitor, alerts)
    no_dialogs(console, alerts)
    visitor_errors = console_errors(visitor)
    console_page_errors = console_errors(console)

    await start_chat(visitor, live_server)
    stored = await stored_chat(visitor)
    assert stored is not None and '"conversationId"' in stored and '"token"' in stored
    await expect(visitor.locator("#queue-position")).to_have_text("Je bent de volgende.")

    # The counsellor sees the waiting chat with its form details, and claims it.
    await open_console(console, live_server)
    item = console.locator(".queue-item", has_text="Sam")
    await expect(item).to_contain_text("Leerling · School en leren")
    await expect(item).to_contain_text("Taal: Nederlands")  # the form asks no subject now
    await expect(item).to_contain_text("wacht")
    await expect(console).to_have_title("(1) Chatconsole · CLB")
    await claim(console)
    await expect(console).to_have_title("Chatconsole · CLB")
    await expect(console.locator(".queue-item")).to_have_count(0)

    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()
    await expect(visitor.locator(".msg-system")).to_contain_text("An neemt deel aan het gesprek.")

    # Both ways, and message text is only ever text.
    await visitor_says(visitor, f"Hallo {XSS}")
    await expect(console.locator(".msg-other .msg-body")).to_have_text([f"Hallo {XSS}"])
    assert await console.locator(".msg-list img").count() == 0
    # The counsellor's console is open and visible, so the visitor's message shows as read.
    await expect(visitor.locator(".msg-own .msg-mark")).to_contain_text("gelezen")

    await console.get_by_label("Bericht aan Sam").fill("Ik typ iets")
    await expect(visitor.locator("#typing")).to_have_text("An is aan het typen…")
    await console.get_by_label("Bericht aan Sam").fill("")
    await counsellor_says(console, f"Dag Sam {XSS}")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text([f"Dag Sam {XSS}"])
    assert await visitor.locator(".msg-list img").count() == 0
    await expect(console.locator(".msg-own .msg-mark")).to_contain_text("gelezen")
    assert await bodies(visitor, "own") == [f"Hallo {XSS}"]

    # Shift+Enter is a new line, Enter sends.
    box = visitor.get_by_label("Je bericht aan An")
    await box.fill("Eerste regel")
    await box.press("Shift+Enter")
    await box.press_sequentially("tweede regel")
    await box.press("Enter")
    await expect(console.locator(".msg-other .msg-body").last).to_have_text(
        "Eerste regel\ntweede regel"
    )

    # The counsellor says goodbye and ends the chat (with a confirm step). The visitor can
    # still read the last words before going on to the rating.
    await counsellor_says(console, "Veel succes met de examens!")
    panel = console.locator(".console-panel", has_text="Sam")
    await panel.get_by_role("button", name="Beëindigen").click()
    await panel.get_by_role("button", name="Ja, beëindigen").click()
    await expect(panel.locator(".panel-ended")).to_contain_text("Dit gesprek is afgelopen.")
    await expect(visitor.locator("#chat-ended")).to_contain_text("Dit gesprek is afgelopen.")
    await expect(visitor.get_by_text("Veel succes met de examens!")).to_be_visible()
    await expect(visitor.get_by_label("Je bericht aan An")).to_be_hidden()
    await visitor.get_by_role("button", name="Verder").click()
    await expect(visitor.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_focused()

    # Rating.
    await visitor.get_by_role("button", name="Versturen").click()
    await expect(visitor.locator("#rating-error")).to_have_text(
        "Kies eerst hoeveel sterren je geeft."
    )
    await visitor.get_by_role("radio", name="4 sterren").check()
    await visitor.get_by_label("Wil je nog iets kwijt over dit gesprek?").fill("Fijn, dank je")
    await visitor.get_by_role("button", name="Versturen").click()
    await expect(visitor.locator("#rating-status")).to_have_text("Bedankt voor je beoordeling.")
    rated = await db.scalar(select(Conversation.rating).execution_options(populate_existing=True))
    assert rated == 4

    # Download: the transcript as a file, through a temporary blob link.
    async with visitor.expect_download() as download_info:
        await visitor.get_by_role("button", name="Gesprek downloaden").click()
    download = await download_info.value
    assert download.suggested_filename == "gesprek-clb.txt"
    saved = await download.path()
    transcript = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert f"Hallo {XSS}" in transcript and f"Dag Sam {XSS}" in transcript

    # Klaar: nothing of the conversation stays on the device.
    await visitor.get_by_role("button", name="Klaar").click()
    await expect(visitor.get_by_role("heading", name="Tot een volgende keer")).to_be_visible()
    assert await visitor.evaluate("sessionStorage.length") == 0
    assert await visitor.locator(".msg").count() == 0
    await visitor.reload()
    await expect(visitor.get_by_label("Hoe mogen we je noemen?")).to_be_visible()
    assert await visitor.get_by_text("Hallo").count() == 0

    assert alerts == []
    assert visitor_errors == [] and console_page_errors == []


async def test_network_drop_mid_chat_resumes_without_loss_or_duplicates(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor = await new_page(viewport=MOBILE)
    console = await new_page()
    await chat_until_claimed(visitor, console, live_server)
    await counsellor_says(console, "Welkom")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(["Welkom"])

    await visitor.context.set_offline(True)
    await expect(visitor.get_by_text("Verbinding herstellen…")).to_be_visible()
    for n in (1, 2, 3):
        await counsellor_says(console, f"Bericht {n}")
    await expect(console.locator(".msg-own[data-mark='pending']")).to_have_count(0)
    # Written while offline: shown at once as pending, sent after the reconnect.
    await visitor_says(visitor, "Ben je er nog?")
    await expect(visitor.locator(".msg-own .msg-mark")).to_have_text("wordt verstuurd…")

    await visitor.context.set_offline(False)
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(
        ["Welkom", "Bericht 1", "Bericht 2", "Bericht 3"]
    )
    await expect(visitor.get_by_text("Verbinding herstellen…")).to_be_hidden()
    await expect(console.locator(".msg-other .msg-body")).to_have_text(["Ben je er nog?"])
    await expect(visitor.locator(".msg-own .msg-mark")).not_to_have_text("wordt verstuurd…")

    # The phone says it lost the network: drop the socket at once, come back when it is back.
    await visitor.evaluate("window.dispatchEvent(new Event('offline'))")
    await counsellor_says(console, "Bericht 4")
    await visitor.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(
        ["Welkom", "Bericht 1", "Bericht 2", "Bericht 3", "Bericht 4"]
    )

    # A refresh resumes the same conversation from sessionStorage, with its history.
    await visitor.reload()
    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(
        ["Welkom", "Bericht 1", "Bericht 2", "Bericht 3", "Bericht 4"]
    )
    await expect(visitor.locator(".msg-own .msg-body")).to_have_text(["Ben je er nog?"])
    await visitor_says(visitor, "Nog altijd hier")
    await expect(console.locator(".msg-other .msg-body")).to_have_text(
        ["Ben je er nog?", "Nog altijd hier"]
    )


async def test_closed_chat_shows_the_next_opening_and_the_alternatives(
    page: Page, live_server: str
) -> None:
    await answer_closed(page)
    errors = console_errors(page)
    await page.goto(live_server + "/chat")
    await expect(page.get_by_role("heading", name="De chat is nu gesloten")).to_be_visible()
    await expect(page.locator("#closed-next")).to_have_text(
        f"De chat is weer open {NEXT_OPENING_NL}."
    )
    await expect(page.locator("#closed-weekly li")).to_have_text(
        [
            "maandag: van 17.00 tot 21.00 uur",
            "dinsdag: van 17.00 tot 21.00 uur",
            "woensdag: van 14.00 tot 21.00 uur",
            "donderdag: van 17.00 tot 21.00 uur",
        ]
    )
    main = page.get_by_role("main")
    for name, href in (
        ("Toolbox", "/toolbox"),
        ("Afspraak maken", "/afspraak"),
        ("Liever iemand zien", "/liever-iemand-zien"),
        ("Awel 102", "tel:102"),
        ("Zelfmoordlijn 1813", "tel:1813"),
        ("112", "tel:112"),
    ):
        await expect(main.get_by_role("link", name=name, exact=True).first).to_have_attribute(
            "href", href
        )
    assert await page.get_by_label("Hoe mogen we je noemen?").is_hidden()
    await assert_accessible(page)
    assert errors == []


async def test_closed_screen_in_english(new_page: NewPage, live_server: str) -> None:
    page = await new_page(locale="en-GB")
    await answer_closed(page)
    await page.goto(live_server + "/chat")
    await expect(page.locator("#closed-next")).to_contain_text(NEXT_OPENING_EN)


async def test_server_refusals_show_the_closed_and_busy_screens(
    page: Page, live_server: str
) -> None:
    answers = [
        (409, "chat_closed", {"next_opening": "2030-11-27T13:00:00+00:00"}),
        (503, "queue_full", None),
    ]

    async def refuse(route: Route) -> None:
        status, code, details = answers.pop(0)
        error = {"code": code, "message": "", **({"details": details} if details else {})}
        await route.fulfill(status=status, json={"error": error})

    await page.route("**/api/chat/conversations", refuse)
    await page.goto(live_server + "/chat")
    await fill_form(page)
    await page.get_by_role("button", name="Start de chat").click()
    await expect(page.get_by_role("heading", name="De chat is nu gesloten")).to_be_focused()
    await expect(page.locator("#closed-next")).to_contain_text(NEXT_OPENING_NL)

    await page.goto(live_server + "/chat")
    await fill_form(page)
    await page.get_by_role("button", name="Start de chat").click()
    await expect(page.get_by_role("heading", name="Het is nu heel druk")).to_be_focused()
    await expect(
        page.get_by_role("main").get_by_role("link", name="Zelfmoordlijn 1813")
    ).to_be_visible()


async def test_form_says_what_is_missing(page: Page, live_server: str) -> None:
    await page.goto(live_server + "/chat")
    await page.get_by_role("button", name="Start de chat").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary.get_by_role("link")).to_have_text(
        [
            "Vul een naam in. Een verzonnen naam mag ook.",
            "Kies wie je bent.",
            "Kies waarover je wil praten.",
            "Vink het vakje aan om te starten.",
        ]
    )
    await expect(page.get_by_label("Hoe mogen we je noemen?")).to_have_attribute(
        "aria-invalid", "true"
    )
    await summary.get_by_role("link", name="Kies waarover je wil praten.").click()
    await expect(page.get_by_label("Waarover gaat het?")).to_be_focused()
    assert await stored_chat(page) is None  # nothing sent, nothing kept


async def test_chat_screens_have_no_axe_violations(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor = await new_page()
    console = await new_page()
    await visitor.goto(live_server + "/chat")
    await expect(visitor.get_by_label("Hoe mogen we je noemen?")).to_be_visible()
    await assert_accessible(visitor)  # the form

    await start_chat(visitor, live_server)
    await assert_accessible(visitor)  # the queue

    await open_console(console, live_server)
    await expect(console.locator(".queue-item")).to_have_count(1)
    await assert_accessible(console)  # the waiting list
    await claim(console)
    await counsellor_says(console, "Hallo Sam")
    await expect(visitor.locator(".msg-other")).to_have_count(1)
    await assert_accessible(visitor)  # the chat
    await assert_accessible(console)  # a held chat

    await visitor.get_by_role("button", name="Gesprek beëindigen").click()
    await expect(visitor.get_by_role("button", name="Nee, verder chatten")).to_be_focused()
    await visitor.get_by_role("button", name="Ja, beëindigen").click()
    await expect(visitor.get_by_role("heading", name="Het gesprek is afgelopen")).to_be_focused()
    await expect(console.locator(".panel-ended")).to_be_visible()
    await assert_accessible(visitor)  # the rating
    await assert_accessible(console)  # an ended chat


async def test_leaving_the_queue(page: Page, live_server: str) -> None:
    await start_chat(page, live_server)
    # Tips open in a new tab, so the place in the queue is kept.
    tips = page.get_by_role("link", name="Lees tips in de toolbox")
    await expect(tips).to_have_attribute("target", "_blank")
    await expect(tips).to_have_attribute("rel", "noopener")

    await page.get_by_role("button", name="Wachtrij verlaten").click()
    await page.get_by_role("button", name="Nee, ik wacht nog").click()
    await expect(page.get_by_role("button", name="Wachtrij verlaten")).to_be_focused()
    await page.get_by_role("button", name="Wachtrij verlaten").click()
    await page.get_by_role("button", name="Ja, verlaat de wachtrij").click()
    await expect(page.get_by_role("heading", name="Je hebt de wachtrij verlaten")).to_be_visible()
    assert await stored_chat(page) is None


async def test_quick_exit_during_a_chat_clears_session_storage(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor = await new_page()
    console = await new_page()

    async def neutral_site(route: Route) -> None:
        await route.fulfill(body="<html><body>weer</body></html>", content_type="text/html")

    await visitor.route("https://www.google.be/**", neutral_site)
    await chat_until_claimed(visitor, console, live_server)
    await visitor_says(visitor, "Iemand komt binnen")
    await expect(console.locator(".msg-other .msg-body")).to_have_text(["Iemand komt binnen"])
    assert await stored_chat(visitor) is not None

    # Messages keep arriving while the page leaves: nothing may write the storage again.
    await counsellor_says(console, "Ben je er nog?")
    await visitor.get_by_label("Je bericht aan An").press("Escape")
    await visitor.wait_for_url("https://www.google.be/**")
    await counsellor_says(console, "Hallo?")
    await visitor.goto(live_server + "/chat")
    assert await visitor.evaluate("sessionStorage.length") == 0
    await expect(visitor.get_by_label("Hoe mogen we je noemen?")).to_be_visible()
    assert await visitor.get_by_text("Iemand komt binnen").count() == 0


async def test_a_claim_lost_to_a_colleague_says_so(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    await make_staff(db, email="bo@clb.example", roles=("counsellor",))
    visitor = await new_page()
    first = await new_page()
    second = await new_page()
    await start_chat(visitor, live_server)

    # The second console misses the queue update that would hide the taken chat.
    frozen = {"queue": False}

    def hold_queue(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            text = message.decode() if isinstance(message, bytes) else message
            if frozen["queue"] and '"type":"queue"' in text:
                return
            ws.send(message)

        server.on_message(from_server)

    await second.route_web_socket("**/ws/console", hold_queue)
    await open_console(second, live_server, "bo@clb.example")
    await expect(second.locator(".queue-item")).to_have_count(1)
    frozen["queue"] = True

    await open_console(first, live_server)
    await claim(first)
    await second.get_by_role("button", name="Aannemen").click()
    await expect(second.locator("#queue-notice")).to_have_text(
        "Een collega heeft dit gesprek al aangenomen."
    )
    await expect(second.locator(".queue-item")).to_have_count(0)
    assert await second.locator(".console-panel").count() == 0


async def test_counsellor_on_another_instance(
    new_page: NewPage, live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor = await new_page()
    console = await new_page()
    await chat_until_claimed(visitor, console, live_server, console_url=live_server_b)
    await visitor_says(visitor, "Via de eerste server")
    await expect(console.locator(".msg-other .msg-body")).to_have_text(["Via de eerste server"])
    await counsellor_says(console, "Via de tweede server")
    await expect(visitor.locator(".msg-other .msg-body")).to_have_text(["Via de tweede server"])
    await expect(visitor.locator(".msg-own .msg-mark")).to_contain_text("gelezen")


async def test_chat_screens_fit_a_phone(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, roles=("counsellor",))
    visitor = await new_page(viewport=MOBILE)
    console = await new_page(viewport=MOBILE)
    width, height = MOBILE["width"], MOBILE["height"]

    async def fits(name: str, full_page: bool = True) -> None:
        await visitor.screenshot(
            path=str(SCREENSHOTS / f"chat-{name}-mobile.png"), full_page=full_page
        )
        assert await visitor.evaluate("document.documentElement.scrollWidth") <= width, name

    await visitor.goto(live_server + "/chat")
    await expect(visitor.get_by_label("Hoe mogen we je noemen?")).to_be_visible()
    await fits("form")
    await start_chat(visitor, live_server)
    await fits("queue")

    await open_console(console, live_server)
    await claim(console)
    await expect(visitor.get_by_role("heading", name="Je chat met An")).to_be_visible()
    await counsellor_says(console, "Hallo Sam, waarover wil je het hebben?")
    await visitor_says(visitor, "Over de examens. Ik slaap er slecht van.")
    await expect(visitor.locator(".msg-own .msg-mark")).to_contain_text("gelezen")
    await fits("chat", full_page=False)
    await console.screenshot(path=str(SCREENSHOTS / "chat-console-mobile.png"), full_page=True)
    # While chatting, the box to write in and the send button are on screen.
    for locator in (
        visitor.get_by_label("Je bericht aan An"),
        visitor.get_by_role("button", name="Versturen"),
    ):
        box = await locator.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height

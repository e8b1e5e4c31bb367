"""The chat duty rota in the browser: a coordinator plans two counsellors and sees what is
not covered, a counsellor asks a colleague to take over a shift and the colleague accepts,
and the supervision page sets the plan beside who is really on duty. axe-core finds nothing
at 1280 and at 360 px."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from chat.opening_hours.schedule import BRUSSELS, Period
from chat.opening_hours.service import add_exception
from clb.auth.models import StaffAccount
from tests.chat.support import console, staff_cookie
from tests.conftest import TEST_PASSWORD, make_centre, make_staff
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "rota"


def slot_id(day: datetime) -> str:
    """The id the rota page gives the slot starting at ``day`` (Brussels)."""
    return "slot-" + day.astimezone(UTC).strftime("%Y%m%d%H%M")


async def check_both_widths(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("mobile", MOBILE)):
        await page.set_viewport_size({"width": size["width"], "height": size["height"]})
        await assert_accessible(page)
        await page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size({"width": DESKTOP["width"], "height": DESKTOP["height"]})


async def a_centre(db: AsyncSession) -> dict[str, StaffAccount]:
    centre = await make_centre(db, "clb-rooster")
    people = {}
    for email, name, roles in (
        ("coco@clb.example", "Coco", ("coordinator",)),
        ("an@clb.example", "An", ("counsellor",)),
        ("bo@clb.example", "Bo", ("counsellor",)),
        ("cas@clb.example", "Cas", ("counsellor",)),
    ):
        account = await make_staff(db, email=email, centre=centre, roles=roles)
        account.display_name = name
        people[name] = account
    await db.commit()
    return people


async def test_plan_swap_and_compare_with_who_is_on_duty(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    await a_centre(db)
    today = datetime.now(BRUSSELS).date()
    tomorrow = today + timedelta(days=1)
    # Today the chat is open all day (so a slot runs now); tomorrow 10:00–12:00.
    await add_exception(
        db, today, Period(time(0), time(23, 59)), note=None, today=today, actor_id=None
    )
    await add_exception(
        db, tomorrow, Period(time(10), time(12)), note=None, today=today, actor_id=None
    )
    await db.commit()
    now_slot = slot_id(datetime.combine(today, time(0), tzinfo=BRUSSELS))
    next_slot = slot_id(datetime.combine(tomorrow, time(10), tzinfo=BRUSSELS))
    tomorrow_week = (tomorrow - timedelta(days=tomorrow.weekday())).isoformat()

    coco = await new_page()
    await log_in(coco, live_server, "coco@clb.example", TEST_PASSWORD)
    await coco.goto(live_server + "/console/rooster")
    running = coco.locator(f"#{now_slot}")
    await expect(running).to_contain_text("Niet bezet: 0 van 1")
    for name in ("Bo", "Cas"):
        await running.locator("select").select_option(label=name)
        await running.get_by_role("button", name="Inplannen").click()
        await expect(coco.get_by_role("status")).to_have_text(
            "De chatbegeleider staat op het rooster."
        )
    await expect(running).to_contain_text("Bezet: 2 van 1")
    await check_both_widths(coco, "coordinator-planned")
    await coco.goto(f"{live_server}/console/rooster?week={tomorrow_week}")
    upcoming = coco.locator(f"#{next_slot}")
    await upcoming.locator("select").select_option(label="An")
    await upcoming.get_by_role("button", name="Inplannen").click()
    await expect(coco.get_by_role("status")).to_have_text("De chatbegeleider staat op het rooster.")
    await expect(coco.locator(f"#{next_slot}")).to_contain_text("Bezet: 1 van 1")
    # The weeks ahead are planned by nobody yet: uncovered, said in words.
    await coco.goto(live_server + "/console/rooster")
    await coco.locator(".rota-weeks a").last.click()
    await expect(coco.locator(".rota-mark.is-uncovered").first).to_contain_text("Niet bezet")
    await check_both_widths(coco, "coordinator")

    an = await new_page()
    await log_in(an, live_server, "an@clb.example", TEST_PASSWORD)
    await an.goto(live_server + "/console/rooster/mijn")
    await expect(an.locator("#next-shift")).to_contain_text("Jouw volgende chatbeurt:")
    await an.get_by_label("Laten overnemen door").select_option(label="Bo")
    await an.get_by_role("button", name="Vraag (overnemen").click()
    await expect(an.get_by_role("status")).to_contain_text("Je vraag is verstuurd.")
    await expect(an.locator("#sent")).to_contain_text("Wacht op antwoord")
    await check_both_widths(an, "asker")

    bo = await new_page(viewport=MOBILE)
    await log_in(bo, live_server, "bo@clb.example", TEST_PASSWORD)
    await bo.goto(live_server + "/console/rooster/mijn")
    await expect(bo.locator("#incoming")).to_contain_text("An vraagt of jij de beurt van")
    await check_both_widths(bo, "colleague")
    await bo.get_by_role("button", name="Aanvaarden").click()
    await expect(bo.get_by_role("status")).to_have_text("Aanvaard. Het rooster is aangepast.")
    await expect(bo.locator("#my-shifts li")).to_have_count(2)
    await an.reload()
    await expect(an.locator("#sent")).to_contain_text("Aanvaard: het rooster is aangepast")
    await expect(an.locator("#next-shift")).to_have_text("Je staat nog niet op het chatrooster.")

    # Bo (planned) and An (not planned) go on duty with their console open; Cas does not.
    bo_console = await console(live_server, await staff_cookie(live_server, "bo@clb.example"))
    an_console = await console(live_server, await staff_cookie(live_server, "an@clb.example"))
    await coco.goto(live_server + "/console/toezicht")
    block = coco.locator("#rota-now")
    await expect(block).to_contain_text("Beurt nu:")
    columns = block.locator(".rota-compare > div")
    await expect(columns.nth(0)).to_contain_text("Bo")
    await expect(columns.nth(1)).to_contain_text("Cas")
    await expect(columns.nth(2)).to_contain_text("An")
    await check_both_widths(coco, "supervision")
    await bo_console.close()
    await an_console.close()

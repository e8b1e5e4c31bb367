"""A video appointment in the browser: before its time the person's page and the
counsellor's say when the room opens; inside the window both go from the platform into the
room on the video server (a stand-in answers for it here)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from playwright.async_api import Page, Route, expect
from sqlalchemy.ext.asyncio import AsyncSession

from clb.services import Services
from tests.conftest import TEST_PASSWORD
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, log_in
from tests.scheduling.booking_pages_support import book_directly, move_to
from tests.scheduling.support import bookable_counsellor, next_weekday_at

SERVER = "https://meet.example.test"
EMAIL = "an.video@clb.example"


async def _stand_in_server(page: Page) -> None:
    async def answer(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body="<title>Jitsi</title>")

    await page.route(f"{SERVER}/**", answer)


async def _shots(page: Page, folder: Path, name: str) -> None:
    for size_name, size in (("360", MOBILE), ("1280", DESKTOP)):
        await page.set_viewport_size({"width": size["width"], "height": size["height"]})
        await page.screenshot(path=folder / f"{name}-{size_name}.png", full_page=True)


async def test_the_room_opens_for_both_parties_at_its_time(
    live_server_factory: Callable[..., tuple[str, subprocess.Popen[bytes]]],
    new_page: NewPage,
    db: AsyncSession,
    services: Services,
    tmp_path: Path,
) -> None:
    shots = Path(os.environ.get("CLB_SCREENSHOT_DIR", tmp_path))
    base, _process = live_server_factory(
        CLB_VIDEO_BASE_URL=SERVER,
        CLB_VIDEO_JWT_APP_ID="clb-e2e",
        CLB_VIDEO_JWT_SECRET="e2e-video-secret-" + "z" * 20,
    )
    staff, school = await bookable_counsellor(db, email=EMAIL, modes=["video"])
    appointment, token = await book_directly(
        db, services, staff, school, next_weekday_at(2, time(10)), mode="video"
    )
    room = appointment.video_room
    assert room is not None

    person = await new_page()
    await _stand_in_server(person)
    await person.goto(f"{base}/afspraak/beheer/{token}/video")
    await expect(person.get_by_text("De videoruimte gaat open om 09:50.")).to_be_visible()
    assert token not in person.url and room not in await person.content()
    await assert_accessible(person)
    await _shots(person, shots, "person-waiting")
    await person.goto(f"{base}/afspraak/beheer")
    await expect(person.get_by_text("De videoruimte gaat open om 09:50.")).to_be_visible()
    await expect(person.get_by_role("link", name="Naar de videoruimte")).to_have_count(0)
    await _shots(person, shots, "manage-waiting")

    await move_to(db, appointment, datetime.now(UTC) + timedelta(minutes=4))
    await person.reload()
    await expect(person.get_by_text("De videoruimte is open.")).to_be_visible()
    await assert_accessible(person)
    await _shots(person, shots, "manage-open")
    assert room not in await person.content()
    await person.get_by_role("link", name="Naar de videoruimte").click()
    await person.wait_for_url(f"{SERVER}/{room}?jwt=*")

    counsellor = await new_page()
    await _stand_in_server(counsellor)
    await log_in(counsellor, base, EMAIL, TEST_PASSWORD)
    await counsellor.goto(f"{base}/console/agenda/afspraken/{appointment.id}")
    entrance = counsellor.get_by_role("link", name="Naar de videoruimte")
    await expect(entrance).to_be_visible()
    await assert_accessible(counsellor)
    await _shots(counsellor, shots, "console-open")
    await entrance.click()
    await counsellor.wait_for_url(f"{SERVER}/{room}?jwt=*")


async def test_the_waiting_page_goes_into_the_room_by_itself_when_it_opens(
    live_server_factory: Callable[..., tuple[str, subprocess.Popen[bytes]]],
    new_page: NewPage,
    db: AsyncSession,
    services: Services,
) -> None:
    """A pupil who opens the link early and leaves the page open is let in at the opening
    time without pressing anything."""
    base, _process = live_server_factory(
        CLB_VIDEO_BASE_URL=SERVER,
        CLB_VIDEO_JWT_APP_ID="clb-e2e",
        CLB_VIDEO_JWT_SECRET="e2e-video-secret-" + "z" * 20,
    )
    staff, school = await bookable_counsellor(db, email=EMAIL, modes=["video"])
    appointment, token = await book_directly(
        db, services, staff, school, next_weekday_at(2, time(10)), mode="video"
    )
    # The room opens 10 minutes before the start: a few seconds from now.
    await move_to(db, appointment, datetime.now(UTC) + timedelta(minutes=10, seconds=6))
    person = await new_page()
    await person.goto(f"{base}/afspraak/beheer/{token}/video")
    await expect(person.get_by_text("ze gaat vanzelf naar de videoruimte")).to_be_visible()
    await assert_accessible(person)
    # The page loads itself again at the opening time and the browser asks for the room.
    room = f"{SERVER}/{appointment.video_room}?jwt="
    async with person.expect_request(lambda r: r.url.startswith(room), timeout=60_000):
        pass

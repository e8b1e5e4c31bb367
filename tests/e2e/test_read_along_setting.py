"""An administrator turns read-along on for their centre in the browser; the chat's privacy
notice then says a coordinator may read along, and the audit log has the change."""

from __future__ import annotations

import pytest
from playwright.async_api import expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from tests.conftest import TEST_PASSWORD, make_staff
from tests.e2e.support import MOBILE, NewPage, assert_accessible, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_an_admin_turns_read_along_on_and_the_notice_says_so(
    new_page: NewPage, live_server: str, db: AsyncSession
) -> None:
    admin = await make_staff(db, email="ad@clb.example", roles=("admin",))
    pupil = await new_page(viewport=MOBILE)
    await pupil.goto(live_server + "/chat")
    privacy = pupil.locator("#privacy")
    await expect(privacy).to_contain_text("Alleen de CLB-medewerker die met jou chat")

    page = await new_page()
    await log_in(page, live_server, "ad@clb.example", TEST_PASSWORD)
    await page.goto(live_server + "/console")
    await page.get_by_role("link", name="Meelezen met chats: aan of uit voor je centrum").click()
    box = page.get_by_label("Coördinatoren mogen meelezen met chats")
    await expect(box).not_to_be_checked()
    await assert_accessible(page)
    await box.check()
    await page.get_by_role("button", name="Bewaren").click()
    await expect(page.get_by_role("status")).to_have_text("De instelling is bewaard.")
    await expect(box).to_be_checked()
    await expect(page.locator("#last-change")).to_contain_text("Aangezet door")
    await assert_accessible(page)

    await pupil.reload()
    await expect(privacy).to_contain_text("Soms kan ook een coördinator van hetzelfde CLB meelezen")
    await assert_accessible(pupil)
    actions = await db.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id))
    assert "centre.read_along_on" in list(actions)

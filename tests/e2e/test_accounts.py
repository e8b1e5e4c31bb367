"""Account management and the security page in Chromium: a coordinator invites a colleague
and deactivates them; a counsellor sets up the code app. axe-core on every page, at 1280
and 360 px (screenshots next to the test run)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth import totp
from clb.auth.models import StaffAccount
from tests.conftest import TEST_PASSWORD, make_centre, make_staff
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, log_in


async def test_a_coordinator_invites_changes_roles_and_deactivates(
    new_page: NewPage, live_server: str, db: AsyncSession, tmp_path: Path
) -> None:
    centre = await make_centre(db, slug="clb-accounts")
    await make_staff(db, email="co@clb.example", roles=("coordinator",), centre=centre)
    for name, viewport in (("desktop", DESKTOP), ("phone", MOBILE)):
        page = await new_page(viewport=viewport)
        await log_in(page, live_server, "co@clb.example", TEST_PASSWORD)
        await page.get_by_role("link", name="Accounts van je CLB").click()
        await assert_accessible(page)
        email = f"mia-{name}@clb.example"
        await page.get_by_label("E-mailadres").fill(email)
        await page.get_by_label("Volledige naam").fill(f"Mia {name}")
        await page.get_by_label("Naam in de chat").fill("Mia")
        await page.get_by_label("CLB-medewerker").check()
        await page.get_by_role("button", name="Uitnodiging versturen").click()
        await expect(page.get_by_text("De uitnodiging is verstuurd.")).to_be_visible()
        await expect(page.get_by_role("cell", name=email)).to_be_visible()
        await page.screenshot(path=tmp_path / f"accounts-{name}.png", full_page=True)
        await page.get_by_role("link", name=f"Beheren (Mia {name})").click()
        await assert_accessible(page)
        await page.get_by_label("Redacteur").check()
        await page.get_by_role("button", name="Rollen bewaren").click()
        await expect(page.get_by_text("De rollen zijn bewaard.")).to_be_visible()
        await page.get_by_role("button", name=f"Account uitschakelen (Mia {name})").click()
        await expect(page.get_by_text("Het account is uitgeschakeld.")).to_be_visible()
        await assert_accessible(page)
        await page.screenshot(path=tmp_path / f"account-{name}.png", full_page=True)
        account = await db.scalar(select(StaffAccount).where(StaffAccount.email == email))
        assert account is not None and not account.is_active
        assert sorted(account.roles) == ["counsellor", "editor"]
        await db.rollback()


async def test_a_counsellor_sets_up_the_code_app_and_logs_in_with_a_code(
    new_page: NewPage, live_server: str, db: AsyncSession, tmp_path: Path
) -> None:
    centre = await make_centre(db, slug="clb-code-app", second_factor=True)
    account_id = (await make_staff(db, email="jo@clb.example", centre=centre)).id
    page = await new_page(viewport=MOBILE)
    await log_in(page, live_server, "jo@clb.example", TEST_PASSWORD)
    assert page.url.endswith("/console/beveiliging?instellen=1")
    await page.get_by_role("button", name="Code-app instellen").click()
    await expect(page.get_by_role("img", name="QR-code voor je code-app")).to_be_visible()
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / "code-app-phone.png", full_page=True)
    secret = await db.scalar(select(StaffAccount.totp_secret).where(StaffAccount.id == account_id))
    assert secret is not None
    await page.get_by_label("Code uit de app").fill(totp.code_at(secret, totp.current_step()))
    await page.get_by_role("button", name="Code-app aanzetten").click()
    await expect(page.get_by_role("heading", name="Je herstelcodes")).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("link", name="Ik heb ze bewaard: naar de console").click()
    await expect(page.get_by_role("heading", name="Welkom, An")).to_be_visible()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Afmelden").click()
    await log_in(page, live_server, "jo@clb.example", TEST_PASSWORD)
    assert page.url.endswith("/console/login/tweede-stap")
    await page.get_by_label("Code uit je app").fill("000000")
    await page.get_by_role("button", name="Verder").click()
    await expect(page.get_by_role("alert")).to_contain_text("klopt niet")
    await assert_accessible(page)
    await page.screenshot(path=tmp_path / "second-step-phone.png", full_page=True)
    # The next step's code (one step of drift is allowed), never the one used at set-up.
    await page.get_by_label("Code uit je app").fill(totp.code_at(secret, totp.current_step() + 1))
    await page.get_by_role("button", name="Verder").click()
    await expect(page.get_by_role("heading", name="Welkom, An")).to_be_visible()

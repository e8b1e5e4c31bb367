"""A passkey registers and logs in, in Chromium with its virtual authenticator (the DevTools
WebAuthn domain): the same browser API a fingerprint reader or security key answers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Passkey, StaffSession
from tests.conftest import TEST_PASSWORD, make_centre, make_staff
from tests.e2e.support import DESKTOP, MOBILE, NewPage, assert_accessible, log_in


async def add_virtual_authenticator(page: Page) -> None:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


async def test_a_passkey_registers_as_the_required_second_factor_and_then_logs_in(
    live_server_factory: Callable[..., tuple[str, subprocess.Popen[bytes]]],
    new_page: NewPage,
    db: AsyncSession,
    tmp_path: Path,
) -> None:
    # Browsers refuse an IP address as a passkey's relying party: this server is "localhost".
    base, _process = live_server_factory(CLB_PUBLIC_URL="http://localhost:{port}")
    base = base.replace("127.0.0.1", "localhost")
    centre = await make_centre(db, slug="clb-passkey", second_factor=True)
    account_id = (await make_staff(db, centre=centre)).id
    page = await new_page()
    await add_virtual_authenticator(page)

    await log_in(page, base, "an@clb.example", TEST_PASSWORD)
    assert page.url == f"{base}/console/beveiliging?instellen=1"
    await expect(page.get_by_text("Je CLB vraagt een tweede stap")).to_be_visible()
    await page.get_by_label("Naam voor de nieuwe passkey").fill("laptop werk")
    async with page.expect_navigation(url=f"{base}/console/beveiliging?ok=passkey"):
        await page.get_by_role("button", name="Passkey toevoegen").click()
    await expect(page.get_by_role("cell", name="laptop werk", exact=True)).to_be_visible()
    await assert_accessible(page)
    for name, size in (("desktop", DESKTOP), ("phone", MOBILE)):
        await page.set_viewport_size({"width": size["width"], "height": size["height"]})
        await page.screenshot(path=tmp_path / f"security-{name}.png", full_page=True)
    stored = (await db.scalars(select(Passkey).where(Passkey.account_id == account_id))).all()
    assert [key.name for key in stored] == ["laptop werk"]

    await page.goto(f"{base}/console")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Afmelden").click()
    await log_in(page, base, "an@clb.example", TEST_PASSWORD)
    assert page.url == f"{base}/console/login/tweede-stap"
    await assert_accessible(page)
    async with page.expect_navigation(url=f"{base}/console"):
        await page.get_by_role("button", name="Aanmelden met je passkey").click()
    await expect(page.get_by_role("heading", name="Welkom, An")).to_be_visible()
    db.expire_all()
    sessions = (
        await db.scalars(select(StaffSession).where(StaffSession.account_id == account_id))
    ).all()
    # The enrolment login was upgraded by its new passkey; the second login used it.
    assert [s.second_factor for s in sessions] == ["passkey", "passkey"]

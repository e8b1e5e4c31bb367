"""The development mailbox in a real browser: list, a mail, an SMS; axe-core in both languages."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clb.mail import Attachment, OutgoingMail, SmtpMailer
from clb.message_folder import store_mail, store_sms
from clb.sms import OutgoingSms
from tests.conftest import ServerEnv, free_port, start_server
from tests.e2e.support import MOBILE, NewPage, assert_accessible, console_errors

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SUBJECT = "Je afspraak met het CLB: dinsdag 1 december om 10 uur"
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


@pytest.fixture(scope="module")
def mailbox_server(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """A ``clb serve`` with a mailbox folder holding one mail and one SMS; the base URL and
    the names of the two files."""
    data_dir = tmp_path_factory.mktemp("mailbox-server")
    folder = data_dir / "mailbox"
    mail = OutgoingMail(
        to="Lotte Peeters <lotte@example.be>",
        subject=SUBJECT,
        text="Dag Lotte,\n\nJe afspraak staat vast. " + "Een heel lange regel. " * 20 + "\n",
        html="<p>Dag Lotte,</p>",
        attachments=(Attachment("afspraak.ics", "text/calendar; method=REQUEST", ICS),),
    )
    message = SmtpMailer("smtp://127.0.0.1:25", sender="CLB <no-reply@clb.example>").build_message(
        mail
    )
    now = datetime.now(UTC)
    names = {
        "mail": store_mail(folder, message.as_bytes(), now - timedelta(minutes=1)).name,
        "sms": store_sms(
            folder, OutgoingSms(to="+32470123456", text="CLB: herinnering aan je afspraak."), now
        ).name,
    }
    port = free_port()
    env = session_server_env(data_dir, port)
    env["CLB_DEV_MAILBOX_DIR"] = str(folder)
    process: subprocess.Popen[bytes] = start_server(env, port)
    try:
        yield f"http://127.0.0.1:{port}", names
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize("locale", ["nl-BE", "en-GB"])
async def test_mailbox_pages_have_no_axe_violations(
    new_page: NewPage, mailbox_server: tuple[str, dict[str, str]], locale: str
) -> None:
    base, names = mailbox_server
    page = await new_page(locale=locale)
    errors = console_errors(page)
    for path in ("/dev/postvak", f"/dev/postvak/{names['mail']}", f"/dev/postvak/{names['sms']}"):
        response = await page.goto(base + path)
        assert response is not None and response.status == 200
        await assert_accessible(page)
    assert errors == []


async def test_a_developer_opens_a_mail_and_downloads_its_invitation(
    new_page: NewPage, mailbox_server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    base, names = mailbox_server
    page = await new_page()
    await page.goto(base + "/dev/postvak")
    rows = page.locator("tbody tr")
    assert await rows.count() == 2
    assert "sms" in await rows.first.inner_text()  # newest first
    await page.get_by_role(
        "link", name="Je afspraak met het CLB: dinsdag 1 december om 10 uur"
    ).click()
    await page.wait_for_url(f"**/dev/postvak/{names['mail']}")
    assert "Je afspraak staat vast." in await page.locator(".mailbox-body").first.inner_text()
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="afspraak.ics").click()
    download = await download_info.value
    assert download.suggested_filename == "afspraak.ics"
    target = tmp_path / "afspraak.ics"
    await download.save_as(target)
    assert await asyncio.to_thread(target.read_bytes) == ICS
    await page.get_by_role("link", name="Terug naar het postvak").click()
    await page.wait_for_url("**/dev/postvak")


async def test_mailbox_pages_fit_a_phone(
    new_page: NewPage, mailbox_server: tuple[str, dict[str, str]]
) -> None:
    base, names = mailbox_server
    page = await new_page(viewport=MOBILE)
    for path in ("/dev/postvak", f"/dev/postvak/{names['mail']}"):
        await page.goto(base + path)
        await assert_accessible(page)
        # Long mail lines wrap: nothing makes the page scroll sideways.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

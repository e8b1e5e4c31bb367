"""A live app that really sends mail, for the booking browser tests.

``clb serve`` and ``clb worker`` run as processes on the test database and Redis namespace,
both pointed at a development mailbox started here (development.mailbox): the worker sends the
confirmation over SMTP, the mailbox stores it as a file, and ``/dev/postvak`` shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import Page

from development.mailbox import DevMailbox
from development.mailbox_pages import list_entries
from tests.conftest import ROOT, ServerEnv, free_port, start_server

MAIL_TIMEOUT = 30.0  # seconds for the worker to pick up a job and the mail to arrive


@dataclass(frozen=True)
class BookingServer:
    base_url: str
    mailbox: Path


@contextlib.contextmanager
def running_booking_server(server_env: ServerEnv, data_dir: Path) -> Iterator[BookingServer]:
    folder = data_dir / "mailbox"
    port = free_port()
    with DevMailbox(folder) as mailbox:
        env = server_env(data_dir, port)
        env["CLB_SMTP_URL"] = mailbox.url
        env["CLB_DEV_MAILBOX_DIR"] = str(folder)
        server = start_server(env, port)
        worker = subprocess.Popen(
            [sys.executable, "-m", "composition", "worker"], env=env, cwd=ROOT
        )  # noqa: S603
        try:
            yield BookingServer(f"http://127.0.0.1:{port}", folder)
        finally:
            for process in (worker, server):
                process.terminate()
            for process in (worker, server):
                process.wait(timeout=15)


async def wait_for_mail(folder: Path, subject_start: str) -> str:
    """The file name of the newest mail whose subject starts so, once there is one."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        found = [e for e in list_entries(folder) if e.subject.startswith(subject_start)]
        if found:
            return found[0].name
        await asyncio.sleep(0.2)
    raise AssertionError(f"no mail {subject_start!r} within {MAIL_TIMEOUT} s")


async def tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        if await page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def fits_the_screen(page: Page) -> None:
    """No sideways scrolling at the page's viewport width."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{page.url} is {width} px wide"

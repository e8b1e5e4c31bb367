"""The development mailbox: mail stored as .eml files and shown at /dev/postvak, and what
`clb run` says about it."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from websockets.sync.client import connect
from websockets.typing import Origin

from clb.config import Settings
from clb.mail import (
    OutgoingMail,
    SmtpMailer,
)
from clb.message_folder import ENTRY_NAME, store_mail
from composition.app import create_app
from development.mailbox import DevMailbox, development_mailbox
from tests.clb.test_mail import ICS, RECIPIENT, SENDER, appointment_mail
from tests.conftest import PUBLIC_URL, ROOT, ServerUrls, free_port

HTML_PAGE = {"accept": "text/html"}


def test_development_mailbox_only_without_an_smtp_server(tmp_path: Path) -> None:
    configured = Settings(data_dir=tmp_path, smtp_url="smtp://mail.example.be")
    with development_mailbox(configured) as settings:
        assert settings is configured
    production = Settings(data_dir=tmp_path, env="production")
    with development_mailbox(production) as settings:
        assert settings.smtp_url is None and settings.dev_mailbox_dir is None
    with development_mailbox(Settings(data_dir=tmp_path)) as settings:
        assert settings.smtp_url is not None
        assert re.fullmatch(r"smtp://127\.0\.0\.1:\d+", settings.smtp_url)
        assert settings.dev_mailbox_dir == (tmp_path / "mailbox").resolve()
    assert (tmp_path / "mailbox").stat().st_mode & 0o077 == 0


@pytest.fixture
async def mailbox_client(mailbox_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=mailbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http


async def test_dev_mailbox_stores_a_sent_mail_and_shows_it_in_dutch(
    mailbox_app: FastAPI, mailbox_client: httpx.AsyncClient
) -> None:
    folder: Path = mailbox_app.state.settings.dev_mailbox_dir
    with DevMailbox(folder) as mailbox:
        await SmtpMailer(mailbox.url, sender=SENDER).send(appointment_mail())
        await SmtpMailer(mailbox.url, sender=SENDER).send(
            OutgoingMail(to="ouder@example.be", subject="Herinnering", text="Tot morgen.")
        )
    files = await asyncio.to_thread(lambda: sorted(folder.iterdir()))
    assert len(files) == 2 and all(ENTRY_NAME.match(f.name) for f in files)
    assert all(f.suffix == ".eml" and f.stat().st_mode & 0o077 == 0 for f in files)
    first, newest = files

    listing = await mailbox_client.get("/dev/postvak", headers=HTML_PAGE)
    assert listing.status_code == 200
    assert listing.headers["cache-control"] == "no-store"
    page = listing.text
    assert "Postvak voor ontwikkeling" in page and "Onderwerp" in page
    assert RECIPIENT in page and "ouder@example.be" in page
    # Newest first.
    assert page.index("Herinnering") < page.index("Je afspraak met het CLB")
    assert f'href="/dev/postvak/{newest.name}"' in page

    shown = await mailbox_client.get(f"/dev/postvak/{first.name}", headers=HTML_PAGE)
    assert shown.status_code == 200
    assert "<h1>Je afspraak met het CLB: dinsdag 1 december, 10 uur – café</h1>" in shown.text
    assert "gratis (0 €), ook op café" in shown.text
    assert "Bijlagen" in shown.text and "afspraak.ics" in shown.text
    assert "no-reply@clb-gent.example" in shown.text
    # The HTML part is shown as escaped source, never as markup.
    assert "<script>alert" not in shown.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in shown.text

    download = await mailbox_client.get(f"/dev/postvak/{first.name}/bijlage/0")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/calendar; method=REQUEST; charset=utf-8"
    assert download.headers["content-disposition"].startswith('attachment; filename="afspraak.ics"')
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.content == ICS
    missing = await mailbox_client.get(f"/dev/postvak/{first.name}/bijlage/1")
    assert missing.status_code == 404


async def test_dev_mailbox_speaks_english_when_asked(
    mailbox_app: FastAPI, mailbox_client: httpx.AsyncClient
) -> None:
    empty = await mailbox_client.get("/dev/postvak", headers={**HTML_PAGE, "accept-language": "en"})
    assert empty.status_code == 200
    assert "Development mailbox" in empty.text and "The mailbox is empty." in empty.text


async def test_dev_mailbox_shows_a_message_without_attachments_or_text(
    mailbox_app: FastAPI, mailbox_client: httpx.AsyncClient
) -> None:
    folder: Path = mailbox_app.state.settings.dev_mailbox_dir
    html_only = EmailMessage()
    html_only["To"] = RECIPIENT
    html_only.set_content("<p>Alleen HTML</p>", subtype="html")
    stored = store_mail(folder, html_only.as_bytes(), datetime.now(UTC))
    page = await mailbox_client.get(f"/dev/postvak/{stored.name}", headers=HTML_PAGE)
    assert page.status_code == 200
    assert "(geen onderwerp)" in page.text and "Dit bericht heeft geen tekstversie." in page.text
    assert "Geen bijlagen." in page.text and "&lt;p&gt;Alleen HTML&lt;/p&gt;" in page.text


def plant_bait(folder: Path) -> None:
    """Files a traversing or sloppy name could reach."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder.parent / "secret_key").write_text("BAIT-7f3a")
    (folder / "secret_key").write_text("BAIT-7f3a")
    (folder / ".20261124T101010123456Z-0123abcd.eml.partial").write_text("half")


@pytest.mark.parametrize(
    "path",
    [
        "/dev/postvak/..%2Fsecret_key",
        "/dev/postvak/%2e%2e",
        "/dev/postvak/../secret_key",
        "/dev/postvak/secret_key",
        "/dev/postvak/20261124T101010123456Z-0123abcd.eml",  # well-formed, not there
        "/dev/postvak/20261124T101010123456Z-0123abcd.txt",
        "/dev/postvak/.20261124T101010123456Z-0123abcd.eml.partial",
        "/dev/postvak/20261124T101010123456Z-0123abcd.eml/bijlage/0",
        "/dev/postvak/20261124T101010123456Z-0123abcd.eml/bijlage/-1",
        "/dev/postvak/20261124T101010123456Z-0123abcd.eml/bijlage/abc",
        "/dev/postvak/..%2F..%2Fsecret_key/bijlage/0",
    ],
)
async def test_dev_mailbox_refuses_names_that_are_not_its_own(
    mailbox_app: FastAPI, mailbox_client: httpx.AsyncClient, path: str
) -> None:
    await asyncio.to_thread(plant_bait, mailbox_app.state.settings.dev_mailbox_dir)
    response = await mailbox_client.get(path, headers=HTML_PAGE)
    assert response.status_code == 404
    assert "BAIT-7f3a" not in response.text and "half" not in response.text


async def test_dev_mailbox_is_absent_without_a_folder(client: httpx.AsyncClient) -> None:
    assert (await client.get("/dev/postvak", headers=HTML_PAGE)).status_code == 404


async def test_dev_mailbox_is_absent_in_production(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "postvak"
    stored = store_mail(folder, b"Subject: x\r\n\r\nx\r\n", datetime.now(UTC))
    production = create_app(
        settings.model_copy(update={"env": "production", "dev_mailbox_dir": folder})
    )
    async with production.router.lifespan_context(production):
        transport = httpx.ASGITransport(app=production)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            for path in ("/dev/postvak", f"/dev/postvak/{stored.name}"):
                assert (await http.get(path, headers=HTML_PAGE)).status_code == 404


# --- `clb run` -----------------------------------------------------------------------


def read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """The process's output up to the line holding ``marker`` (read in a thread, so a silent
    process cannot hang the test)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    output: list[str] = []
    deadline = time.monotonic() + timeout
    while not output or marker not in output[-1]:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if not line:
            break
        output.append(line)
    return "".join(output)


@pytest.mark.slow
def test_clb_run_starts_the_mailbox_and_prints_where_to_read_it(
    database_url: str, server_urls: ServerUrls, redis_namespace: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLB_")},
        "CLB_DATABASE_URL": database_url,
        "CLB_REDIS_URL": server_urls.redis_url,
        "CLB_REDIS_NAMESPACE": redis_namespace,
        "CLB_DATA_DIR": str(tmp_path),
        "CLB_LOG_LEVEL": "WARNING",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "composition", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            output = read_until(process, "Stop with", timeout=90)
            base = f"http://127.0.0.1:{port}/"
            assert f"(mail and SMS are kept, not sent): {base}dev/postvak" in output
            smtp = re.search(r"SMTP 127\.0\.0\.1:(\d+)", output)
            assert smtp is not None, output
            assert str(tmp_path / "mailbox") in output

            # Any SMTP client will do; the platform's own is tested above.
            message = SmtpMailer("smtp://x", sender=SENDER).build_message(appointment_mail())
            with smtplib.SMTP("127.0.0.1", int(smtp[1]), timeout=10) as client:
                client.send_message(message)
            listing = httpx.get(f"{base}dev/postvak", headers=HTML_PAGE, timeout=10)
            assert listing.status_code == 200 and RECIPIENT in listing.text
            # The public URL follows the port: a page from there may open the chat socket.
            with connect(f"ws://127.0.0.1:{port}/ws/chat", origin=Origin(base.rstrip("/"))):
                pass
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    stored = list((tmp_path / "mailbox").iterdir())
    assert len(stored) == 1 and ENTRY_NAME.match(stored[0].name)

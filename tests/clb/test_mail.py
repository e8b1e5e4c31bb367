"""Outgoing mail through real SMTP servers (aiosmtpd in a thread), and the development
mailbox: stored as .eml files and shown at /dev/postvak."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import smtplib
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi import FastAPI

from clb.config import Settings, SettingsError, load_settings
from clb.mail import (
    Attachment,
    MailError,
    MailNotConfigured,
    OutgoingMail,
    SmtpMailer,
    UnconfiguredMailer,
    mailer_from_settings,
)
from clb.message_folder import ENTRY_NAME, store_mail
from clb.services import Services
from composition.app import create_app
from development.mailbox import DevMailbox, development_mailbox
from tests.conftest import PUBLIC_URL, ROOT, ServerUrls, free_port

SENDER = "CLB Gent <no-reply@clb-gent.example>"
RECIPIENT = "lotte.peeters@example.be"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//CLB//test//NL\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:afspraak-1@clb.example\r\nDTSTAMP:20261124T100000Z\r\n"
    "DTSTART:20261201T090000Z\r\nSUMMARY:Gesprek met het CLB – é\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
).encode()
ICS_TYPE = "text/calendar; method=REQUEST; charset=utf-8"
HTML_PAGE = {"accept": "text/html"}


def appointment_mail(to: str = RECIPIENT) -> OutgoingMail:
    return OutgoingMail(
        to=to,
        subject="Je afspraak met het CLB: dinsdag 1 december, 10 uur – café",
        text="Dag Lotte,\n\nJe afspraak staat vast. Het gesprek is gratis (0 €), ook op café.\n",
        html="<p>Dag Lotte,</p><script>alert('x')</script>",
        attachments=(Attachment("afspraak.ics", ICS_TYPE, ICS),),
    )


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    authenticated: bool | None

    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Sink:
    """An aiosmtpd handler that keeps what it receives; ``refuse`` answers RCPT with 550."""

    received: list[Received] = field(default_factory=list)
    refuse: bool = False

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.authenticated
            )
        )
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="sink")
    controller.start()
    yield handler, port
    controller.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],  # fmt: skip
        check=True,
        capture_output=True,
        timeout=30,
    )
    return Certificate(cert, key)


def check_login(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"clb-app", b"p@ss:w/rd")
    return AuthResult(success=ok, handled=False)


# --- SmtpMailer ----------------------------------------------------------------------


async def test_delivers_a_utf8_mail_with_html_and_a_calendar_attachment(
    sink: tuple[Sink, int],
) -> None:
    handler, port = sink
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", sender=SENDER)
    await mailer.send(appointment_mail())

    [received] = handler.received
    assert received.sender == "no-reply@clb-gent.example"
    assert received.recipients == [RECIPIENT]
    message = received.message()
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Subject"] == "Je afspraak met het CLB: dinsdag 1 december, 10 uur – café"
    assert re.fullmatch(r"<[^@\s]+@clb-gent\.example>", message["Message-ID"])
    assert message["Date"].datetime.tzinfo is not None
    assert message["Auto-Submitted"] == "auto-generated"
    # Every line of the raw message is 7-bit: no server needs 8BITMIME.
    assert all(byte < 128 for byte in received.data)

    text = message.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content_charset() == "utf-8"
    assert "gratis (0 €), ook op café" in text.get_content()
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "<p>Dag Lotte,</p>" in html.get_content()

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "afspraak.ics"
    assert attachment.get_payload(decode=True) == ICS


async def test_a_plain_text_mail_is_a_single_part(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    await SmtpMailer(f"smtp://127.0.0.1:{port}", sender=SENDER).send(
        OutgoingMail(to=f"Lotte Peeters <{RECIPIENT}>", subject="Test", text="Één regel.")
    )
    message = handler.received[0].message()
    assert handler.received[0].recipients == [RECIPIENT]
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == "Één regel.\n"


async def test_logs_in_after_starttls(certificate: Certificate) -> None:
    handler = Sink()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="sink",
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
    )
    controller.start()
    try:
        # Reserved characters in the URL's password are percent-encoded.
        url = f"smtp://clb-app:p%40ss%3Aw%2Frd@127.0.0.1:{port}"
        mailer = SmtpMailer(url, sender=SENDER, tls_context=certificate.client_context())
        await mailer.send(appointment_mail())
        assert [r.authenticated for r in handler.received] == [True]

        wrong = SmtpMailer(
            f"smtp://clb-app:verkeerd@127.0.0.1:{port}",
            sender=SENDER,
            tls_context=certificate.client_context(),
        )
        with pytest.raises(MailError) as refused:
            await wrong.send(appointment_mail())
        assert refused.value.temporary is False
        assert "535" in str(refused.value)
        assert "verkeerd" not in str(refused.value) and "clb-app" not in str(refused.value)
        assert len(handler.received) == 1
    finally:
        controller.stop()


async def test_a_password_is_never_sent_without_tls(sink: tuple[Sink, int]) -> None:
    handler, port = sink  # this server offers no STARTTLS
    mailer = SmtpMailer(f"smtp://clb-app:geheim-wachtwoord@127.0.0.1:{port}", sender=SENDER)
    with pytest.raises(MailError) as refused:
        await mailer.send(appointment_mail())
    assert "geheim-wachtwoord" not in str(refused.value)
    assert handler.received == []


async def test_smtps_speaks_tls_from_the_first_byte(certificate: Certificate) -> None:
    handler = Sink()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        server_hostname="sink",
        ssl_context=certificate.server_context(),
    )
    controller.start()
    try:
        mailer = SmtpMailer(
            f"smtps://127.0.0.1:{port}", sender=SENDER, tls_context=certificate.client_context()
        )
        await mailer.send(appointment_mail())
        assert len(handler.received) == 1
        # A server whose certificate cannot be checked is refused, not trusted.
        with pytest.raises(MailError):
            await SmtpMailer(f"smtps://127.0.0.1:{port}", sender=SENDER, timeout=5).send(
                appointment_mail()
            )
    finally:
        controller.stop()


async def test_a_server_that_is_down_fails_fast_without_addresses() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", sender=SENDER)
    started = time.monotonic()
    with pytest.raises(MailError) as failed:
        await mailer.send(appointment_mail())
    assert time.monotonic() - started < 5
    assert failed.value.temporary is True
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    assert RECIPIENT not in str(failed.value) and "café" not in str(failed.value)


async def test_a_server_that_never_answers_times_out() -> None:
    release = asyncio.Event()
    handlers: list[asyncio.Task[None]] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Accept and say nothing; let go (and close our end) when the test is done.
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await release.wait()
        finally:
            writer.close()
            await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", sender=SENDER, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(MailError, match="Timeout"):
            await mailer.send(appointment_mail())
        assert time.monotonic() - started < 3
    finally:
        release.set()
        await asyncio.gather(*handlers, return_exceptions=True)
        server.close()
        await server.wait_closed()


async def test_a_refused_recipient_is_permanent_and_not_named(sink: tuple[Sink, int]) -> None:
    handler, port = sink
    handler.refuse = True
    with pytest.raises(MailError) as refused:
        await SmtpMailer(f"smtp://127.0.0.1:{port}", sender=SENDER).send(appointment_mail())
    assert refused.value.temporary is False
    assert "550" in str(refused.value) and RECIPIENT not in str(refused.value)


@pytest.mark.parametrize(
    "mail",
    [
        OutgoingMail(to="geen-adres", subject="Test", text="x"),
        OutgoingMail(to=f"{RECIPIENT}\r\nBcc: x@example.be", subject="Test", text="x"),
        OutgoingMail(to=RECIPIENT, subject="Test\r\nBcc: x@example.be", text="x"),
        OutgoingMail(
            to=RECIPIENT,
            subject="Test",
            text="x",
            attachments=(Attachment("../a.ics", "text/calendar", b""),),
        ),
    ],
)
async def test_malformed_mail_is_refused_before_connecting(mail: OutgoingMail) -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", sender=SENDER)
    with pytest.raises(MailError) as refused:
        await mailer.send(mail)
    assert refused.value.temporary is False
    assert "x@example.be" not in str(refused.value) and "geen-adres" not in str(refused.value)


# --- Settings and Services -----------------------------------------------------------


async def test_without_an_smtp_url_the_app_runs_and_sending_says_what_is_missing(
    services: Services,
) -> None:
    assert services.settings.smtp_url is None
    assert isinstance(services.mailer, UnconfiguredMailer)
    with pytest.raises(MailNotConfigured, match="CLB_SMTP_URL") as missing:
        await services.mailer.send(appointment_mail())
    assert isinstance(missing.value, SettingsError) and isinstance(missing.value, MailError)
    assert len(str(missing.value).splitlines()) == 1


def test_mailer_from_settings_uses_the_url_and_sender() -> None:
    mailer = mailer_from_settings(
        Settings(smtp_url="smtps://u:p@mail.example.be", mail_from=SENDER)
    )
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.hostname, mailer.port, mailer.implicit_tls) == ("mail.example.be", 465, True)
    assert (mailer.username, mailer.password, mailer.sender) == ("u", "p", SENDER)
    assert Settings().mail_from == "CLB-platform <no-reply@clb-platform.invalid>"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLB_SMTP_URL", "http://mail.example.be"),
        ("CLB_SMTP_URL", "smtp://"),
        ("CLB_SMTP_URL", "smtp://mail.example.be:poort"),
        ("CLB_MAIL_FROM", "geen adres"),
    ],
)
def test_bad_mail_settings_fail_with_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=rf"^Invalid setting {name}: ") as bad:
        load_settings()
    assert len(str(bad.value).splitlines()) == 1


# --- The development mailbox ---------------------------------------------------------


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
async def mailbox_app(settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    application = create_app(settings.model_copy(update={"dev_mailbox_dir": tmp_path / "postvak"}))
    async with application.router.lifespan_context(application):
        yield application


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
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    stored = list((tmp_path / "mailbox").iterdir())
    assert len(stored) == 1 and ENTRY_NAME.match(stored[0].name)

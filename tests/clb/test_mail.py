"""Outgoing mail through real SMTP servers (aiosmtpd in a thread); the development mailbox
is tested in tests/development/test_mailbox.py."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

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
from clb.services import Services
from tests.conftest import free_port

SENDER = "CLB Gent <no-reply@clb-gent.example>"
RECIPIENT = "lotte.peeters@example.be"
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//CLB//test//NL\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:afspraak-1@clb.example\r\nDTSTAMP:20261124T100000Z\r\n"
    "DTSTART:20261201T090000Z\r\nSUMMARY:Gesprek met het CLB – é\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
).encode()
ICS_TYPE = "text/calendar; method=REQUEST; charset=utf-8"


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


@contextlib.contextmanager
def running_sink(**options: Any) -> Iterator[tuple[Sink, int]]:
    """An SMTP server on a free port that keeps what it receives; ``options`` go to aiosmtpd
    (TLS, authentication)."""
    handler = Sink()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="sink", **options
    )
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    with running_sink() as running:
        yield running


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
    with running_sink(
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
    ) as (handler, port):
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


async def test_a_password_is_never_sent_without_tls(sink: tuple[Sink, int]) -> None:
    handler, port = sink  # this server offers no STARTTLS
    mailer = SmtpMailer(f"smtp://clb-app:geheim-wachtwoord@127.0.0.1:{port}", sender=SENDER)
    with pytest.raises(MailError) as refused:
        await mailer.send(appointment_mail())
    assert "geheim-wachtwoord" not in str(refused.value)
    assert handler.received == []


async def test_smtps_speaks_tls_from_the_first_byte(certificate: Certificate) -> None:
    with running_sink(ssl_context=certificate.server_context()) as (handler, port):
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

"""Outgoing e-mail: a small value type, a ``Mailer`` protocol and an SMTP implementation.

``CLB_SMTP_URL`` names the server: ``smtp://host:port`` (STARTTLS when the server offers
it), ``smtp://user:password@host:port`` (log in, after STARTTLS, which is then required),
or ``smtps://…`` (TLS from the first byte). Without it the app still starts; sending raises
``MailNotConfigured``. ``clb run`` points it at the development mailbox (development.mailbox).

Nothing here logs or raises with an address, a subject or a body: errors name the step
that failed and the SMTP reply code, nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import format_datetime, make_msgid, parseaddr
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

import aiosmtplib

from clb.config import SettingsError

if TYPE_CHECKING:
    from clb.config import Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0  # seconds, for each step of the SMTP conversation
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST; charset=utf-8"
    data: bytes


@dataclass(frozen=True)
class OutgoingMail:
    to: str  # one address, optionally with a name: "An Peeters <an@example.be>"
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()


class MailError(Exception):
    """Sending failed. The message names what went wrong, never an address or content."""

    def __init__(self, message: str, *, temporary: bool = True) -> None:
        super().__init__(message)
        # True when trying again later may help (server down, 4xx reply); False when the
        # same mail will fail again (5xx reply, a malformed mail, no server configured).
        self.temporary = temporary


class MailNotConfigured(MailError, SettingsError):
    """No SMTP server is configured (``CLB_SMTP_URL``)."""

    def __init__(self) -> None:
        super().__init__(
            "Invalid setting CLB_SMTP_URL: not set, so no mail can be sent "
            "(set an smtp:// URL; `clb run` starts a development mailbox)",
            temporary=False,
        )


@runtime_checkable
class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


class UnconfiguredMailer:
    """Stands in while ``CLB_SMTP_URL`` is unset: the app runs, sending fails clearly."""

    async def send(self, mail: OutgoingMail) -> None:
        raise MailNotConfigured()


def _address(value: str) -> str:
    """The bare address in ``value``; MailError (without the value) when there is none."""
    if any(char in value for char in "\r\n"):
        raise MailError("an address contains a line break", temporary=False)
    _name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise MailError("an address is not a valid e-mail address", temporary=False)
    return address


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    parsed = Message()
    parsed["Content-Type"] = value
    params = {key: str(val) for key, val in parsed.get_params(failobj=[])[1:]}
    return parsed.get_content_maintype(), parsed.get_content_subtype(), params


class SmtpMailer:
    """Delivers through one SMTP server; a new connection per mail (mail is infrequent)."""

    def __init__(
        self,
        url: str,
        *,
        sender: str,
        timeout: float = DEFAULT_TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise SettingsError(
                "Invalid setting CLB_SMTP_URL: must be an smtp:// or smtps:// URL "
                "such as smtp://mail.example.be:587"
            )
        self.hostname = parts.hostname
        self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        self.implicit_tls = parts.scheme == "smtps"
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.sender_address = _address(sender)
        self.timeout = timeout
        self.tls_context = tls_context

    def build_message(self, mail: OutgoingMail) -> EmailMessage:
        """The MIME message: text/plain (UTF-8), an optional HTML alternative, attachments."""
        _address(mail.to)  # refuses a malformed recipient before anything is built
        if any(char in mail.subject for char in "\r\n"):
            raise MailError("the subject contains a line break", temporary=False)
        message = EmailMessage(policy=policy.SMTP)
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=self.sender_address.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        # Quoted-printable keeps every line 7-bit, so no server needs 8BITMIME or SMTPUTF8.
        message.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if mail.html is not None:
            message.add_alternative(
                mail.html, subtype="html", charset="utf-8", cte="quoted-printable"
            )
        for attachment in mail.attachments:
            if any(char in attachment.filename for char in "\r\n/\\"):
                raise MailError("an attachment has an invalid file name", temporary=False)
            maintype, subtype, params = _content_type(attachment.content_type)
            message.add_attachment(
                attachment.data,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
                params=params,
            )
        return message

    def _start_tls(self) -> bool | None:
        if self.implicit_tls:
            return False
        # A password never crosses the network in the clear: with one, STARTTLS is required;
        # without, the connection is upgraded whenever the server offers it (None).
        return True if self.username else None

    async def send(self, mail: OutgoingMail) -> None:
        message = self.build_message(mail)
        recipient = _address(mail.to)
        try:
            # Each step has its own timeout; this bounds the whole conversation as well.
            async with asyncio.timeout(self.timeout * 4):
                await aiosmtplib.send(
                    message,
                    sender=self.sender_address,
                    recipients=[recipient],
                    hostname=self.hostname,
                    port=self.port,
                    username=self.username,
                    password=self.password,
                    use_tls=self.implicit_tls,
                    start_tls=self._start_tls(),
                    tls_context=self.tls_context,
                    timeout=self.timeout,
                )
        except aiosmtplib.SMTPResponseException as exc:
            # The server's reply text may quote an address: keep only the code.
            raise MailError(
                f"SMTP server refused the mail ({type(exc).__name__}, code {exc.code})",
                temporary=400 <= exc.code < 500,
            ) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({refusal.code for refusal in exc.recipients})
            raise MailError(
                f"SMTP server refused the recipient (codes {codes})",
                temporary=all(400 <= code < 500 for code in codes),
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise MailError(
                f"could not deliver to the SMTP server at {self.hostname}:{self.port} "
                f"({type(exc).__name__})"
            ) from None
        log.info("mail sent", extra={"attachments": len(mail.attachments)})


def mailer_from_settings(settings: Settings) -> Mailer:
    """An SMTP mailer for ``CLB_SMTP_URL``; without one a mailer whose send() says so."""
    if settings.smtp_url is None:
        return UnconfiguredMailer()
    return SmtpMailer(settings.smtp_url, sender=settings.mail_from)

"""Outgoing SMS: one small protocol, and a default that records instead of sending.

No provider is built in. Until one is plugged in (``CLB_SMS_TRANSPORT=module:Class``, see
docs/sms.md) every SMS is *recorded*: written to the development mailbox when there is
one (``/dev/postvak`` lists it) and announced by one log line that carries neither the
number nor the text.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

import orjson

from clb.config import SettingsError

if TYPE_CHECKING:
    from clb.config import Settings

log = logging.getLogger(__name__)

DOTTED_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
MAX_SMS_CHARS = 1600  # ten concatenated parts; longer texts are a mistake, not an SMS


@dataclass(frozen=True)
class OutgoingSms:
    to: str  # a phone number, preferably international (+32…)
    text: str

    def __post_init__(self) -> None:
        if not self.to.strip():
            raise ValueError("an SMS needs a phone number")
        if not self.text or len(self.text) > MAX_SMS_CHARS:
            raise ValueError(f"an SMS text has 1 to {MAX_SMS_CHARS} characters")


class SmsError(Exception):
    """Sending an SMS failed. The message never carries the number or the text."""

    def __init__(self, message: str, *, temporary: bool = True) -> None:
        super().__init__(message)
        # True when trying again later may help (provider down), False when it cannot.
        self.temporary = temporary


@runtime_checkable
class SmsTransport(Protocol):
    async def send(self, sms: OutgoingSms) -> None: ...


class OutboxLogSmsTransport:
    """Sends nothing: records the SMS in the development mailbox (if any) and logs that it
    did, without the number or the text."""

    def __init__(self, mailbox_dir: Path | None = None) -> None:
        self.mailbox_dir = mailbox_dir

    async def send(self, sms: OutgoingSms) -> None:
        stored = False
        if self.mailbox_dir is not None:
            from clb.message_folder import store_sms

            await asyncio.to_thread(store_sms, self.mailbox_dir, sms, datetime.now(UTC))
            stored = True
        log.info(
            "sms recorded, provider not configured",
            extra={"sms_chars": len(sms.text), "dev_mailbox": stored},
        )


def sms_payload(sms: OutgoingSms, recorded_at: datetime) -> bytes:
    """How a recorded SMS is stored in the development mailbox (``.sms`` files, JSON)."""
    return orjson.dumps({"to": sms.to, "text": sms.text, "recorded_at": recorded_at.isoformat()})


def load_transport_class(path: str) -> Callable[[Settings], SmsTransport]:
    """Import ``module:Class``; ValueError with a one-line reason when that is not possible."""
    if not DOTTED_PATH.match(path):
        raise ValueError("must be module:Class, e.g. mypackage.sms:ProviderTransport")
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any failure to import becomes one clear line
        raise ValueError(f"cannot import module {module_name} ({type(exc).__name__})") from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type):
        raise ValueError(f"module {module_name} has no class {class_name}")
    if not callable(getattr(found, "send", None)):
        raise ValueError(f"{class_name} has no send() method")
    return cast("Callable[[Settings], SmsTransport]", found)


def sms_from_settings(settings: Settings) -> SmsTransport:
    """The configured transport, built as ``Class(settings)``; the recording default otherwise."""
    if settings.sms_transport is None:
        return OutboxLogSmsTransport(settings.dev_mailbox_dir)
    try:
        transport_class = load_transport_class(settings.sms_transport)
    except ValueError as exc:
        raise SettingsError(f"Invalid setting CLB_SMS_TRANSPORT: {exc}") from None
    return transport_class(settings)

"""A folder of recorded messages: mail and SMS that were not really sent, one file each.

The SMS default (clb.sms) records into it; in development the mailbox's SMTP server
(development.mailbox) stores mail into the same folder and ``/dev/postvak`` shows it.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from clb.sms import OutgoingSms

# <UTC timestamp to the microsecond>-<8 hex>.<eml|sms>: sorts by time, and is the only
# shape of name the pages accept (no dots, slashes or anything else from a URL).
ENTRY_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{12}Z)-[0-9a-f]{8}\.(?P<kind>eml|sms)$")


def entry_name(kind: Literal["eml", "sms"], received: datetime) -> str:
    stamp = received.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f") + "Z"
    return f"{stamp}-{secrets.token_hex(4)}.{kind}"


def store_entry(folder: Path, kind: Literal["eml", "sms"], data: bytes, received: datetime) -> Path:
    """Write one message; readers never see half a file (write aside, then rename)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = entry_name(kind, received)
    partial = folder / f".{name}.partial"
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    target = folder / name
    partial.replace(target)
    return target


def store_mail(folder: Path, data: bytes, received: datetime) -> Path:
    return store_entry(folder, "eml", data, received)


def store_sms(folder: Path, sms: OutgoingSms, received: datetime) -> Path:
    from clb.sms import sms_payload

    return store_entry(folder, "sms", sms_payload(sms, received), received)

"""The development mailbox's pages (``/dev/postvak``): the recorded mail and SMS, read from
the folder. They exist only outside production and only when a folder is configured; they
show mail as text (an HTML part only as escaped source) and offer attachments as downloads.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clb.errors import NotFound
from clb.message_folder import ENTRY_NAME
from clb.web.templating import render

if TYPE_CHECKING:
    from clb.config import Settings

LIST_LIMIT = 200
LOCAL_TIME = ZoneInfo("Europe/Brussels")
# Shown on a message's page (dev_mailbox_message.html holds their Dutch labels).
SHOWN_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID")
SAFE_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
SAFE_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


# --- Reading -------------------------------------------------------------------------


@dataclass(frozen=True)
class MailboxEntry:
    name: str
    kind: Literal["mail", "sms"]
    received: str  # local time (Europe/Brussels), ready to show
    to: str
    subject: str


@dataclass(frozen=True)
class AttachmentInfo:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class MessageView:
    entry: MailboxEntry
    headers: list[tuple[str, str]]  # (name as in SHOWN_HEADERS, value)
    text: str
    html_source: str | None
    attachments: list[AttachmentInfo]


def _received(name: str) -> str:
    match = ENTRY_NAME.match(name)
    if match is None:
        return ""
    when = datetime.strptime(match["stamp"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    return when.astimezone(LOCAL_TIME).strftime("%d-%m-%Y %H:%M:%S")


def _parse_mail(path: Path, *, headers_only: bool = False) -> EmailMessage:
    with path.open("rb") as handle:
        parsed = BytesParser(policy=policy.default).parse(handle, headersonly=headers_only)
    assert isinstance(parsed, EmailMessage)  # noqa: S101 - policy.default makes EmailMessage
    return parsed


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "")).strip()
    except (ValueError, TypeError, IndexError):  # a malformed header is shown as missing
        return ""


def _read_sms(path: Path) -> dict[str, str]:
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _entry(path: Path) -> MailboxEntry:
    name = path.name
    if name.endswith(".sms"):
        sms = _read_sms(path)
        text = sms.get("text", "")
        subject = text if len(text) <= 80 else text[:79] + "…"
        return MailboxEntry(name, "sms", _received(name), sms.get("to", ""), subject)
    message = _parse_mail(path, headers_only=True)
    return MailboxEntry(
        name, "mail", _received(name), _header(message, "To"), _header(message, "Subject")
    )


def valid_name(name: str) -> bool:
    return ENTRY_NAME.fullmatch(name) is not None


def list_entries(folder: Path, limit: int = LIST_LIMIT) -> list[MailboxEntry]:
    """The newest ``limit`` messages, newest first."""
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.iterdir() if valid_name(p.name)), reverse=True)
    entries = []
    for name in names[:limit]:
        try:
            entries.append(_entry(folder / name))
        except OSError:  # removed meanwhile (someone cleaning up the folder)
            continue
    return entries


def _attachment_parts(message: EmailMessage) -> list[EmailMessage]:
    """Every leaf part except the text and HTML bodies, in order."""
    bodies = {
        id(part)
        for part in (
            message.get_body(preferencelist=("plain",)),
            message.get_body(preferencelist=("html",)),
        )
        if part is not None
    }
    parts: list[EmailMessage] = []
    for part in message.walk():
        if part.is_multipart() or id(part) in bodies:
            continue
        assert isinstance(part, EmailMessage)  # noqa: S101 - policy.default
        parts.append(part)
    return parts


def _payload(part: MIMEPart) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _text(part: MIMEPart | None) -> str | None:
    if part is None:
        return None
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # unknown charset and the like
        return _payload(part).decode("utf-8", errors="replace")
    return content if isinstance(content, str) else None


def read_message(folder: Path, name: str) -> MessageView | None:
    path = folder / name
    if not valid_name(name) or not path.is_file():
        return None
    entry = _entry(path)
    if entry.kind == "sms":
        sms = _read_sms(path)
        headers = [("To", sms.get("to", "")), ("Date", entry.received)]
        return MessageView(entry, headers, sms.get("text", ""), None, [])
    message = _parse_mail(path)
    headers = [(name, _header(message, name)) for name in SHOWN_HEADERS]
    attachments = [
        AttachmentInfo(
            index,
            part.get_filename() or f"bijlage-{index + 1}",
            part.get_content_type(),
            len(_payload(part)),
        )
        for index, part in enumerate(_attachment_parts(message))
    ]
    return MessageView(
        entry,
        [(name, value) for name, value in headers if value],
        _text(message.get_body(preferencelist=("plain",))) or "",
        _text(message.get_body(preferencelist=("html",))),
        attachments,
    )


def read_attachment(folder: Path, name: str, index: int) -> tuple[AttachmentInfo, bytes] | None:
    path = folder / name
    if not valid_name(name) or not name.endswith(".eml") or not path.is_file():
        return None
    parts = _attachment_parts(_parse_mail(path))
    if not 0 <= index < len(parts):
        return None
    part = parts[index]
    data = _payload(part)
    info = AttachmentInfo(
        index, part.get_filename() or f"bijlage-{index + 1}", _media_type(part), len(data)
    )
    return info, data


def _media_type(part: MIMEPart) -> str:
    """The part's type with the parameters a calendar or text needs (method, charset), when
    they are plain tokens; anything unusual becomes application/octet-stream."""
    content_type = part.get_content_type()
    if not SAFE_TYPE.match(content_type):
        return "application/octet-stream"
    for name in ("method", "charset"):
        value = part.get_param(name)
        if isinstance(value, str) and SAFE_TOKEN.match(value):
            content_type += f"; {name}={value}"
    return content_type


# --- Pages ---------------------------------------------------------------------------

router = APIRouter(prefix="/dev/postvak", include_in_schema=False)

# A download is never shown as a page of ours, whatever its type.
DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def mailbox_folder(request: Request) -> Path:
    """The folder, or 404: never in production, and only when one is configured."""
    settings: Settings = request.app.state.settings
    if settings.env == "production" or settings.dev_mailbox_dir is None:
        raise NotFound()
    return settings.dev_mailbox_dir


def _content_disposition(filename: str) -> str:
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "bijlage"
    return f"attachment; filename=\"{fallback}\"; filename*=utf-8''{quote(filename, safe='')}"


@router.get("", response_class=HTMLResponse)
async def mailbox_page(request: Request) -> HTMLResponse:
    folder = mailbox_folder(request)
    entries = await asyncio.to_thread(list_entries, folder)
    return render(
        request,
        "dev_mailbox.html",
        {"mailbox_entries": entries, "mailbox_folder": str(folder), "list_limit": LIST_LIMIT},
    )


@router.get("/{name}", response_class=HTMLResponse)
async def message_page(request: Request, name: str) -> HTMLResponse:
    folder = mailbox_folder(request)
    if not valid_name(name):
        raise NotFound()
    view = await asyncio.to_thread(read_message, folder, name)
    if view is None:
        raise NotFound()
    return render(request, "dev_mailbox_message.html", {"mail_view": view})


@router.get("/{name}/bijlage/{index}")
async def attachment_download(request: Request, name: str, index: str) -> Response:
    folder = mailbox_folder(request)
    if not valid_name(name) or not re.fullmatch(r"\d{1,4}", index):
        raise NotFound()
    found = await asyncio.to_thread(read_attachment, folder, name, int(index))
    if found is None:
        raise NotFound()
    info, data = found
    return Response(
        data,
        media_type=info.content_type,
        headers={
            "Content-Disposition": _content_disposition(info.filename),
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "no-store",
        },
    )

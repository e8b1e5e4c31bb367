"""Input hygiene at the edge: one rule for every query string, form, JSON body and socket
frame, applied before anything else reads the input.

Invisible control characters are *removed*: the C0 controls except tab, line feed and
carriage return (a textarea sends CR LF), DEL, and the bidirectional embedding, override and
isolate controls (U+202A–U+202E, U+2066–U+2069), which can make a name or a link read
backwards on a counsellor's screen. Removed rather than refused: nobody types them on
purpose and nobody sees them, so removing them changes nothing a person meant, and a form
keeps what was typed instead of coming back with an error. PostgreSQL could not store NUL
anyway. The marks people do use in right-to-left text (U+200E, U+200F) stay.

File uploads (multipart) are left to the importer that reads them; NUL in them is still
refused by the database (clb.db).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# Cheap tests on raw text: JSON can only carry a control character as a \\u escape, and the
# bidi controls appear as themselves.
_ESCAPE_OR_BIDI = re.compile("\\\\u|[\u202a-\u202e\u2066-\u2069]")
_CLEANED_TYPES = ("application/json", "application/x-www-form-urlencoded")


def clean_text(text: str) -> str:
    return UNWANTED.sub("", text)


def clean_value(value: Any) -> Any:
    """The same structure with every string (keys too) cleaned."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(item) for item in value]
    if isinstance(value, dict):
        return {clean_value(key): clean_value(item) for key, item in value.items()}
    return value


def clean_json_text(text: str) -> Any:
    """Parse a JSON text (a socket frame) and clean it; a text without escapes or bidi
    controls is only parsed (the common case costs one regex scan)."""
    data = orjson.loads(text)
    return clean_value(data) if _ESCAPE_OR_BIDI.search(text) else data


def _clean_query(raw: bytes) -> bytes:
    text = raw.decode("latin-1")
    if "%" not in text and not UNWANTED.search(text):
        return raw
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(clean_text(k), clean_text(v)) for k, v in pairs]).encode()


def _clean_body(body: bytes, content_type: str) -> bytes:
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/json"):
        if not _ESCAPE_OR_BIDI.search(text):
            return body
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body  # the route's own validation answers a broken body
        return orjson.dumps(clean_value(data))
    if "%" not in text and not UNWANTED.search(text):
        return body
    pairs = parse_qsl(text, keep_blank_values=True)
    return urlencode([(clean_text(k), clean_text(v)) for k, v in pairs]).encode()


class InputHygieneMiddleware:
    """Cleans the query string of every request and socket handshake, and JSON and form
    bodies, before the app sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["query_string"] = _clean_query(scope.get("query_string", b""))
        content_type = _header(scope, b"content-type")
        if scope["type"] == "http" and content_type.startswith(_CLEANED_TYPES):
            receive = await _cleaned_receive(receive, content_type)
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1").lower()
    return ""


async def _cleaned_receive(receive: Receive, content_type: str) -> Receive:
    """Read the whole body (the app would), clean it, and hand it on as one message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return _replay(message, receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    cleaned = _clean_body(b"".join(chunks), content_type)
    return _replay({"type": "http.request", "body": cleaned, "more_body": False}, receive)


def _replay(first: Message, receive: Receive) -> Receive:
    pending = [first]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed

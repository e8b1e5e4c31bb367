"""Security headers, the Origin allowlist, CSRF protection and privacy-preserving IP hashes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Response, WebSocket
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clb.config import Settings
from clb.errors import CsrfFailed

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # A help platform must not tell other sites where someone came from. Not "no-referrer":
    # with it browsers send "Origin: null" on our own form posts, which the CSRF check needs.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

log = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Adds the headers to every HTTP response. A route that must differ (an embeddable
    page) sets its own Content-Security-Policy / X-Frame-Options, which are kept."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                csp = headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if "frame-ancestors 'none'" in csp:
                    # For old browsers without CSP frame-ancestors; an embeddable page whose
                    # own policy allows framing must not get it.
                    headers.setdefault("X-Frame-Options", "DENY")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def allowed_origins(settings: Settings) -> set[str]:
    return {settings.public_origin, *(o.rstrip("/") for o in settings.allowed_origins)}


def origin_allowed(origin: str | None, settings: Settings) -> bool:
    """True when a browser's Origin header names one of our own origins (CWE-1385)."""
    return origin is not None and origin.rstrip("/") in allowed_origins(settings)


WS_POLICY_VIOLATION = 1008


def refused(what: str, why: str, origin: str | None, settings: Settings) -> None:
    """Say why a socket or form was refused, next to what was expected: a public URL that
    does not match the address people use (a port, a proxy) shows up here at once. An
    origin is a scheme, host and port: nothing personal."""
    log.warning(
        "%s refused: %s",
        what,
        why,
        extra={"origin": (origin or "")[:200], "expected": sorted(allowed_origins(settings))},
    )


async def accept_websocket_from_allowed_origin(websocket: WebSocket) -> bool:
    """Browsers always send Origin on a WebSocket handshake and cookies ride along, so a
    foreign page could otherwise open a socket as the logged-in user (CWE-1385). Closes
    the handshake with 1008 and returns False when the origin is not ours."""
    settings: Settings = websocket.app.state.settings
    origin = websocket.headers.get("origin")
    if not origin_allowed(origin, settings):
        refused("socket", "origin not allowed", origin, settings)
        await websocket.close(code=WS_POLICY_VIOLATION, reason="origin not allowed")
        return False
    await websocket.accept()
    return True


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-clb_csrf" if settings.secure_cookies else "clb_csrf"


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page; issued on first use, set by the response hook."""
    settings: Settings = request.app.state.settings
    existing = request.cookies.get(csrf_cookie_name(settings))
    if existing and len(existing) >= 32:
        return existing
    if not hasattr(request.state, "new_csrf_token"):
        request.state.new_csrf_token = secrets.token_urlsafe(32)
    token: str = request.state.new_csrf_token
    return token


def set_csrf_cookie(request: Request, response: Response, *, rotate: bool = False) -> None:
    settings: Settings = request.app.state.settings
    if rotate:
        request.state.new_csrf_token = secrets.token_urlsafe(32)
    token = getattr(request.state, "new_csrf_token", None)
    if token:
        response.set_cookie(
            csrf_cookie_name(settings),
            token,
            httponly=True,
            samesite="strict",
            secure=settings.secure_cookies,
            path="/",
        )


async def verify_csrf(request: Request) -> None:
    """Double-submit check for cookie-authenticated state changes, plus the Origin check.

    The token comes from the form field ``csrf_token`` or the ``X-CSRF-Token`` header and
    must equal the HttpOnly cookie; a cross-site page can read neither.
    """
    settings: Settings = request.app.state.settings
    origin = request.headers.get("origin")
    if origin is not None and not origin_allowed(origin, settings):
        refused("form", "origin not allowed", origin, settings)
        raise CsrfFailed()
    expected = request.cookies.get(csrf_cookie_name(settings), "")
    supplied = request.headers.get("x-csrf-token")
    if supplied is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        supplied = value if isinstance(value, str) else None
    if not expected or not supplied or not hmac.compare_digest(expected, supplied):
        why = "no CSRF cookie" if not expected else "CSRF token missing or different"
        refused("form", why, origin, settings)
        raise CsrfFailed()


CsrfProtected = Annotated[None, Depends(verify_csrf)]


def ip_hash(request: Request) -> str:
    """A salted hash of the client address that changes daily: enough to throttle abuse,
    useless for identifying anyone afterwards."""
    settings: Settings = request.app.state.settings
    address = request.client.host if request.client else "unknown"
    return hash_ip(address, settings.secret_key or "")


def hash_ip(address: str, secret: str, *, now: datetime | None = None) -> str:
    day = (now or datetime.now(UTC)).strftime("%Y-%m-%d")
    digest = hmac.new(secret.encode(), f"{day}|{address}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]

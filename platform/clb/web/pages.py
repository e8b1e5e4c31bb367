"""The public shell: the landing page with the four ways in, the language switch, and the
privacy and accessibility statements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from babel.units import format_unit
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from clb.config import Settings
from clb.errors import NotFound
from clb.i18n import (
    BABEL_LOCALES,
    LANGUAGE_COOKIE,
    LANGUAGE_NAMES,
    PLAIN_COOKIE,
    SOURCE_LANGUAGE,
    babel_locale,
)
from clb.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class EntryPoint:
    key: str
    path: str
    title: str
    lead: str
    icon: str


# The four ways in, shown on the landing page; each domain fills in its own page.
ENTRY_POINTS = (
    EntryPoint(
        "chat",
        "/chat",
        "Chat met het CLB",
        "Anoniem chatten met een CLB-medewerker over wat je bezighoudt.",
        "chat",
    ),
    EntryPoint(
        "afspraak",
        "/afspraak",
        "Afspraak maken",
        "Spreek af met een CLB-medewerker: op het CLB, op school, aan de telefoon of via video.",
        "calendar",
    ),
    EntryPoint(
        "iemand-zien",
        "/liever-iemand-zien",
        "Liever iemand zien",
        "Vraag een gesprek in het echt aan, voor jezelf of voor iemand anders.",
        "people",
    ),
    EntryPoint(
        "vraag",
        "/vraag",
        "Stel je vraag",
        "Schrijf je vraag op. Een CLB-medewerker antwoordt later, ook als de chat gesloten is.",
        "question",
    ),
    EntryPoint(
        "toolbox",
        "/toolbox",
        "Toolbox",
        "Tips, oefeningen en hulp over faalangst, studiekeuze, welbevinden en meer.",
        "toolbox",
    ),
)


def coming_soon(request: Request, key: str) -> HTMLResponse:
    """An entry point whose service is not built yet: say so honestly and show what else helps."""
    entry = next(e for e in ENTRY_POINTS if e.key == key)
    others = [e for e in ENTRY_POINTS if e.key != key]
    return render(request, "coming_soon.html", {"entry": entry, "others": others})


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    return render(request, "landing.html", {"entries": ENTRY_POINTS})


def safe_next(target: str | None) -> str:
    """Only local paths: never let a link send someone off-site (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _remember(request: Request, next: str | None, cookie: str, value: str) -> RedirectResponse:
    """Back to the page, with a functional cookie that keeps the visitor's choice."""
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        cookie,
        value,
        max_age=365 * 24 * 3600,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        httponly=True,
    )
    return response


@router.get("/taal/{language}")
async def switch_language(
    request: Request, language: str, next: Annotated[str | None, Query(max_length=500)] = None
) -> RedirectResponse:
    if language not in LANGUAGE_NAMES:
        raise NotFound()
    return _remember(request, next, LANGUAGE_COOKIE, language)


@router.get("/makkelijke-taal/{state}")
async def switch_plain_language(
    request: Request, state: str, next: Annotated[str | None, Query(max_length=500)] = None
) -> RedirectResponse:
    """Makkelijke taal on or off: simpler Dutch with a pictogram per step."""
    if state not in {"aan", "uit"}:
        raise NotFound()
    return _remember(request, next, PLAIN_COOKIE, "1" if state == "aan" else "0")


def _duration(amount: float, unit: str, locale: str | None = None) -> str:
    """A period written out in the reader's language, with its plural form: "30 dagen",
    "24 miesiące", "6 أشهر"."""
    return format_unit(amount, f"duration-{unit}", length="long", locale=locale or babel_locale())


def retention_periods(settings: Settings) -> dict[str, str]:
    """How long each kind of record is kept, as the settings say (docs/privacy.md): the
    statement shows what the retention jobs enforce, never a number of its own."""
    return {
        "chat": _duration(settings.chat_retention_days, "day"),
        "handover": _duration(settings.retention_handover_days, "day"),
        "appointment": _duration(settings.retention_appointment_months, "month"),
        "request": _duration(settings.retention_request_months, "month"),
        "audit": _duration(settings.retention_audit_months, "month"),
    }


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_statement(request: Request) -> HTMLResponse:
    """The privacy statement in the reader's language (frontend/templates/statements/)."""
    periods = retention_periods(request.app.state.settings)
    return render(request, "privacy.html", {"retention": periods})


@router.get("/toegankelijkheid", response_class=HTMLResponse)
async def accessibility_statement(request: Request) -> HTMLResponse:
    """The accessibility statement, in Dutch only (marked as Dutch on other languages'
    pages); the chat's time limits it names come from the settings."""
    settings: Settings = request.app.state.settings
    dutch = BABEL_LOCALES[SOURCE_LANGUAGE]
    times = {
        "chat_limit": _duration(settings.chat_time_limit_minutes, "minute", dutch),
        "chat_notice": _duration(settings.chat_notice_before_minutes, "minute", dutch),
        "return_window": _duration(settings.chat_return_window_minutes, "minute", dutch),
        "away_end": _duration(settings.chat_active_away_minutes, "minute", dutch),
    }
    return render(request, "toegankelijkheid.html", {"times": times})

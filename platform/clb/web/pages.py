"""The public shell: the landing page with the four ways in, and the language switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from clb.errors import NotFound
from clb.i18n import LANGUAGE_COOKIE, LANGUAGE_NAMES, PLAIN_COOKIE
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

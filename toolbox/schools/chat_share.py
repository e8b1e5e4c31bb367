"""The chat on a school's website: a button with an "open now?" badge for an iframe (no
script to paste), and an A4 poster with a QR code to the chat.

The hours come from the chat (``chat.public.chat_opening``), by the rule the chat's start
applies: the badge says "open" only while a new chat can start.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from chat.public import (
    ChatClock,
    Period,
    chat_opening,
    chat_status_text,
)
from clb import i18n
from clb.i18n import gettext as _
from clb.web.deps import SessionDep
from clb.web.templating import render
from toolbox.catalogue.service import public_url
from toolbox.schools.embedding import EMBED_CSP, QR_CACHE, embed_snippet, plain_page, qr_svg

router = APIRouter(include_in_schema=False)

BUTTON_PATH = "/chat/knop"
POSTER_PATH = "/chat/affiche"
QR_PATH = "/chat/qr.svg"
SHARE_PATH = "/toolbox/delen"
BUTTON_TITLE = "Chat met het CLB"
# Room for the button and a badge of two lines, in a column as narrow as 200 px.
BUTTON_HEIGHT = 130
# The badge may be a minute behind; a school's page then costs us one request a minute.
BUTTON_CACHE = "public, max-age=60"


def _chat_url(request: Request) -> str:
    return f"{public_url(request)}/chat"


def share_links(request: Request) -> dict[str, Any]:
    """What the page for schools shows of the chat: the snippet, a preview, the poster."""
    button_url = f"{public_url(request)}{BUTTON_PATH}"
    return {
        "chat_snippet": embed_snippet(button_url, _(BUTTON_TITLE), BUTTON_HEIGHT, borderless=True),
        "chat_button_path": BUTTON_PATH,
        "chat_button_height": BUTTON_HEIGHT,
        "chat_poster_url": POSTER_PATH,
        "chat_qr_url": QR_PATH,
    }


# --- what the badge and the poster say -------------------------------------------------------


def weekly_lines(weekly: dict[int, tuple[Period, ...]]) -> list[str]:
    """The usual week, one line per opening: "Maandag: van 17:00 tot 21:00 uur"."""
    names = get_day_names("wide", locale=i18n.babel_locale())
    line = _("{day}: van {from} tot {to} uur")
    # "from" is a keyword in Python: the placeholders go in as a mapping.
    return [
        line.format_map(
            {
                "day": names[day].capitalize(),
                "from": f"{p.opens_at:%H:%M}",
                "to": f"{p.closes_at:%H:%M}",
            }
        )
        for day in sorted(weekly)
        for p in weekly[day]
    ]


# --- pages -----------------------------------------------------------------------------------


@router.get(BUTTON_PATH, response_class=HTMLResponse)
async def chat_button(request: Request, session: SessionDep, now: ChatClock) -> HTMLResponse:
    """The button for an iframe: no site chrome, no scripts, no cookies; frameable by any
    site, and cacheable for a minute."""
    headers = {
        "Content-Security-Policy": EMBED_CSP,
        "Cache-Control": BUTTON_CACHE,
        "Vary": "Accept-Language, Cookie",
    }
    chat_url = _chat_url(request)
    context: dict[str, Any] = {
        "lang": i18n.current_language(),
        "dir": i18n.current_direction(),
        "chat_url": chat_url,
    }
    lang = request.query_params.get("lang")
    if lang and lang not in i18n.LANGUAGE_NAMES:
        # A typo in a snippet shows in the frame; the button still leads to the chat.
        context["language_error"] = _(
            "Die taal kennen we niet: %(value)s. Kies uit: %(codes)s."
        ) % {
            "value": lang[:20],
            "codes": ", ".join(i18n.LANGUAGE_NAMES),
        }
        headers["Cache-Control"] = "no-cache"
        return plain_page(request, "chat_button.html", context, 422, headers)
    if lang:
        # The chat opens in the language the school chose for the button.
        context["chat_url"] = f"{chat_url}?{urlencode({'lang': lang})}"
    opening = await chat_opening(session, request.app.state.settings, now)
    context.update(open=opening.can_start, status=chat_status_text(opening, now))
    return plain_page(request, "chat_button.html", context, 200, headers)


@router.get(POSTER_PATH, response_class=HTMLResponse)
async def chat_poster(request: Request, session: SessionDep, now: ChatClock) -> HTMLResponse:
    """An A4 poster for the school's walls: the opening hours and a QR code to the chat."""
    opening = await chat_opening(session, request.app.state.settings, now)
    chat_url = _chat_url(request)
    return render(
        request,
        "chat_poster.html",
        {
            "hours": weekly_lines(dict(opening.weekly)),
            "chat_url": chat_url,
            "short_url": chat_url.split("://", 1)[-1],
            "qr_url": QR_PATH,
            "share_url": SHARE_PATH,
        },
    )


@router.get(QR_PATH)
async def chat_qr_code(request: Request) -> Response:
    """The QR code to the chat (for posters, newsletters, slides)."""
    return Response(
        qr_svg(_chat_url(request)),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": QR_CACHE,
            "Content-Disposition": 'inline; filename="chat-qr.svg"',
        },
    )

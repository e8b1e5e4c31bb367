"""For schools: shareable filtered lists, an embeddable widget and a poster with a QR code
(the read-only JSON API is ``toolbox.schools.api``; the chat button and the chat's poster
are ``toolbox.schools.chat_share``).

These pages are left out of the OpenAPI schema. Both this router and the API's must be
included before the catalogue's router, whose ``/toolbox/{page}`` would otherwise take
``/toolbox/embed`` and friends for tool slugs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clb import i18n
from clb.web.deps import SessionDep
from clb.web.templating import render
from toolbox.catalogue import repository
from toolbox.catalogue.languages import language_helpers
from toolbox.catalogue.service import BadFilter, listing_from, listing_params, public_url
from toolbox.labels import label_sets
from toolbox.schools import chat_share
from toolbox.schools.api import PUBLIC_CACHE
from toolbox.schools.embedding import EMBED_CSP, QR_CACHE, embed_snippet, plain_page, qr_svg

router = APIRouter(include_in_schema=False)
# The chat button and the chat's poster belong with the rest of what schools share.
router.include_router(chat_share.router)

EMBED_LIMIT = 10
EMBED_MAX = 50
POSTER_TITLE = "Hulp en tips van het CLB"
POSTER_TITLE_MAX = 80
EMBED_WIDGET_HEIGHT = 600


# --- shared bits -----------------------------------------------------------------------


def _with_query(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _list_url(request: Request, pairs: list[tuple[str, str]]) -> str:
    """The full catalogue with these filters, as people outside the platform reach it."""
    return _with_query(f"{public_url(request)}/toolbox", pairs)


def _limit(request: Request) -> int:
    raw = request.query_params.get("beperk", str(EMBED_LIMIT))
    try:
        return min(EMBED_MAX, max(1, int(raw)))
    except ValueError:
        raise BadFilter(details={"parameter": "beperk", "values": [raw]}) from None


# --- pages -----------------------------------------------------------------------------


@router.get("/toolbox/embed", response_class=HTMLResponse)
async def embed(request: Request, session: SessionDep) -> HTMLResponse:
    """A compact list for an iframe on a school's website: no site chrome, no scripts,
    no cookies, and the only page that other sites may frame."""
    headers = {
        "Content-Security-Policy": EMBED_CSP,
        "Cache-Control": PUBLIC_CACHE,
        "Vary": "Accept-Language, Cookie",
    }
    context: dict[str, Any] = {
        "lang": i18n.current_language(),
        "dir": i18n.current_direction(),
        **label_sets(),
        **language_helpers(),
    }
    try:
        listing = listing_from(request.query_params)
        limit = _limit(request)
    except BadFilter as error:
        # A typo in a snippet should show a message in the frame, not a refused frame.
        context.update(error=error.detail_message, more_url=_list_url(request, []))
        headers["Cache-Control"] = "no-cache"
        return plain_page(request, "toolbox_embed.html", context, 422, headers)
    tools, total = await repository.search_tools(session, listing.spec, limit=limit)
    context.update(
        spec=listing.spec,
        tools=tools,
        total=total,
        base_url=public_url(request),
        more_url=_list_url(request, listing_params(listing)),
    )
    return plain_page(request, "toolbox_embed.html", context, 200, headers)


@router.get("/toolbox/delen", response_class=HTMLResponse)
async def share(request: Request, session: SessionDep) -> HTMLResponse:
    """For schools: the chat button and its poster, and everything needed to pass this list
    on (link, widget snippet, poster)."""
    listing = listing_from(request.query_params)
    pairs = listing_params(listing)
    _tools, total = await repository.search_tools(session, listing.spec, limit=1)
    embed_url = _with_query(f"{public_url(request)}/toolbox/embed", pairs)
    return render(
        request,
        "toolbox_share.html",
        {
            **label_sets(),
            "spec": listing.spec,
            "total": total,
            "pairs": pairs,
            "list_url": _list_url(request, pairs),
            "embed_url": embed_url,
            "snippet": embed_snippet(embed_url, i18n.gettext(POSTER_TITLE), EMBED_WIDGET_HEIGHT),
            "poster_url": _with_query("/toolbox/affiche", pairs),
            "qr_url": _with_query("/toolbox/qr.svg", pairs),
            "api_url": _with_query("/api/toolbox/tools", pairs),
            "poster_title": POSTER_TITLE,
            "poster_title_max": POSTER_TITLE_MAX,
            **chat_share.share_links(request),
        },
    )


@router.get("/toolbox/affiche", response_class=HTMLResponse)
async def poster(request: Request) -> HTMLResponse:
    """An A4 poster for the school's walls: title, themes, a QR code to the list."""
    listing = listing_from(request.query_params)
    title = request.query_params.get("titel", "").strip() or i18n.gettext(POSTER_TITLE)
    if len(title) > POSTER_TITLE_MAX:
        raise BadFilter("De titel van de affiche is te lang.")
    pairs = listing_params(listing)
    list_url = _list_url(request, pairs)
    return render(
        request,
        "toolbox_poster.html",
        {
            **label_sets(),
            "spec": listing.spec,
            "title": title,
            "list_url": list_url,
            "short_url": list_url.split("://", 1)[-1],
            "qr_url": _with_query("/toolbox/qr.svg", pairs),
            "share_url": _with_query("/toolbox/delen", pairs),
        },
    )


@router.get("/toolbox/qr.svg")
async def qr_code(request: Request) -> Response:
    """The QR code for a filtered list (for posters, newsletters, slides)."""
    listing = listing_from(request.query_params)
    return Response(
        qr_svg(_list_url(request, listing_params(listing))),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": QR_CACHE,
            "Content-Disposition": 'inline; filename="toolbox-qr.svg"',
        },
    )

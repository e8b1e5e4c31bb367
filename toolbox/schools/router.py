"""For schools: shareable filtered lists, an embeddable widget, a poster with a QR code, and
a read-only JSON API on the public catalogue.

Two routers: ``router`` (pages, left out of the OpenAPI schema) and ``api_router`` (JSON,
documented). Both must be included before ``toolbox.router``, whose ``/toolbox/{page}``
would otherwise take ``/toolbox/embed`` and friends for tool slugs.
"""

from __future__ import annotations

import hashlib
import html
import io
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
import segno
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from clb import i18n
from clb.config import Settings
from clb.errors import NotFound
from clb.web.deps import SessionDep
from clb.web.security import CONTENT_SECURITY_POLICY
from clb.web.templating import render
from toolbox.catalogue import repository
from toolbox.catalogue.models import ToolStatus
from toolbox.catalogue.service import (
    MAX_QUERY,
    PAGE_SIZE,
    BadFilter,
    Listing,
    link_params,
    listing_from,
    tool_json,
)
from toolbox.labels import AUDIENCE_LABELS, KIND_LABELS, LEVEL_LABELS, SORT_LABELS, THEME_LABELS

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/toolbox", tags=["toolbox"])

EMBED_LIMIT = 10
EMBED_MAX = 50
API_PAGE_MAX = 100
POSTER_TITLE = "Hulp en tips van het CLB"
POSTER_TITLE_MAX = 80
QR_ERROR_LEVEL = "m"
EMBED_WIDGET_HEIGHT = 600

# The one page other sites may frame. The security middleware keeps a route's own policy
# and leaves out X-Frame-Options when that policy does not forbid framing.
EMBED_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")
# Public catalogue data, the same for everyone: caches may keep it a little while.
PUBLIC_CACHE = "public, max-age=300"
QR_CACHE = "public, max-age=86400"


# --- shared bits -----------------------------------------------------------------------


def _pairs(listing: Listing) -> list[tuple[str, str]]:
    """The query string of a list: its filters, and the sort order when not the default."""
    pairs = link_params(listing.spec)
    if listing.spec.sort != ("relevantie" if listing.spec.query else "titel"):
        pairs.append(("sorteer", listing.spec.sort))
    return pairs


def _with_query(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _list_url(request: Request, pairs: list[tuple[str, str]]) -> str:
    """The full catalogue with these filters, as people outside the platform reach it."""
    return _with_query(f"{_settings(request).public_url}/toolbox", pairs)


def _limit(request: Request) -> int:
    raw = request.query_params.get("beperk", str(EMBED_LIMIT))
    try:
        return min(EMBED_MAX, max(1, int(raw)))
    except ValueError:
        raise BadFilter(details={"parameter": "beperk", "values": [raw]}) from None


def _labels() -> dict[str, Any]:
    return {
        "themes": THEME_LABELS,
        "audiences": AUDIENCE_LABELS,
        "levels": LEVEL_LABELS,
        "kinds": KIND_LABELS,
    }


def qr_svg(url: str) -> bytes:
    """A scalable QR code (viewBox, no fixed size) with a white quiet zone, so it scans off
    coloured paper too. Only presentation attributes: no style attribute for the CSP."""
    out = io.BytesIO()
    segno.make(url, error=QR_ERROR_LEVEL, micro=False).save(
        out, kind="svg", dark="#000", light="#fff", border=4, omitsize=True, title=url
    )
    return out.getvalue()


def embed_snippet(embed_url: str, title: str) -> str:
    """The HTML a school pastes into its website (escaped here: it is shown as text)."""
    return (
        f'<iframe src="{html.escape(embed_url)}" title="{html.escape(title)}" '
        f'width="100%" height="{EMBED_WIDGET_HEIGHT}" loading="lazy"></iframe>'
    )


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
    context: dict[str, Any] = {"lang": i18n.current_language(), **_labels()}
    try:
        listing = listing_from(request.query_params)
        limit = _limit(request)
    except BadFilter as error:
        # A typo in a snippet should show a message in the frame, not a refused frame.
        context.update(error=error.detail_message, more_url=_list_url(request, []))
        headers["Cache-Control"] = "no-cache"
        return _plain_page(request, "toolbox_embed.html", context, 422, headers)
    tools, total = await repository.search_tools(session, listing.spec, limit=limit)
    context.update(
        spec=listing.spec,
        tools=tools,
        total=total,
        base_url=_settings(request).public_url,
        more_url=_list_url(request, _pairs(listing)),
    )
    return _plain_page(request, "toolbox_embed.html", context, 200, headers)


def _plain_page(
    request: Request, template: str, context: dict[str, Any], status: int, headers: dict[str, str]
) -> HTMLResponse:
    """A page without the site's session bits: no CSRF cookie (it lives in other sites'
    pages) and cacheable, unlike ``render``."""
    html = request.app.state.templates.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=headers)


@router.get("/toolbox/delen", response_class=HTMLResponse)
async def share(request: Request, session: SessionDep) -> HTMLResponse:
    """Everything a school needs to pass this list on: link, widget snippet, poster."""
    listing = listing_from(request.query_params)
    pairs = _pairs(listing)
    _tools, total = await repository.search_tools(session, listing.spec, limit=1)
    public_url = _settings(request).public_url
    embed_url = _with_query(f"{public_url}/toolbox/embed", pairs)
    return render(
        request,
        "toolbox_share.html",
        {
            **_labels(),
            "spec": listing.spec,
            "total": total,
            "pairs": pairs,
            "list_url": _list_url(request, pairs),
            "embed_url": embed_url,
            "snippet": embed_snippet(embed_url, i18n.gettext(POSTER_TITLE)),
            "poster_url": _with_query("/toolbox/affiche", pairs),
            "qr_url": _with_query("/toolbox/qr.svg", pairs),
            "api_url": _with_query("/api/toolbox/tools", pairs),
            "poster_title": POSTER_TITLE,
            "poster_title_max": POSTER_TITLE_MAX,
        },
    )


@router.get("/toolbox/affiche", response_class=HTMLResponse)
async def poster(request: Request) -> HTMLResponse:
    """An A4 poster for the school's walls: title, themes, a QR code to the list."""
    listing = listing_from(request.query_params)
    title = request.query_params.get("titel", "").strip() or i18n.gettext(POSTER_TITLE)
    if len(title) > POSTER_TITLE_MAX:
        raise BadFilter("De titel van de affiche is te lang.")
    pairs = _pairs(listing)
    list_url = _list_url(request, pairs)
    return render(
        request,
        "toolbox_poster.html",
        {
            **_labels(),
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
        qr_svg(_list_url(request, _pairs(listing))),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": QR_CACHE,
            "Content-Disposition": 'inline; filename="toolbox-qr.svg"',
        },
    )


# --- JSON API --------------------------------------------------------------------------


class ToolOut(BaseModel):
    """A published tool or help source."""

    slug: str = Field(description="Stable identifier; old slugs redirect to the current one.")
    title: str
    summary: str
    description: str
    kind: str = Field(description="One of: " + ", ".join(KIND_LABELS))
    themes: list[str]
    audiences: list[str]
    levels: list[str] = Field(description="Empty means: for every level.")
    languages: list[str]
    url: str | None = Field(description="The external resource, if any.")
    provider: str
    phone: str | None
    hours: str | None
    reviewed_on: str | None = Field(description="Date of the last content review (ISO 8601).")
    page: str = Field(description="The tool's page on the CLB platform.")


class ToolPage(BaseModel):
    items: list[ToolOut]
    total: int = Field(description="How many tools match in all.")
    page: int
    per_page: int


class ThemeOut(BaseModel):
    slug: str = Field(description="Value for the `thema` filter.")
    label: str = Field(description="Name in the request's language (nl or en).")
    tools: int = Field(description="Published tools with this theme.")


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None
    request_id: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` header matched the ETag."}
}
BAD_FILTER: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "An unknown filter value (`bad_filter`)."}
}


def _etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: ``W/"x"`` matches ``"x"``."""
    if not header:
        return False
    candidates = [part.strip() for part in header.split(",")]
    return "*" in candidates or any(c.removeprefix("W/") == etag for c in candidates)


def cached_json(request: Request, data: Any, *, vary: str | None = None) -> Response:
    """JSON with a strong ETag (a hash of the body); 304 without a body when it matches."""
    body = orjson.dumps(data)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": PUBLIC_CACHE,
        # Public, read-only data without cookies: any site may read it.
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag",
    }
    if vary:
        headers["Vary"] = vary
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def _choices(values: Any) -> dict[str, Any]:
    return {"items": {"type": "string", "enum": list(values)}}


@api_router.get(
    "/tools",
    response_model=ToolPage,
    summary="Search and filter published tools",
    responses={**NOT_MODIFIED, **BAD_FILTER},
)
async def api_tools(
    request: Request,
    session: SessionDep,
    q: Annotated[
        str, Query(max_length=MAX_QUERY, description="Search words (Dutch, typo tolerant).")
    ] = "",
    thema: Annotated[
        list[str], Query(description="Themes (any of).", json_schema_extra=_choices(THEME_LABELS))
    ] = [],  # noqa: B006 - FastAPI copies defaults
    doelgroep: Annotated[
        list[str],
        Query(description="Audiences (any of).", json_schema_extra=_choices(AUDIENCE_LABELS)),
    ] = [],  # noqa: B006
    niveau: Annotated[
        list[str],
        Query(description="School levels (any of).", json_schema_extra=_choices(LEVEL_LABELS)),
    ] = [],  # noqa: B006
    soort: Annotated[
        list[str], Query(description="Kinds (any of).", json_schema_extra=_choices(KIND_LABELS))
    ] = [],  # noqa: B006
    sorteer: Annotated[
        str | None,
        Query(
            description="Order: relevance (default with `q`), title (default) or newest.",
            json_schema_extra={"enum": list(SORT_LABELS)},
        ),
    ] = None,
    pagina: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
    per_pagina: Annotated[int, Query(ge=1, le=API_PAGE_MAX, description="Page size.")] = PAGE_SIZE,
) -> Response:
    """One page of published tools. Answers carry an ETag; send it back in `If-None-Match`
    to get `304 Not Modified` while nothing changed."""
    # The parameters above document and type-check; the shared parser validates the values
    # exactly as the catalogue pages do (one 422 `bad_filter` for unknown choices).
    listing = listing_from(request.query_params)
    tools, total = await repository.search_tools(
        session, listing.spec, limit=per_pagina, offset=(listing.page - 1) * per_pagina
    )
    base_url = _settings(request).public_url
    data = {
        "items": [tool_json(tool, base_url) for tool in tools],
        "total": total,
        "page": listing.page,
        "per_page": per_pagina,
    }
    return cached_json(request, data)


@api_router.get(
    "/tools/{slug}",
    response_model=ToolOut,
    summary="One published tool",
    responses={
        **NOT_MODIFIED,
        301: {"description": "The tool was renamed: `Location` has its current address."},
        404: {"model": ErrorOut, "description": "No published tool with this slug."},
    },
)
async def api_tool(request: Request, slug: str, session: SessionDep) -> Response:
    """A tool by its slug; an old slug redirects (301) to the current one."""
    tool = await repository.tool_by_slug(session, slug)
    if tool is None:
        renamed = await repository.tool_by_old_slug(session, slug)
        if renamed is not None and renamed.status == ToolStatus.published:
            return RedirectResponse(f"/api/toolbox/tools/{renamed.slug}", status_code=301)
    if tool is None or tool.status != ToolStatus.published:
        raise NotFound()
    return cached_json(request, tool_json(tool, _settings(request).public_url))


@api_router.get(
    "/themes",
    response_model=list[ThemeOut],
    summary="The themes, with how many published tools each has",
    responses=NOT_MODIFIED,
)
async def api_themes(request: Request, session: SessionDep) -> Response:
    """Every theme's filter value and name (translated: `Accept-Language`, nl or en)."""
    counts = await repository.counts_by_theme(session)
    data = [
        {"slug": slug, "label": i18n.gettext(label), "tools": counts.get(slug, 0)}
        for slug, label in THEME_LABELS.items()
    ]
    return cached_json(request, data, vary="Accept-Language, Cookie")

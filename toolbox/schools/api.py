"""The read-only JSON API on the public catalogue, for schools and partners (documented in
the OpenAPI schema). Answers carry an ETag and may be read by any site."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from clb import i18n
from clb.web.deps import SessionDep
from toolbox.catalogue import repository
from toolbox.catalogue.service import (
    MAX_QUERY,
    PAGE_SIZE,
    find_published,
    listing_from,
    public_url,
    tool_json,
)
from toolbox.labels import AUDIENCE_LABELS, KIND_LABELS, LEVEL_LABELS, SORT_LABELS, THEME_LABELS

api_router = APIRouter(prefix="/api/toolbox", tags=["toolbox"])

API_PAGE_MAX = 100
# Public catalogue data, the same for everyone: caches may keep it a little while.
PUBLIC_CACHE = "public, max-age=300"


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
    base_url = public_url(request)
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
    tool = await find_published(session, slug)
    if isinstance(tool, str):
        return RedirectResponse(f"/api/toolbox/tools/{tool}", status_code=301)
    return cached_json(request, tool_json(tool, public_url(request)))


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

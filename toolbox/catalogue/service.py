"""Reading the catalogue: filters from links and forms, pages of results, tool details."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.requests import Request

from clb.config import Settings
from clb.errors import ClbError, NotFound
from clb.i18n import LANGUAGE_NAMES
from toolbox.catalogue import repository
from toolbox.catalogue.models import Tool, ToolStatus
from toolbox.catalogue.repository import SearchResult, ToolFilter
from toolbox.labels import AUDIENCE_LABELS, KIND_LABELS, LEVEL_LABELS, SORT_LABELS, THEME_LABELS

PAGE_SIZE = 20
MAX_QUERY = 200

# Query parameter names are Dutch: they show in links that schools share.
PARAMETERS = {
    "thema": THEME_LABELS,
    "doelgroep": AUDIENCE_LABELS,
    "niveau": LEVEL_LABELS,
    "soort": KIND_LABELS,
    "taal": LANGUAGE_NAMES,  # "in mijn taal"
}


class BadFilter(ClbError):
    status = 422
    code = "bad_filter"
    message = "Deze zoekopdracht bevat een onbekende keuze."


@dataclass(frozen=True)
class Listing:
    spec: ToolFilter
    page: int


def listing_from(params: QueryParams, **preset: tuple[str, ...]) -> Listing:
    """A validated filter from a link's query string (unknown values get a clear 422)."""
    chosen: dict[str, tuple[str, ...]] = {}
    for name, allowed in PARAMETERS.items():
        values = tuple(dict.fromkeys(params.getlist(name)))
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise BadFilter(details={"parameter": name, "values": unknown})
        chosen[name] = values or preset.get(name, ())
    query = params.get("q", "").strip()
    if len(query) > MAX_QUERY:
        raise BadFilter("Je zoekterm is te lang.")
    sort = params.get("sorteer", "relevantie" if query else "titel")
    if sort not in SORT_LABELS:
        raise BadFilter(details={"parameter": "sorteer", "values": [sort]})
    if sort == "relevantie" and not query:
        sort = "titel"  # nothing to rank by: the list by title, as without the parameter
    try:
        page = max(1, int(params.get("pagina", "1")))
    except ValueError:
        raise BadFilter(details={"parameter": "pagina"}) from None
    spec = ToolFilter(
        query=query,
        themes=chosen["thema"],
        audiences=chosen["doelgroep"],
        levels=chosen["niveau"],
        kinds=chosen["soort"],
        languages=chosen["taal"],
        sort=sort,
    )
    return Listing(spec, page)


@dataclass(frozen=True)
class CorrectionNote:
    """Under the results: "Resultaten voor …" (``certain``: the corrected words were searched)
    or "Bedoelde je …?" with a link to the corrected search."""

    corrected: str
    certain: bool
    url: str


def correction_note(listing: Listing, result: SearchResult) -> CorrectionNote | None:
    reading = result.reading
    if reading is None or reading.corrected is None:
        return None
    spec = replace(listing.spec, query=reading.corrected)
    pairs = link_params(spec)
    if listing.spec.sort != ("relevantie" if listing.spec.query else "titel"):
        pairs.append(("sorteer", listing.spec.sort))
    return CorrectionNote(reading.corrected, reading.certain, "?" + urlencode(pairs))


def link_params(spec: ToolFilter) -> list[tuple[str, str]]:
    """The query string that reproduces a filter (for shareable links, embeds, QR codes)."""
    pairs: list[tuple[str, str]] = []
    if spec.query:
        pairs.append(("q", spec.query))
    for name, values in (
        ("thema", spec.themes),
        ("doelgroep", spec.audiences),
        ("niveau", spec.levels),
        ("soort", spec.kinds),
        ("taal", spec.languages),
    ):
        pairs.extend((name, value) for value in values)
    return pairs


def listing_params(listing: Listing) -> list[tuple[str, str]]:
    """The query string of a list: its filters, and the sort order when not the default."""
    pairs = link_params(listing.spec)
    if listing.spec.sort != ("relevantie" if listing.spec.query else "titel"):
        pairs.append(("sorteer", listing.spec.sort))
    return pairs


def public_url(request: Request) -> str:
    """Where people outside the platform reach it (links, embeds, QR codes, the API)."""
    settings: Settings = request.app.state.settings
    return settings.public_url


async def find_published(session: AsyncSession, slug: str) -> Tool | str:
    """The published tool with this slug, or, for a renamed one, its current slug (to redirect
    to); :class:`NotFound` when there is neither."""
    tool = await repository.tool_by_slug(session, slug)
    if tool is None:
        renamed = await repository.tool_by_old_slug(session, slug)
        if renamed is not None and renamed.status == ToolStatus.published:
            return renamed.slug
    if tool is None or tool.status != ToolStatus.published:
        raise NotFound()
    return tool


def tool_json(tool: Tool, base_url: str) -> dict[str, Any]:
    """The public, read-only shape of a tool (API and embeds)."""
    return {
        "slug": tool.slug,
        "title": tool.title,
        "summary": tool.summary,
        "description": tool.description,
        "kind": tool.kind,
        "themes": tool.themes,
        "audiences": tool.audiences,
        "levels": tool.levels,
        "languages": tool.languages,
        "url": tool.url,
        "provider": tool.provider,
        "phone": tool.phone,
        "hours": tool.hours,
        "reviewed_on": tool.reviewed_on.isoformat() if tool.reviewed_on else None,
        "page": f"{base_url}/toolbox/{tool.slug}",
    }

"""The public toolbox: the catalogue with search and filters, audience pages, tool pages."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clb.db import utcnow
from clb.web.deps import ServicesDep, SessionDep
from clb.web.templating import render
from toolbox.catalogue import repository
from toolbox.catalogue.languages import language_helpers
from toolbox.catalogue.service import (
    PAGE_SIZE,
    Listing,
    correction_note,
    find_published,
    listing_from,
    listing_params,
    public_url,
)
from toolbox.labels import AUDIENCE_LABELS, SORT_LABELS, label_sets
from toolbox.search.service import safety_net_for
from toolbox.search_insights.counting import record_search, visitor_of

router = APIRouter(include_in_schema=False)

CATALOGUE_LEAD = "Tips, oefeningen en hulp rond faalangst, studiekeuze, welbevinden en meer."

# Pages per audience: the path, the audience, and a line about what is there for them.
AUDIENCE_PAGES = {
    "voor-leerlingen": ("leerling", "Tips, oefeningen en hulp als je ergens mee zit."),
    "voor-ouders": ("ouder", "Hulp en informatie om je kind te steunen."),
    "voor-scholen": (
        "school",
        "Materiaal voor leerkrachten en zorgcoördinatoren, om te delen met leerlingen en ouders.",
    ),
    "voor-clb-medewerkers": ("clb-medewerker", "Methodieken en bronnen voor de begeleiding."),
    "voor-partners": ("netwerkpartner", "Bronnen voor wie samen met het CLB rond jongeren werkt."),
}


async def _catalogue(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    listing: Listing,
    *,
    heading: str,
    lead: str,
    audience_page: str | None = None,
) -> HTMLResponse:
    offset = (listing.page - 1) * PAGE_SIZE
    result = await repository.search_catalogue(
        session, listing.spec, limit=PAGE_SIZE, offset=offset
    )
    tools, total = result.tools, result.total
    pages = max(1, -(-total // PAGE_SIZE))
    safety_net = await safety_net_for(session, services, listing.spec.query, utcnow())
    if listing.page == 1 and safety_net is None:
        # Editors learn from what was searched (counts only); a crisis search is counted
        # by the safety net alone, never with its words.
        await record_search(services, listing.spec.query, total, visitor=visitor_of(request))
    params = listing_params(listing)
    return render(
        request,
        "toolbox.html",
        {
            "heading": heading,
            "lead": lead,
            "audience_page": audience_page,
            "tools": tools,
            "total": total,
            "spec": listing.spec,
            "page": listing.page,
            "pages": pages,
            "query_string": urlencode(params),
            "share_url": f"{public_url(request)}/toolbox?{urlencode(params)}",
            **label_sets(),
            **language_helpers(),
            "sorts": SORT_LABELS,
            "theme_counts": await repository.counts_by_theme(session),
            "audience_pages": AUDIENCE_PAGES,
            "search_note": correction_note(listing, result),
            "safety_net": safety_net,
        },
    )


@router.get("/toolbox", response_class=HTMLResponse)
async def catalogue(request: Request, session: SessionDep, services: ServicesDep) -> HTMLResponse:
    return await _catalogue(
        request,
        session,
        services,
        listing_from(request.query_params),
        heading="Toolbox",
        lead=CATALOGUE_LEAD,
    )


@router.get("/toolbox/{page}", response_class=HTMLResponse)
async def tool_or_audience_page(
    request: Request, page: str, session: SessionDep, services: ServicesDep
) -> Response:
    if page in AUDIENCE_PAGES:
        audience, lead = AUDIENCE_PAGES[page]
        listing = listing_from(request.query_params, doelgroep=(audience,))
        return await _catalogue(
            request,
            session,
            services,
            listing,
            heading=AUDIENCE_LABELS[audience],
            lead=lead,
            audience_page=page,
        )
    tool = await find_published(session, page)
    if isinstance(tool, str):
        return RedirectResponse(f"/toolbox/{tool}", status_code=301)
    return render(
        request, "toolbox_tool.html", {"tool": tool, **label_sets(), **language_helpers()}
    )

"""The public end of the search log: the results page tells which result was opened
(``navigator.sendBeacon``, frontend/static/js/toolbox-search-click.js). Counts only: a
visitor's clicks for one query count once a day (counting.py), and the tool's slug is checked
but not stored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from clb.errors import Forbidden
from clb.ratelimit import Rate
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import ip_hash, origin_allowed
from toolbox.search_insights.counting import MAX_QUERY, record_click, visitor_of

router = APIRouter(include_in_schema=False)

# Someone reading results opens a few a minute; a script inflating counts is cut off.
CLICK_RATE = Rate(30, 60)
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
QueryField = Annotated[str, Form(min_length=1, max_length=2 * MAX_QUERY)]
SlugField = Annotated[str, Form(min_length=1, max_length=120, pattern=SLUG_PATTERN)]


@router.post("/toolbox/zoekklik", status_code=204)
async def search_click(
    request: Request, services: ServicesDep, session: SessionDep, q: QueryField, tool: SlugField
) -> Response:
    """One click on a result of the search ``q``: 204. A form post (what sendBeacon sends
    without a preflight); another site's page is refused (its Origin is not ours).

    A slug that is no published tool's is answered 204 as well, and not counted: the beacon
    never reads the answer, a tool unpublished while its results page was open is no error
    of the browser's (a 422 would show in its console), and the same answer for every slug
    tells a prober nothing about which drafts exist."""
    origin = request.headers.get("origin")
    if origin is not None and not origin_allowed(origin, services.settings):
        raise Forbidden()
    decision = await services.limiter.hit(f"toolbox-click:{ip_hash(request)}", CLICK_RATE)
    decision.raise_if_denied()
    await record_click(services, session, q, tool, visitor=visitor_of(request))
    return Response(status_code=204)

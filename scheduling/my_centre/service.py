"""Mijn CLB: from what someone types about their school to the centre that serves it.

The search is the booking steps' (``scheduling.booking_pages.school_search``): part of the
name, the town or the postcode, with a typo. One school found (or picked from several)
shows its centre; the chat's hours come from ``chat.public``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clb.i18n import gettext as _
from clb.org.models import Centre, Location, School
from scheduling.appointments.repository import SchoolMatch, school_and_centre
from scheduling.booking_pages.school_search import exact_match, search_schools
from scheduling.my_centre.repository import locations_of

QUERY_MAX = 100
MIN_QUERY = 2


@dataclass(frozen=True)
class CentreCard:
    """What the page shows of one school's centre."""

    school: School
    centre: Centre
    locations: list[Location]


@dataclass(frozen=True)
class Lookup:
    """The page's answer: an error next to the search field, the schools to pick from, or
    the centre of the one school meant."""

    query: str = ""
    error: str | None = None
    matches: list[SchoolMatch] | None = None
    card: CentreCard | None = None
    status: int = 200


async def centre_card(session: AsyncSession, school_id: uuid.UUID) -> CentreCard | None:
    found = await school_and_centre(session, school_id)
    if found is None:
        return None
    school, centre = found
    return CentreCard(school, centre, await locations_of(session, centre.id))


async def look_up(session: AsyncSession, query: str | None, school: str | None) -> Lookup:
    """``school``: an id picked from a list; ``query``: what was typed (None: not asked)."""
    if school is not None:
        try:
            card = await centre_card(session, uuid.UUID(school.strip()))
        except ValueError:
            card = None
        if card is None:
            error = _("Deze school kennen we niet. Zoek je school opnieuw.")
            return Lookup(error=error, status=404)
        return Lookup(card=card)
    if query is None:
        return Lookup()
    typed = " ".join(query.split())
    if not typed:
        error = _("Typ de naam, de gemeente of de postcode van je school.")
        return Lookup(error=error, status=422)
    if len(typed) > QUERY_MAX:
        error = _("Dat is te lang. Typ hoogstens %(n)s tekens.") % {"n": QUERY_MAX}
        return Lookup(query=typed[:QUERY_MAX], error=error, status=422)
    if len(typed) < MIN_QUERY:
        error = _("Typ minstens %(n)s letters.") % {"n": MIN_QUERY}
        return Lookup(query=typed, error=error, status=422)
    matches = await search_schools(session, typed)
    picked = matches[0] if len(matches) == 1 else exact_match(matches, typed)
    if picked is not None:
        card = await centre_card(session, picked.id)
        return Lookup(query=typed, card=card)
    return Lookup(query=typed, matches=matches)

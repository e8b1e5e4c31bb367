"""Finding a school by what someone types: part of its name, its town or its postcode, with
or without accents, hyphens or capitals, and with a typo.

Both sides are compared in one normal form (:func:`normalised`; in SQL the function
``school_search_text`` of migration 0016, which a trigram index covers):

1. every typed word starts a word of the name, town or postcode ("sint barb", "9000");
2. only when nothing matches so: trigram word similarity (pg_trgm), best first
   ("sint-barbra", "testschol").
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, Select, and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import Centre, School
from scheduling.appointments.repository import SCHOOL_MATCHES, SchoolMatch

MAX_WORDS = 6
# pg_trgm's word similarity from which a school counts as meant (its default is 0.6: too
# strict for one letter left out of a short word, "barbra").
TYPO_SIMILARITY = 0.5
_OTHER = re.compile(r"[^a-z0-9]+")


def normalised(value: str) -> str:
    """Lower case, accents off, every run of other characters one space."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _OTHER.sub(" ", plain).strip()


def _search_text() -> ColumnElement[str]:
    # The indexed expression (clb.org.models, ix_schools_search), word for word.
    return func.school_search_text(School.name, School.municipality, School.postcode)


def _matches(condition: ColumnElement[bool]) -> Select[School, str]:
    return select(School, Centre.name).join(Centre, Centre.id == School.centre_id).where(condition)


async def search_schools(
    session: AsyncSession, query: str, *, limit: int = SCHOOL_MATCHES
) -> list[SchoolMatch]:
    """The schools meant by ``query``: those whose words start with the typed words, or
    else the most alike (a typo)."""
    words = normalised(query).split()[:MAX_WORDS]
    if not words:
        return []
    document = _search_text()
    starts = and_(*(document.like(f"% {word}%") for word in words))
    rows = list(await session.execute(_matches(starts).order_by(School.name).limit(limit)))
    if not rows:
        phrase = " ".join(words)
        # Only for this transaction: the operator below (and its index) uses the threshold.
        await session.execute(
            text("SELECT set_config('pg_trgm.word_similarity_threshold', :value, true)"),
            {"value": str(TYPO_SIMILARITY)},
        )
        alike = _matches(document.op("%>")(phrase)).order_by(
            func.word_similarity(phrase, document).desc(), School.name
        )
        rows = list(await session.execute(alike.limit(limit)))
    return [
        SchoolMatch(school.id, school.name, school.municipality, school.centre_id, centre_name)
        for school, centre_name in rows
    ]


def exact_match(matches: list[SchoolMatch], query: str) -> SchoolMatch | None:
    """The one school whose name (or name and town) is what was typed, if there is one."""
    typed = normalised(query)
    found = [
        match
        for match in matches
        if typed in (normalised(match.name), normalised(f"{match.name} {match.municipality}"))
    ]
    return found[0] if len(found) == 1 else None

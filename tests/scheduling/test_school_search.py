"""The school search forgives what people type: accents, hyphens, capitals, part of a word,
the town or postcode, and a typo (real PostgreSQL, pg_trgm)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import Centre, School, SchoolLevel
from scheduling.booking_pages.school_search import exact_match, normalised, search_schools
from tests.conftest import make_centre
from tests.scheduling.booking_pages_support import csrf_of
from tests.scheduling.meeting_pages_support import FORM, as_form, hidden_fields, step_of
from tests.scheduling.support import bookable_counsellor

BARBARA = "Sint-Barbaracollege"


async def add_schools(db: AsyncSession, centre: Centre) -> None:
    for name, town, postcode in (
        (BARBARA, "Gent", "9000"),
        ("Sint-Jozefsinstituut", "Kortrijk", "8500"),
        ("Atheneum Brugge", "Brugge", "8000"),
        ("École Sainte-Marie", "Sint-Genesius-Rode", "1640"),
    ):
        db.add(
            School(
                centre_id=centre.id,
                name=name,
                municipality=town,
                postcode=postcode,
                level=SchoolLevel.secundair,
            )
        )
    await db.commit()


async def names(db: AsyncSession, query: str) -> list[str]:
    return [match.name for match in await search_schools(db, query)]


def test_normalised_drops_accents_hyphens_and_capitals() -> None:
    assert normalised("  École SAINTE-Marie ") == "ecole sainte marie"
    assert normalised("Sint-Barbara's") == "sint barbara s"


@pytest.mark.parametrize(
    "query",
    ["sint-barbra", "sint barbara", "Sint Barbara", "SINT-BARBARACOLLEGE", "barbara", "barbra"],
)
async def test_a_name_typed_loosely_or_with_a_typo_finds_the_school(
    db: AsyncSession, query: str
) -> None:
    await add_schools(db, await make_centre(db, slug="clb-zoek"))
    assert (await names(db, query))[0] == BARBARA


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gent", [BARBARA, "Testschool"]),
        ("9000", [BARBARA, "Testschool"]),
        ("kortrijk", ["Sint-Jozefsinstituut"]),
        ("8500", ["Sint-Jozefsinstituut"]),
        ("ecole", ["École Sainte-Marie"]),
        ("sainte marie rode", ["École Sainte-Marie"]),
        ("brugg", ["Atheneum Brugge"]),
    ],
)
async def test_the_town_the_postcode_and_words_without_accents_find_the_school(
    db: AsyncSession, query: str, expected: list[str]
) -> None:
    await add_schools(db, await make_centre(db, slug="clb-zoek"))
    assert await names(db, query) == expected


async def test_words_must_all_match_and_nothing_alike_finds_nothing(db: AsyncSession) -> None:
    await add_schools(db, await make_centre(db, slug="clb-zoek"))
    # "sint" alone is in three schools; with "jozef" only one.
    assert await names(db, "sint jozef") == ["Sint-Jozefsinstituut"]
    assert len(await names(db, "sint")) == 3
    assert await names(db, "zwembad") == []
    assert await names(db, "--") == []


async def test_the_search_can_use_the_trigram_index(db: AsyncSession) -> None:
    await add_schools(db, await make_centre(db, slug="clb-zoek"))
    await db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        await db.scalars(
            text(
                "EXPLAIN SELECT id FROM schools "
                "WHERE school_search_text(name, municipality, postcode) %> 'sint barbra'"
            )
        )
    )
    assert "ix_schools_search" in plan, plan


async def test_exact_match_is_the_one_school_of_that_name(db: AsyncSession) -> None:
    await add_schools(db, await make_centre(db, slug="clb-zoek"))
    matches = await search_schools(db, "sint barbaracollege")
    picked = exact_match(matches, "Sint Barbaracollege")
    assert picked is not None and picked.name == BARBARA
    assert exact_match(await search_schools(db, "sint"), "sint") is None


async def test_the_booking_step_finds_a_typo_and_verder_with_a_name_searches(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await add_schools(db, await make_centre(db, slug="clb-zoek"))
    found = await client.get("/afspraak", params={"q": "sint-barbra"})
    assert found.status_code == 200
    assert "1 school gevonden" in found.text and BARBARA in found.text
    # The next step's address with a name but no school chosen: the results, no error.
    typed = await client.get("/afspraak/waarover", params={"q": "sint barbara"})
    assert typed.status_code == 200
    assert BARBARA in typed.text and "Kies je school uit de lijst." not in typed.text
    nothing = await client.get("/afspraak/waarover")
    assert nothing.status_code == 422 and "Kies je school uit de lijst." in nothing.text


async def test_verder_on_the_request_forms_school_step_searches_or_takes_the_one_school(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _staff, school = await bookable_counsellor(db)
    await add_schools(db, await db.get_one(Centre, school.centre_id))
    csrf = csrf_of((await client.get(FORM)).text)
    base = [("csrf_token", csrf), ("stap", "school"), ("for_whom", "self_parent")]

    # A name typed, no school chosen: "Verder" shows the results to choose from.
    typed = await client.post(FORM, data=as_form([*base, ("q", "sint"), ("actie", "verder")]))
    assert typed.status_code == 200 and step_of(typed.text) == "school"
    assert "3 scholen gevonden" in typed.text and "Kies de school uit de lijst." not in typed.text
    assert ("for_whom", "self_parent") in hidden_fields(typed.text)

    # A typo: the results too.
    typo = await client.post(FORM, data=as_form([*base, ("q", "sint-barbra"), ("actie", "verder")]))
    assert typo.status_code == 200 and step_of(typo.text) == "school"
    assert BARBARA in typo.text

    # The school's whole name: taken at once, on to the next step.
    exact = await client.post(
        FORM, data=as_form([*base, ("q", "sint barbaracollege"), ("actie", "verder")])
    )
    assert exact.status_code == 200 and step_of(exact.text) == "bereiken"
    chosen = dict(hidden_fields(exact.text))["school"]
    barbara = await db.get_one(School, uuid.UUID(chosen))
    assert barbara.name == BARBARA

    # Nothing typed and nothing chosen: still the error.
    empty = await client.post(FORM, data=as_form([*base, ("actie", "verder")]))
    assert empty.status_code == 422 and "Kies de school uit de lijst." in empty.text


async def test_the_json_api_forgives_the_same_typos(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Schools' and partners' own pages search through the API the way the booking step does."""
    await add_schools(db, await make_centre(db))
    for query, school in (
        ("sint-barbra", BARBARA),
        ("8500", "Sint-Jozefsinstituut"),
        ("ecole sainte", "École Sainte-Marie"),
    ):
        found = await client.get("/api/schools", params={"q": query})
        assert found.status_code == 200, query
        assert [match["name"] for match in found.json()] == [school], query

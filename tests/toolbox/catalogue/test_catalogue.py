"""The public catalogue: Dutch search, filters, audience pages, stable links."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue import repository
from toolbox.catalogue.models import Tool, ToolSlug
from toolbox.catalogue.repository import ToolFilter


async def titles(db: AsyncSession, **spec: object) -> list[str]:
    tools, _ = await repository.search_tools(db, ToolFilter(**spec), limit=100)  # type: ignore[arg-type]
    return [tool.title for tool in tools]


async def test_the_seed_catalogue_is_published(db: AsyncSession) -> None:
    tools, total = await repository.search_tools(db, ToolFilter(), limit=1)
    assert total >= 60
    assert tools


async def test_dutch_inflections_find_their_stem(db: AsyncSession) -> None:
    tools, _ = await repository.search_tools(db, ToolFilter(query="faalangstig"), limit=5)
    assert tools
    for tool in tools:
        text = f"{tool.title} {tool.summary} {tool.description} {tool.search_terms}".lower()
        assert "faalangst" in text


async def test_accents_do_not_matter(db: AsyncSession) -> None:
    await db.execute(
        update(Tool).where(Tool.slug == "awel").values(summary="Praat over je ideeën en zorgen.")
    )
    await db.commit()
    assert any(t.startswith("Awel") for t in await titles(db, query="ideeen"))
    assert any(t.startswith("Awel") for t in await titles(db, query="ideeën"))


async def test_a_typo_still_finds_the_title(db: AsyncSession) -> None:
    assert "Onderwijskiezer" in await titles(db, query="onderwijskeizer")


async def test_a_prefix_finds_longer_words(db: AsyncSession) -> None:
    assert await titles(db, query="studiek")


async def test_filters_combine_and_an_empty_level_list_means_every_level(
    db: AsyncSession,
) -> None:
    parents = await titles(db, audiences=("ouder",), themes=("thuissituatie",))
    assert parents
    tools, _ = await repository.search_tools(
        db, ToolFilter(audiences=("ouder",), themes=("thuissituatie",)), limit=100
    )
    assert all("ouder" in t.audiences and "thuissituatie" in t.themes for t in tools)
    lines = await titles(db, kinds=("hulplijn",))
    assert "Zelfmoordlijn 1813" in lines or any("1813" in t for t in lines)


async def test_catalogue_page_searches_and_shares_its_link(client: httpx.AsyncClient) -> None:
    page = await client.get("/toolbox", params={"q": "faalangst", "thema": "faalangst"})
    assert page.status_code == 200
    assert "resultaten" in page.text or "1 resultaat" in page.text
    assert "/toolbox?q=faalangst&amp;thema=faalangst" in page.text


async def test_unknown_filter_values_get_a_clear_answer(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/toolbox", params={"thema": "astrologie"}, headers={"accept": "text/html"}
    )
    assert response.status_code == 422
    assert "onbekende keuze" in response.text


@pytest.mark.parametrize(
    "path",
    ["voor-ouders", "voor-scholen", "voor-leerlingen", "voor-clb-medewerkers", "voor-partners"],
)
async def test_audience_pages(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(f"/toolbox/{path}")
    assert page.status_code == 200
    assert re.search(r"\d+ resultaten|1 resultaat", page.text)


async def test_tool_page_and_a_renamed_tool_keeps_its_old_link(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    page = await client.get("/toolbox/awel")
    assert page.status_code == 200 and "Awel" in page.text
    tool = await repository.tool_by_slug(db, "awel")
    assert tool is not None
    tool.slug = "awel-kinder-en-jongerentelefoon"
    db.add(ToolSlug(slug=tool.slug, tool_id=tool.id))
    await db.commit()
    old = await client.get("/toolbox/awel")
    assert old.status_code == 301
    assert old.headers["location"] == "/toolbox/awel-kinder-en-jongerentelefoon"
    assert (await client.get("/toolbox/bestaat-niet")).status_code == 404


async def test_unpublished_tools_are_not_shown(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await db.execute(update(Tool).where(Tool.slug == "awel").values(status="archived"))
    await db.commit()
    assert (await client.get("/toolbox/awel")).status_code == 404
    assert "Awel (102)" not in await titles(db, query="awel")

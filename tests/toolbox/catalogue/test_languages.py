"""The toolbox in the reader's language: themes named in any interface language, a tool's
translated text, and the "in mijn taal" filter."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue import repository
from toolbox.catalogue.models import Tool
from toolbox.catalogue.repository import ToolFilter
from toolbox.search.reading import read_query
from toolbox.search.vocabulary import dictionary_words, vocabulary_for


async def themes_named_in(db: AsyncSession, query: str) -> tuple[str, ...]:
    return read_query(query, await vocabulary_for(db), dictionary_words()).themes


@pytest.mark.parametrize(
    ("query", "theme"),
    [
        ("bullying", "pesten"),
        ("harcèlement", "pesten"),
        ("zorbalık", "pesten"),
        ("nękanie", "pesten"),
        ("булінг", "pesten"),
        ("التنمر", "pesten"),
        ("fear of failure", "faalangst"),
        ("j'ai peur de l'échec", "faalangst"),
        ("exam stress", "stress-en-examens"),
        ("choix d'études", "studiekeuze"),
        ("Mental health", "mentale-gezondheid"),
    ],
)
async def test_a_theme_is_named_in_any_language(db: AsyncSession, query: str, theme: str) -> None:
    assert (await themes_named_in(db, query))[0] == theme


async def test_a_query_naming_no_theme_finds_none(db: AsyncSession) -> None:
    assert await themes_named_in(db, "fiets herstellen") == ()


@pytest.mark.parametrize(("query", "theme"), [("bullying", "pesten"), ("santé mentale", None)])
async def test_a_foreign_word_finds_the_themes_tools(
    db: AsyncSession, query: str, theme: str | None
) -> None:
    tools, total = await repository.search_tools(db, ToolFilter(query=query), limit=50)
    assert total > 0
    wanted = theme or (await themes_named_in(db, query))[0]
    assert all(wanted in tool.themes for tool in tools)


async def test_a_translated_tool_reads_in_the_visitors_language(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    translations = {
        "fr": {"summary": "Parle de ce qui te préoccupe.", "description": "Un.\n\nDeux."}
    }
    await db.execute(update(Tool).where(Tool.slug == "awel").values(translations=translations))
    await db.commit()
    page = await client.get("/toolbox/awel", params={"lang": "fr"})
    assert '<p class="lead">Parle de ce qui te préoccupe.</p>' in page.text
    assert "<p>Deux.</p>" in page.text
    # Untranslated text stays Dutch and says so, for screen readers and read-aloud.
    other = await client.get("/toolbox/onderwijs-vlaanderen", params={"lang": "fr"})
    assert '<p class="lead" lang="nl" dir="ltr">' in other.text
    listing = await client.get("/toolbox", params={"lang": "fr", "q": "awel"})
    assert "Parle de ce qui te préoccupe." in listing.text


async def test_in_my_language_keeps_tools_with_material_in_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await db.execute(update(Tool).where(Tool.slug == "awel").values(languages=["nl", "tr"]))
    await db.commit()
    tools, total = await repository.search_tools(db, ToolFilter(languages=("tr",)), limit=50)
    assert "awel" in [tool.slug for tool in tools] and total < 10  # Zanzu is multilingual
    assert all("tr" in tool.languages for tool in tools)
    page = await client.get("/toolbox", params={"lang": "tr", "taal": "tr"})
    assert 'name="taal" value="tr" checked' in page.text
    assert "/toolbox/awel" in page.text and "/toolbox/onderwijskiezer" not in page.text
    assert (await client.get("/toolbox", params={"taal": "xx"})).status_code == 422
    # Dutch readers are not offered the filter: everything is in their language.
    assert 'name="taal"' not in (await client.get("/toolbox")).text


@pytest.mark.parametrize("language", ["en", "fr", "ar", "tr", "pl", "uk"])
async def test_the_help_lines_come_translated(client: httpx.AsyncClient, language: str) -> None:
    page = await client.get("/toolbox/zelfmoordlijn-1813", params={"lang": language})
    assert "Denk je aan zelfdoding" not in page.text
    assert '<p class="lead">' in page.text  # in the page's own language, no lang="nl"
    assert "1813" in page.text

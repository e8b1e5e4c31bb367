"""The toolbox search's reading of a query (words, compounds, typos), the theme vocabularies
that editors extend, and the crisis help box with its count."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import inspect, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from toolbox.catalogue import repository
from toolbox.catalogue.models import Tool
from toolbox.catalogue.repository import ToolFilter
from toolbox.search import vocabulary as vocabulary_module
from toolbox.search.models import SafetyNetDay, ThemeWord
from toolbox.search.spelling import SpellingIndex, split_compound
from toolbox.search.vocabulary import normalise_word, vocabulary_changed, vocabulary_for


def test_words_are_normalised_as_editors_type_them() -> None:
    assert normalise_word("  Harcèlement  SCOLAIRE ") == "harcelement scolaire"
    assert normalise_word("Ideeën!") == "ideeen"
    assert normalise_word("cyber-pesten") == "cyber pesten"


def test_compounds_split_into_known_words() -> None:
    known = {"examen", "stress", "pest", "gedrag", "huiswerk", "planning", "school"}
    assert split_compound("examenstress", known.__contains__) == ["examen", "stress"]
    assert split_compound("pestgedrag", known.__contains__) == ["pest", "gedrag"]
    assert split_compound("huiswerkplanning", known.__contains__) == ["huiswerk", "planning"]
    assert split_compound("schoolsstress", known.__contains__) == ["school", "stress"]
    assert split_compound("fietsenmaker", known.__contains__) is None


def test_a_typo_is_certain_only_when_one_word_fits() -> None:
    index = SpellingIndex.build({"studiekeuze": 3, "pesten": 5, "posten": 4, "planning": 2})
    sure = index.correct("studiekeuse")
    assert sure is not None and sure.word == "studiekeuze" and sure.certain
    swapped = index.correct("plannnig")
    assert swapped is not None and swapped.word == "planning"
    unsure = index.correct("psten")
    assert unsure is not None and unsure.word == "pesten" and not unsure.certain
    assert index.correct("fiets") is None


async def test_question_phrasing_and_small_words_do_not_sink_a_query(db: AsyncSession) -> None:
    result = await repository.search_catalogue(
        db, ToolFilter(query="Wat moet ik doen als ik word gepest?"), limit=5
    )
    assert result.reading is not None and result.reading.themes == ("pesten",)
    assert result.theme_matched and result.total >= 5
    slugs = [tool.slug for tool in result.tools]
    # For someone in need, the help lines of the theme come first.
    assert slugs[:2] == ["awel-chat-en-forum", "awel"] or slugs[:2] == [
        "awel",
        "awel-chat-en-forum",
    ]
    assert "kies-kleur-tegen-pesten" in slugs


async def test_a_theme_named_ranks_before_a_word_in_passing(db: AsyncSession) -> None:
    # A tool that names bullying in its title, but is not about it.
    await db.execute(
        update(Tool)
        .where(Tool.slug == "onderwijskiezer")
        .values(title="Onderwijskiezer (ook tegen pesten)")
    )
    await db.commit()
    tools, _ = await repository.search_tools(db, ToolFilter(query="pesten"), limit=50)
    themed = ["pesten" in tool.themes for tool in tools]
    # Every tool of the theme before any tool that only mentions the word.
    assert themed == sorted(themed, reverse=True)
    assert tools[-1].slug == "onderwijskiezer"


async def test_filters_still_apply_to_a_theme_match(db: AsyncSession) -> None:
    tools, total = await repository.search_tools(
        db, ToolFilter(query="gepest", kinds=("website",)), limit=50
    )
    assert total and all(tool.kind == "website" for tool in tools)


async def test_an_editors_word_reaches_the_search(
    db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = ToolFilter(query="skibidiplagen")
    assert (await repository.search_catalogue(db, query, limit=5)).total == 0
    word = ThemeWord(
        theme="pesten", language="nl", word="Skibidiplagen", normalised="skibidiplagen"
    )
    word.source = "editor"
    db.add(word)
    await db.commit()
    # Another instance notices through the fingerprint once its check interval has passed.
    monkeypatch.setattr(vocabulary_module, "VERSION_CHECK_SECONDS", 0.0)
    result = await repository.search_catalogue(db, query, limit=5)
    assert result.theme_matched
    assert result.tools and all("pesten" in tool.themes for tool in result.tools)
    monkeypatch.undo()
    # Removed again: this instance rebuilds at once when told.
    await db.delete(word)
    await db.commit()
    await vocabulary_changed(db)
    assert (await repository.search_catalogue(db, query, limit=5)).total == 0
    assert "skibidiplagen" not in (await vocabulary_for(db)).phrases


async def test_a_word_for_an_unknown_theme_is_ignored(db: AsyncSession) -> None:
    db.add(ThemeWord(theme="geen-thema", language="nl", word="xyzzy", normalised="xyzzy"))
    await db.commit()
    await vocabulary_changed()
    result = await repository.search_catalogue(db, ToolFilter(query="xyzzy"), limit=5)
    assert result.total == 0 and not result.theme_matched


async def test_every_theme_has_a_vocabulary_in_every_interface_language(db: AsyncSession) -> None:
    rows = (await db.execute(select(ThemeWord.theme, ThemeWord.language).distinct())).all()
    pairs = {(theme, language) for theme, language in rows}
    from toolbox.labels import THEME_LABELS

    for theme in THEME_LABELS:
        for language in ("nl", "en", "fr", "tr", "pl", "uk", "ar"):
            assert (theme, language) in pairs, (theme, language)


async def test_a_sure_correction_is_searched_and_said(client: httpx.AsyncClient) -> None:
    page = await client.get("/toolbox", params={"q": "motivatei"})
    assert page.status_code == 200
    assert 'data-testid="search-note"' in page.text and "Resultaten voor" in page.text
    assert "<bdi>motivatie</bdi>" in page.text


async def test_an_unsure_correction_is_offered(client: httpx.AsyncClient) -> None:
    page = await client.get("/toolbox", params={"q": "depresie"})
    assert "Bedoelde je" in page.text
    assert '?q=depressie"' in page.text or '?q=depressief"' in page.text
    plain = await client.get("/toolbox", params={"q": "faalangst"})
    assert 'data-testid="search-note"' not in plain.text


@pytest.mark.parametrize(
    "query", ["ik wil dood", "zelfmoord", "ik wil niet meer leven", "I want to die"]
)
async def test_a_crisis_search_shows_the_help_box_and_counts_it(
    client: httpx.AsyncClient, db: AsyncSession, query: str
) -> None:
    for _ in range(2):
        page = await client.get("/toolbox", params={"q": query})
        assert page.status_code == 200
        assert 'data-testid="safety-net"' in page.text
        assert 'href="tel:1813"' in page.text and 'href="tel:102"' in page.text
        assert 'href="tel:112"' in page.text
        # The box comes before the results.
        assert page.text.index('data-testid="safety-net"') < page.text.index("results-title")
    assert await db.scalar(select(SafetyNetDay.shown)) == 2
    # Only a day and a number: the query is stored nowhere in the table.
    columns = await db.run_sync(
        lambda sync: [c["name"] for c in inspect(sync.bind).get_columns("toolbox_safety_net_days")]
    )
    assert sorted(columns) == ["day", "shown"]
    dump = await db.scalar(text("SELECT string_agg(t::text, ' ') FROM toolbox_safety_net_days t"))
    assert query.split()[-1].lower() not in (dump or "").lower()


@pytest.mark.parametrize("query", ["examenstress", "studiekeuze", "dood vogeltje", "rouw"])
async def test_an_ordinary_search_shows_no_help_box(
    client: httpx.AsyncClient, db: AsyncSession, query: str
) -> None:
    page = await client.get("/toolbox", params={"q": query})
    assert page.status_code == 200
    assert 'data-testid="safety-net"' not in page.text
    assert await db.scalar(select(SafetyNetDay.shown)) is None

"""The editors' console: the zero-result and low-click lists (small counts suppressed, last
90 days) and the theme vocabularies (add, remove, audited, bad input answered in Dutch)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_staff
from toolbox.search.models import ThemeWord
from toolbox.search_insights import service
from toolbox.search_insights.repository import DayCounts, add_counts

SEARCHES = "/console/toolbox/zoekopdrachten"
WORDS = "/console/toolbox/woorden"
HTML = {"accept": "text/html"}
EDITOR = "eva@clb.example"


@pytest.fixture
async def editor_client(client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    await make_staff(db, email=EDITOR, roles=("editor",))
    assert (await login(client, EDITOR)).status_code == 303
    return client


async def post(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], *, token: bool = True
) -> httpx.Response:
    fields = {**data, "csrf_token": await form_token(client, WORDS)} if token else data
    return await client.post(path, data=fields, headers=HTML)


async def words(db: AsyncSession) -> list[tuple[str, str, str, str, str]]:
    db.expire_all()
    found = await db.scalars(
        select(ThemeWord).where(ThemeWord.source == "editor").order_by(ThemeWord.id)
    )
    return [(w.theme, w.language, w.word, w.normalised, w.source) for w in found.all()]


async def actions(db: AsyncSession) -> list[str]:
    found = await db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.action.like("toolbox.theme_word.%"))
        .order_by(AuditEvent.id)
    )
    return list(found.all())


async def test_the_lists_suppress_small_counts_and_show_only_90_days(
    editor_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    today = service.today_in_brussels()
    long_ago = today - timedelta(days=89)
    await add_counts(
        db,
        [
            DayCounts(today, "gepest op de bus", 10, 10, 0),
            DayCounts(today, "ik heet jan peeters", 2, 2, 0),  # 2 times: never shown
            DayCounts(today, "bijna genoeg", 9, 9, 0),
            DayCounts(today, "studiekeuse", 6, 6, 0),
            DayCounts(long_ago, "studiekeuse", 5, 5, 0),  # 11 over the 90 days
            DayCounts(today - timedelta(days=90), "van vorig seizoen", 50, 50, 0),
            DayCounts(today, "examenstress", 40, 0, 3),  # found, rarely clicked
            DayCounts(today, "rouw", 100, 0, 12),  # found, rarely clicked, 12 shown
            DayCounts(today, "faalangst", 40, 0, 30),  # found and clicked: not listed
            DayCounts(today, "weinig gezocht", 9, 0, 0),
        ],
    )
    await db.commit()
    page = await editor_client.get(SEARCHES, headers=HTML)
    assert page.status_code == 200
    text = page.text
    zero, low = text.split('id="low-title"')
    assert "„gepest op de bus”" in zero and "10 keer zonder resultaat" in zero
    assert "„studiekeuse”" in zero and "11 keer zonder resultaat" in zero
    for hidden in ("ik heet jan peeters", "bijna genoeg", "van vorig seizoen", "weinig gezocht"):
        assert hidden not in text
    assert "„examenstress”" in low and "Minder dan 10 keer geklikt" in low
    assert "„rouw”" in low and "12 keer geklikt" in low
    assert "„faalangst”" not in low


async def test_an_editor_adds_a_query_from_the_list_to_a_theme(
    editor_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await add_counts(db, [DayCounts(service.today_in_brussels(), "gepest op de bus", 12, 12, 0)])
    await db.commit()
    done = await post(
        editor_client,
        f"{SEARCHES}/woord",
        {"theme": "pesten", "language": "nl", "word": " Gepest  op de BUS ", "row": "z1"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{SEARCHES}?toegevoegd=1#flash"
    assert await words(db) == [("pesten", "nl", "Gepest op de BUS", "gepest op de bus", "editor")]
    assert await actions(db) == ["toolbox.theme_word.added"]

    page = await editor_client.get(f"{SEARCHES}?toegevoegd=1", headers=HTML)
    assert "Het woord is toegevoegd" in page.text
    assert "Staat al in de woordenlijst van:" in page.text
    vocabulary = await editor_client.get(f"{WORDS}?thema=pesten", headers=HTML)
    assert ">Gepest op de BUS<" in vocabulary.text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"theme": "geen-thema", "language": "nl", "word": "gepest"}, 422, "Kies een thema"),
        ({"theme": "", "language": "nl", "word": "gepest"}, 422, "Kies een thema"),
        ({"theme": "pesten", "language": "xx", "word": "gepest"}, 422, "Kies een taal"),
        ({"theme": "pesten", "language": "nl", "word": ""}, 422, "2 tot 80 tekens"),
        ({"theme": "pesten", "language": "nl", "word": "g"}, 422, "2 tot 80 tekens"),
        ({"theme": "pesten", "language": "nl", "word": "x" * 81}, 422, "2 tot 80 tekens"),
        ({"theme": "pesten", "language": "nl", "word": "?!"}, 422, "minstens één letter"),
        ({"theme": "pesten", "language": "nl", "word": "ß" * 41}, 422, "2 tot 80 tekens"),
        ({"theme": "pesten", "language": "nl", "word": "SCHOOLBÚSGEDOE"}, 409, "staat al bij"),
    ],
)
async def test_bad_words_get_a_clear_answer_next_to_the_field(
    editor_client: httpx.AsyncClient,
    db: AsyncSession,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    db.add(
        ThemeWord(theme="pesten", language="nl", word="schoolbusgedoe", normalised="schoolbusgedoe")
    )
    # The list's first row (z1), whose form shows the error.
    await add_counts(db, [DayCounts(service.today_in_brussels(), "schoolbus", 12, 12, 0)])
    await db.commit()
    for path, form in ((WORDS, data), (f"{SEARCHES}/woord", {**data, "row": "z1"})):
        answer = await post(editor_client, path, form)
        assert answer.status_code == status, (path, answer.text[:300])
        assert message in answer.text
        assert 'class="error-summary"' in answer.text and 'aria-invalid="true"' in answer.text
    assert len(await words(db)) == 1
    assert await actions(db) == []


async def test_the_same_word_may_stand_in_another_language_or_theme(
    editor_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    for theme, language in (("pesten", "nl"), ("pesten", "en"), ("welbevinden", "nl")):
        data = {"theme": theme, "language": language, "word": "online schoolbusgedoe"}
        assert (await post(editor_client, WORDS, data)).status_code == 303
    assert len(await words(db)) == 3


async def test_an_editor_removes_a_word_and_it_is_audited(
    editor_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    word = ThemeWord(theme="rouw", language="fr", word="adieu mamie", normalised="adieu mamie")
    db.add(word)
    await db.commit()
    word_id = word.id
    page = await editor_client.get(f"{WORDS}?thema=rouw", headers=HTML)
    assert "adieu mamie" in page.text
    done = await post(editor_client, f"{WORDS}/{word_id}/verwijderen", {})
    assert done.status_code == 303
    assert done.headers["location"] == f"{WORDS}?thema=rouw&verwijderd=1#thema-rouw"
    assert await words(db) == []
    assert await actions(db) == ["toolbox.theme_word.removed"]
    again = await post(editor_client, f"{WORDS}/{word_id}/verwijderen", {})
    assert again.status_code == 404
    huge = await post(editor_client, f"{WORDS}/99999999999/verwijderen", {})
    assert huge.status_code == 422


async def test_changes_need_the_csrf_token(
    editor_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    data = {"theme": "pesten", "language": "nl", "word": "gepest"}
    for path in (WORDS, f"{SEARCHES}/woord"):
        refused = await post(editor_client, path, data, token=False)
        assert refused.status_code == 403
    assert await words(db) == []


async def test_only_editors_see_and_change_the_lists(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    word = ThemeWord(theme="rouw", language="nl", word="mis opa", normalised="mis opa")
    db.add(word)
    await db.commit()
    assert (await client.get(SEARCHES, headers=HTML)).status_code in (303, 401)
    await make_staff(db, email="an@clb.example", roles=("counsellor", "coordinator"))
    assert (await login(client)).status_code == 303
    for path in (SEARCHES, WORDS):
        assert (await client.get(path, headers=HTML)).status_code == 403
    token = await form_token(client, "/console/snelle-antwoorden")
    data = {"theme": "pesten", "language": "nl", "word": "gepest", "csrf_token": token}
    for path in (WORDS, f"{SEARCHES}/woord", f"{WORDS}/{word.id}/verwijderen"):
        assert (await client.post(path, data=data, headers=HTML)).status_code == 403
    assert len(await words(db)) == 1


async def test_the_safety_net_count_shows_without_any_query_and_small_counts_hidden(
    editor_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Crisis searches are counted for the editors, never listed with their words."""
    few = await editor_client.get(SEARCHES, headers=HTML)
    assert "De laatste 30 dagen: minder dan 10 keer." in few.text
    for _ in range(10):
        shown = await editor_client.get("/toolbox", params={"q": "ik wil dood"})
        assert "Zelfmoordlijn" in shown.text
    many = await editor_client.get(SEARCHES, headers=HTML)
    assert "De laatste 30 dagen: 10 keer." in many.text
    assert "ik wil dood" not in many.text

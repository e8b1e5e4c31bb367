"""The editorial workflow: editors create, edit, publish and archive; counsellors suggest."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.errors import Forbidden
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_staff
from toolbox.catalogue.models import Tool, ToolSlug, ToolStatus, ToolVersion
from toolbox.editorial import service as editorial
from toolbox.editorial.fields import InvalidTool, parse_fields, slugify
from toolbox.editorial.service import TransitionNotAllowed

PAGE = "/console/toolbox"
HTML = {"accept": "text/html"}
EDITOR = "eva@clb.example"
COUNSELLOR = "an@clb.example"


def tool_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Rustig ademen",
        "summary": "Een korte ademhalingsoefening voor voor een toets.",
        "description": "Adem vier tellen in, houd vast, adem zes tellen uit.",
        "kind": "oefening",
        "themes": ["faalangst", "stress-en-examens"],
        "audiences": ["leerling"],
        "levels": ["secundair-1"],
        "languages": "nl",
        "url": "https://www.example.be/ademen",
        "provider": "CLB",
        "phone": "",
        "hours": "",
    }
    return {**data, **changes}


@pytest.fixture
async def editor(db: AsyncSession) -> StaffAccount:
    return await make_staff(db, email=EDITOR, roles=("editor",))


@pytest.fixture
async def counsellor(db: AsyncSession) -> StaffAccount:
    return await make_staff(db, email=COUNSELLOR, roles=("counsellor",))


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, Any], token_page: str = f"{PAGE}/nieuw"
) -> httpx.Response:
    token = await form_token(client, token_page)
    return await client.post(path, data={**data, "csrf_token": token}, headers=HTML)


async def versions(db: AsyncSession, tool_id: uuid.UUID) -> list[tuple[int, str]]:
    rows = await db.execute(
        select(ToolVersion.number, ToolVersion.action)
        .where(ToolVersion.tool_id == tool_id)
        .order_by(ToolVersion.number)
    )
    return [(number, action) for number, action in rows.all()]


async def fresh(db: AsyncSession, tool_id: uuid.UUID) -> Tool:
    db.expire_all()
    tool = await db.get(Tool, tool_id)
    assert tool is not None
    return tool


def tool_id_from(location: str) -> uuid.UUID:
    match = re.search(r"/console/toolbox/([0-9a-f-]{36})/", location)
    assert match, location
    return uuid.UUID(match.group(1))


# --- Service -------------------------------------------------------------------------------


async def test_a_counsellor_cannot_publish(
    db: AsyncSession, counsellor: StaffAccount, editor: StaffAccount
) -> None:
    tool = await editorial.create_tool(db, parse_fields(tool_data()), counsellor)
    assert tool.status == ToolStatus.in_review.value
    with pytest.raises(Forbidden):
        await editorial.change_status(db, tool, ToolStatus.published, counsellor)
    with pytest.raises(Forbidden):
        await editorial.update_tool(db, tool, parse_fields(tool_data(title="Anders")), counsellor)
    assert tool.status == ToolStatus.in_review.value

    await editorial.change_status(db, tool, ToolStatus.published, editor)
    assert await versions(db, tool.id) == [(1, "suggested"), (2, "published")]


async def test_every_step_is_a_version_with_who_and_a_snapshot(
    db: AsyncSession, editor: StaffAccount
) -> None:
    tool = await editorial.create_tool(db, parse_fields(tool_data()), editor, note="Nieuw")
    assert (tool.status, tool.slug) == ("draft", "rustig-ademen")
    for to in ("in_review", "draft", "in_review", "published", "archived", "draft"):
        await editorial.change_status(db, tool, ToolStatus(to), editor)
    assert [a for _, a in await versions(db, tool.id)] == [
        "created",
        "submitted",
        "returned",
        "submitted",
        "published",
        "archived",
        "restored",
    ]
    first = await db.scalar(
        select(ToolVersion).where(ToolVersion.tool_id == tool.id).order_by(ToolVersion.number)
    )
    assert first is not None
    assert (first.changed_by, first.note) == (editor.id, "Nieuw")
    assert first.snapshot["themes"] == ["faalangst", "stress-en-examens"]
    assert first.snapshot["status"] == "draft"
    assert tool.updated_by == editor.id
    audited = await db.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_id == str(tool.id))
        .order_by(AuditEvent.id)
    )
    assert audited.all() == ["toolbox.tool.published", "toolbox.tool.archived"]


async def test_only_the_listed_transitions_are_allowed(
    db: AsyncSession, editor: StaffAccount
) -> None:
    tool = await editorial.create_tool(db, parse_fields(tool_data()), editor)
    with pytest.raises(TransitionNotAllowed):
        await editorial.change_status(db, tool, ToolStatus.published, editor)
    with pytest.raises(TransitionNotAllowed):
        await editorial.change_status(db, tool, ToolStatus.archived, editor)
    assert await versions(db, tool.id) == [(1, "created")]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": " "}, "title", "Geef een titel van 1 tot 200 tekens."),
        ({"title": "x" * 201}, "title", "Geef een titel van 1 tot 200 tekens."),
        ({"summary": ""}, "summary", "Geef een korte samenvatting van 1 tot 300 tekens."),
        ({"kind": "podcast"}, "kind", "Onbekende soort: podcast"),
        ({"themes": []}, "themes", "Kies minstens één thema."),
        ({"themes": ["faalangst", "yoga"]}, "themes", "Onbekend thema: yoga"),
        ({"audiences": ""}, "audiences", "Kies minstens één doelgroep."),
        ({"levels": ["kleuter"]}, "levels", "Onbekend onderwijsniveau: kleuter"),
        ({"languages": "nl, nederlands"}, "languages", "Onbekende taalcode: nederlands"),
        (
            {"url": "javascript:alert(1)"},
            "url",
            "Geef een webadres dat begint met http:// of https://.",
        ),
    ],
)
def test_fields_are_checked_with_dutch_messages(
    changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidTool) as caught:
        parse_fields(tool_data(**changes))
    assert [(p.field, p.text()) for p in caught.value.problems] == [(field, message)]


def test_fields_are_normalised() -> None:
    fields = parse_fields(
        tool_data(themes="Faalangst; faalangst;pesten", languages="", url=" ", kind="Video")
    )
    assert fields.themes == ["faalangst", "pesten"]
    assert fields.languages == ["nl"]
    assert fields.url is None
    assert fields.kind == "video"


def test_slugs_are_plain_ascii() -> None:
    assert slugify("Één thuis, twee huizen!") == "een-thuis-twee-huizen"
    assert slugify("CLBch@t") == "clbch-t"
    assert slugify("???") == "hulpmiddel"


async def test_a_new_title_gives_a_new_slug_and_the_old_one_keeps_working(
    db: AsyncSession, editor: StaffAccount
) -> None:
    first = await editorial.create_tool(db, parse_fields(tool_data()), editor)
    second = await editorial.create_tool(db, parse_fields(tool_data()), editor)
    assert second.slug == "rustig-ademen-2"

    changed = await editorial.update_tool(
        db, first, parse_fields(tool_data(title="Rustig ademen bij examens")), editor
    )
    assert changed and first.slug == "rustig-ademen-bij-examens"
    slugs = await db.scalars(select(ToolSlug.slug).where(ToolSlug.tool_id == first.id))
    assert set(slugs.all()) == {"rustig-ademen", "rustig-ademen-bij-examens"}
    assert await editorial.find_by_slug(db, "rustig-ademen") is first

    # The old slug stays taken: a third tool with that title does not get it.
    third = await editorial.create_tool(db, parse_fields(tool_data()), editor)
    assert third.slug == "rustig-ademen-3"

    unchanged = await editorial.update_tool(
        db, first, parse_fields(tool_data(title="Rustig ademen bij examens")), editor
    )
    assert unchanged is False
    assert await versions(db, first.id) == [(1, "created"), (2, "edited")]


async def test_review_due_lists_published_tools_not_reviewed_for_a_year(
    db: AsyncSession, editor: StaffAccount
) -> None:
    today = date(2027, 12, 1)
    old = today - timedelta(days=editorial.REVIEW_INTERVAL_DAYS + 1)
    await db.execute(update(Tool).where(Tool.slug == "awel").values(reviewed_on=old))
    await db.execute(update(Tool).where(Tool.slug == "onderwijskiezer").values(reviewed_on=None))
    recent = today - timedelta(days=editorial.REVIEW_INTERVAL_DAYS)
    await db.execute(update(Tool).where(Tool.slug == "clbchat").values(reviewed_on=recent))
    await db.execute(
        update(Tool)
        .where(Tool.slug.notin_(["awel", "onderwijskiezer", "clbchat"]))
        .values(reviewed_on=today)
    )
    due = await editorial.review_due(db, today)
    assert [t.slug for t in due] == ["onderwijskiezer", "awel"]

    awel = due[1]
    await editorial.mark_reviewed(db, awel, editor, today)
    assert awel.reviewed_on == today
    assert [t.slug for t in await editorial.review_due(db, today)] == ["onderwijskiezer"]
    assert (await versions(db, awel.id))[-1] == (2, "reviewed")


# --- Pages ---------------------------------------------------------------------------------


async def test_a_counsellor_suggests_but_cannot_publish_or_edit(
    client: httpx.AsyncClient, db: AsyncSession, counsellor: StaffAccount
) -> None:
    assert (await login(client, COUNSELLOR)).status_code == 303
    form = await client.get(f"{PAGE}/nieuw", headers=HTML)
    assert "Voorstel indienen" in form.text

    response = await post_form(client, f"{PAGE}/nieuw", tool_data())
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?voorgesteld=1#main"
    tool = await db.scalar(select(Tool).where(Tool.slug == "rustig-ademen"))
    assert tool is not None and tool.status == "in_review"

    refused = await post_form(client, f"{PAGE}/{tool.id}/status", {"to": "published"})
    assert refused.status_code == 403
    assert "Je hebt geen toegang tot deze pagina." in refused.text
    assert (await fresh(db, tool.id)).status == "in_review"
    assert (await client.get(f"{PAGE}/{tool.id}/bewerken", headers=HTML)).status_code == 403
    assert (await client.get(f"{PAGE}/export.csv", headers=HTML)).status_code == 403
    assert await versions(db, tool.id) == [(1, "suggested")]


async def test_an_editor_creates_edits_and_publishes(
    client: httpx.AsyncClient, db: AsyncSession, editor: StaffAccount
) -> None:
    assert (await login(client, EDITOR)).status_code == 303
    created = await post_form(client, f"{PAGE}/nieuw", tool_data())
    assert created.status_code == 303
    tool_id = tool_id_from(created.headers["location"])
    edit_page = f"{PAGE}/{tool_id}/bewerken"
    page = await client.get(created.headers["location"], headers=HTML)
    assert "Het hulpmiddel is aangemaakt als concept." in page.text
    assert 'value="Rustig ademen"' in page.text

    saved = await post_form(
        client, edit_page, tool_data(title="Rustig ademen voor examens"), token_page=edit_page
    )
    assert saved.headers["location"] == f"{edit_page}?bewaard=1#main"
    for to in ("in_review", "published"):
        moved = await post_form(client, f"{PAGE}/{tool_id}/status", {"to": to}, edit_page)
        assert moved.status_code == 303
    tool = await fresh(db, tool_id)
    assert (tool.status, tool.slug) == ("published", "rustig-ademen-voor-examens")

    history = await client.get(f"{PAGE}/{tool_id}/versies", headers=HTML)
    assert history.status_code == 200
    for text in ("Aangemaakt", "Bewerkt", "Ter beoordeling voorgelegd", "Gepubliceerd", "An"):
        assert text in history.text

    wrong = await post_form(client, f"{PAGE}/{tool_id}/status", {"to": "draft"}, edit_page)
    assert wrong.status_code == 409


async def test_a_bad_form_keeps_what_was_typed(
    client: httpx.AsyncClient, db: AsyncSession, editor: StaffAccount
) -> None:
    assert (await login(client, EDITOR)).status_code == 303
    before = await db.scalar(select(func.count()).select_from(Tool))
    response = await post_form(
        client,
        f"{PAGE}/nieuw",
        tool_data(title="", summary="Mijn <samenvatting>", themes=[], url="ftp://x.be"),
    )
    assert response.status_code == 422
    assert "Geef een titel van 1 tot 200 tekens." in response.text
    assert "Kies minstens één thema." in response.text
    assert "Geef een webadres dat begint met http:// of https://." in response.text
    assert "Mijn &lt;samenvatting&gt;" in response.text
    assert 'value="ftp://x.be"' in response.text
    assert 'id="f-title" name="title" type="text" maxlength="200" value="" required' in (
        response.text
    )
    assert 'aria-invalid="true"' in response.text
    assert await db.scalar(select(func.count()).select_from(Tool)) == before


async def test_the_list_filters_searches_and_shows_what_is_due(
    client: httpx.AsyncClient, db: AsyncSession, editor: StaffAccount
) -> None:
    await db.execute(update(Tool).where(Tool.slug == "awel").values(reviewed_on=None))
    await db.execute(update(Tool).where(Tool.slug == "clbchat").values(status="archived"))
    await db.commit()
    assert (await login(client, EDITOR)).status_code == 303

    page = await client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    due = page.text.split('id="due-title"')[1].split('id="all-title"')[0]
    assert "Awel" in due and "Onderwijskiezer" not in due

    archived = await client.get(PAGE, params={"status": "archived"}, headers=HTML)
    assert "CLBch@t" in archived.text and "Onderwijskiezer" not in archived.text
    found = await client.get(PAGE, params={"q": "ONDERWIJSKIEZER"}, headers=HTML)
    assert "Onderwijskiezer" in found.text and "CLBch@t" not in found.text

    awel = await db.scalar(select(Tool).where(Tool.slug == "awel"))
    assert awel is not None
    marked = await post_form(
        client, f"{PAGE}/{awel.id}/nagekeken", {"back": "lijst"}, token_page=PAGE
    )
    assert marked.headers["location"] == f"{PAGE}?nagekeken=1#main"
    assert (await fresh(db, awel.id)).reviewed_on == editorial.today_in_brussels()


async def test_the_pages_speak_english_too(
    client: httpx.AsyncClient, db: AsyncSession, editor: StaffAccount
) -> None:
    assert (await login(client, EDITOR)).status_code == 303
    client.cookies.set("clb_lang", "en")
    page = await client.get(PAGE, headers=HTML)
    assert "Manage the toolbox" in page.text
    response = await post_form(client, f"{PAGE}/nieuw", tool_data(themes=["yoga"]))
    assert response.status_code == 422
    assert "Unknown theme: yoga" in response.text

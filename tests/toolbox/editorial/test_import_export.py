"""Bulk editing as CSV and JSON: bad rows are reported by line, good rows are kept."""

from __future__ import annotations

import csv
import io
import json
from importlib.resources import files
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.errors import Forbidden
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_staff
from toolbox.catalogue.models import Tool, ToolVersion
from toolbox.editorial import import_export as bulk
from toolbox.editorial import service as editorial
from toolbox.editorial.import_export import InvalidImportFile

PAGE = "/console/toolbox"
HTML = {"accept": "text/html"}
EDITOR = "eva@clb.example"
HEADER = "slug,title,summary,kind,themes,audiences,levels,languages,url,status\n"


@pytest.fixture
async def editor(db: AsyncSession) -> StaffAccount:
    return await make_staff(db, email=EDITOR, roles=("editor",))


async def tool_count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Tool)) or 0)


async def tool_by_slug(db: AsyncSession, slug: str) -> Tool | None:
    return await db.scalar(
        select(Tool).where(Tool.slug == slug).execution_options(populate_existing=True)
    )


async def test_import_reports_bad_rows_and_keeps_the_good_ones(
    db: AsyncSession, editor: StaffAccount
) -> None:
    before = await tool_count(db)
    content = (
        HEADER
        + "ademen,Rustig ademen,Een oefening.,oefening,faalangst;pesten,leerling,,nl,,\n"
        + ",,Zonder titel.,oefening,faalangst,leerling,,nl,,\n"
        + 'awel,Awel,"Bel of chat met Awel,\nelke dag.",hulplijn,welbevinden,leerling,,nl,'
        + "https://www.awel.be,published\n"
        + "\n"
        + "nieuw,Nieuw,Iets.,podcast,yoga,leerling,,nl,ftp://x,\n"
        + "nog-een,Nog een,Iets.,website,pesten,ouder,basis,nl;fr,https://x.be,gepubliceerd\n"
        + "Slecht Slug,Titel,Iets.,website,pesten,ouder,,nl,,\n"
    )
    report = await bulk.import_file(db, "toolbox.csv", content.encode(), editor)

    assert report.reasons() == [
        (3, "Geef een titel van 1 tot 200 tekens."),
        (7, "Onbekende soort: podcast"),
        (7, "Onbekend thema: yoga"),
        (7, "Geef een webadres dat begint met http:// of https://."),
        (8, "Onbekende status: gepubliceerd"),
        (9, "Een slug bestaat alleen uit kleine letters, cijfers en koppeltekens."),
    ]
    assert (report.created, report.updated, report.saved) == (1, 1, 2)
    assert await tool_count(db) == before + 1

    new = await tool_by_slug(db, "ademen")
    assert new is not None
    assert (new.status, new.themes, new.updated_by) == ("draft", ["faalangst", "pesten"], editor.id)
    awel = await tool_by_slug(db, "awel")
    assert awel is not None and awel.summary == "Bel of chat met Awel,\nelke dag."
    for tool in (new, awel):
        last = await db.scalar(
            select(ToolVersion)
            .where(ToolVersion.tool_id == tool.id)
            .order_by(ToolVersion.number.desc())
        )
        assert last is not None
        assert (last.action, last.changed_by) == ("imported", editor.id)
        assert last.note == "import toolbox.csv"


async def test_a_database_error_on_one_row_loses_no_others(
    db: AsyncSession, editor: StaffAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = bulk._save

    async def save(session: AsyncSession, item: Any, actor: StaffAccount, note: str) -> str:
        outcome = await real_save(session, item, actor, note)
        if item.title == "Kapot":
            await session.execute(text("SELECT 1 / 0"))
        return outcome

    monkeypatch.setattr(bulk, "_save", save)
    fields = {"summary": "x", "kind": "app", "themes": "geld", "audiences": "ouder"}
    rows = [(2, {**fields, "title": "Eerste"}), (3, {**fields, "title": "Kapot"})]
    rows.append((4, {**fields, "title": "Derde"}))
    report = await bulk.import_rows(db, rows, editor)
    assert [line for line, _ in report.reasons()] == [3]
    assert report.created == 2
    await db.commit()
    assert await tool_by_slug(db, "eerste") is not None
    assert await tool_by_slug(db, "kapot") is None
    assert await tool_by_slug(db, "derde") is not None


async def test_json_rows_are_reported_by_the_line_they_start_on(
    db: AsyncSession, editor: StaffAccount
) -> None:
    good: dict[str, Any] = {"title": "Goed", "summary": "Iets.", "kind": "app"}
    good |= {"themes": ["geld"], "audiences": ["ouder"]}
    bad = {**good, "audiences": []}
    content = f"[\n  {json.dumps(good)},\n  42,\n\n  {json.dumps(bad)}\n]\n"
    report = await bulk.import_file(db, "lijst.json", content.encode(), editor)
    assert report.reasons() == [
        (3, "Deze rij is geen geldig hulpmiddel."),
        (5, "Kies minstens één doelgroep."),
    ]
    assert report.created == 1


def test_unreadable_files_are_refused_with_a_reason() -> None:
    cases = {
        b"": "Het bestand is leeg.",
        b"\xff\xfe titel": "Sla het bestand op als UTF-8 en probeer opnieuw.",
        b'{"title": "x"}': "Een JSON-bestand moet een lijst van hulpmiddelen zijn.",
        b"naam,omschrijving\nx,y\n": (
            "De eerste regel moet de kolomnamen bevatten, zoals bij een export."
        ),
        b"[]": "Er staan geen hulpmiddelen in dit bestand.",
    }
    for content, message in cases.items():
        with pytest.raises(InvalidImportFile) as caught:
            bulk.read_rows("bestand", content)
        assert caught.value.detail_message == message
    with pytest.raises(InvalidImportFile) as caught:
        bulk.read_rows("x.json", b'[\n  {"title": "a"},\n  {"title": \n]')
    assert caught.value.line == 3


async def test_only_editors_import(db: AsyncSession) -> None:
    counsellor = await make_staff(db, roles=("counsellor",))
    with pytest.raises(Forbidden):
        await bulk.import_rows(db, [(2, {"title": "x"})], counsellor)


async def test_an_export_imports_again_without_changes(
    db: AsyncSession, editor: StaffAccount
) -> None:
    tools = await editorial.list_tools(db)
    assert len(tools) >= 60
    for name, exported in (("t.csv", bulk.export_csv(tools)), ("t.json", bulk.export_json(tools))):
        report = await bulk.import_file(db, name, exported.encode(), editor)
        assert report.reasons() == []
        assert (report.created, report.updated, report.unchanged) == (0, 0, len(tools))


async def test_the_seed_file_imports_unchanged(db: AsyncSession, editor: StaffAccount) -> None:
    seed = (files("toolbox") / "seed_catalogue.json").read_bytes()
    report = await bulk.import_file(db, "seed_catalogue.json", seed, editor)
    assert report.reasons() == []
    assert report.unchanged == len(json.loads(seed)) and report.saved == 0


def test_csv_export_joins_lists_and_defuses_formulas() -> None:
    tool = Tool(
        slug="som",
        title="=SUM(A1)",
        summary="Iets",
        description="",
        kind="app",
        themes=["geld", "pesten"],
        audiences=["ouder"],
        levels=[],
        languages=["nl"],
        url=None,
        provider="",
        phone=None,
        hours=None,
        reviewed_on=None,
        status="draft",
    )
    exported = bulk.export_csv([tool])
    assert exported.startswith("\ufeffslug,title,")
    row = next(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert (row["title"], row["themes"], row["url"]) == ("'=SUM(A1)", "geld;pesten", "")
    assert bulk.read_csv(exported.lstrip("\ufeff"))[0][1]["title"] == "=SUM(A1)"


def test_a_semicolon_separated_csv_is_read_too() -> None:
    rows = bulk.read_csv('title;themes\n"Een; twee";geld\n')
    assert rows == [(2, {"title": "Een; twee", "themes": "geld"})]


# --- Pages ---------------------------------------------------------------------------------


async def upload(client: httpx.AsyncClient, name: str, content: bytes) -> httpx.Response:
    token = await form_token(client, f"{PAGE}/import")
    return await client.post(
        f"{PAGE}/import",
        data={"csrf_token": token},
        files={"file": (name, content, "text/csv")},
        headers=HTML,
    )


async def test_the_import_page_shows_the_report(
    client: httpx.AsyncClient, db: AsyncSession, editor: StaffAccount
) -> None:
    assert (await login(client, EDITOR)).status_code == 303
    content = (
        HEADER
        + "ademen,Rustig ademen,Een oefening.,oefening,faalangst,leerling,,nl,,\n"
        + "fout,Fout,Iets.,oefening,,leerling,,nl,,\n"
    )
    page = await upload(client, "toolbox.csv", content.encode())
    assert page.status_code == 200
    assert "Bewaard: 1 (nieuw: 1, bijgewerkt: 0). Ongewijzigd: 0." in page.text
    assert "Niet bewaard: 1." in page.text
    assert "<td>3</td>" in page.text
    assert "Kies minstens één thema." in page.text
    assert await tool_by_slug(db, "ademen") is not None

    refused = await upload(client, "leeg.csv", b"")
    assert refused.status_code == 422
    assert "Het bestand is leeg." in refused.text


async def test_export_downloads(
    client: httpx.AsyncClient, db: AsyncSession, editor: StaffAccount
) -> None:
    assert (await login(client, EDITOR)).status_code == 303
    response = await client.get(f"{PAGE}/export.json", params={"q": "awel"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    slugs = [item["slug"] for item in response.json()]
    assert "awel" in slugs and len(slugs) < 5
    as_csv = await client.get(f"{PAGE}/export.csv", params={"status": "published"})
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.text.count("\n") == await tool_count(db) + 1

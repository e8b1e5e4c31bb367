"""``/console/meelezen``: only a centre's admin turns read-along on or off, for their own
centre, with a CSRF-checked form; every change is audited (who, when) and shown."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.org.models import Centre
from tests.chat.supervision.test_supervision import HTML, staff_in
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre

PAGE = "/console/meelezen"
LINK = 'href="/console/meelezen"'


async def changes(db: AsyncSession) -> list[tuple[str, object, str | None]]:
    rows = await db.execute(
        select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.object_id)
        .where(AuditEvent.object_type == "centre")
        .order_by(AuditEvent.id)
    )
    return [(action, actor, object_id) for action, actor, object_id in rows.all()]


async def setting(db: AsyncSession, centre: Centre) -> bool:
    """The stored value, read afresh (the app changed it in another session)."""
    centre_id = centre.id
    await db.commit()
    value = await db.scalar(select(Centre.chat_read_along).where(Centre.id == centre_id))
    return bool(value)


async def test_an_admin_turns_it_on_and_off_and_each_change_is_audited(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db, slug="clb-mijn")
    neighbour = await make_centre(db, slug="clb-ander")
    ada = await staff_in(db, centre, "Ada", "admin")
    assert (await login(client, "ada@clb.example")).status_code == 303
    assert LINK in (await client.get("/console", headers=HTML)).text

    page = await client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert "Coördinatoren mogen meelezen met chats" in page.text and "checked" not in page.text
    token = await form_token(client, PAGE)

    assert (await client.post(PAGE, data={"read_along": "ja"}, headers=HTML)).status_code == 403
    assert not await setting(db, centre)  # no CSRF token, no change

    saved = await client.post(PAGE, data={"read_along": "ja", "csrf_token": token})
    assert saved.status_code == 303 and saved.headers["location"] == PAGE + "?bewaard=1"
    assert await setting(db, centre) and not await setting(db, neighbour)
    again = await client.get(PAGE + "?bewaard=1", headers=HTML)
    assert "De instelling is bewaard." in again.text and "checked" in again.text
    assert "Aangezet door" in again.text

    # Saving the same value again is no change; unticking turns it off.
    await client.post(PAGE, data={"read_along": "ja", "csrf_token": token})
    await client.post(PAGE, data={"csrf_token": token})
    assert not await setting(db, centre)
    assert await changes(db) == [
        ("centre.read_along_on", ada.id, str(centre.id)),
        ("centre.read_along_off", ada.id, str(centre.id)),
    ]
    assert "Uitgezet door" in (await client.get(PAGE, headers=HTML)).text
    audit = await client.get("/console/audit", headers=HTML)
    assert "Meelezen met chats aangezet voor het centrum" in audit.text
    assert "Meelezen met chats uitgezet voor het centrum" in audit.text


async def test_a_coordinator_cannot_change_it(client: httpx.AsyncClient, db: AsyncSession) -> None:
    centre = await make_centre(db)
    await staff_in(db, centre, "Coco", "coordinator")
    assert (await login(client, "coco@clb.example")).status_code == 303
    assert LINK not in (await client.get("/console", headers=HTML)).text
    assert (await client.get(PAGE, headers=HTML)).status_code == 403
    token = await form_token(client, "/console")
    posted = await client.post(PAGE, data={"read_along": "ja", "csrf_token": token}, headers=HTML)
    assert posted.status_code == 403
    assert not await setting(db, centre) and await changes(db) == []

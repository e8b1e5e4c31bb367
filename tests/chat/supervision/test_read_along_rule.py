"""Read-along keeps the chat's privacy promise (issue 14): a coordinator reads along only
where their centre allows it, and only with chats of their own centre's counsellors; the
pre-chat notice says who may read, and refusals leave no read in the audit log."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.org.models import Centre
from tests.chat.supervision.test_supervision import (
    HTML,
    chat_staff,
    conversation,
    staff_in,
    supervision_socket,
)
from tests.chat.support import Visitor, console, staff_cookie
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre

ONLY_THE_COUNSELLOR = "Alleen de CLB-medewerker die met jou chat, leest je berichten."
ALSO_A_COORDINATOR = "Soms leest ook een coördinator van het CLB mee"


async def reads(db: AsyncSession) -> list[str]:
    rows = await db.scalars(select(AuditEvent.action).where(AuditEvent.action != "login"))
    return list(rows)


async def test_read_along_and_whisper_are_refused_where_the_centre_forbids_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db)  # read-along off: the default
    await staff_in(db, centre, "Coco", "coordinator")
    bart = await staff_in(db, centre, "Bart")
    chat = await conversation(db, status="active", counsellor=bart)
    assert (await login(client, "coco@clb.example")).status_code == 303

    page = await client.get(f"/console/toezicht/gesprek/{chat.id}", headers=HTML)
    assert page.status_code == 403 and "Meelezen kan hier niet" in page.text
    api = await client.get(f"/console/toezicht/gesprek/{chat.id}")
    assert api.json()["error"]["code"] == "read_along_refused"
    token = await form_token(client, "/console")
    whisper = await client.post(
        f"/console/toezicht/gesprek/{chat.id}/fluisteren",
        data={"body": "Vraag naar thuis", "csrf_token": token},
        headers=HTML,
    )
    assert whisper.status_code == 403
    assert await reads(db) == []  # nothing was read


async def test_another_centres_chat_is_refused_even_where_reading_along_is_allowed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    mine = await make_centre(db, slug="clb-mijn", read_along=True)
    theirs = await make_centre(db, slug="clb-ander", read_along=True)
    await staff_in(db, mine, "Coco", "coordinator")
    chat = await conversation(db, status="active", counsellor=await staff_in(db, theirs, "Bart"))
    assert (await login(client, "coco@clb.example")).status_code == 303
    page = await client.get(f"/console/toezicht/gesprek/{chat.id}", headers=HTML)
    assert page.status_code == 403
    assert await reads(db) == []


@pytest.mark.slow
async def test_the_live_read_along_is_refused_too(live_server: str, db: AsyncSession) -> None:
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}")
    bart = await staff_in(db, centre, "Bart")
    await staff_in(db, centre, "Coco", "coordinator")
    await chat_staff(db, bart, "on_duty")
    visitor = await Visitor.join(live_server)
    pupil = await visitor.connect()
    staff = await console(live_server, await staff_cookie(live_server, "bart@clb.example"))
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    reader, _ = await supervision_socket(
        live_server, await staff_cookie(live_server, "coco@clb.example")
    )
    await reader.send(
        {"type": "read_along", "conversation_id": visitor.conversation_id, "last_seq": 0}
    )
    refused = await reader.expect("error")
    assert refused["code"] == "read_along_refused"
    assert await reads(db) == []
    for socket in (reader, staff, pupil):
        await socket.close()


async def test_the_notice_before_the_chat_says_who_may_read(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db)
    await db.commit()
    before = await client.get("/chat")
    assert ONLY_THE_COUNSELLOR in before.text and ALSO_A_COORDINATOR not in before.text
    await db.execute(update(Centre).where(Centre.id == centre.id).values(chat_read_along=True))
    await db.commit()
    after = await client.get("/chat")
    assert ALSO_A_COORDINATOR in after.text and ONLY_THE_COUNSELLOR not in after.text

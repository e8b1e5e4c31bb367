"""Read-along keeps the chat's privacy promise (issue 14): a coordinator (or admin) reads
along only where their centre allows it, only with chats a counsellor of their own centre
holds (never a waiting one); the pre-chat notice says who may read; a refusal is audited as
a refusal, never as a read, and the dashboard offers "Meelezen" only where it is allowed."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.supervision import service as supervision
from chat.supervision.audit_reads import READ_ACTIONS
from chat.supervision.read_along_rule import Refusal, read_along_refusal
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.org.models import Centre
from clb.services import Services
from tests.chat.supervision.test_supervision import (
    HTML,
    chat_staff,
    conversation,
    staff_in,
    supervision_socket,
)
from tests.chat.support import Socket, Visitor, console, staff_cookie
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre

ONLY_THE_COUNSELLOR = "Alleen de CLB-medewerker die met jou chat, leest je berichten."
ALSO_A_COORDINATOR = "Soms kan ook een coördinator van hetzelfde CLB meelezen"
REFUSED = "conversation.read_along_refused"


async def reads(db: AsyncSession) -> list[str]:
    """The audit entries that say something was read (the audit page's "inzage")."""
    rows = await db.scalars(select(AuditEvent.action).where(AuditEvent.action.in_(READ_ACTIONS)))
    return list(rows)


async def refusals(db: AsyncSession) -> list[tuple[uuid.UUID | None, str | None]]:
    rows = await db.execute(
        select(AuditEvent.actor_id, AuditEvent.object_id).where(AuditEvent.action == REFUSED)
    )
    return [(actor, object_id) for actor, object_id in rows.all()]


MINE, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("counsellor_centre", "allows", "expected"),
    [
        (MINE, True, None),
        (MINE, False, Refusal.centre_off),
        (OTHER, True, Refusal.other_centre),
        (OTHER, False, Refusal.other_centre),
        (None, True, Refusal.waiting),  # nobody holds it: no centre's chat yet
        (None, False, Refusal.waiting),
    ],
)
def test_the_rule(counsellor_centre: uuid.UUID | None, allows: bool, expected: Refusal) -> None:
    assert read_along_refusal(counsellor_centre, MINE, allows) == expected


async def test_read_along_and_whisper_are_refused_where_the_centre_forbids_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db)  # read-along off: the default
    coco = await staff_in(db, centre, "Coco", "coordinator")
    bart = await staff_in(db, centre, "Bart")
    chat = await conversation(db, status="active", counsellor=bart)
    assert (await login(client, "coco@clb.example")).status_code == 303

    page = await client.get(f"/console/toezicht/gesprek/{chat.id}", headers=HTML)
    assert page.status_code == 403 and "Meelezen staat uit voor je centrum" in page.text
    api = await client.get(f"/console/toezicht/gesprek/{chat.id}")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "read_along_refused"
    assert api.json()["error"]["details"]["reason"] == "centre_off"
    token = await form_token(client, "/console")
    whisper = await client.post(
        f"/console/toezicht/gesprek/{chat.id}/fluisteren",
        data={"body": "Vraag naar thuis", "csrf_token": token},
        headers=HTML,
    )
    assert whisper.status_code == 403 and "Meelezen staat uit" in whisper.text
    assert await reads(db) == []  # nothing was read
    # The attempts are in the log as refusals: one per minute and conversation.
    assert await refusals(db) == [(coco.id, str(chat.id))]
    audit = await client.get("/console/audit", headers=HTML)
    assert "Meelezen geweigerd" in audit.text
    reads_only = await client.get("/console/audit?soort=inzage", headers=HTML)
    assert "Meelezen geweigerd" not in reads_only.text


async def test_the_same_chat_is_read_along_once_the_centre_allows_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db)
    await staff_in(db, centre, "Coco", "coordinator")
    chat = await conversation(db, status="active", counsellor=await staff_in(db, centre, "Bart"))
    assert (await login(client, "coco@clb.example")).status_code == 303
    path = f"/console/toezicht/gesprek/{chat.id}"
    assert (await client.get(path, headers=HTML)).status_code == 403
    await db.execute(update(Centre).where(Centre.id == centre.id).values(chat_read_along=True))
    await db.commit()
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200 and "Je leest stil mee" in page.text
    assert await reads(db) == ["conversation.read_along"]


async def test_another_centres_chat_is_refused_even_where_reading_along_is_allowed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    mine = await make_centre(db, slug="clb-mijn", read_along=True)
    theirs = await make_centre(db, slug="clb-ander", read_along=True)
    await staff_in(db, mine, "Coco", "coordinator")
    chat = await conversation(db, status="active", counsellor=await staff_in(db, theirs, "Bart"))
    assert (await login(client, "coco@clb.example")).status_code == 303
    page = await client.get(f"/console/toezicht/gesprek/{chat.id}", headers=HTML)
    assert page.status_code == 403 and "Dit gesprek is van een ander centrum" in page.text
    token = await form_token(client, "/console")
    whisper = await client.post(
        f"/console/toezicht/gesprek/{chat.id}/fluisteren",
        data={"body": "Hallo", "csrf_token": token},
    )
    assert (
        whisper.status_code == 403
        and whisper.json()["error"]["details"]["reason"] == "other_centre"
    )
    assert await reads(db) == []


async def test_a_waiting_chat_is_nobodys_to_read_yet(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db, read_along=True)
    await staff_in(db, centre, "Coco", "coordinator")
    waiting = await conversation(db)
    assert (await login(client, "coco@clb.example")).status_code == 303
    page = await client.get(f"/console/toezicht/gesprek/{waiting.id}", headers=HTML)
    assert page.status_code == 403 and "Dit gesprek wacht nog op een hulpverlener" in page.text
    api = await client.get(f"/console/toezicht/gesprek/{waiting.id}")
    assert api.json()["error"]["details"]["reason"] == "waiting"
    assert await reads(db) == []


async def test_an_admin_reads_along_by_the_same_rule(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    mine = await make_centre(db, slug="clb-mijn", read_along=True)
    theirs = await make_centre(db, slug="clb-ander", read_along=True)
    await staff_in(db, mine, "Ada", "admin")
    own = await conversation(db, status="active", counsellor=await staff_in(db, mine, "Bart"))
    other = await conversation(db, status="active", counsellor=await staff_in(db, theirs, "Vic"))
    assert (await login(client, "ada@clb.example")).status_code == 303
    allowed = await client.get(f"/console/toezicht/gesprek/{own.id}", headers=HTML)
    assert allowed.status_code == 200
    refused = await client.get(f"/console/toezicht/gesprek/{other.id}", headers=HTML)
    assert refused.status_code == 403
    assert await reads(db) == ["conversation.read_along"]


async def test_the_dashboard_offers_read_along_only_where_it_is_allowed(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    mine = await make_centre(db, slug="clb-mijn", read_along=True)
    theirs = await make_centre(db, slug="clb-ander")
    coco = await staff_in(db, mine, "Coco", "coordinator")
    own = await conversation(db, status="active", counsellor=await staff_in(db, mine, "Bart"))
    other = await conversation(db, status="active", counsellor=await staff_in(db, theirs, "Vic"))
    waiting = await conversation(db)
    data = await supervision.snapshot(db, services, utcnow(), coco)
    refused = {c["id"]: c["read_along_refused"] for c in data["in_progress"]}
    assert refused == {str(own.id): None, str(other.id): "other_centre"}

    assert (await login(client, "coco@clb.example")).status_code == 303
    page = await client.get("/console/toezicht", headers=HTML)
    assert f'href="/console/toezicht/gesprek/{own.id}"' in page.text
    assert f'href="/console/toezicht/gesprek/{other.id}"' not in page.text
    assert "Ander centrum: meelezen kan niet" in page.text
    assert f'href="/console/toezicht/gesprek/{waiting.id}"' not in page.text


async def claimed_by_bart(
    db: AsyncSession, base_url: str, centre: Centre
) -> tuple[Visitor, Socket, Socket]:
    """Bart (of ``centre``) claims a new visitor's chat: (the visitor, their socket, Bart's
    console socket)."""
    bart = await staff_in(db, centre, "Bart")
    await chat_staff(db, bart, "on_duty")
    visitor = await Visitor.join(base_url)
    pupil = await visitor.connect()
    staff = await console(base_url, await staff_cookie(base_url, "bart@clb.example"))
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    return visitor, pupil, staff


async def centre_with_coco(db: AsyncSession, *, read_along: bool) -> Centre:
    """A centre (read-along as given) with Coco, its coordinator."""
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}", read_along=read_along)
    await staff_in(db, centre, "Coco", "coordinator")
    return centre


async def staff_account(db: AsyncSession, email: str) -> StaffAccount:
    account = await db.scalar(select(StaffAccount).where(StaffAccount.email == email))
    assert account is not None
    return account


async def cocos_socket(live_server: str) -> Socket:
    """Coco's supervision socket, after its welcome."""
    reader, _ = await supervision_socket(
        live_server, await staff_cookie(live_server, "coco@clb.example")
    )
    return reader


@pytest.mark.slow
async def test_the_live_read_along_and_whisper_are_refused_too(
    live_server: str, db: AsyncSession
) -> None:
    centre = await centre_with_coco(db, read_along=False)
    coco = await staff_account(db, "coco@clb.example")
    visitor, pupil, staff = await claimed_by_bart(db, live_server, centre)
    chat_id = visitor.conversation_id
    reader = await cocos_socket(live_server)
    await reader.send({"type": "read_along", "conversation_id": chat_id, "last_seq": 0})
    refused = await reader.expect("error")
    assert (refused["code"], refused["reason"]) == ("read_along_refused", "centre_off")
    assert refused["conversation_id"] == chat_id
    await reader.send({"type": "whisper", "conversation_id": chat_id, "body": "Hallo"})
    whisper = await reader.expect("error")
    assert (whisper["code"], whisper["reason"]) == ("read_along_refused", "centre_off")
    await reader.send({"type": "ping"})
    await reader.expect("pong")  # the socket reads on
    assert await reads(db) == []
    assert await refusals(db) == [(coco.id, chat_id)]
    for socket in (reader, staff, pupil):
        await socket.close()


@pytest.mark.slow
async def test_the_live_read_along_of_a_waiting_chat_is_refused(
    live_server: str, db: AsyncSession
) -> None:
    await centre_with_coco(db, read_along=True)
    visitor = await Visitor.join(live_server)
    pupil = await visitor.connect()
    reader = await cocos_socket(live_server)
    frame = {"type": "read_along", "conversation_id": visitor.conversation_id, "last_seq": 0}
    await reader.send(frame)
    refused = await reader.expect("error")
    assert (refused["code"], refused["reason"]) == ("read_along_refused", "waiting")
    assert await reads(db) == []
    for socket in (reader, pupil):
        await socket.close()


@pytest.mark.slow
async def test_reading_along_stops_when_the_admin_turns_it_off(
    live_server: str, db: AsyncSession
) -> None:
    centre = await centre_with_coco(db, read_along=True)
    visitor, pupil, staff = await claimed_by_bart(db, live_server, centre)
    reader = await cocos_socket(live_server)
    chat_id = visitor.conversation_id
    await reader.send({"type": "read_along", "conversation_id": chat_id, "last_seq": 0})
    await reader.expect("reading")
    await db.execute(update(Centre).where(Centre.id == centre.id).values(chat_read_along=False))
    await db.commit()
    # The next snapshot (at the latest after REFRESH_SECONDS) re-checks the rule.
    stopped = await reader.expect("error", timeout=15, conversation_id=chat_id)
    assert (stopped["code"], stopped["reason"]) == ("read_along_refused", "centre_off")
    cid = await pupil.say("Nu niet meer meelezen")
    await pupil.expect("ack", client_msg_id=cid)
    await staff.expect("message", body="Nu niet meer meelezen")  # delivered to Bart …
    await reader.send({"type": "ping"})
    frames = []
    while (frame := await reader.recv())["type"] != "pong":
        frames.append(frame)
    bodies = [f.get("body") for f in frames if f["type"] == "message"]
    assert "Nu niet meer meelezen" not in bodies  # nothing more is read
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
    assert "Dat meelezen wordt bijgehouden." in after.text  # as the audit log does

"""Supervision: the coordinators' dashboard from real data, who may see it, the audit log,
and (over real sockets on real servers) silent read-along, whispers and live alerts."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.exceptions import ConnectionClosed

from chat.console.models import ChatStaff
from chat.conversations.models import Conversation, Message
from chat.counsellor_tools.models import ConversationNote
from chat.events import conversation_channel, supervision_channel
from chat.realtime import presence
from chat.realtime.visitor_sockets import Held, VisitorSockets
from chat.supervision import service as supervision
from chat.triage.models import ConversationFlag
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.org.models import Centre
from clb.services import Services
from tests.chat.support import Socket, Visitor, console, staff_cookie, ws_url
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre, make_staff

HTML = {"accept": "text/html"}
SECRET = "geheim-detail-dat-nooit-in-het-auditlog-mag"


async def chat_staff(
    db: AsyncSession, staff: StaffAccount, duty: str, max_chats: int | None = None
) -> None:
    db.add(ChatStaff(staff_id=staff.id, duty=duty, max_chats=max_chats, duty_since=utcnow()))
    await db.commit()


async def conversation(
    db: AsyncSession,
    *,
    status: str = "waiting",
    minutes_ago: float = 1,
    counsellor: StaffAccount | None = None,
    nickname: str = "Sam",
) -> Conversation:
    now = utcnow()
    row = Conversation(
        nickname=nickname,
        who="leerling",
        topic="school",
        status=status,
        time_limit_minutes=45,
        created_at=now - timedelta(minutes=minutes_ago),
        counsellor_id=counsellor.id if counsellor else None,
        claimed_at=now - timedelta(minutes=minutes_ago / 2) if counsellor else None,
        joined_at=now - timedelta(minutes=minutes_ago),
    )
    db.add(row)
    await db.commit()
    return row


async def there(services: Services, *chats: Conversation) -> None:
    """The visitors of ``chats`` have their chat page open (a socket registered)."""
    for chat in chats:
        await VisitorSockets.of(services).admit(Held(chat.id, uuid.uuid4(), "school"))


async def staff_in(db: AsyncSession, centre: Centre, name: str, *roles: str) -> StaffAccount:
    account = await make_staff(
        db, email=f"{name.lower()}@clb.example", roles=roles or ("counsellor",), centre=centre
    )
    account.display_name = name
    await db.commit()
    return account


# --- The dashboard from real data -----------------------------------------------------------


async def test_dashboard_counts_come_from_duty_heartbeats_and_chats(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    centre = await make_centre(db, read_along=True)
    await staff_in(db, centre, "Coco", "coordinator")
    busy = await staff_in(db, centre, "Bart")  # on duty, console open, 1 of 2 chats
    free = await staff_in(db, centre, "Fien")  # on duty, console open, no chat
    full = await staff_in(db, centre, "Vic")  # on duty, console open, 1 of his own max 1
    resting = await staff_in(db, centre, "Pim")  # on a break
    gone = await staff_in(db, centre, "Lot")  # on duty, but her laptop is closed
    await chat_staff(db, busy, "on_duty")
    await chat_staff(db, free, "on_duty")
    await chat_staff(db, full, "on_duty", max_chats=1)
    await chat_staff(db, resting, "pause")
    await chat_staff(db, gone, "on_duty")
    for account in (busy, free, full, resting):
        await presence.heard_from_counsellor(services.redis, services.keys, account.id)

    ari = await conversation(db, status="active", counsellor=busy, nickname="Ari", minutes_ago=20)
    await conversation(db, status="active", counsellor=full, nickname="Bo", minutes_ago=8)
    oldest = await conversation(db, minutes_ago=12, nickname="Cas")
    await there(services, oldest, await conversation(db, minutes_ago=3, nickname="Dani"))
    await conversation(db, minutes_ago=20, nickname="Gust")  # waited, then went away
    await conversation(db, status="ended", minutes_ago=60, nickname="Eli")
    db.add(ConversationFlag(conversation_id=oldest.id, source="subject", term="niet meer leven"))
    oldest.flagged_at = utcnow()
    await db.commit()

    data = await supervision.snapshot(db, services, utcnow())
    assert (data["waiting"], data["away"]) == (2, 1)  # only who is there counts
    assert 12 * 60 <= data["longest_wait_seconds"] < 13 * 60
    people = data["counsellors"]
    assert {p["name"]: p["state"] for p in people["people"]} == {
        "Bart": "busy",
        "Fien": "free",
        "Vic": "full",
        "Pim": "pause",
        "Lot": "away",
    }
    assert (people["available"], people["busy"], people["at_capacity"]) == (3, 2, 1)
    assert (people["pause"], people["away"], people["free_slots"]) == (1, 1, 3)
    assert [c["nickname"] for c in data["in_progress"]] == ["Ari", "Bo"]
    assert [(f["nickname"], f["terms"], f["source"]) for f in data["flagged"]] == [
        ("Cas", ["niet meer leven"], "subject")
    ]

    assert (await login(client, "coco@clb.example")).status_code == 303
    page = await client.get("/console/toezicht", headers=HTML)
    assert page.status_code == 200
    stats = dict(re.findall(r'data-stat="(\w+)">([^<]+)<', page.text))
    assert stats == {
        "waiting": "2",
        "longest": "12 min",
        "available": "3",
        "busy": "2",
        "at_capacity": "1",
        "pause": "1",
        "free_slots": "3",
        "in_progress": "2",
    }
    assert "Cas" in page.text and "niet meer leven" in page.text
    # Read along with a running chat of the centre; a waiting one is nobody's to read yet.
    assert f'href="/console/toezicht/gesprek/{ari.id}"' in page.text
    assert f'href="/console/toezicht/gesprek/{oldest.id}"' not in page.text
    assert "Meelezen kan nog niet: wacht op een hulpverlener" in page.text
    assert 'http-equiv="refresh"' in page.text  # a plain snapshot without JavaScript


async def test_a_heartbeat_that_expires_makes_a_counsellor_unavailable(
    db: AsyncSession, services: Services
) -> None:
    account = await make_staff(db)
    await chat_staff(db, account, "on_duty")
    key = services.keys.key("presence", "counsellors")
    stale = utcnow().timestamp() - presence.FRESH_SECONDS - 1
    await services.redis.zadd(key, {str(account.id): stale})
    data = await supervision.snapshot(db, services, utcnow())
    assert data["counsellors"]["available"] == 0
    assert data["counsellors"]["people"][0]["state"] == "away"
    await presence.heard_from_counsellor(services.redis, services.keys, account.id)
    data = await supervision.snapshot(db, services, utcnow())
    assert data["counsellors"]["available"] == 1


@pytest.mark.parametrize(
    "path", ["/console/toezicht", "/console/audit", f"/console/toezicht/gesprek/{uuid.uuid4()}"]
)
async def test_a_counsellor_gets_the_forbidden_page(
    client: httpx.AsyncClient, db: AsyncSession, path: str
) -> None:
    await make_staff(db, roles=("counsellor",))
    assert (await login(client)).status_code == 303
    response = await client.get(path, headers=HTML)
    assert response.status_code == 403
    assert "Je hebt geen toegang tot deze pagina." in response.text


async def test_not_logged_in_goes_to_the_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/console/toezicht", headers=HTML)
    assert response.status_code in (303, 401)


# --- Read-along page, the whisper form and the audit log ----------------------------------


async def test_read_along_page_and_whisper_are_audited_and_the_log_has_no_content(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    centre = await make_centre(db, read_along=True)
    coordinator = await staff_in(db, centre, "Coco", "coordinator")
    counsellor = await staff_in(db, centre, "Bart")
    chat = await conversation(db, status="active", counsellor=counsellor, nickname="Ari")
    db.add(Message(conversation_id=chat.id, seq=1, sender="visitor", body=SECRET + "-bericht"))
    chat.last_seq = 1
    await db.commit()
    assert (await login(client, "coco@clb.example")).status_code == 303

    page = await client.get(f"/console/toezicht/gesprek/{chat.id}", headers=HTML)
    assert page.status_code == 200
    assert SECRET + "-bericht" in page.text  # the coordinator reads the chat …
    token = await form_token(client, f"/console/toezicht/gesprek/{chat.id}")
    posted = await client.post(
        f"/console/toezicht/gesprek/{chat.id}/fluisteren",
        data={"body": SECRET + "-fluister", "csrf_token": token},
        headers=HTML,
    )
    assert posted.status_code == 303
    note = (await db.scalars(select(ConversationNote))).one()
    assert (note.kind, note.recipient_id, note.author_id) == (
        "whisper",
        counsellor.id,
        coordinator.id,
    )
    assert note.body == SECRET + "-fluister"
    rows = (await db.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    reads = [(r.action, r.actor_id, r.object_id) for r in rows if r.action != "login"]
    assert reads == [
        ("conversation.read_along", coordinator.id, str(chat.id)),  # the page opened
        ("conversation.read_along", coordinator.id, str(chat.id)),  # and again for the token
        ("conversation.whisper", coordinator.id, str(chat.id)),
    ]

    audit = await client.get("/console/audit", headers=HTML)
    assert audit.status_code == 200
    assert "Meegelezen met een gesprek" in audit.text
    assert "Gefluisterd aan de hulpverlener" in audit.text
    assert "coco@clb.example" in audit.text and str(chat.id) in audit.text
    assert SECRET not in audit.text  # … but the log never holds what was written
    reads_only = await client.get("/console/audit?soort=inzage", headers=HTML)
    assert "Aangemeld" not in reads_only.text and "Meegelezen" in reads_only.text


async def test_whisper_needs_text_and_a_counsellor(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db, roles=("coordinator",), centre=await make_centre(db, read_along=True))
    waiting = await conversation(db)
    assert (await login(client)).status_code == 303
    token = await form_token(client, "/console")
    path = f"/console/toezicht/gesprek/{waiting.id}/fluisteren"
    refused = await client.post(path, data={"body": "Hallo", "csrf_token": token}, headers=HTML)
    assert refused.status_code == 409
    assert "fluisteren kan pas als een hulpverlener het heeft" in refused.text
    no_token = await client.post(path, data={"body": "Hallo"}, headers=HTML)
    assert no_token.status_code == 403
    assert (await db.scalars(select(ConversationNote))).all() == []


async def test_audit_log_pages(client: httpx.AsyncClient, db: AsyncSession) -> None:
    coordinator = await make_staff(db, roles=("coordinator",))
    for n in range(60):
        db.add(
            AuditEvent(
                action="conversation.transcript_read",
                actor_id=coordinator.id,
                object_type="conversation",
                object_id=f"gesprek-{n:02d}",
                at=utcnow() - timedelta(minutes=n),
            )
        )
    await db.commit()
    assert (await login(client)).status_code == 303
    first = await client.get("/console/audit", headers=HTML)
    assert "gesprek-00" in first.text and "gesprek-49" not in first.text.split("gesprek-48")[0]
    assert "Pagina 1 van 2" in first.text and 'href="/console/audit?pagina=2"' in first.text
    second = await client.get("/console/audit?pagina=2", headers=HTML)
    assert "gesprek-59" in second.text and "gesprek-00" not in second.text
    assert "Gesprek ingekeken" in second.text


# --- Over real sockets ------------------------------------------------------------------------


async def supervision_socket(base_url: str, cookie: str) -> tuple[Socket, dict[str, Any]]:
    connection = await websockets.connect(
        ws_url(base_url, "/ws/supervision"),
        origin=base_url,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
    )
    socket = Socket(connection)
    await socket.send({"type": "hello", "v": 1})
    welcome = await socket.expect("welcome")
    return socket, welcome


async def running_chat(
    db: AsyncSession, base_url: str
) -> tuple[Visitor, Socket, Socket, StaffAccount, Socket]:
    """A visitor chatting with Bart; Coco the coordinator has the supervision socket open."""
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}", read_along=True)
    bart = await staff_in(db, centre, "Bart")
    await staff_in(db, centre, "Coco", "coordinator")
    await chat_staff(db, bart, "on_duty")
    visitor = await Visitor.join(base_url)
    pupil = await visitor.connect()
    staff = await console(base_url, await staff_cookie(base_url, "bart@clb.example"))
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    await pupil.expect("status", status="active")
    await pupil.expect("message", sender="system")  # "Bart neemt deel aan het gesprek."
    cid = await pupil.say("Ik durf het niet goed te zeggen")
    await pupil.expect("ack", client_msg_id=cid)
    await staff.expect("message", sender="visitor")
    coordinator, _ = await supervision_socket(
        base_url, await staff_cookie(base_url, "coco@clb.example")
    )
    return visitor, pupil, staff, bart, coordinator


async def frames_until(socket: Socket, body: str) -> list[dict[str, Any]]:
    """Every frame up to and including the message with this body."""
    seen = []
    while True:
        frame = await socket.recv()
        seen.append(frame)
        if frame["type"] == "message" and frame.get("body") == body:
            return seen


def noticeable(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a visitor could notice: anything but the chat's own messages, receipts and the
    queue refresh that may still be on its way from before the claim."""
    return [
        frame
        for frame in frames
        if frame["type"] not in ("queue", "receipt", "ack")
        and not (frame["type"] == "message" and frame["sender"] in ("visitor", "counsellor"))
    ]


@pytest.mark.slow
async def test_read_along_is_audited_and_the_chat_does_not_notice(
    live_server: str, db: AsyncSession
) -> None:
    visitor, pupil, staff, _bart, coordinator = await running_chat(db, live_server)
    await coordinator.send(
        {"type": "read_along", "conversation_id": visitor.conversation_id, "last_seq": 0}
    )
    reading = await coordinator.expect("reading")
    assert reading["conversation"]["counsellor"] == "Bart"
    history = await coordinator.messages(2)
    assert [m["body"] for m in history] == [
        "Bart neemt deel aan het gesprek.",
        "Ik durf het niet goed te zeggen",
    ]
    await staff.say("Neem je tijd.", visitor.conversation_id)
    assert (await coordinator.expect("message"))["body"] == "Neem je tijd."  # live

    # The visitor's socket got nothing between: no notice, no status, only the reply.
    between = await frames_until(pupil, "Neem je tijd.")
    assert noticeable(between) == []
    assert [m["body"] for m in between if m["type"] == "message"][-1] == "Neem je tijd."
    rows = (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.read_along"))
    ).all()
    assert [(r.object_type, r.object_id) for r in rows] == [
        ("conversation", visitor.conversation_id)
    ]
    for socket in (pupil, staff, coordinator):
        await socket.close()


@pytest.mark.slow
async def test_whisper_reaches_the_counsellor_console_and_never_the_visitor(
    live_server: str, db: AsyncSession, services: Services
) -> None:
    visitor, pupil, staff, bart, coordinator = await running_chat(db, live_server)
    # Listen on the conversation's own channel too: what the visitor's sockets could get.
    channel = conversation_channel(services.keys, uuid.UUID(visitor.conversation_id))
    async with services.bus.subscribe(channel) as conversation_events:
        await coordinator.send(
            {
                "type": "whisper",
                "conversation_id": visitor.conversation_id,
                "body": "Vraag naar 1813",
            }
        )
        sent = await coordinator.expect("whispered")
        await staff.say("Ben je veilig nu?", visitor.conversation_id)
        published: list[dict[str, Any]] = []
        while not published or published[-1].get("raw_body") != "Ben je veilig nu?":
            published.append((await asyncio.wait_for(conversation_events.get(), 5)).data or {})
    assert all("Vraag naar 1813" not in str(event) for event in published)
    whisper = await staff.expect("whisper")
    assert whisper == {
        "type": "whisper",
        "conversation_id": visitor.conversation_id,
        "from": "Coco",
        "body": "Vraag naar 1813",
        "at": sent["at"],
    }
    between = await frames_until(pupil, "Ben je veilig nu?")
    assert all("Vraag naar 1813" not in str(frame) for frame in between)
    assert noticeable(between) == []
    note = (await db.scalars(select(ConversationNote))).one()
    assert (note.kind, note.recipient_id) == ("whisper", bart.id)
    audited = await db.scalar(
        select(AuditEvent.object_id).where(AuditEvent.action == "conversation.whisper")
    )
    assert audited == visitor.conversation_id
    for socket in (pupil, staff, coordinator):
        await socket.close()


@pytest.mark.slow
async def test_dashboard_socket_pushes_alerts_at_once_and_snapshots_when_the_queue_moves(
    live_server: str, db: AsyncSession, services: Services
) -> None:
    await make_staff(db, email="coco@clb.example", roles=("coordinator",))
    coordinator, welcome = await supervision_socket(
        live_server, await staff_cookie(live_server, "coco@clb.example")
    )
    assert welcome["v"] == 1 and welcome["snapshot"]["waiting"] == 0
    visitor = await Visitor.join(live_server)
    pupil = await visitor.connect()  # in the queue from now on
    while (await coordinator.expect("snapshot"))["snapshot"]["waiting"] != 1:
        pass
    alert = {
        "type": "flag",
        "conversation_id": visitor.conversation_id,
        "source": "message",
        "term": "niet meer leven",
        "at": utcnow().isoformat(),
        "nickname": "Sam",
        "status": "waiting",
    }
    await services.bus.publish(supervision_channel(services.keys), alert)
    frame = await coordinator.recv()
    while frame["type"] == "snapshot":  # a periodic snapshot may have been on its way
        frame = await coordinator.recv()
    assert frame == alert
    assert (await coordinator.recv())["type"] == "snapshot"  # the fresh picture follows
    await coordinator.close()
    await pupil.close()


@pytest.mark.slow
async def test_supervision_socket_is_for_coordinators_only(
    live_server: str, db: AsyncSession
) -> None:
    await make_staff(db, email="an@clb.example", roles=("counsellor",))
    cookie = await staff_cookie(live_server, "an@clb.example")
    connection = await websockets.connect(
        ws_url(live_server, "/ws/supervision"),
        origin=live_server,  # type: ignore[arg-type]
        additional_headers={"Cookie": cookie},
    )
    with pytest.raises(ConnectionClosed) as closed:
        await connection.send('{"type": "hello", "v": 1}')
        await connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003

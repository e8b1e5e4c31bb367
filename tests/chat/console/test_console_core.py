"""The core console over real sockets on real ``clb serve`` processes: duty and presence,
per-counsellor capacity (also across two instances), "volgende gesprek", warm and cold
transfer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console.models import ChatStaff, ConversationTransfer
from chat.conversations.models import Conversation, Status
from chat.counsellor_tools.models import ConversationNote
from clb import jobs
from clb.auth.models import StaffAccount
from tests.chat.support import Socket, Visitor, console, staff_cookie
from tests.conftest import make_centre, make_staff

pytestmark = pytest.mark.slow


async def counsellor(
    db: AsyncSession,
    base_url: str,
    email: str,
    name: str,
    *,
    on_duty: bool = True,
    max_chats: int | None = None,
) -> tuple[Socket, uuid.UUID]:
    centre = await make_centre(db, slug=f"clb-{uuid.uuid4().hex[:6]}")
    staff = await make_staff(db, email=email, centre=centre)
    staff.display_name = name
    if max_chats is not None:
        db.add(ChatStaff(staff_id=staff.id, max_chats=max_chats))
    await db.commit()
    socket = await console(base_url, await staff_cookie(base_url, email), on_duty=on_duty)
    return socket, staff.id


async def claim(socket: Socket, visitor: Visitor) -> dict[str, object]:
    await socket.send({"type": "claim", "conversation_id": visitor.conversation_id})
    return await socket.expect("claimed")


async def test_claiming_needs_being_on_duty_and_off_duty_keeps_running_chats(
    live_server: str, db: AsyncSession
) -> None:
    first, second = await Visitor.join(live_server), await Visitor.join(live_server)
    staff, _ = await counsellor(db, live_server, "an@clb.example", "An", on_duty=False)
    await staff.send({"type": "claim", "conversation_id": first.conversation_id})
    refused = await staff.expect("error")
    assert refused["code"] == "not_on_duty"
    assert refused["message"] == "Zet je status op 'In dienst' om gesprekken aan te nemen."

    await staff.send({"type": "duty", "duty": "on_duty"})
    await staff.expect("duty", duty="on_duty")
    await claim(staff, first)
    await staff.send({"type": "duty", "duty": "off_duty"})
    await staff.expect("duty", duty="off_duty")
    # The running chat stays theirs and goes on; no new one is taken.
    await staff.say("ik rond nog af", first.conversation_id)
    await staff.expect("ack")
    await staff.send({"type": "claim", "conversation_id": second.conversation_id})
    assert (await staff.expect("error"))["code"] == "not_on_duty"
    await staff.close()


async def test_waiting_visitors_estimate_counts_only_available_counsellors(
    live_server: str, db: AsyncSession
) -> None:
    visitor = await Visitor.join(live_server)
    pupil = await visitor.connect()
    assert (await pupil.expect("queue"))["estimate"] is None
    staff, _ = await counsellor(db, live_server, "an@clb.example", "An")
    await pupil.expect("queue", estimate={"minutes": 5, "more_than": False})
    await staff.send({"type": "duty", "duty": "pause"})
    await pupil.expect("queue", estimate=None)  # on pause: no free capacity
    await staff.send({"type": "duty", "duty": "on_duty"})
    await pupil.expect("queue", estimate={"minutes": 5, "more_than": False})
    await staff.close()  # the console is gone: not available any more
    await pupil.expect("queue", estimate=None)
    await pupil.close()


async def test_capacity_race_across_two_instances_lets_only_one_claim_through(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    one, two, three = [await Visitor.join(live_server) for _ in range(3)]
    here, _ = await counsellor(db, live_server, "an@clb.example", "An", max_chats=2)
    await claim(here, one)  # one of two slots taken
    there = await console(live_server_b, await staff_cookie(live_server_b, "an@clb.example"))
    frames = [
        {"type": "claim", "conversation_id": two.conversation_id},
        {"type": "claim", "conversation_id": three.conversation_id},
    ]
    await asyncio.gather(here.send(frames[0]), there.send(frames[1]))

    async def outcome(socket: Socket) -> str:
        while True:
            frame = await socket.recv()
            if frame["type"] == "claimed":
                return "claimed"
            if frame["type"] == "error":
                assert frame["code"] == "over_capacity"
                return "refused"

    assert sorted(await asyncio.gather(outcome(here), outcome(there))) == ["claimed", "refused"]
    active = (
        await db.scalars(select(Conversation.id).where(Conversation.status == Status.active.value))
    ).all()
    assert len(active) == 2
    for socket in (here, there):
        await socket.close()


async def test_next_takes_priority_first_then_the_longest_waiting_then_says_empty(
    live_server: str, db: AsyncSession
) -> None:
    oldest, urgent = await Visitor.join(live_server), await Visitor.join(live_server)
    pupils = [await oldest.connect(), await urgent.connect()]
    await db.execute(
        update(Conversation)
        .where(Conversation.id == uuid.UUID(urgent.conversation_id))
        .values(priority=10)
    )
    await db.commit()
    staff, _ = await counsellor(db, live_server, "an@clb.example", "An", max_chats=3)
    await staff.send({"type": "next"})
    assert (await staff.expect("claimed"))["conversation"]["id"] == urgent.conversation_id
    await staff.send({"type": "next"})
    assert (await staff.expect("claimed"))["conversation"]["id"] == oldest.conversation_id
    await staff.send({"type": "next"})
    empty = await staff.expect("error")
    assert empty["code"] == "queue_empty" and empty["message"] == "Er wacht nu niemand."
    for socket in (staff, *pupils):
        await socket.close()


async def test_warm_transfer_keeps_history_and_seq_across_instances(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    visitor = await Visitor.join(live_server)
    pupil = await visitor.connect()
    an, _ = await counsellor(db, live_server, "an@clb.example", "An")
    bo, bo_id = await counsellor(db, live_server_b, "bo@clb.example", "Bo")
    cid = visitor.conversation_id
    await claim(an, visitor)
    await pupil.say("Ik wil iets vertellen")
    await an.say("Ik luister", cid)
    before = await pupil.messages(3)  # joined, mine, An's
    assert [m["seq"] for m in before] == [1, 2, 3]

    await an.send({"type": "colleagues"})
    listed = await an.expect("colleagues")
    assert [c["name"] for c in listed["colleagues"]] == ["Bo"]
    await bo.send({"type": "transfer", "conversation_id": cid, "kind": "cold"})
    assert (await bo.expect("error"))["code"] == "not_allowed"  # only the holder

    note = "Sam heeft examenstress; praat over plannen."
    transfer = {"type": "transfer", "conversation_id": cid, "kind": "warm", "to": str(bo_id)}
    await an.send({**transfer, "note": note})
    away = await an.expect("transferred_away")
    assert away == {"type": "transferred_away", "conversation_id": cid, "to": "Bo"}

    claimed = await bo.expect("claimed")
    assert claimed["conversation"]["id"] == cid
    assert claimed["conversation"]["handover"] == {"from": "An", "note": note}
    history = await bo.messages(4)
    assert [m["seq"] for m in history] == [1, 2, 3, 4]
    assert history[3]["body"] == "Bo neemt het gesprek over."

    notice = await pupil.expect("message")
    assert notice["seq"] == 4 and notice["body"] == "Bo neemt het gesprek over."
    await pupil.expect("status", status="active", counsellor="Bo")
    await bo.say("Dag Sam, ik ben Bo.", cid)
    await bo.expect("ack")
    await pupil.say("Dag Bo")
    after = await pupil.messages(2)
    assert [(m["seq"], m["body"]) for m in after] == [(5, "Dag Sam, ik ben Bo."), (6, "Dag Bo")]
    assert [m["seq"] for m in await bo.messages(2)] == [5, 6]

    await an.say("nog iets?", cid)
    assert (await an.expect("error"))["code"] == "not_allowed"
    stored = await db.scalar(select(ConversationNote).where(ConversationNote.kind == "handover"))
    assert stored is not None and stored.recipient_id == bo_id and stored.body == note
    kinds = (await db.scalars(select(ConversationTransfer.kind))).all()
    assert kinds == ["warm"]
    for socket in (pupil, an, bo):
        await socket.close()


async def test_warm_transfer_to_someone_unavailable_is_refused(
    live_server: str, db: AsyncSession
) -> None:
    visitor = await Visitor.join(live_server)
    an, _ = await counsellor(db, live_server, "an@clb.example", "An")
    bo, bo_id = await counsellor(db, live_server, "bo@clb.example", "Bo")
    await claim(an, visitor)
    await bo.send({"type": "duty", "duty": "pause"})
    await bo.expect("duty", duty="pause")
    frame = {"type": "transfer", "conversation_id": visitor.conversation_id, "kind": "warm"}
    await an.send({**frame, "to": str(bo_id)})
    refused = await an.expect("error")
    assert refused["code"] == "colleague_unavailable"
    await an.send({"type": "colleagues"})
    assert (await an.expect("colleagues"))["colleagues"] == []
    for socket in (an, bo):
        await socket.close()


async def test_cold_transfer_returns_to_the_original_place_ahead_of_later_arrivals(
    live_server: str, db: AsyncSession
) -> None:
    first = await Visitor.join(live_server)
    pupil = await first.connect()
    an, _ = await counsellor(db, live_server, "an@clb.example", "An")
    await claim(an, first)
    await pupil.expect("status", status="active")
    later = await Visitor.join(live_server)
    later_pupil = await later.connect()
    cid = uuid.UUID(first.conversation_id)
    before = await db.get(Conversation, cid)
    assert before is not None
    created, claimed_at = before.created_at, before.claimed_at
    assert len(await jobs.pending_jobs(db, "chat.time_notice", conversation_id=str(cid))) == 2
    await db.commit()

    await an.send({"type": "transfer", "conversation_id": str(cid), "kind": "cold"})
    await an.expect("transferred_away")
    notice = await pupil.expect("message", sender="system", seq=2)
    assert notice["body"].startswith("Je gesprek gaat naar een andere begeleider.")
    await pupil.expect("status", status="waiting")
    place = await pupil.expect("queue")
    assert place["position"] == 1  # ahead of the visitor who came later

    db.expire_all()
    after = await db.get(Conversation, cid)
    assert after is not None
    assert after.status == "waiting" and after.counsellor_id is None
    assert after.created_at == created and after.claimed_at == claimed_at
    assert await jobs.pending_jobs(db, "chat.time_notice", conversation_id=str(cid)) == []
    await db.commit()

    await an.send({"type": "next"})
    again = await an.expect("claimed")
    assert again["conversation"]["id"] == str(cid)  # its original place: first
    assert again["conversation"]["claimed_at"] == claimed_at.isoformat()  # type: ignore[union-attr]
    # ...but the time limit counts from this claim, in the console as in the notices.
    started = datetime.fromisoformat(again["conversation"]["talk_started_at"])
    assert claimed_at is not None and started > claimed_at
    await pupil.expect("status", status="active")
    notices = await jobs.pending_jobs(db, "chat.time_notice", conversation_id=str(cid))
    [time_up] = [job for job in notices if job.payload["notice"] == "time_up"]
    limit = timedelta(minutes=again["conversation"]["time_limit_minutes"])
    assert time_up.run_at == started + limit
    assert len(notices) == 2
    queue = await an.expect("queue")
    while [w["id"] for w in queue["waiting"]] != [later.conversation_id]:
        queue = await an.expect("queue")
    for socket in (pupil, later_pupil, an):
        await socket.close()


async def test_duty_is_stored_and_shown_to_every_console_of_the_counsellor(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    here, staff_id = await counsellor(db, live_server, "an@clb.example", "An", on_duty=False)
    there = await console(
        live_server_b, await staff_cookie(live_server_b, "an@clb.example"), on_duty=False
    )
    await here.send({"type": "duty", "duty": "pause"})
    assert (await there.expect("duty", duty="pause"))["max_chats"] == 2
    row = await db.get(ChatStaff, staff_id)
    assert row is not None and row.duty == "pause"
    name = await db.scalar(select(StaffAccount.display_name).where(StaffAccount.id == staff_id))
    assert name == "An"
    for socket in (here, there):
        await socket.close()

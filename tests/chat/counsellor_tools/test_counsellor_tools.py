"""Private notes, the outcome at close, the handover code and what the retention purge
does to them — over HTTP on the real app, PostgreSQL and Redis."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import service
from chat.conversations.models import Conversation, Message, Sender
from chat.counsellor_tools import handover
from chat.counsellor_tools.models import ConversationNote, ConversationOutcome
from clb import jobs
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.db import commit, utcnow
from clb.jobs import OutboxJob
from clb.org.models import Centre
from clb.services import Services
from tests.chat.tools_support import api, csrf, held_chat, staff_client
from tests.conftest import make_centre, make_staff

NOTE = "Geheime notitie: thuis loopt het moeilijk"
OUTCOME = {"topics": ["faalangst", "pesten"], "referrals": ["eigen_clb"], "summary": "Kort"}


async def staff_trio(db: AsyncSession) -> None:
    centre = await make_centre(db, "clb-a")
    await make_staff(db, email="an@clb.example", centre=centre)
    await make_staff(db, email="bo@clb.example", centre=centre)
    other = await make_centre(db, "clb-b")
    await make_staff(db, email="co@clb.example", roles=("coordinator",), centre=other)


async def by_email(db: AsyncSession, email: str = "an@clb.example") -> StaffAccount:
    staff = await db.scalar(select(StaffAccount).where(StaffAccount.email == email))
    assert staff is not None
    return staff


async def centre_of(db: AsyncSession, staff: StaffAccount) -> Centre:
    centre = await db.get(Centre, staff.centre_id)
    assert centre is not None
    return centre


async def an_holds_a_chat(db: AsyncSession, services: Services) -> tuple[Conversation, str]:
    """The staff trio, and a chat An holds: (the conversation, the visitor's token)."""
    await staff_trio(db)
    return await held_chat(db, services, await by_email(db))


async def api_of_a_chat_an_holds(db: AsyncSession, services: Services, what: str) -> str:
    """The URL of ``what`` (notes, outcome, ...) of a chat An holds, for tests that need
    nothing else of it."""
    conversation, _ = await an_holds_a_chat(db, services)
    return api(conversation.id, what)


# --- Notes -----------------------------------------------------------------------------------


async def test_the_holder_adds_and_lists_notes_and_others_may_not(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    conversation, _ = await an_holds_a_chat(db, services)
    url = api(conversation.id, "notes")
    async with staff_client(app, "an@clb.example") as holder:
        added = await holder.post(url, json={"body": f"  {NOTE}  "}, headers=csrf(holder))
        assert added.status_code == 201, added.text
        assert added.json()["body"] == NOTE and added.json()["author"] == "An"
        listed = (await holder.get(url)).json()["notes"]
        assert [(n["kind"], n["kind_label"], n["body"]) for n in listed] == [
            ("note", "Notitie", NOTE)
        ]
        # Without the CSRF header a cross-site page could write: refused.
        assert (await holder.post(url, json={"body": "x"})).status_code == 403
        for body, message in (
            ("   ", "Schrijf eerst een notitie."),
            ("x" * 2001, "Je notitie is te lang: hoogstens 2000 tekens."),
        ):
            bad = await holder.post(url, json={"body": body}, headers=csrf(holder))
            assert bad.status_code == 422
            assert bad.json()["error"]["message"] == message
    async with staff_client(app, "bo@clb.example") as colleague:
        assert (await colleague.get(url)).status_code == 403
        denied = await colleague.post(url, json={"body": "x"}, headers=csrf(colleague))
        assert denied.status_code == 403
    # The holder's own read is not a supervisor's read: nothing audited so far.
    assert (
        await db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "conversation.notes_read")
        )
        == 0
    )
    # A coordinator of another centre may not read them (as with read-along) ...
    async with staff_client(app, "co@clb.example") as elsewhere:
        assert (await elsewhere.get(url)).status_code == 403
    # ... one of An's own centre may, and that read is audited.
    an = await by_email(db)
    await make_staff(
        db, email="cora@clb.example", roles=("coordinator",), centre=await centre_of(db, an)
    )
    async with staff_client(app, "cora@clb.example") as coordinator:
        read = await coordinator.get(url)
        assert read.status_code == 200 and read.json()["notes"][0]["body"] == NOTE
    audit = (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "conversation.notes_read"))
    ).all()
    assert [(a.object_type, a.object_id) for a in audit] == [("conversation", str(conversation.id))]
    assert await db.scalar(select(func.count()).select_from(ConversationNote)) == 1


async def test_handover_notes_and_whispers_are_listed_labelled(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    await staff_trio(db)
    holder = await by_email(db)
    conversation, _ = await held_chat(db, services, holder)
    db.add_all(
        [
            ConversationNote(
                conversation_id=conversation.id, kind="handover", author_id=None, body="Overdracht"
            ),
            ConversationNote(
                conversation_id=conversation.id,
                kind="whisper",
                recipient_id=holder.id,
                body="Vraag naar school",
            ),
            ConversationNote(
                conversation_id=conversation.id,
                kind="whisper",
                recipient_id=(await by_email(db, "bo@clb.example")).id,
                body="Voor iemand anders",
            ),
        ]
    )
    await commit(db)
    async with staff_client(app, "an@clb.example") as client:
        notes = (await client.get(api(conversation.id, "notes"))).json()["notes"]
    assert [(n["kind_label"], n["body"]) for n in notes] == [
        ("Overdracht", "Overdracht"),
        ("Fluisterbericht", "Vraag naar school"),
    ]


async def test_visitor_paths_never_show_notes(
    app: FastAPI, client: httpx.AsyncClient, services: Services, db: AsyncSession
) -> None:
    conversation, token = await an_holds_a_chat(db, services)
    async with staff_client(app, "an@clb.example") as holder:
        added = await holder.post(
            api(conversation.id, "notes"), json={"body": NOTE}, headers=csrf(holder)
        )
        assert added.status_code == 201
    visitor = {"authorization": f"Bearer {token}"}
    # The visitor's token opens no staff endpoint.
    assert (await client.get(api(conversation.id, "notes"), headers=visitor)).status_code == 401
    transcript = await client.get(
        f"/api/chat/conversations/{conversation.id}/transcript", headers=visitor
    )
    assert transcript.status_code == 200 and "Dag Sam" in transcript.text
    assert "Geheime" not in transcript.text
    # Notes never enter the message sequence the socket replays.
    bodies = (
        await db.scalars(select(Message.body).where(Message.conversation_id == conversation.id))
    ).all()
    assert bodies and not any("Geheime" in body for body in bodies)


# --- Outcome ---------------------------------------------------------------------------------


async def test_outcome_upsert_and_validation(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    url = await api_of_a_chat_an_holds(db, services, "outcome")
    async with staff_client(app, "an@clb.example") as holder:
        assert (await holder.get(url)).json()["recorded_at"] is None
        saved = await holder.put(url, json=OUTCOME, headers=csrf(holder))
        assert saved.status_code == 200, saved.text
        assert saved.json()["topics"] == ["faalangst", "pesten"]
        changed = await holder.put(
            url,
            json={"topics": ["studiekeuze"], "referrals": [], "summary": " "},
            headers=csrf(holder),
        )
        assert changed.json()["topics"] == ["studiekeuze"] and changed.json()["summary"] is None
        for form, field in (
            ({"topics": []}, "topics"),
            ({"topics": ["onbestaand"]}, "topics"),
            ({"topics": ["pesten"], "referrals": ["geen", "awel"]}, "referrals"),
            ({"topics": ["pesten"], "referrals": ["ergens"]}, "referrals"),
            ({"topics": ["pesten"], "summary": "x" * 1001}, "summary"),
        ):
            bad = await holder.put(url, json=form, headers=csrf(holder))
            assert bad.status_code == 422, form
            assert set(bad.json()["error"]["details"]["fields"]) == {field}
    async with staff_client(app, "bo@clb.example") as colleague:
        other = await colleague.put(url, json=OUTCOME, headers=csrf(colleague))
        assert other.status_code == 403
    rows = (await db.scalars(select(ConversationOutcome))).all()
    assert len(rows) == 1 and rows[0].topics == ["studiekeuze"]


async def test_outcome_options_follow_the_taxonomy(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    await staff_trio(db)
    async with staff_client(app, "an@clb.example") as holder:
        options = (await holder.get("/api/console/outcome-options")).json()
    assert [d["label"] for d in options["domains"]] == [
        "Onderwijsloopbaan",
        "Leren en studeren",
        "Psychisch en sociaal functioneren",
        "Preventieve gezondheidszorg",
    ]
    assert {"code": "zelfmoordlijn", "label": "Zelfmoordlijn 1813"} in options["referrals"]


# --- Handover code and the purge -------------------------------------------------------------


async def test_handover_code_is_sent_hashed_and_found_forgivingly(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    conversation, _ = await an_holds_a_chat(db, services)
    async with staff_client(app, "bo@clb.example") as colleague:
        refused = await colleague.post(
            api(conversation.id, "handover-code"), headers=csrf(colleague)
        )
        assert refused.status_code == 403
    async with staff_client(app, "an@clb.example") as holder:
        offered = await holder.post(api(conversation.id, "handover-code"), headers=csrf(holder))
        assert offered.status_code == 201, offered.text
        code = offered.json()["code"]
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
        assert offered.json()["meeting_url"] == f"/liever-iemand-zien?code={code}"
        assert offered.json()["booking_url"] == f"/afspraak?code={code}"
        await holder.put(api(conversation.id, "outcome"), json=OUTCOME, headers=csrf(holder))

    row = await db.scalar(select(ConversationOutcome))
    assert row is not None
    # Only the hash is stored, of the canonical form.
    canonical = code.replace("-", "")
    assert row.handover_code_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert code not in (row.summary or "") and canonical not in row.handover_code_hash
    # The visitor got a system notice with the code and both links.
    notice = await db.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.sender == Sender.system.value)
        .order_by(Message.seq.desc())
    )
    assert notice is not None
    assert orjson.loads(notice.body) == {
        "notice": "handover_code",
        "params": {
            "code": code,
            "meeting_url": f"/liever-iemand-zien?code={code}",
            "booking_url": f"/afspraak?code={code}",
        },
    }

    messy = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    for typed in (code, canonical, messy, f"{canonical[:2]}-{canonical[2:]}"):
        found = await handover.find_handover(db, typed)
        assert found is not None, typed
        assert found.conversation_id == conversation.id
        assert found.topics == ("Faalangst", "Pesten")
        assert found.referrals == ("Eigen CLB",)
        assert found.summary == "Kort"
    wrong = canonical[:-1] + ("A" if canonical[-1] != "A" else "B")
    for typed in (wrong, "", "ABC", "U" * 8, "x" * 500):
        assert await handover.find_handover(db, typed) is None


async def test_no_handover_code_after_the_chat_ended(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    conversation, _ = await an_holds_a_chat(db, services)
    locked = await db.get(
        Conversation, conversation.id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    await service.end_conversation(db, services, locked, Sender.counsellor, utcnow(), by_name="An")
    await commit(db)
    async with staff_client(app, "an@clb.example") as holder:
        late = await holder.post(api(conversation.id, "handover-code"), headers=csrf(holder))
        assert late.status_code == 409
        # The outcome is recorded after the end, as the console does.
        saved = await holder.put(
            api(conversation.id, "outcome"), json=OUTCOME, headers=csrf(holder)
        )
        assert saved.status_code == 200


async def test_purge_removes_notes_summary_and_code_and_keeps_the_codes(
    app: FastAPI, services: Services, db: AsyncSession
) -> None:
    conversation, _ = await an_holds_a_chat(db, services)
    async with staff_client(app, "an@clb.example") as holder:
        await holder.post(api(conversation.id, "notes"), json={"body": NOTE}, headers=csrf(holder))
        code = (
            await holder.post(api(conversation.id, "handover-code"), headers=csrf(holder))
        ).json()["code"]
        await holder.put(api(conversation.id, "outcome"), json=OUTCOME, headers=csrf(holder))
    locked = await db.get(
        Conversation, conversation.id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    ended_at = utcnow() - timedelta(days=services.settings.chat_retention_days + 1)
    await service.end_conversation(db, services, locked, Sender.counsellor, ended_at, by_name="An")
    await commit(db)
    purge = await db.scalar(select(OutboxJob).where(OutboxJob.kind == "chat.purge_transcript"))
    assert purge is not None
    assert await jobs.run_outbox_job(services, purge.id, purge.version) == "done"

    assert await db.scalar(select(func.count()).select_from(ConversationNote)) == 0
    row = await db.scalar(select(ConversationOutcome).execution_options(populate_existing=True))
    assert row is not None
    assert row.topics == ["faalangst", "pesten"] and row.referrals == ["eigen_clb"]
    assert row.summary is None and row.handover_code_hash is None
    assert await handover.find_handover(db, code) is None
    async with staff_client(app, "an@clb.example") as holder:
        locked_out = await holder.put(
            api(conversation.id, "outcome"), json=OUTCOME, headers=csrf(holder)
        )
        assert locked_out.status_code == 409


@pytest.mark.parametrize("code", ["K7M4-QX9P", "k7m4qx9p", " K7M4 QX9P ", "k7m4-qx9p"])
def test_codes_normalise_to_one_form(code: str) -> None:
    assert handover.normalise(code) == "K7M4QX9P"


def test_new_codes_carry_forty_bits() -> None:
    assert len(handover.ALPHABET) ** 8 >= 2**40
    codes = {handover.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(handover.normalise(c) for c in codes)

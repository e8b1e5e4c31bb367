"""The privacy console (``/console/privacy``): a coordinator finds one person's records at
their own centre, exports every stored field, and erases them after a confirmation step —
leaving nothing that identifies the person and the statistics' counts as they were."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation, Message
from chat.statistics.repository import breakdowns, figures_by_period
from clb.audit import AuditEvent
from clb.db import Base, columns_of, utcnow
from clb.org.models import School
from clb.services import Services
from scheduling.appointments.models import Appointment
from scheduling.meetings.models import MeetingRequest
from tests.chat.tools_support import staff_client
from tests.clb.auth.helpers import form_token
from tests.conftest import make_centre, make_staff
from tests.scheduling.meeting_pages_support import file_directly
from tests.scheduling.retention_support import EMAIL, PHONE, aged_appointment

HTML = {"accept": "text/html"}
PAGE = "/console/privacy"


async def _arrange(db: AsyncSession, services: Services) -> dict[str, Any]:
    """Centre A: a coordinator, a counsellor, Sara's appointment (handed over from a chat
    in which she wrote her number), her face-to-face request, and someone else's
    appointment. Centre B: a coordinator."""
    centre = await make_centre(db, "clb-a")
    await make_staff(db, email="co@clb.example", roles=("coordinator",), centre=centre)
    counsellor = await make_staff(db, email="an@clb.example", centre=centre)
    await make_staff(
        db, email="co-b@clb.example", roles=("coordinator",), centre=await make_centre(db, "b")
    )
    school = await db.scalar(select(School).where(School.centre_id == centre.id))
    assert school is not None
    ended = utcnow() - timedelta(days=2)
    chat = Conversation(
        nickname="Sara",
        who="leerling",
        topic="school",
        time_limit_minutes=45,
        status="ended",
        created_at=ended - timedelta(minutes=30),
        joined_at=ended - timedelta(minutes=30),
        claimed_at=ended - timedelta(minutes=29),
        ended_at=ended,
        counsellor_id=counsellor.id,
    )
    db.add(chat)
    await db.flush()
    db.add(Message(conversation_id=chat.id, seq=1, sender="visitor", body="Bel 0470 12 34 56"))
    await db.commit()
    when = utcnow() + timedelta(days=10)
    sara = await aged_appointment(db, counsellor, school, when, handover_conversation_id=chat.id)
    other = await aged_appointment(
        db, counsellor, school, when + timedelta(hours=2), first_name="Lena",
        email="x@example.be", phone=None, topic="Studiekeuze", counsellor_note="",
        booked_for_relation=None, booker_name=None, booker_email=None, booker_phone=None,
    )  # fmt: skip
    request_id, _ = await file_directly(
        services, school.id, utcnow(), email=EMAIL.upper(), phone="+32 470 12 34 56"
    )
    reference = await db.scalar(
        select(MeetingRequest.reference).where(MeetingRequest.id == request_id)
    )
    return {
        "sara": sara,
        "other": other,
        "request": request_id,
        "reference": reference,
        "chat": chat.id,
    }


async def _post(client: httpx.AsyncClient, path: str, **data: Any) -> httpx.Response:
    data["csrf_token"] = await form_token(client, PAGE)
    return await client.post(path, data=data, headers=HTML)


def _found_ids(page: str) -> set[str]:
    return set(re.findall(r'name="ids" value="([^"]+)"', page))


async def _counts(db: AsyncSession) -> tuple[Any, ...]:
    """What the statistics count: appointments and requests per kind and status, and the
    chat figures."""
    await db.commit()
    appointments = (
        await db.execute(
            select(
                Appointment.centre_id, Appointment.status, Appointment.mode, func.count()
            ).group_by(Appointment.centre_id, Appointment.status, Appointment.mode)
        )
    ).all()
    requests = (
        await db.execute(
            select(MeetingRequest.status, MeetingRequest.for_whom, func.count()).group_by(
                MeetingRequest.status, MeetingRequest.for_whom
            )
        )
    ).all()
    start, end = utcnow() - timedelta(days=30), utcnow() + timedelta(days=1)
    chats = [(f.day, f.week, f.counts) for f in await figures_by_period(db, start, end)]
    return sorted(appointments), sorted(requests), chats, await breakdowns(db, start, end)


async def _tables_holding(db: AsyncSession, *needles: str) -> list[str]:
    """Every table with a row whose text holds a needle (phone numbers without spacing)."""
    await db.commit()
    found = []
    for table in Base.metadata.sorted_tables:
        for needle in needles:
            query = text(
                f'SELECT count(*) FROM "{table.name}" AS t WHERE t::text ILIKE :like '  # noqa: S608
                "OR regexp_replace(t::text, '[\\s./()-]', '', 'g') LIKE :like"
            )
            if await db.scalar(query, {"like": f"%{needle}%"}):
                found.append(f"{table.name}: {needle}")
    return found


async def test_only_a_coordinator_may_use_the_page(
    app: FastAPI, db: AsyncSession, services: Services
) -> None:
    await _arrange(db, services)
    async with staff_client(app, "an@clb.example") as counsellor:
        assert (await counsellor.get(PAGE, headers=HTML)).status_code == 403
    async with staff_client(app, "co@clb.example") as coordinator:
        page = await coordinator.get(PAGE, headers=HTML)
        assert page.status_code == 200 and 'name="zoek"' in page.text
        no_token = await coordinator.post(PAGE, data={"zoek": EMAIL}, headers=HTML)
        assert no_token.status_code == 403


@pytest.mark.parametrize("how", ["email", "phone", "reference", "appointment"])
async def test_the_person_is_found_by_email_phone_or_reference(
    app: FastAPI, db: AsyncSession, services: Services, how: str
) -> None:
    arranged = await _arrange(db, services)
    typed = {
        "email": "Sara.Ouder@Example.be",
        "phone": "0470/12.34.56",
        "reference": arranged["reference"].lower().replace("-", " "),
        "appointment": f"{arranged['sara'].id}@clb-platform",
    }[how]
    async with staff_client(app, "co@clb.example") as coordinator:
        page = await _post(coordinator, PAGE + "/wissen", zoek=typed)
    assert page.status_code == 200 and "Ben je zeker?" in page.text
    sara, request, chat = (
        str(arranged[k].id if k == "sara" else arranged[k]) for k in ("sara", "request", "chat")
    )
    # A reference finds that one record (and what it links to: the appointment its chat).
    expected = {
        "email": {sara, request, chat},
        "phone": {sara, request, chat},
        "reference": {request},
        "appointment": {sara, chat},
    }[how]
    assert _found_ids(page.text) == expected
    assert str(arranged["other"].id) not in page.text


async def test_the_export_holds_every_stored_field(
    app: FastAPI, db: AsyncSession, services: Services
) -> None:
    arranged = await _arrange(db, services)
    async with staff_client(app, "co@clb.example") as coordinator:
        download = await _post(coordinator, PAGE + "/export.json", zoek=EMAIL)
        readable = await _post(coordinator, PAGE + "/export", zoek=EMAIL)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    records = {r["id"]: r for r in orjson.loads(download.content)["records"]}
    await db.commit()
    for model, key in ((Appointment, arranged["sara"].id), (MeetingRequest, arranged["request"])):
        row = await db.get_one(model, key, populate_existing=True)
        stored = orjson.loads(orjson.dumps(columns_of(row), default=str))
        assert records[str(key)]["fields"] == stored
    chat = records[str(arranged["chat"])]
    assert [m["body"] for m in chat["related"]["messages"]] == ["Bel 0470 12 34 56"]
    assert readable.status_code == 200
    for shown in ("Sara", EMAIL, "Mijn dochter slaapt slecht voor toetsen.", "Bel 0470 12 34 56"):
        assert shown in readable.text
    audited = set(
        await db.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "privacy.export"))
    )
    assert audited == set(records)


async def test_erasure_needs_confirmation_and_leaves_nothing_of_the_person(
    app: FastAPI, db: AsyncSession, services: Services
) -> None:
    arranged = await _arrange(db, services)
    before = await _counts(db)
    async with staff_client(app, "co@clb.example") as coordinator:
        confirm = await _post(coordinator, PAGE + "/wissen", zoek=PHONE)
        ids = sorted(_found_ids(confirm.text))
        assert len(ids) == 3
        unsure = await _post(coordinator, PAGE + "/wissen/bevestigen", zoek=PHONE, ids=ids)
        assert unsure.status_code == 422 and "Vink aan dat je zeker bent" in unsure.text
        assert await _tables_holding(db, EMAIL, PHONE[1:]) != []  # nothing happened yet

        done = await _post(
            coordinator, PAGE + "/wissen/bevestigen", zoek=PHONE, ids=ids, zeker="ja"
        )
        assert done.status_code == 303 and done.headers["location"] == PAGE + "?gewist=3"
        assert (
            "De gegevens zijn gewist"
            in (await coordinator.get(done.headers["location"], headers=HTML)).text
        )
        for typed in (EMAIL, PHONE, arranged["reference"], str(arranged["sara"].id)):
            again = await _post(coordinator, PAGE, zoek=typed)
            assert again.status_code == 200 and "Niets gevonden" in again.text

    gone = (EMAIL, PHONE[1:], "Yasmina", "Fatima", "slaapt slecht", "jan.leerkracht")
    assert await _tables_holding(db, *gone) == []
    assert await _counts(db) == before
    other = await db.get_one(Appointment, arranged["other"].id, populate_existing=True)
    assert other.email == "x@example.be" and other.first_name == "Lena"  # someone else's
    erased = await db.scalars(
        select(AuditEvent.object_id).where(AuditEvent.action == "privacy.erase")
    )
    assert sorted(str(object_id) for object_id in erased) == ids


async def test_a_coordinator_of_another_centre_sees_and_erases_nothing(
    app: FastAPI, db: AsyncSession, services: Services
) -> None:
    arranged = await _arrange(db, services)
    async with staff_client(app, "co-b@clb.example") as stranger:
        for typed in (EMAIL, PHONE, arranged["reference"], str(arranged["sara"].id)):
            page = await _post(stranger, PAGE, zoek=typed)
            assert page.status_code == 200 and "Niets gevonden" in page.text
        ids = [str(arranged["sara"].id), str(arranged["request"]), str(arranged["chat"])]
        refused = await _post(
            stranger, PAGE + "/wissen/bevestigen", zoek=EMAIL, ids=ids, zeker="ja"
        )
        assert refused.status_code == 422
        exported = await _post(stranger, PAGE + "/export.json", zoek=EMAIL)
        assert orjson.loads(exported.content)["records"] == []
    await db.commit()
    sara = await db.get_one(Appointment, arranged["sara"].id, populate_existing=True)
    assert sara.email == EMAIL


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Vul een e-mailadres, een telefoonnummer of een referentie in."),
        ("   ", "Vul een e-mailadres, een telefoonnummer of een referentie in."),
        ("sara@", "Dit e-mailadres klopt niet."),
        ("hallo daar", "Dit is geen e-mailadres, telefoonnummer of referentie."),
        ("x" * 300, "Dat is te lang"),
        ("\x00", "Vul een e-mailadres"),  # control characters are dropped on input
    ],
)
async def test_bad_input_gets_a_clear_message(
    app: FastAPI, db: AsyncSession, services: Services, typed: str, message: str
) -> None:
    await _arrange(db, services)
    async with staff_client(app, "co@clb.example") as coordinator:
        for path in ("", "/export.json", "/export", "/wissen", "/wissen/bevestigen"):
            page = await _post(coordinator, PAGE + path, zoek=typed)
            assert page.status_code == 422, (path, page.status_code)
            assert message in page.text
        too_long = await _post(coordinator, PAGE, zoek="x" * 5000)
        assert too_long.status_code == 422
        bad_ids = await _post(coordinator, PAGE + "/wissen/bevestigen", zoek=EMAIL, ids="nee")
        assert bad_ids.status_code == 422 and "niets meer om te wissen" in bad_ids.text


async def test_who_filed_a_request_via_mij_finds_and_erases_only_their_own_part(
    app: FastAPI, db: AsyncSession, services: Services
) -> None:
    """A bridge figure who filed for a pupil with their own contact ("via mij") asks for
    their data: they get their name and contact, not the pupil's, and erasing them leaves
    the pupil's request as it was."""
    centre = await make_centre(db, "clb-a")
    await make_staff(db, email="co@clb.example", roles=("coordinator",), centre=centre)
    school = await db.scalar(select(School).where(School.centre_id == centre.id))
    assert school is not None
    filer = "fatima.brugfiguur@example.be"
    request_id, _ = await file_directly(
        services, school.id, utcnow(), phone=None, via_bridge=True,
        requester_email=filer, requester_phone="0499 11 22 33",
    )  # fmt: skip
    async with staff_client(app, "co@clb.example") as coordinator:
        for typed in (filer.upper(), "+32 499 11 22 33"):
            found = await _post(coordinator, PAGE, zoek=typed)
            assert "Wie dit voor iemand anders maakte of aanvroeg" in found.text, typed
            confirm = await _post(coordinator, PAGE + "/wissen", zoek=typed)
            assert _found_ids(confirm.text) == {str(request_id)}, typed
        export = await _post(coordinator, PAGE + "/export", zoek=filer, ids=[str(request_id)])
        assert filer in export.text and "Fatima El Amrani" in export.text
        assert "Yasmina" not in export.text and "schoolverzuim" not in export.text
        done = await _post(
            coordinator, PAGE + "/wissen/bevestigen", zoek=filer, ids=[str(request_id)],
            zeker="ja",
        )  # fmt: skip
        assert done.status_code == 303
    request = await db.get_one(MeetingRequest, request_id, populate_existing=True)
    assert (request.requester_email, request.requester_phone) == (None, None)
    assert request.requester_name == ""
    assert request.first_name == "Yasmina" and request.need.startswith("Moeder wil praten")

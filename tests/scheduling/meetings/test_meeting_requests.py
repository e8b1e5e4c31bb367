"""Face-to-face meeting requests on the real database: filing, the staff workflow with a
real appointment behind "scheduled", and the first-contact deadline with mail delivered to a
real SMTP server (aiosmtpd). Time is passed in (``now=``), never waited for; deadline jobs
are run through the outbox exactly as the worker runs them (``clb.jobs.run_outbox_job``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.config import Settings
from clb.db import transaction, utcnow
from clb.errors import Forbidden
from clb.jobs import OutboxJob, run_outbox_job
from clb.org.models import Centre
from clb.services import Services
from scheduling.appointments import booking
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Appointment
from scheduling.availability.slots import add_working_days
from scheduling.errors import InvalidRequest, RequestStateConflict, SlotTaken
from scheduling.meetings import service as meetings
from scheduling.meetings.models import MeetingRequest, MeetingRequestEvent
from scheduling.meetings.service import SLA_ESCALATION_JOB, SLA_REMINDER_JOB
from scheduling.meetings.validation import MeetingRequestData
from scheduling.tokens import hash_token
from tests.conftest import free_port, make_staff, serving_smtp
from tests.scheduling.booking_helpers import at, open_day
from tests.scheduling.support import bookable_counsellor, next_weekday_at

NEED = "Mijn zoon durft niet meer naar school sinds de herfstvakantie."
REFERENCE = re.compile(
    r"^CLB-[23456789ABCDEFGHJKMNPQRSTWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{2}$"
)


# --- A real SMTP server --------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    subject: str
    text: str


@dataclass
class Inbox:
    port: int
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        self.received.append(
            Received(tuple(envelope.rcpt_tos), str(message["Subject"]), body.get_content())
        )
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox(port=free_port())
    with serving_smtp(handler, handler.port):
        yield handler


@pytest.fixture
def settings(settings: Settings, inbox: Inbox) -> Settings:
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{inbox.port}"})


# --- Arrangement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Arranged:
    centre_id: uuid.UUID
    school_id: uuid.UUID
    counsellor_id: uuid.UUID
    coordinator_id: uuid.UUID
    coordinator_email: str
    counsellor_email: str


@pytest.fixture
async def centre(db: AsyncSession) -> Arranged:
    staff, school = await bookable_counsellor(db, email="jonas@clb.example")
    home = await db.get_one(Centre, school.centre_id)
    coordinator = await make_staff(
        db, email="coord@clb.example", roles=("coordinator",), centre=home
    )
    return Arranged(
        school.centre_id, school.id, staff.id, coordinator.id, coordinator.email, staff.email
    )


def for_myself(centre: Arranged, **changes: Any) -> MeetingRequestData:
    data = MeetingRequestData(
        school_id=centre.school_id,
        for_whom="self_parent",
        first_name="  Sara ",
        consent_contact=True,
        phone="0470 12 34 56",
        email="sara.ouder@example.be",
        preferred_days=(2, 0),
        preferred_times=("evening", "morning"),
        preferred_place="office",
        need=NEED,
    )
    return replace(data, **changes)


async def file(
    services: Services, data: MeetingRequestData, now: datetime | None = None
) -> tuple[uuid.UUID, str]:
    async with transaction(services.sessionmaker) as session:
        request, token = await meetings.file_request(session, services, data, now or utcnow())
        return request.id, token


async def filed_on_a_monday_morning(
    services: Services, centre: Arranged
) -> tuple[datetime, uuid.UUID]:
    """A request for oneself filed on the next Monday at 10:00 in Brussels, a working day
    for the deadline's count: (that moment, the request's id)."""
    now = next_weekday_at(0, time(10))
    request_id, _token = await file(services, for_myself(centre), now)
    return now, request_id


async def load(db: AsyncSession, request_id: uuid.UUID) -> MeetingRequest:
    await db.commit()
    return await db.get_one(MeetingRequest, request_id, populate_existing=True)


async def rows(db: AsyncSession, model: type[Any]) -> int:
    await db.commit()
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def deadline_jobs(db: AsyncSession, request_id: uuid.UUID) -> dict[str, OutboxJob]:
    await db.commit()
    found = await db.scalars(
        select(OutboxJob)
        .where(OutboxJob.payload["request_id"].astext == str(request_id))
        .execution_options(populate_existing=True)
    )
    # The deadline's jobs (not the status messages to the requester: test_status_messages.py).
    return {job.kind: job for job in found if job.kind in meetings.SLA_JOBS}


async def staff(session: AsyncSession, account_id: uuid.UUID) -> StaffAccount:
    return await session.get_one(StaffAccount, account_id)


# --- Filing --------------------------------------------------------------------------------


async def test_filing_for_oneself_stores_a_request_with_a_reference_and_a_deadline(
    services: Services, db: AsyncSession, centre: Arranged
) -> None:
    now, request_id = await filed_on_a_monday_morning(services, centre)

    request = await load(db, request_id)
    assert REFERENCE.match(request.reference), request.reference
    assert request.centre_id == centre.centre_id  # the school decides the CLB
    assert (request.first_name, request.phone, request.email) == (
        "Sara",
        "0470123456",
        "sara.ouder@example.be",
    )
    assert request.preferred_days == [0, 2]
    assert request.preferred_times == ["morning", "evening"]
    assert request.status == "new" and request.assigned_to is None
    assert request.requester_relation is None and request.consent_of_person is False
    assert request.first_contact_due_at == add_working_days(now, 2)
    [event] = await meetings.events(db, request_id)
    assert (event.from_status, event.to_status, event.actor_id) == (None, "new", None)
    jobs = await deadline_jobs(db, request_id)
    assert jobs[SLA_REMINDER_JOB].run_at == request.first_contact_due_at - timedelta(hours=4)
    assert jobs[SLA_ESCALATION_JOB].run_at == request.first_contact_due_at


async def test_a_bridge_figure_files_for_someone_with_their_consent(
    services: Services, db: AsyncSession, centre: Arranged
) -> None:
    data = for_myself(
        centre,
        for_whom="other",
        first_name="Yusuf",
        requester_relation="brugfiguur",
        requester_name="Leen Claes",
        consent_of_person=True,
        phone=None,
        email="leen.claes@example.be",
        via_bridge=True,
        requester_email="leen.claes@example.be",
        preferred_place="school",
        interpreter_language=" Turks ",
    )
    request = await load(db, (await file(services, data))[0])
    assert (request.for_whom, request.requester_relation, request.requester_name) == (
        "other",
        "brugfiguur",
        "Leen Claes",
    )
    assert request.consent_of_person is True and request.via_bridge is True
    assert request.interpreter_language == "Turks"


@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"for_whom": "other", "requester_name": "Leen", "consent_of_person": True},
         "requester_relation"),
        ({"for_whom": "other", "requester_relation": "leerkracht", "consent_of_person": True},
         "requester_name"),
        ({"for_whom": "other", "requester_relation": "leerkracht", "requester_name": "Leen"},
         "consent_of_person"),
        ({"phone": None, "email": None}, "contact"),
        ({"phone": "12"}, "phone"),
        ({"email": "sara@"}, "email"),
        ({"school_id": uuid.UUID(int=7)}, "school"),
        ({"consent_contact": False}, "consent_contact"),
        ({"first_name": "  "}, "first_name"),
        ({"for_whom": "iemand"}, "for_whom"),
        ({"preferred_days": (5,)}, "preferred_days"),
        ({"preferred_times": ("night",)}, "preferred_times"),
        ({"preferred_place": "park"}, "preferred_place"),
        ({"need": "x" * 1001}, "need"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_with_a_typed_error_and_nothing_saved(
    changes: dict[str, Any],
    field_name: str,
    services: Services,
    db: AsyncSession,
    centre: Arranged,
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await file(services, for_myself(centre, **changes))
    assert raised.value.field == field_name
    assert raised.value.status == 422 and raised.value.detail_message
    assert await rows(db, MeetingRequest) == 0
    assert await rows(db, OutboxJob) == 0


async def test_reaching_someone_through_the_school_alone_is_enough(
    services: Services, db: AsyncSession, centre: Arranged
) -> None:
    data = for_myself(centre, phone=None, email=None, via_school=True)
    request = await load(db, (await file(services, data))[0])
    assert (request.phone, request.email, request.via_school) == (None, None, True)


async def test_the_status_token_is_hashed_at_rest_and_a_wrong_one_finds_nothing(
    services: Services, db: AsyncSession, centre: Arranged
) -> None:
    request_id, token = await file(services, for_myself(centre))
    request = await load(db, request_id)
    assert request.status_token_hash == hash_token(token) != token
    assert token not in str(request.__dict__)
    found = await meetings.by_status_token(db, token)
    assert found is not None and found.id == request_id
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert await meetings.by_status_token(db, wrong) is None
    assert await meetings.by_status_token(db, "") is None


# --- The workflow --------------------------------------------------------------------------


async def test_new_assigned_contacted_scheduled_closed_with_a_real_appointment(
    services: Services, db: AsyncSession, centre: Arranged
) -> None:
    request_id, _token = await file(services, for_myself(centre))
    day = await open_day(db, centre.centre_id)
    # Someone else already has the counsellor at 10:00.
    async with transaction(services.sessionmaker) as session:
        await booking.book(
            session,
            services,
            BookingRequest(
                centre.school_id,
                "gesprek",
                "office",
                centre.counsellor_id,
                at(day, 10),
                Contact("Mila", "mila@example.be", None),
            ),
        )

    async with transaction(services.sessionmaker) as session:
        coordinator = await staff(session, centre.coordinator_id)
        await meetings.assign(
            session, request_id, centre.counsellor_id, coordinator, now=utcnow(), services=services
        )
    async with transaction(services.sessionmaker) as session:
        counsellor = await staff(session, centre.counsellor_id)
        await meetings.mark_contacted(
            session, request_id, counsellor, now=utcnow(), services=services
        )
    before = await load(db, request_id)
    assert (before.status, before.assigned_to) == ("contacted", centre.counsellor_id)

    async def schedule(starts_at: datetime) -> None:
        async with transaction(services.sessionmaker) as session:
            counsellor = await staff(session, centre.counsellor_id)
            await meetings.schedule(
                session,
                services,
                request_id,
                counsellor,
                centre.counsellor_id,
                starts_at,
                "gesprek",
                None,
                utcnow(),
            )

    with pytest.raises(SlotTaken):
        await schedule(at(day, 10))
    unchanged = await load(db, request_id)
    assert (unchanged.status, unchanged.appointment_id) == ("contacted", None)
    assert len(await meetings.events(db, request_id)) == 3
    assert await rows(db, Appointment) == 1

    await schedule(at(day, 14))
    scheduled = await load(db, request_id)
    assert scheduled.status == "scheduled"
    appointment = await db.get_one(Appointment, scheduled.appointment_id)
    assert (appointment.mode, appointment.starts_at, appointment.first_name) == (
        "office",
        at(day, 14),
        "Sara",
    )
    assert appointment.counsellor_id == centre.counsellor_id
    assert NEED not in appointment.topic

    async with transaction(services.sessionmaker) as session:
        coordinator = await staff(session, centre.coordinator_id)
        with pytest.raises(InvalidRequest):
            await meetings.close(
                session, request_id, coordinator, "  ", now=utcnow(), services=services
            )
        await meetings.close(
            session,
            request_id,
            coordinator,
            "Gesprek gehad, opvolging loopt.",
            now=utcnow(),
            services=services,
        )
    async with transaction(services.sessionmaker) as session:
        coordinator = await staff(session, centre.coordinator_id)
        with pytest.raises(RequestStateConflict):
            await meetings.schedule(
                session,
                services,
                request_id,
                coordinator,
                centre.counsellor_id,
                at(day, 16),
                "gesprek",
                None,
                utcnow(),
            )
        with pytest.raises(RequestStateConflict):
            await meetings.close(
                session, request_id, coordinator, "Nog eens", now=utcnow(), services=services
            )

    closed = await load(db, request_id)
    assert (closed.status, closed.close_reason) == ("closed", "Gesprek gehad, opvolging loopt.")
    steps = [
        (e.from_status, e.to_status, e.actor_id) for e in await meetings.events(db, request_id)
    ]
    assert steps == [
        (None, "new", None),
        ("new", "assigned", centre.coordinator_id),
        ("assigned", "contacted", centre.counsellor_id),
        ("contacted", "scheduled", centre.counsellor_id),
        ("scheduled", "closed", centre.coordinator_id),
    ]
    assert all(e.at is not None for e in await meetings.events(db, request_id))


async def test_only_staff_of_the_centre_handle_a_request(
    services: Services, db: AsyncSession, centre: Arranged
) -> None:
    request_id, _token = await file(services, for_myself(centre))
    outsider = await make_staff(db, email="elders@clb.example", roles=("coordinator",))
    async with transaction(services.sessionmaker) as session:
        actor = await staff(session, outsider.id)
        with pytest.raises(Forbidden):
            await meetings.assign(
                session, request_id, centre.counsellor_id, actor, now=utcnow(), services=services
            )
    async with transaction(services.sessionmaker) as session:
        coordinator = await staff(session, centre.coordinator_id)
        with pytest.raises(InvalidRequest):  # a counsellor of another centre
            await meetings.assign(
                session, request_id, outsider.id, coordinator, now=utcnow(), services=services
            )
    assert (await load(db, request_id)).status == "new"


# --- The first-contact deadline ------------------------------------------------------------


async def run(services: Services, job: OutboxJob) -> str:
    return await run_outbox_job(services, job.id, job.version)


async def test_the_reminder_goes_out_before_the_deadline_and_then_the_escalation(
    services: Services, db: AsyncSession, centre: Arranged, inbox: Inbox
) -> None:
    now, request_id = await filed_on_a_monday_morning(services, centre)
    request = await load(db, request_id)
    due = request.first_contact_due_at
    jobs = await deadline_jobs(db, request_id)
    assert jobs[SLA_REMINDER_JOB].run_at < due

    # The reminder's time: still new and unassigned, so the coordinators hear of it.
    assert await meetings.overdue(db, centre.centre_id, jobs[SLA_REMINDER_JOB].run_at) == []
    assert await run(services, jobs[SLA_REMINDER_JOB]) == "done"
    [reminder] = inbox.received
    assert reminder.to == (centre.coordinator_email,)
    assert request.reference in reminder.subject
    assert f"/console/aanvragen/{request_id}" in reminder.text
    for secret in (NEED, "Sara", "sara.ouder@example.be", "0470"):
        assert secret not in reminder.text and secret not in reminder.subject

    # The deadline passes: the coordinators are told, the centre's list shows it.
    assert await run(services, jobs[SLA_ESCALATION_JOB]) == "done"
    escalation = inbox.received[1]
    assert escalation.to == (centre.coordinator_email,)
    assert "verstreken" in escalation.subject and NEED not in escalation.text
    late = await meetings.overdue(db, centre.centre_id, due + timedelta(minutes=1))
    assert [r.id for r in late] == [request_id]
    notes = [e.note for e in await meetings.events(db, request_id)]
    assert len(notes) == 3 and all(NEED not in note for note in notes)


async def test_an_assigned_request_reminds_its_counsellor(
    services: Services, db: AsyncSession, centre: Arranged, inbox: Inbox
) -> None:
    request_id, _token = await file(services, for_myself(centre))
    async with transaction(services.sessionmaker) as session:
        coordinator = await staff(session, centre.coordinator_id)
        await meetings.assign(
            session, request_id, centre.counsellor_id, coordinator, now=utcnow(), services=services
        )
    jobs = await deadline_jobs(db, request_id)
    assert await run(services, jobs[SLA_REMINDER_JOB]) == "done"
    assert [mail.to for mail in inbox.received] == [(centre.counsellor_email,)]


async def test_no_reminder_nor_escalation_after_the_first_contact(
    services: Services, db: AsyncSession, centre: Arranged, inbox: Inbox
) -> None:
    now, request_id = await filed_on_a_monday_morning(services, centre)
    planned = await deadline_jobs(db, request_id)
    async with transaction(services.sessionmaker) as session:
        counsellor = await staff(session, centre.counsellor_id)
        await meetings.mark_contacted(
            session, request_id, counsellor, now=now + timedelta(hours=3), services=services
        )
    jobs = await deadline_jobs(db, request_id)
    assert all(job.cancelled_at is not None for job in jobs.values())
    # Copies already queued with the old version, and the rows themselves: nothing runs.
    for kind in (SLA_REMINDER_JOB, SLA_ESCALATION_JOB):
        assert await run(services, planned[kind]) == "skipped"
        assert await run(services, jobs[kind]) == "skipped"
    assert inbox.received == []
    due = (await load(db, request_id)).first_contact_due_at
    assert await meetings.overdue(db, centre.centre_id, due + timedelta(days=1)) == []
    assert await rows(db, MeetingRequestEvent) == 2

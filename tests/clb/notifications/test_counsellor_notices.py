"""Counsellors hear of bookings, moves, cancellations and requests given to them: in the
console and by mail, each as their settings say, never about what they did themselves, and
nothing at all for a change that rolled back (real PostgreSQL, Redis, ARQ worker and the
development mailbox)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.config import Settings
from clb.db import rollback, transaction, utcnow
from clb.notifications import service as notifications
from clb.notifications.kinds import Choice, Kind
from clb.org.models import Centre, School
from clb.services import Services
from development.mailbox import DevMailbox
from scheduling.appointments import booking, changes
from scheduling.appointments.booking import Wish
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.meetings import service as meetings
from tests.clb.notifications.support import (
    mail_jobs,
    mailbox_settings,
    mails,
    postvak,
    rows_of,
    run_worker,
)
from tests.conftest import make_staff
from tests.scheduling.booking_helpers import at, open_day
from tests.scheduling.meeting_pages_support import file_directly
from tests.scheduling.support import bookable_counsellor

__all__ = ["postvak"]

AN = "an@clb.example"
PARENT = "sara.ouder@example.be"


@pytest.fixture
def settings(settings: Settings, postvak: DevMailbox) -> Settings:
    return mailbox_settings(settings, postvak)


def wanted(
    staff: StaffAccount, school: School, starts_at: datetime, **more: object
) -> BookingRequest:
    return BookingRequest(
        school_id=school.id,
        type_slug="gesprek",
        mode="office",
        counsellor_id=staff.id,
        starts_at=starts_at,
        contact=Contact("Sara", PARENT, None, "nl", "Mijn dochter slaapt slecht."),
        **more,  # type: ignore[arg-type]
    )


async def book(services: Services, request: BookingRequest) -> uuid.UUID:
    async with transaction(services.sessionmaker) as session:
        booked = await booking.book(session, services, request, now=utcnow())
        return booked.appointment.id


async def colleague(db: AsyncSession, staff: StaffAccount, email: str, role: str) -> StaffAccount:
    centre = await db.get_one(Centre, staff.centre_id)
    return await make_staff(db, email=email, roles=(role,), centre=centre)


async def test_a_booking_tells_its_counsellor_in_the_console_and_by_mail(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    day = await open_day(db, staff.centre_id)
    appointment_id = await book(services, wanted(staff, school, at(day, 10)))

    [row] = await rows_of(db, staff.id)
    assert (row.kind, row.link, row.read_at) == (
        "booking_new",
        f"/console/agenda/afspraken/{appointment_id}",
        None,
    )
    assert row.params == {"at": at(day, 10).isoformat()}  # a time: no name, no contact
    [job] = await mail_jobs(db)
    assert job.payload["account_id"] == str(staff.id)

    await run_worker(services)
    [mail] = [m for m in mails(postvak.folder) if m.to == AN]
    assert mail.subject == "CLB-platform: Nieuwe afspraak"
    assert mail.text.startswith("Dag An,")
    assert "Er is een nieuwe afspraak bij jou op " in mail.text
    assert f"http://127.0.0.1:8000/console/agenda/afspraken/{appointment_id}" in mail.text
    assert "/console/meldingen/instellingen" in mail.text
    for personal in ("Sara", PARENT, "slaapt"):
        assert personal not in mail.text and personal not in mail.subject


async def test_a_rolled_back_booking_tells_nobody(services: Services, db: AsyncSession) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    day = await open_day(db, staff.centre_id)
    async with services.sessionmaker() as session:
        await booking.book(session, services, wanted(staff, school, at(day, 10)), now=utcnow())
        await rollback(session)
    assert await rows_of(db, staff.id) == []
    assert await mail_jobs(db) == []


async def test_who_booked_it_themselves_is_not_told_a_colleague_booking_is(
    services: Services, db: AsyncSession
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    coordinator = await colleague(db, staff, "cora@clb.example", "coordinator")
    day = await open_day(db, staff.centre_id)
    await book(services, wanted(staff, school, at(day, 10), booked_by=staff.id))
    assert await rows_of(db, staff.id) == []
    assert await mail_jobs(db) == []

    await book(services, wanted(staff, school, at(day, 11), booked_by=coordinator.id))
    [row] = await rows_of(db, staff.id)
    assert row.kind == "booking_new"
    assert await rows_of(db, coordinator.id) == []


async def test_a_batch_writes_its_notices_in_one_statement(
    services: Services, db: AsyncSession
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    day = await open_day(db, staff.centre_id)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "staff_notifications" in statement:
            statements.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", seen)
    try:
        wishes = [Wish(booking.prepare(wanted(staff, school, at(day, h)))) for h in (9, 11, 14)]
        async with transaction(services.sessionmaker) as session:
            outcomes = await booking.book_many(session, services, wishes, now=utcnow())
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", seen)
    assert all(isinstance(o, booking.Booked) for o in outcomes)
    assert len(statements) == 1
    assert len(await rows_of(db, staff.id)) == 3
    assert len(await mail_jobs(db)) == 3


async def test_moves_and_cancellations_tell_the_counsellor_unless_they_made_them(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    coordinator = await colleague(db, staff, "cora@clb.example", "coordinator")
    day = await open_day(db, staff.centre_id)
    first = await book(services, wanted(staff, school, at(day, 10), booked_by=staff.id))

    # The person moves it online: the counsellor hears the old and the new time.
    async with transaction(services.sessionmaker) as session:
        await changes.reschedule(session, services, first, staff.id, at(day, 13), by_staff=False)
    [moved] = await rows_of(db, staff.id)
    assert moved.kind == "booking_moved"
    assert moved.params == {"at": at(day, 13).isoformat(), "was": at(day, 10).isoformat()}

    # The counsellor moves it themselves: nothing. A coordinator does: told.
    async with transaction(services.sessionmaker) as session:
        await changes.reschedule(
            session, services, first, staff.id, at(day, 14), by_staff=True, actor_id=staff.id
        )
    assert len(await rows_of(db, staff.id)) == 1
    async with transaction(services.sessionmaker) as session:
        await changes.reschedule(
            session, services, first, staff.id, at(day, 15), by_staff=True, actor_id=coordinator.id
        )
    assert [r.kind for r in await rows_of(db, staff.id)] == ["booking_moved", "booking_moved"]

    # Cancelled by the counsellor: nothing; by the person: told.
    second = await book(services, wanted(staff, school, at(day, 9), booked_by=staff.id))
    async with transaction(services.sessionmaker) as session:
        await changes.cancel(
            session, services, first, by_staff=True, reason="Ziek.", actor_id=staff.id
        )
    assert len(await rows_of(db, staff.id)) == 2
    async with transaction(services.sessionmaker) as session:
        await changes.cancel(session, services, second, by_staff=False)
    rows = await rows_of(db, staff.id)
    assert rows[-1].kind == "booking_cancelled"
    assert rows[-1].params == {"at": at(day, 9).isoformat()}
    assert rows[-1].link == f"/console/agenda/afspraken/{second}"

    await run_worker(services)
    subjects = sorted(m.subject for m in mails(postvak.folder) if m.to == AN)
    assert subjects == [
        "CLB-platform: Afspraak geannuleerd",
        "CLB-platform: Afspraak verplaatst",
        "CLB-platform: Afspraak verplaatst",
    ]


@pytest.mark.parametrize(
    ("choice", "console_rows", "mails_planned"),
    [(Choice(False, False), 0, 0), (Choice(True, False), 1, 0), (Choice(False, True), 0, 1)],
)
async def test_each_persons_setting_decides_console_and_mail(
    services: Services,
    db: AsyncSession,
    postvak: DevMailbox,
    choice: Choice,
    console_rows: int,
    mails_planned: int,
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    choices = {**notifications.choices_from({}), Kind.booking_new: choice}
    await notifications.save_settings(db, staff.id, notifications.Settings("nl", choices))
    await db.commit()
    day = await open_day(db, staff.centre_id)
    await book(services, wanted(staff, school, at(day, 10)))
    assert len(await rows_of(db, staff.id)) == console_rows
    assert len(await mail_jobs(db)) == mails_planned
    await run_worker(services)
    assert len([m for m in mails(postvak.folder) if m.to == AN]) == mails_planned


async def test_an_inactive_account_is_told_nothing(services: Services, db: AsyncSession) -> None:
    staff, _school = await bookable_counsellor(db, email=AN)
    staff.is_active = False
    db.add(staff)
    await db.commit()
    async with transaction(services.sessionmaker) as session:
        await notifications.notify(
            session, services.jobs, [staff.id], Kind.booking_new, link="/console/agenda"
        )
    assert await rows_of(db, staff.id) == []
    assert await mail_jobs(db) == []


async def test_a_request_given_to_a_counsellor_tells_them_unless_they_took_it(
    services: Services, db: AsyncSession, postvak: DevMailbox
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    coordinator = await colleague(db, staff, "cora@clb.example", "coordinator")
    request_id, _token = await file_directly(services, school.id, utcnow())
    async with transaction(services.sessionmaker) as session:
        actor = await session.get_one(StaffAccount, staff.id)
        await meetings.assign(session, request_id, staff.id, actor, now=utcnow(), services=services)
    assert await rows_of(db, staff.id) == []

    other, _school = await bookable_counsellor(
        db, centre=await db.get_one(Centre, staff.centre_id), email="ben@clb.example"
    )
    async with transaction(services.sessionmaker) as session:
        actor = await session.get_one(StaffAccount, coordinator.id)
        filed = await meetings.assign(
            session, request_id, other.id, actor, now=utcnow(), services=services
        )
        reference = filed.reference
    [row] = await rows_of(db, other.id)
    assert row.kind == "request_assigned"
    assert row.link == f"/console/aanvragen/{request_id}"
    assert row.params == {"reference": reference}

    await run_worker(services)
    [mail] = [m for m in mails(postvak.folder) if m.to == "ben@clb.example"]
    assert mail.subject == "CLB-platform: Aanvraag aan jou toegewezen"
    assert reference in mail.text and "Yasmina" not in mail.text


async def test_a_question_waiting_too_long_shows_in_the_console_without_a_mail(
    services: Services, db: AsyncSession
) -> None:
    staff, _school = await bookable_counsellor(db, email=AN)
    async with transaction(services.sessionmaker) as session:
        await notifications.notify(
            session,
            services.jobs,
            [staff.id, staff.id, None],
            Kind.question_overdue,
            link="/console/vragen/1",
            params={"reference": "V-7K4Q"},
        )
    [row] = await rows_of(db, staff.id)
    assert (row.kind, row.params) == ("question_overdue", {"reference": "V-7K4Q"})
    assert await mail_jobs(db) == []  # mail is off by default for this kind


async def test_a_notification_only_links_into_the_console(
    services: Services, db: AsyncSession
) -> None:
    staff, _school = await bookable_counsellor(db, email=AN)
    with pytest.raises(ValueError, match="console"):
        await notifications.notify(
            db, services.jobs, [staff.id], Kind.booking_new, link="https://example.com/"
        )

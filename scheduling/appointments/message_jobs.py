"""The outbox jobs that tell people about their appointment: the notice of a change at
once and a reminder for each of ``booking_reminder_hours`` still ahead (scheduling.tasks
sends them)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clb.jobs import NewJob, cancel_job, pending_jobs, schedule_jobs
from clb.notifications.kinds import Kind as StaffKind
from clb.notifications.service import Notice, notify
from clb.services import Services
from scheduling.appointments.models import Appointment, NotificationKind

NOTIFY_JOB = "scheduling.notify"


def message_jobs(
    services: Services, appointment: Appointment, notice: NotificationKind, now: datetime
) -> list[NewJob]:
    """The notice now and, unless cancelled, the reminders still ahead."""
    payload = {"appointment_id": str(appointment.id), "about": appointment.starts_at.isoformat()}
    planned = [NewJob(NOTIFY_JOB, {**payload, "kind": notice.value})]
    if appointment.is_active:
        for hours in services.settings.booking_reminder_hours:
            run_at = appointment.starts_at - timedelta(hours=hours)
            if run_at > now:
                reminder = {**payload, "kind": NotificationKind.reminder.value, "hours": hours}
                planned.append(NewJob(NOTIFY_JOB, reminder, run_at))
    return planned


async def plan_messages(
    session: AsyncSession,
    services: Services,
    appointment: Appointment,
    notice: NotificationKind,
    now: datetime,
) -> None:
    """The notice now and fresh reminders for the current start. Any reminder still
    pending for an earlier start is cancelled first: its outbox version changes, so a copy
    already queued in ARQ does nothing when it runs."""
    for job in await pending_jobs(session, NOTIFY_JOB, appointment_id=str(appointment.id)):
        if job.payload.get("kind") == NotificationKind.reminder.value:
            cancel_job(job)
    await schedule_jobs(session, services.jobs, message_jobs(services, appointment, notice, now))


# --- The counsellor's notifications (clb.notifications) -------------------------------------


def console_link(appointment: Appointment) -> str:
    return f"/console/agenda/afspraken/{appointment.id}"


def booking_notices(booked: list[tuple[Appointment, uuid.UUID | None]]) -> list[Notice]:
    """New bookings (each with who booked it: None for the person) tell their counsellor,
    unless the counsellor booked it themselves."""
    return [
        Notice(
            appointment.counsellor_id,
            StaffKind.booking_new,
            console_link(appointment),
            {"at": appointment.starts_at.isoformat()},
        )
        for appointment, booked_by in booked
        if booked_by != appointment.counsellor_id
    ]


async def tell_counsellors(
    session: AsyncSession,
    services: Services,
    appointment: Appointment,
    kind: StaffKind,
    *,
    actor_id: uuid.UUID | None,
    by_staff: bool,
    was: tuple[uuid.UUID, datetime] | None = None,
) -> None:
    """A change tells the appointment's counsellor (and, after a move, the one it left,
    ``was``: their id and the old start), unless they made it. A staff change whose author
    is not known tells nobody."""
    if by_staff and actor_id is None:
        return
    params = {"at": appointment.starts_at.isoformat()}
    accounts = [appointment.counsellor_id]
    if was is not None:
        params["was"] = was[1].isoformat()
        accounts.append(was[0])
    await notify(
        session,
        services.jobs,
        accounts,
        kind,
        link=console_link(appointment),
        params=params,
        actor_id=actor_id,
    )

"""Deferred appointment work, run by the worker through the outbox (clb.jobs).

Mails are sent inside the job's claim transaction, before it commits "done", and each
channel's record is committed the moment the message went out: a mail is never lost, and it
goes out twice only if the worker dies in the window between the mail server accepting it
and that record's commit (milliseconds). A retry (say the SMS failed after the mail went
out) skips what is recorded. A second delivery of the same job meanwhile skips it at once
(``FOR UPDATE SKIP LOCKED``); should the worker holding it die, the job is still pending and
the sweep or ARQ's retry runs it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clb.db import months_before, transaction, utcnow
from clb.jobs import JobContext, job_handler
from clb.services import Services
from clb.worker import PeriodicJob
from scheduling.appointments import messages, personal_data, repository
from scheduling.appointments.booking import manage_url
from scheduling.appointments.message_jobs import NOTIFY_JOB
from scheduling.appointments.models import (
    AppointmentNotification,
    Channel,
    NotificationKind,
)


@job_handler(NOTIFY_JOB)
async def notify(ctx: JobContext, payload: dict[str, Any]) -> None:
    # A plain read, no row lock: a reschedule locks the appointment and then these outbox
    # rows, so locking in the other order here could deadlock.
    appointment = await repository.appointment_by_id(
        ctx.session, uuid.UUID(payload["appointment_id"])
    )
    if appointment is None:
        return
    kind = NotificationKind(payload["kind"])
    about = datetime.fromisoformat(payload["about"])
    current = appointment.is_active and appointment.starts_at == about
    if kind is not NotificationKind.cancelled and not current:
        # Superseded: never a reminder or confirmation for a time that no longer holds
        # (the outbox version normally stops these already; this is the second guard).
        return
    services = ctx.services
    settings = services.settings
    details = await repository.details(ctx.session, appointment)
    link = manage_url(services, appointment)
    messages.use_language(appointment.language)
    done = await repository.channels_sent_by_job(ctx.session, ctx.job.id)
    record = Sent(appointment.id, kind, about, ctx.job.id)
    if appointment.email and Channel.email.value not in done:
        await services.mailer.send(
            messages.mail(
                kind,
                appointment,
                details,
                manage_url=link,
                settings=settings,
            )
        )
        await _went_out(services, record, Channel.email)
    # Text messages: reminders, and every notice for someone who gave no e-mail address.
    wants_sms = kind is NotificationKind.reminder or not appointment.email
    if appointment.phone and wants_sms and Channel.sms.value not in done:
        await services.sms.send(messages.sms(kind, appointment, details, manage_url=link))
        await _went_out(services, record, Channel.sms)


@dataclass(frozen=True)
class Sent:
    appointment_id: uuid.UUID
    kind: NotificationKind
    about: datetime
    job_id: int


async def _went_out(services: Services, record: Sent, channel: Channel) -> None:
    """Record a message as sent at once, in its own transaction: if the other channel then
    fails and the job is retried, this one is not sent again."""
    async with transaction(services.sessionmaker) as session:
        session.add(
            AppointmentNotification(
                appointment_id=record.appointment_id,
                kind=record.kind.value,
                channel=channel.value,
                about_starts_at=record.about,
                job_id=record.job_id,
            )
        )


async def erase_past_appointments(ctx: dict[str, Any]) -> int:
    """Retention: ``retention_appointment_months`` after an appointment's time, the person's
    data on it goes; what the counts need stays (scheduling.appointments.personal_data)."""
    services: Services = ctx["services"]
    cutoff = months_before(utcnow(), services.settings.retention_appointment_months)
    async with transaction(services.sessionmaker) as session:
        return await personal_data.anonymise_started_before(session, cutoff)


APPOINTMENT_RETENTION = PeriodicJob(erase_past_appointments, hour={3}, minute=47, timeout=1800)

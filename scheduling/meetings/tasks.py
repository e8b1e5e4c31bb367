"""The first-contact deadline of meeting requests, run by the worker through the outbox.

Each handler re-reads the request and does nothing once it was contacted, scheduled or
closed (those steps cancel these jobs too; this is the second guard). Mails go to staff
only and name the request by its reference and console link — never the need someone
wrote, nor their name or contact details. Each sent warning is an event on the request.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from clb.auth.models import StaffAccount
from clb.db import months_before, transaction, utcnow
from clb.i18n import gettext as _
from clb.jobs import JobContext, job_handler
from clb.mail import OutgoingMail
from clb.services import Services
from clb.sms import OutgoingSms
from clb.worker import PeriodicJob
from scheduling.appointments import messages
from scheduling.availability.slots import BRUSSELS
from scheduling.meetings import repository
from scheduling.meetings.labels import STATUS_EXPLANATIONS, STATUS_LABELS
from scheduling.meetings.models import MeetingRequest, MeetingRequestEvent, RequestStatus
from scheduling.meetings.service import (
    SLA_ESCALATION_JOB,
    SLA_REMINDER_JOB,
    STATUS_MESSAGE_JOB,
    status_token,
)

log = logging.getLogger(__name__)

REMINDER_NOTE = "Herinnering verstuurd: eerste contact nog niet geregistreerd."
ESCALATION_NOTE = "Termijn voor eerste contact verstreken: coördinatoren verwittigd."


def console_url(public_url: str, request_id: uuid.UUID) -> str:
    return f"{public_url}/console/aanvragen/{request_id}"


def _due_and_link(ctx: JobContext, request: MeetingRequest) -> tuple[str, str]:
    """The deadline as the warning mails write it, and the request's console link."""
    due = request.first_contact_due_at.astimezone(BRUSSELS).strftime("%d/%m/%Y om %H:%M")
    return due, console_url(ctx.services.settings.public_url, request.id)


async def _open_request(ctx: JobContext, payload: dict[str, Any]) -> MeetingRequest | None:
    request = await repository.request_by_id(ctx.session, uuid.UUID(payload["request_id"]))
    if request is None or not request.is_open:
        return None
    return request


async def _warn(
    ctx: JobContext,
    request: MeetingRequest,
    to: list[StaffAccount],
    subject: str,
    text: str,
    note: str,
    *,
    nobody: str,
) -> None:
    """Mail the warning to each of ``to`` and write it in the request's history; with
    nobody to tell, only log ``nobody`` (there is no one to escalate to either)."""
    if not to:
        log.warning("meeting request %s: %s", request.id, nobody)
        return
    for account in to:
        await ctx.services.mailer.send(OutgoingMail(to=account.email, subject=subject, text=text))
    status = RequestStatus(request.status).value
    ctx.session.add(
        MeetingRequestEvent(
            request_id=request.id,
            at=utcnow(),
            actor_id=None,
            from_status=status,
            to_status=status,
            note=note,
        )
    )


@job_handler(SLA_REMINDER_JOB)
async def sla_reminder(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Some hours before the deadline: to the assigned counsellor, else the coordinators."""
    request = await _open_request(ctx, payload)
    if request is None:
        return
    recipients: list[StaffAccount] = []
    if request.assigned_to is not None:
        counsellor = await ctx.session.get(StaffAccount, request.assigned_to)
        if counsellor is not None and counsellor.is_active:
            recipients = [counsellor]
    if not recipients:
        recipients = await repository.coordinators(ctx.session, request.centre_id)
    due, link = _due_and_link(ctx, request)
    await _warn(
        ctx,
        request,
        recipients,
        f"Aanvraag {request.reference}: eerste contact vóór {due}",
        "Dag,\n\n"
        f"Voor de aanvraag {request.reference} (liever iemand zien) is nog geen eerste "
        f"contact geregistreerd. Neem contact op vóór {due}.\n\n"
        f"Bekijk de aanvraag: {link}\n\n"
        "Is er al contact geweest? Duid dat dan aan in de console.\n",
        REMINDER_NOTE,
        nobody="nobody to remind",
    )


@job_handler(SLA_ESCALATION_JOB)
async def sla_escalation(ctx: JobContext, payload: dict[str, Any]) -> None:
    """At the deadline, still no first contact: the centre's coordinators are told."""
    request = await _open_request(ctx, payload)
    if request is None:
        return
    due, link = _due_and_link(ctx, request)
    await _warn(
        ctx,
        request,
        await repository.coordinators(ctx.session, request.centre_id),
        f"Aanvraag {request.reference}: termijn voor eerste contact verstreken",
        "Dag,\n\n"
        f"Voor de aanvraag {request.reference} (liever iemand zien) moest er uiterlijk "
        f"{due} een eerste contact zijn. Dat is nog niet geregistreerd.\n\n"
        f"Wijs de aanvraag toe of volg ze op: {link}\n",
        ESCALATION_NOTE,
        nobody="overdue and the centre has no coordinator",
    )


# --- The requester's confirmation ----------------------------------------------------------

MEETING_CONFIRMATION_JOB = "meeting.confirmation"


@job_handler(MEETING_CONFIRMATION_JOB)
async def send_confirmation(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The reference and the status link, to the e-mail address given on the form. The
    link's token is derived again here (it is never stored)."""
    request = await repository.request_by_id(ctx.session, uuid.UUID(payload["request_id"]))
    if request is None or not request.email:  # none given, or erased
        return
    services = ctx.services
    messages.use_language(str(payload.get("language", "nl")))
    link = f"{services.settings.public_url}/liever-iemand-zien/status/" + status_token(
        services, request
    )
    lines = [
        _("Dag {name},").format(name=request.first_name),
        "",
        _("We hebben je aanvraag om iemand van het CLB te zien goed ontvangen."),
        _("Je referentienummer is {reference}.").format(reference=request.reference),
        _("Het CLB neemt binnen enkele werkdagen contact op."),
        "",
        _("Hier zie je hoe ver je aanvraag staat:"),
        link,
        _("Deel die link met niemand: wie hem heeft, ziet je aanvraag."),
        "",
        _(messages.HELP_LINES),
    ]
    await services.mailer.send(
        OutgoingMail(
            to=request.email,
            subject=_("Je aanvraag bij het CLB: {reference}").format(reference=request.reference),
            text="\n".join(lines) + "\n",
        )
    )


# --- Each new status, to who asked --------------------------------------------------------


def _contact(request: MeetingRequest) -> tuple[str, str | None, str | None]:
    """Whom to tell and how: who filed "via mij" through their own contact, otherwise the
    person through the contact on the form. (name, e-mail, phone)"""
    if request.via_bridge:
        name = request.requester_name or request.first_name
        return name, request.requester_email, request.requester_phone
    return request.first_name, request.email, request.phone


@job_handler(STATUS_MESSAGE_JOB)
async def send_status_message(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The request's new status, by mail when an e-mail address was given, else by SMS;
    in the language it was filed in, with the status link. No contact: nothing."""
    request = await repository.request_by_id(ctx.session, uuid.UUID(payload["request_id"]))
    status = str(payload.get("status", ""))
    if request is None or status not in STATUS_LABELS:
        return
    name, email, phone = _contact(request)
    if not email and not phone:
        return
    services = ctx.services
    messages.use_language(request.language)
    link = f"{services.settings.public_url}/liever-iemand-zien/status/" + status_token(
        services, request
    )
    label, explanation = _(STATUS_LABELS[status]), _(STATUS_EXPLANATIONS[status])
    if email:
        lines = [
            _("Dag {name},").format(name=name),
            "",
            _("Er is nieuws over de aanvraag {reference}.").format(reference=request.reference),
            f"{label}. {explanation}",
            "",
            _("Hier zie je hoe ver je aanvraag staat:"),
            link,
            _("Deel die link met niemand: wie hem heeft, ziet je aanvraag."),
            "",
            _(messages.HELP_LINES),
        ]
        subject = _("Je aanvraag bij het CLB: {reference}").format(reference=request.reference)
        mail = OutgoingMail(to=email, subject=subject, text="\n".join(lines) + "\n")
        await services.mailer.send(mail)
        return
    assert phone is not None  # noqa: S101 - one of the two, checked above
    text = _("CLB: nieuws over je aanvraag {reference}: {status}. Bekijk ze hier: {link}")
    sms = text.format(reference=request.reference, status=label, link=link)
    await services.sms.send(OutgoingSms(to=phone, text=sms))


# --- Retention ------------------------------------------------------------------------------


async def erase_finished_requests(ctx: dict[str, Any]) -> int:
    """Retention: ``retention_request_months`` after a request was closed (or after the
    appointment it was scheduled into), the person's data on it goes; what the counts need
    stays (scheduling.meetings.repository)."""
    services: Services = ctx["services"]
    cutoff = months_before(utcnow(), services.settings.retention_request_months)
    async with transaction(services.sessionmaker) as session:
        finished = await repository.finished_before(session, cutoff)
        return await repository.anonymise_requests(session, finished)


REQUEST_RETENTION = PeriodicJob(erase_finished_requests, hour={3}, minute=52, timeout=1800)

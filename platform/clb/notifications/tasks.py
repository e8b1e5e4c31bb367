"""Mailing a notification, and forgetting old ones, run by the worker.

The mail is short and in the person's chosen language (Dutch or English): what happened,
with a time or a reference only, and the console link. Nothing about a pupil beyond what
the agenda itself shows; the person reads the rest in the console after logging in.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from clb import i18n
from clb.auth.models import StaffAccount
from clb.db import transaction, utcnow
from clb.i18n import gettext as _
from clb.jobs import JobContext, job_handler
from clb.mail import OutgoingMail
from clb.notifications import repository
from clb.notifications.kinds import Kind, describe, kind_label
from clb.notifications.service import CONSOLE_PREFIX, MAIL_JOB
from clb.services import Services
from clb.worker import PeriodicJob

SETTINGS_PATH = "/console/meldingen/instellingen"
RETENTION_DAYS = 90


def notification_mail(
    account: StaffAccount, kind: Kind, params: dict[str, str], url: str, settings_url: str
) -> OutgoingMail:
    """The mail in the current language (the caller chose it)."""
    text = "\n".join(
        [
            _("Dag {name},").format(name=account.display_name),
            "",
            describe(kind, params),
            "",
            _("Bekijk het in de console (na het aanmelden):"),
            url,
            "",
            _("Welke meldingen je krijgt, kies je zelf: {url}").format(url=settings_url),
        ]
    )
    subject = _("CLB-platform: {what}").format(what=kind_label(kind))
    return OutgoingMail(to=account.email, subject=subject, text=text + "\n")


@job_handler(MAIL_JOB)
async def mail_notification(ctx: JobContext, payload: dict[str, Any]) -> None:
    account = await ctx.session.get(StaffAccount, uuid.UUID(payload["account_id"]))
    if account is None or not account.is_active:
        return
    try:
        kind = Kind(payload["kind"])
    except ValueError:
        return
    link = str(payload.get("link", ""))
    if not link.startswith(CONSOLE_PREFIX):
        return
    prefs = await repository.prefs_of(ctx.session, account.id)
    language = prefs.language if prefs is not None else i18n.SOURCE_LANGUAGE
    translators = i18n.translators()
    i18n.use_translator(translators.get(language, translators[i18n.SOURCE_LANGUAGE]))
    base = ctx.services.settings.public_url
    params = {str(k): str(v) for k, v in dict(payload.get("params") or {}).items()}
    mail = notification_mail(account, kind, params, base + link, base + SETTINGS_PATH)
    await ctx.services.mailer.send(mail)


async def purge_old_notifications(ctx: dict[str, Any]) -> int:
    """Notifications older than ``RETENTION_DAYS`` go, read or not."""
    services: Services = ctx["services"]
    async with transaction(services.sessionmaker) as session:
        return await repository.purge_before(session, utcnow() - timedelta(days=RETENTION_DAYS))


NOTIFICATION_RETENTION = PeriodicJob(purge_old_notifications, hour={3}, minute=42, timeout=600)

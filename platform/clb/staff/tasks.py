"""Mailing invitation and reset links. The token is made here, when the mail is written:
the outbox row holds only the link's id, so no usable token ever rests in the database.
Should the mail go out and the commit fail, that mail's link does not work; the person
asks for a new one."""

from __future__ import annotations

import uuid
from typing import Any

from clb.auth.tokens import hash_token, new_token
from clb.db import utcnow
from clb.jobs import JobContext, job_handler
from clb.mail import OutgoingMail
from clb.staff import repository
from clb.staff.service import INVITE, LINK_MAIL_JOB

INVITE_PATH = "/console/uitnodiging/"
RESET_PATH = "/console/wachtwoord/"


def _invitation(name: str, link: str, hours: int) -> tuple[str, str]:
    return (
        "Je account op het CLB-platform",
        f"Dag {name},\n\n"
        "Je bent uitgenodigd om met het CLB-platform te werken. Kies je wachtwoord via "
        f"deze link (die {hours} uur en één keer werkt):\n\n{link}\n\n"
        "Daarna stel je een tweede stap in: een code-app op je telefoon of een passkey.\n\n"
        "Verwachtte je deze uitnodiging niet? Dan hoef je niets te doen.\n",
    )


def _reset(name: str, link: str, minutes: int) -> tuple[str, str]:
    return (
        "Een nieuw wachtwoord voor het CLB-platform",
        f"Dag {name},\n\n"
        f"Kies een nieuw wachtwoord via deze link (die {minutes} minuten en één keer "
        f"werkt):\n\n{link}\n\n"
        "Vroeg je dit niet zelf? Dan blijft je wachtwoord wat het was. Zeg het wel aan je "
        "coördinator.\n",
    )


@job_handler(LINK_MAIL_JOB)
async def mail_link(ctx: JobContext, payload: dict[str, Any]) -> None:
    found = await repository.link_for_mail(ctx.session, uuid.UUID(payload["link_id"]), utcnow())
    if found is None:
        return  # used, replaced by a newer link, or expired: nothing to send
    link, account = found
    token = new_token()
    link.token_hash = hash_token(token)
    settings = ctx.services.settings
    if link.purpose == INVITE:
        url = settings.public_url + INVITE_PATH + token
        subject, text = _invitation(account.display_name, url, settings.invite_valid_hours)
    else:
        url = settings.public_url + RESET_PATH + token
        subject, text = _reset(account.display_name, url, settings.reset_valid_minutes)
    await ctx.session.flush()
    await ctx.services.mailer.send(OutgoingMail(to=account.email, subject=subject, text=text))

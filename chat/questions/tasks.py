"""Deferred work of "Stel je vraag": the notice mail that an answer is there, and retention.

The notice holds no question or answer text and no code (only its hash is stored): it says
that there is an answer and where to type the code. Retention: ``chat_retention_days``
after a question was closed, it goes with its whole thread, as a chat's transcript does.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from chat.questions import repository
from chat.questions.service import ANSWER_NOTICE_JOB
from clb import i18n
from clb.db import transaction, utcnow
from clb.i18n import gettext as _
from clb.jobs import JobContext, job_handler
from clb.mail import OutgoingMail
from clb.services import Services
from clb.worker import PeriodicJob

PICK_UP_PATH = "/vraag/ophalen"
HELP_LINE = "Dringend hulp nodig? Bel Awel (102), de Zelfmoordlijn (1813) of 112."


def _use_language(language: str) -> None:
    translators = i18n.translators()
    i18n.use_translator(translators.get(language, translators[i18n.SOURCE_LANGUAGE]))


@job_handler(ANSWER_NOTICE_JOB)
async def send_answer_notice(ctx: JobContext, payload: dict[str, Any]) -> None:
    question = await repository.get(ctx.session, uuid.UUID(payload["question_id"]))
    if question is None or not question.email:  # gone (retention) or no address
        return
    _use_language(question.language)
    link = ctx.services.settings.public_url + PICK_UP_PATH
    lines = [
        _("Dag,"),
        "",
        _("Er is een antwoord van het CLB op je vraag."),
        _("Lees het hier met je code:"),
        link,
        "",
        _("Je code staat niet in deze mail. Ben je ze kwijt? Stel dan gerust een nieuwe vraag."),
        "",
        _(HELP_LINE),
    ]
    await ctx.services.mailer.send(
        OutgoingMail(
            to=question.email,
            subject=_("Er is een antwoord op je vraag"),
            text="\n".join(lines) + "\n",
        )
    )


async def purge_closed_questions(ctx: dict[str, Any]) -> int:
    """Retention: a question goes ``chat_retention_days`` after it was closed, or after the
    last message of an answered one that nobody closed."""
    services: Services = ctx["services"]
    cutoff = utcnow() - timedelta(days=services.settings.chat_retention_days)
    async with transaction(services.sessionmaker) as session:
        return await repository.delete_closed_before(session, cutoff)


QUESTION_RETENTION = PeriodicJob(purge_closed_questions, hour={3}, minute=42, timeout=600)

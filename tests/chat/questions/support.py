"""Helpers for the tests of "Stel je vraag": a question asked through the service, a staff
account read in a session, and a real SMTP inbox for the notice mail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.questions import service
from clb.auth.models import StaffAccount
from clb.db import transaction, utcnow
from clb.services import Services

# "niet meer leven" is in the default crisis lexicon (migration 0008's seed).
CRISIS_TEXT = "Ik wil eigenlijk niet meer leven, ik weet het niet meer."


async def ask(
    services: Services,
    body: str = "Hoe kies ik een studierichting?",
    now: datetime | None = None,
    **changes: str,
) -> tuple[uuid.UUID, str]:
    """A question asked and committed; its id and pick-up code."""
    asked = service.Asked(body=body, **changes)
    async with transaction(services.sessionmaker) as session:
        question, code = await service.ask(session, services, asked, now or utcnow())
        return question.id, code


async def staff_in(session: AsyncSession, staff_id: uuid.UUID) -> StaffAccount:
    return await session.get_one(StaffAccount, staff_id)


@dataclass(frozen=True)
class Received:
    to: tuple[str, ...]
    subject: str
    text: str


@dataclass
class Inbox:
    port: int
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert isinstance(body, EmailMessage)
        self.received.append(
            Received(tuple(envelope.rcpt_tos), str(message["Subject"]), body.get_content())
        )
        return "250 OK"

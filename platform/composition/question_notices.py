"""Counsellors are told when a question ("Stel je vraag") waits past its answer target. The
chat domain knows the questions, the kernel the notifications; this joins the two."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.public import take_questions_past_target
from clb.auth.models import Role, StaffAccount
from clb.db import transaction, utcnow
from clb.notifications.kinds import Kind
from clb.notifications.service import Notice, notify_all
from clb.services import Services
from clb.worker import PeriodicJob


async def _counsellors(session: AsyncSession) -> list[uuid.UUID]:
    """Questions belong to no centre (like the chat's queue): every active counsellor."""
    rows = await session.scalars(
        select(StaffAccount.id).where(
            StaffAccount.is_active.is_(True),
            literal(Role.counsellor.value) == any_(StaffAccount.roles),
        )
    )
    return list(rows.all())


async def tell_about_questions_past_target(ctx: dict[str, Any]) -> int:
    """Each question past its target once: the counsellor who took it, or else every
    counsellor; returns how many questions were told about."""
    services: Services = ctx["services"]
    async with transaction(services.sessionmaker) as session:
        late = await take_questions_past_target(session, utcnow())
        if not late:
            return 0
        everyone = await _counsellors(session)
        notices = [
            Notice(
                account,
                Kind.question_overdue,
                f"/console/vragen/{question.id}",
                {"reference": question.short_id},
            )
            for question in late
            for account in ([question.claimed_by] if question.claimed_by else everyone)
        ]
        await notify_all(session, services.jobs, notices)
        return len(late)


# Every minute, at second 20: a cheap indexed query when nothing is late.
QUESTIONS_PAST_TARGET = PeriodicJob(tell_about_questions_past_target, second=20, timeout=120)

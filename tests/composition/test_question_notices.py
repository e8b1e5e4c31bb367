"""Counsellors are told once when a question ("Stel je vraag") waits past its answer target:
the one who took it, or else every active counsellor; told again only for a new target."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.questions import service
from clb.db import transaction, utcnow
from clb.notifications.models import StaffNotification
from clb.services import Services
from composition.question_notices import (
    QUESTIONS_PAST_TARGET,
    tell_about_questions_past_target,
)
from composition.tasks import PERIODIC_JOBS
from tests.chat.questions.support import ask, staff_in
from tests.conftest import make_staff


async def _told(db: AsyncSession) -> list[tuple[str, str, str]]:
    await db.commit()
    rows = await db.scalars(select(StaffNotification).order_by(StaffNotification.link))
    return sorted((str(n.account_id), n.kind, n.link) for n in rows.all())


async def test_a_late_question_is_told_once_to_its_taker_or_to_every_counsellor(
    services: Services, db: AsyncSession
) -> None:
    assert QUESTIONS_PAST_TARGET in PERIODIC_JOBS
    an = await make_staff(db, email="an@clb.example")
    bo = await make_staff(db, email="bo@clb.example")
    await make_staff(db, email="co@clb.example", roles=("coordinator",))
    gone = await make_staff(db, email="old@clb.example")
    gone.is_active = False
    await db.commit()
    long_ago = utcnow() - timedelta(days=10)
    nobodys, _code = await ask(services, now=long_ago)
    bos, _code = await ask(services, now=long_ago)
    await ask(services)  # not late yet
    async with transaction(services.sessionmaker) as session:
        await service.claim(session, await staff_in(session, bo.id), bos, utcnow())

    context = {"services": services}
    assert await tell_about_questions_past_target(context) == 2
    kind = "question_overdue"
    assert await _told(db) == sorted(
        [
            (str(an.id), kind, f"/console/vragen/{nobodys}"),
            (str(bo.id), kind, f"/console/vragen/{nobodys}"),
            (str(bo.id), kind, f"/console/vragen/{bos}"),
        ]
    )
    assert await tell_about_questions_past_target(context) == 0  # once per target
    assert len(await _told(db)) == 3

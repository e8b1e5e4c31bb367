"""A coordinator and a week of chats for the statistics page in the browser."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations.models import Conversation, Status
from chat.counsellor_tools.models import ConversationOutcome
from tests.conftest import make_staff

BRUSSELS = ZoneInfo("Europe/Brussels")
STATISTICS_EMAIL = "coordinator-statistieken@clb.example"
# A fixed past week, so the figures do not depend on today's date.
STATISTICS_PAGES = (
    "/console/statistieken?van=2026-06-01&tot=2026-06-07&per=dag",
    "/console/statistieken?van=2026-06-01&tot=2026-06-28&per=week",
    # Bad input: the errors next to the fields must be accessible too.
    "/console/statistieken?van=2026-06-07&tot=2026-06-01&per=dag",
)


async def statistics_data(db: AsyncSession) -> str:
    """A coordinator (returns the e-mail address) and chats on 1–7 June 2026: some days
    with enough chats to show, one with few."""
    await make_staff(db, email=STATISTICS_EMAIL, roles=("coordinator",))
    for offset in range(7):
        day = date(2026, 6, 1) + timedelta(days=offset)
        start = datetime.combine(day, time(17), tzinfo=BRUSSELS)
        for n in range(3 if offset == 2 else 14):
            created = start + timedelta(minutes=n)
            answered = n % 4 != 0
            chat = Conversation(
                nickname="x",
                who="leerling",
                topic="school" if n % 2 else "studiekeuze",
                time_limit_minutes=45,
                created_at=created,
                status=Status.ended.value if answered else Status.abandoned.value,
                claimed_at=created + timedelta(minutes=2 + n) if answered else None,
                ended_at=created + timedelta(minutes=30 + n),
                rating=4 if answered else None,
            )
            db.add(chat)
            await db.flush()
            if answered:
                db.add(
                    ConversationOutcome(
                        conversation_id=chat.id, topics=["studiekeuze"], referrals=["geen"]
                    )
                )
    await db.commit()
    return STATISTICS_EMAIL

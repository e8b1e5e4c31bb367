"""A counsellor's booking policy row, made with the defaults when it is still missing."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.availability.models import BookingPolicy

# The same values scheduling.slots assumes for a counsellor without a row.
DEFAULT_MIN_NOTICE_WORKING_DAYS = 1
DEFAULT_HORIZON_DAYS = 42
DEFAULT_MAX_PER_DAY = 6


async def ensure_policy(
    session: AsyncSession, counsellor_id: uuid.UUID, *, lock: bool = False
) -> BookingPolicy:
    """The counsellor's policy, inserted with the defaults if missing (safe when two
    requests do this at once); ``lock`` holds the row until the transaction ends."""
    await session.execute(
        insert(BookingPolicy)
        .values(
            counsellor_id=counsellor_id,
            min_notice_working_days=DEFAULT_MIN_NOTICE_WORKING_DAYS,
            horizon_days=DEFAULT_HORIZON_DAYS,
            max_per_day=DEFAULT_MAX_PER_DAY,
            feed_token_generation=0,
        )
        .on_conflict_do_nothing(index_elements=[BookingPolicy.counsellor_id])
    )
    query = select(BookingPolicy).where(BookingPolicy.counsellor_id == counsellor_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one()

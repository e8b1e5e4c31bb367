"""The SQL of the "Mijn CLB" page: one school with its centre, and the centre's locations."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import Location


async def locations_of(session: AsyncSession, centre_id: uuid.UUID) -> list[Location]:
    """Where the centre receives people, its main address first (the order of the list)."""
    rows = await session.scalars(
        select(Location)
        .where(Location.centre_id == centre_id)
        .order_by(Location.created_at, Location.name)
    )
    return list(rows)

"""The agenda's queries: a centre's counsellors, appointments in a span, messages sent."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import ARRAY, String, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Role, StaffAccount
from scheduling.appointments.models import Appointment, AppointmentNotification
from scheduling.centre_staff import active_staff_of


async def centre_counsellors(session: AsyncSession, centre_id: uuid.UUID) -> list[StaffAccount]:
    is_counsellor = StaffAccount.roles.op("@>")(literal([Role.counsellor.value], ARRAY(String)))
    rows = await session.scalars(
        active_staff_of(centre_id, is_counsellor).order_by(StaffAccount.full_name, StaffAccount.id)
    )
    return list(rows)


async def notifications_for(
    session: AsyncSession, appointment_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AppointmentNotification]]:
    grouped: dict[uuid.UUID, list[AppointmentNotification]] = defaultdict(list)
    if not appointment_ids:
        return grouped
    rows = await session.scalars(
        select(AppointmentNotification)
        .where(AppointmentNotification.appointment_id.in_(appointment_ids))
        .order_by(AppointmentNotification.sent_at, AppointmentNotification.id)
    )
    for row in rows:
        grouped[row.appointment_id].append(row)
    return grouped


async def appointments_between(
    session: AsyncSession, counsellor_id: uuid.UUID, first: datetime, until: datetime
) -> list[Appointment]:
    """The counsellor's appointments (every status) starting in [first, until)."""
    rows = await session.scalars(
        select(Appointment)
        .where(
            Appointment.counsellor_id == counsellor_id,
            Appointment.starts_at >= first,
            Appointment.starts_at < until,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return list(rows)

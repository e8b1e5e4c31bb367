"""Duty and availability: what a counsellor says (on duty, pause, off duty) and what is true.

Available = on duty AND a fresh console heartbeat (chat.presence). Duty alone never makes
anyone available: a closed laptop stops its heartbeats and drops out within
presence.FRESH_SECONDS. Going off duty keeps the chats one holds (they can finish them) but
takes no new ones.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import repository as staff_repository
from chat.console.models import ChatStaff, Duty
from chat.console.repository import StaffLoad
from chat.events import queue_channel, supervision_channel
from chat.realtime import presence
from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.auth.service import staff_channel
from clb.db import after_commit
from clb.services import Services


def duty_frame(row: ChatStaff | None, default_capacity: int) -> dict[str, Any]:
    """What the console shows in its top bar."""
    return {
        "type": "duty",
        "duty": row.duty if row else Duty.off_duty.value,
        "since": row.duty_since.isoformat() if row else None,
        "max_chats": (row.max_chats if row and row.max_chats else None) or default_capacity,
    }


async def set_duty(
    session: AsyncSession, services: Services, staff: StaffAccount, duty: Duty, now: datetime
) -> dict[str, Any]:
    row = await staff_repository.set_duty(session, staff.id, duty, now)
    frame = duty_frame(row, services.settings.chat_counsellor_capacity)
    keys = services.keys
    change = {"type": "duty_changed", "staff_id": str(staff.id), "duty": duty.value}

    async def tell() -> None:
        # Every open console of this counsellor shows the same state; dashboards and
        # waiting visitors' estimates follow.
        await services.bus.publish(staff_channel(keys, staff.id), frame)
        await services.bus.publish(supervision_channel(keys), change)
        await services.bus.publish(queue_channel(keys), {"type": "queue_changed"})

    after_commit(session, tell)
    return frame


async def available_counsellors(session: AsyncSession, services: Services) -> list[StaffLoad]:
    """On duty AND heard from recently, each with their own maximum and current load."""
    fresh = await presence.fresh_counsellors(services.redis, services.keys)
    return await staff_repository.on_duty_loads(
        session, fresh, services.settings.chat_counsellor_capacity
    )


async def set_max_chats(
    session: AsyncSession,
    services: Services,
    coordinator: StaffAccount,
    counsellor_id: uuid.UUID,
    max_chats: int | None,
    now: datetime,
) -> None:
    await staff_repository.set_max_chats(session, counsellor_id, max_chats, now)
    _audit_setting(session, coordinator, counsellor_id, "chat.max_chats_set")
    keys = services.keys
    after_commit(
        session, lambda: services.bus.publish(queue_channel(keys), {"type": "queue_changed"})
    )


async def set_languages(
    session: AsyncSession,
    coordinator: StaffAccount,
    counsellor_id: uuid.UUID,
    languages: list[str],
    now: datetime,
) -> None:
    """The chat languages a counsellor speaks besides Dutch ("Volgende gesprek" offers a
    chat in one of them to them first)."""
    await staff_repository.set_languages(session, counsellor_id, languages, now)
    _audit_setting(session, coordinator, counsellor_id, "chat.languages_set")


def _audit_setting(
    session: AsyncSession, coordinator: StaffAccount, counsellor_id: uuid.UUID, action: str
) -> None:
    """A coordinator changed one of a counsellor's chat settings."""
    record_audit(
        session,
        action,
        actor_id=coordinator.id,
        object_type="staff_account",
        object_id=str(counsellor_id),
    )

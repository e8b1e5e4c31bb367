"""All SQL of the notifications: writing a batch in one statement, a person's list, reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.jobs import ScheduledJob
from clb.notifications.models import NotificationPrefs, StaffNotification

# One round trip for any number of notices: each person's setting (or the kind's default)
# decides whether a console row is written and whether a mail job joins the outbox.
# Inactive accounts get nothing. Both INSERTs run (data-modifying CTEs always do).
_NOTIFY = text(
    """
    WITH wanted AS (
        SELECT w.account_id, w.kind, w.link, w.params, w.console_default, w.mail_default
          FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS w(
               account_id uuid, kind text, link text, params jsonb,
               console_default boolean, mail_default boolean)
    ), chosen AS (
        SELECT w.account_id, w.kind, w.link, w.params,
               coalesce((p.choices -> w.kind ->> 'console')::boolean, w.console_default)
                   AS in_console,
               coalesce((p.choices -> w.kind ->> 'mail')::boolean, w.mail_default) AS by_mail
          FROM wanted AS w
          JOIN staff_accounts AS a ON a.id = w.account_id AND a.is_active
          LEFT JOIN staff_notification_prefs AS p ON p.account_id = w.account_id
    ), shown AS (
        INSERT INTO staff_notifications (account_id, kind, params, link, created_at)
        SELECT account_id, kind, params, link, :now FROM chosen WHERE in_console
        RETURNING id
    )
    INSERT INTO outbox_jobs (kind, payload, run_at, version, attempts, created_at)
    SELECT :job_kind,
           jsonb_build_object('account_id', account_id, 'kind', kind, 'link', link,
                              'params', params),
           :now, 1, 0, :now
      FROM chosen WHERE by_mail
    RETURNING id, version, run_at
    """
)


async def write_notices(
    session: AsyncSession, rows: list[dict[str, Any]], job_kind: str, now: datetime
) -> list[ScheduledJob]:
    """The console rows and mail jobs of ``rows``; the mail jobs to enqueue after commit."""
    result = await session.execute(
        _NOTIFY, {"rows": orjson.dumps(rows).decode(), "job_kind": job_kind, "now": now}
    )
    return [ScheduledJob(*row) for row in result.all()]


async def latest(
    session: AsyncSession, account_id: uuid.UUID, limit: int
) -> list[StaffNotification]:
    rows = await session.scalars(
        select(StaffNotification)
        .where(StaffNotification.account_id == account_id)
        .order_by(StaffNotification.created_at.desc(), StaffNotification.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def unread_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(
            StaffNotification.account_id == account_id, StaffNotification.read_at.is_(None)
        )
    )
    return int(count or 0)


async def mark_read(
    session: AsyncSession, account_id: uuid.UUID, notification_id: int, now: datetime
) -> str | None:
    """Mark one of this person's notifications read; its link, or None when it is not
    theirs (or does not exist)."""
    row = await session.execute(
        update(StaffNotification)
        .where(StaffNotification.id == notification_id, StaffNotification.account_id == account_id)
        .values(read_at=func.coalesce(StaffNotification.read_at, now))
        .returning(StaffNotification.link)
    )
    link = row.scalar_one_or_none()
    return str(link) if link is not None else None


async def mark_all_read(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> int:
    result = await session.execute(
        update(StaffNotification)
        .where(StaffNotification.account_id == account_id, StaffNotification.read_at.is_(None))
        .values(read_at=now)
        .returning(StaffNotification.id)
    )
    return len(result.all())


async def prefs_of(session: AsyncSession, account_id: uuid.UUID) -> NotificationPrefs | None:
    return await session.get(NotificationPrefs, account_id)


async def purge_before(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        delete(StaffNotification)
        .where(StaffNotification.created_at < cutoff)
        .returning(StaffNotification.id)
    )
    return len(result.all())

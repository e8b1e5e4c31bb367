"""Retention of the audit log: records older than ``retention_audit_months`` go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb import worker
from clb.audit import AuditEvent
from clb.db import months_before, utcnow
from clb.services import Services


async def test_audit_records_older_than_the_period_are_deleted(
    services: Services, db: AsyncSession
) -> None:
    start = months_before(utcnow(), services.settings.retention_audit_months)
    for action, at in (
        ("old", start - timedelta(days=1)),
        ("inside", start + timedelta(days=1)),
        ("today", utcnow()),
    ):
        db.add(AuditEvent(action=action, at=at))
    await db.commit()

    assert await worker.purge_old_audit({"services": services}) == 1
    assert set(await db.scalars(select(AuditEvent.action))) == {"inside", "today"}


def test_the_kernel_worker_purges_the_audit_log_nightly(services: Services) -> None:
    names = {job.name for job in worker.cron_jobs(services.keys.namespace)}
    assert f"cron:{services.keys.namespace}:purge_old_audit" in names


def test_months_before_counts_calendar_months() -> None:
    assert months_before(datetime(2025, 8, 31, 10, tzinfo=UTC), 6) == datetime(
        2025, 2, 28, 10, tzinfo=UTC
    )
    assert months_before(datetime(2025, 3, 15, tzinfo=UTC), 24) == datetime(2023, 3, 15, tzinfo=UTC)
    assert months_before(datetime(2025, 1, 31, tzinfo=UTC), 1) == datetime(2024, 12, 31, tzinfo=UTC)

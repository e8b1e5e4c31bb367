"""The outbox + ARQ: enqueue after commit, exactly-once effects, versions, the sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from arq.worker import Retry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb import jobs
from clb.audit import AuditEvent, record_audit
from clb.db import commit, rollback, utcnow
from clb.jobs import JobContext, OutboxJob, ScheduledJob, job_handler
from clb.services import Services
from composition.worker import create_worker

FAILURES: dict[str, int] = {}


class Refused(Exception):
    """Like clb.mail.MailError for a 5xx: retrying cannot help."""

    temporary = False


@job_handler("test.audit")
async def write_audit_event(ctx: JobContext, payload: dict[str, Any]) -> None:
    if payload.get("refuse"):
        raise Refused("mailbox does not exist")
    if FAILURES.get(payload["object_id"], 0) > 0:
        FAILURES[payload["object_id"]] -= 1
        raise ConnectionError("mail server down")
    record_audit(ctx.session, "test_effect", object_type="test", object_id=payload["object_id"])


async def effects(session: AsyncSession) -> int:
    await session.rollback()  # see other sessions' commits
    return int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0)


async def fresh(session: AsyncSession, job: ScheduledJob) -> OutboxJob:
    """The outbox row as other sessions left it."""
    await session.rollback()
    return await session.get_one(OutboxJob, job.id, populate_existing=True)


async def queued_ids(services: Services) -> set[str]:
    return {m.decode() for m in await services.redis.zrange(services.jobs.queue_name, 0, -1)}


async def run_worker_until_idle(services: Services) -> None:
    worker = create_worker(services, burst=True, with_cron=False)
    await asyncio.wait_for(worker.async_run(), 30)


async def test_job_is_enqueued_only_after_commit_and_runs_once(
    services: Services, db: AsyncSession
) -> None:
    job = await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "a"})
    assert await queued_ids(services) == set()  # nothing before commit
    await commit(db)
    assert await queued_ids(services) == {services.jobs.job_id(job.id, 1)}

    await run_worker_until_idle(services)
    assert await effects(db) == 1
    row = await fresh(db, job)
    assert row.done_at is not None and row.attempts == 1


async def test_rolled_back_change_enqueues_nothing(services: Services, db: AsyncSession) -> None:
    await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "b"})
    await rollback(db)
    assert await queued_ids(services) == set()
    assert await db.scalar(select(func.count()).select_from(OutboxJob)) == 0


async def test_job_delivered_twice_has_its_effect_once(
    services: Services, db: AsyncSession
) -> None:
    job = await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "c"})
    await commit(db)
    # ARQ may run a job twice (a retry after a lost ack, a sweep): run it twice at once...
    results = await asyncio.gather(
        jobs.run_outbox_job(services, job.id, job.version),
        jobs.run_outbox_job(services, job.id, job.version),
    )
    assert sorted(results) == ["done", "skipped"]
    # ...and once more through the real worker with a duplicate delivery queued.
    assert await services.jobs.enqueue([job], suffix=":dup") == 1
    assert await services.jobs.enqueue([job], suffix=":dup") == 0  # ARQ holds it already
    await run_worker_until_idle(services)
    assert await effects(db) == 1


async def test_timed_job_is_deferred_in_the_queue(services: Services, db: AsyncSession) -> None:
    run_at = utcnow() + timedelta(hours=2)
    job = await jobs.schedule_job(
        db, services.jobs, "test.audit", {"object_id": "d"}, run_at=run_at
    )
    await commit(db)
    score = await services.redis.zscore(services.jobs.queue_name, services.jobs.job_id(job.id, 1))
    assert score == pytest.approx(run_at.timestamp() * 1000, abs=2)


async def test_rescheduled_job_runs_only_in_its_new_version(
    services: Services, db: AsyncSession
) -> None:
    job = await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "e"})
    await commit(db)
    await jobs.reschedule_job(db, services.jobs, await db.get_one(OutboxJob, job.id), utcnow())
    await commit(db)
    assert await queued_ids(services) == {
        services.jobs.job_id(job.id, 1),
        services.jobs.job_id(job.id, 2),
    }
    assert await jobs.run_outbox_job(services, job.id, 1) == "skipped"
    await run_worker_until_idle(services)
    assert await effects(db) == 1


async def test_cancelled_job_does_nothing(services: Services, db: AsyncSession) -> None:
    job = await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "f"})
    await commit(db)
    jobs.cancel_job(await db.get_one(OutboxJob, job.id))
    await commit(db)
    await run_worker_until_idle(services)
    assert await effects(db) == 0


async def test_sweep_recovers_a_job_whose_enqueue_was_lost(
    services: Services, db: AsyncSession
) -> None:
    await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "g"})
    await commit(db)
    await services.redis.delete(services.jobs.queue_name)  # Redis lost it
    assert await jobs.sweep_outbox(services) == 0  # not overdue yet: leave it alone
    later = utcnow() + timedelta(days=3)  # long overdue, as after a weekend without Redis
    assert await jobs.sweep_outbox(services, now=later) == 1
    await run_worker_until_idle(services)
    assert await effects(db) == 1
    assert await jobs.sweep_outbox(services, now=later + timedelta(minutes=1)) == 0


async def test_failing_job_is_retried_with_backoff_then_given_up(
    services: Services, db: AsyncSession
) -> None:
    FAILURES["h"] = jobs.MAX_ATTEMPTS
    job = await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "h"})
    await commit(db)
    for attempt in range(1, jobs.MAX_ATTEMPTS):
        with pytest.raises(Retry):
            await jobs.run_outbox_job(services, job.id, job.version)
        row = await fresh(db, job)
        assert row.attempts == attempt
        assert row.last_error == "ConnectionError"  # the type only, never the message
    assert await jobs.run_outbox_job(services, job.id, job.version) == "failed"
    row = await fresh(db, job)
    assert row.failed_at is not None and row.done_at is None
    assert await effects(db) == 0


async def test_unknown_job_kind_is_refused_when_scheduling(
    services: Services, db: AsyncSession
) -> None:
    with pytest.raises(ValueError, match="no handler"):
        await jobs.schedule_job(db, services.jobs, "nope", {})


async def test_job_arguments_travel_as_json_not_pickle(
    services: Services, db: AsyncSession
) -> None:
    job = await jobs.schedule_job(db, services.jobs, "test.audit", {"object_id": "i"})
    await commit(db)
    raw = await services.redis.get("arq:job:" + services.jobs.job_id(job.id, 1))
    assert raw is not None and raw.startswith(b"{")


async def test_a_permanent_failure_is_not_retried(services: Services, db: AsyncSession) -> None:
    job = await jobs.schedule_job(
        db, services.jobs, "test.audit", {"object_id": "p", "refuse": True}
    )
    await commit(db)
    assert await jobs.run_outbox_job(services, job.id, job.version) == "failed"
    row = await fresh(db, job)
    assert row.attempts == 1 and row.failed_at is not None
    assert row.last_error == "Refused"

"""Deferred work: the outbox in PostgreSQL is the record, ARQ on Redis is the delivery.

A job is a row written in the same transaction as the change that caused it. After commit
it is put in ARQ's queue (all of a commit's jobs in one round trip) with an id that
includes its version, scored at its time when it is timed. The worker claims the row with
``FOR UPDATE SKIP LOCKED`` where version matches and it is not done or cancelled, runs the
handler inside that transaction and marks it done there too: ARQ may deliver a job twice,
the database makes its effect happen once. A cron sweep re-enqueues rows that are overdue
(a lost Redis, a failed enqueue).

ARQ is in maintenance mode upstream, so it stays behind this module: domains only call
:func:`schedule_job`, :func:`reschedule_job`, :func:`cancel_job` and :func:`job_handler`.
The queue writes ARQ's job format itself (arq.jobs.serialize_job and its key prefixes), so
an ARQ upgrade is checked by tests/clb/test_jobs.py running the real worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.worker import Retry
from sqlalchemy import Index, String, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, after_commit, transaction, utcnow
from clb.redis import Keys

if TYPE_CHECKING:
    from clb.services import Services

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 500


class OutboxJob(Base):
    __tablename__ = "outbox_jobs"
    __table_args__ = (
        Index(
            "ix_outbox_jobs_pending",
            "run_at",
            postgresql_where=text("done_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    attempts: Mapped[int] = mapped_column(default=0)
    # The exception's type name only: messages could carry personal data.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]


@dataclass(frozen=True)
class JobContext:
    session: AsyncSession
    services: Services
    job: OutboxJob


JobHandler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]
_HANDLERS: dict[str, JobHandler] = {}


def job_handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    """Register the coroutine that performs jobs of ``kind``. It runs inside the claim
    transaction: its database writes commit together with "done". External effects
    (mail) should be registered with ``after_commit`` to happen at most once."""

    def register(handler: JobHandler) -> JobHandler:
        if _HANDLERS.get(kind, handler) is not handler:
            raise ValueError(f"two handlers for job kind {kind!r}")
        _HANDLERS[kind] = handler
        return handler

    return register


@dataclass(frozen=True)
class ScheduledJob:
    """What ARQ needs to deliver an outbox row: its id, version and time."""

    id: int
    version: int
    run_at: datetime


# ARQ's own enqueue is a WATCH/MULTI/EXEC transaction per job (three round trips each); a
# commit's jobs go in one script call instead, with the same effect per job: skipped when
# ARQ already holds that job or its result, else stored with an expiry and put in the
# queue. KEYS: the queue, then per job its job key and result key. ARGV: per job its id,
# score (ms), expiry (ms) and serialized body.
_ENQUEUE_SCRIPT = """
local added = 0
for i = 0, #ARGV / 4 - 1 do
  local job_key, result_key = KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  if redis.call('EXISTS', job_key, result_key) == 0 then
    redis.call('PSETEX', job_key, ARGV[3 + 4 * i], ARGV[4 + 4 * i])
    redis.call('ZADD', KEYS[1], ARGV[2 + 4 * i], ARGV[1 + 4 * i])
    added = added + 1
  end
end
return added
"""


class JobQueue:
    def __init__(self, redis: ArqRedis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self.queue_name = keys.job_queue
        self._script = redis.register_script(_ENQUEUE_SCRIPT)

    def job_id(self, job_id: int, version: int) -> str:
        # ARQ keeps job and result keys outside our namespace ("arq:job:<id>"), so the id
        # itself carries the namespace: deployments sharing one Redis never collide.
        return self._keys.key("outbox", str(job_id), f"v{version}")

    async def enqueue(self, jobs: Sequence[ScheduledJob], *, suffix: str = "") -> int:
        """Put these jobs in ARQ's queue in one round trip; returns how many were new."""
        if not jobs:
            return 0
        now_ms = round(time.time() * 1000)
        keys: list[str] = [self.queue_name]
        args: list[str | int | bytes] = []
        for job in jobs:
            arq_id = self.job_id(job.id, job.version) + suffix
            # A time in the past (an overdue job found by the sweep) runs now, as ARQ does.
            score = max(now_ms, round(job.run_at.timestamp() * 1000))
            body = serialize_job(
                "run_outbox_job",
                (job.id, job.version),
                {},
                None,
                now_ms,
                serializer=self._redis.job_serializer,
            )
            keys += [job_key_prefix + arq_id, result_key_prefix + arq_id]
            args += [arq_id, score, score - now_ms + self._redis.expires_extra_ms, body]
        added: int = await self._script(keys=keys, args=args)
        return added


def _enqueue_after_commit(session: AsyncSession, queue: JobQueue, jobs: list[ScheduledJob]) -> None:
    after_commit(session, lambda: queue.enqueue(jobs))


@dataclass(frozen=True)
class NewJob:
    kind: str
    payload: dict[str, Any]
    run_at: datetime | None = None  # None: now


# One statement for any number of jobs (a booking plans its confirmation and reminders).
_INSERT_JOBS = text(
    """
    INSERT INTO outbox_jobs (kind, payload, run_at, version, attempts, created_at)
    SELECT job->>'kind', job->'payload', CAST(job->>'run_at' AS timestamptz), 1, 0, :now
      FROM jsonb_array_elements(CAST(:jobs AS jsonb)) AS job
    RETURNING id, version, run_at
    """
)


async def schedule_job(
    session: AsyncSession,
    queue: JobQueue,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
) -> ScheduledJob:
    return (await schedule_jobs(session, queue, [NewJob(kind, payload, run_at)]))[0]


async def schedule_jobs(
    session: AsyncSession, queue: JobQueue, new_jobs: list[NewJob]
) -> list[ScheduledJob]:
    """Outbox rows written in the session's transaction, enqueued in ARQ after its commit."""
    for new in new_jobs:
        if new.kind not in _HANDLERS:
            raise ValueError(f"no handler registered for job kind {new.kind!r}")
    now = utcnow()
    rows = [
        {"kind": new.kind, "payload": new.payload, "run_at": new.run_at or now} for new in new_jobs
    ]
    result = await session.execute(_INSERT_JOBS, {"jobs": orjson.dumps(rows).decode(), "now": now})
    scheduled = [ScheduledJob(*row) for row in result.all()]
    _enqueue_after_commit(session, queue, scheduled)
    return scheduled


async def reschedule_job(
    session: AsyncSession, queue: JobQueue, job: OutboxJob, run_at: datetime
) -> None:
    """Move a pending job; the copy already queued for the old version will do nothing."""
    job.version += 1
    job.run_at = run_at
    await session.flush()
    _enqueue_after_commit(session, queue, [ScheduledJob(job.id, job.version, job.run_at)])


async def pending_jobs(session: AsyncSession, kind: str, **payload: str) -> list[OutboxJob]:
    """Jobs of ``kind`` not yet run whose payload has these values, locked for changing."""
    query = select(OutboxJob).where(
        OutboxJob.kind == kind,
        OutboxJob.done_at.is_(None),
        OutboxJob.cancelled_at.is_(None),
        OutboxJob.failed_at.is_(None),
    )
    for key, value in payload.items():
        query = query.where(OutboxJob.payload[key].astext == value)
    return list((await session.scalars(query.with_for_update())).all())


def cancel_job(job: OutboxJob) -> None:
    job.version += 1
    job.cancelled_at = utcnow()


async def run_outbox_job(services: Services, job_id: int, version: int) -> str:
    """Claim and run one outbox row; safe to call any number of times."""
    try:
        async with transaction(services.sessionmaker) as session:
            job = await session.scalar(
                select(OutboxJob)
                .where(
                    OutboxJob.id == job_id,
                    OutboxJob.version == version,
                    OutboxJob.done_at.is_(None),
                    OutboxJob.cancelled_at.is_(None),
                    OutboxJob.failed_at.is_(None),
                )
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return "skipped"
            handler = _HANDLERS[job.kind]
            await handler(JobContext(session, services, job), job.payload)
            job.done_at = utcnow()
            job.attempts += 1
        return "done"
    except Exception as exc:
        # An error that says retrying cannot help (``temporary = False``, e.g. a mail
        # server's 5xx refusal) gives up at once.
        permanent = getattr(exc, "temporary", True) is False
        attempts = await _record_failure(services, job_id, version, exc, permanent=permanent)
        if attempts >= MAX_ATTEMPTS:
            log.error("job %s gave up after %s attempts", job_id, attempts)
            return "failed"
        raise Retry(defer=timedelta(seconds=10 * 2**attempts)) from exc


async def _record_failure(
    services: Services, job_id: int, version: int, exc: Exception, *, permanent: bool
) -> int:
    log.warning("job %s failed: %s", job_id, type(exc).__name__)
    async with transaction(services.sessionmaker) as session:
        job = await session.get(OutboxJob, job_id, with_for_update=True)
        if job is None or job.version != version:
            return MAX_ATTEMPTS
        job.attempts += 1
        job.last_error = type(exc).__name__
        if job.attempts >= MAX_ATTEMPTS or permanent:
            job.failed_at = utcnow()
            return MAX_ATTEMPTS
        return job.attempts


async def sweep_outbox(services: Services, *, now: datetime | None = None) -> int:
    """Re-enqueue pending rows that should have run by now; returns how many."""
    now = now or utcnow()
    async with transaction(services.sessionmaker) as session:
        rows = (
            await session.execute(
                select(OutboxJob.id, OutboxJob.version, OutboxJob.run_at)
                .where(
                    OutboxJob.done_at.is_(None),
                    OutboxJob.cancelled_at.is_(None),
                    OutboxJob.failed_at.is_(None),
                    OutboxJob.run_at <= now - SWEEP_GRACE,
                )
                .order_by(OutboxJob.run_at)
                .limit(SWEEP_BATCH)
            )
        ).all()
    stamp = f":sweep{int(now.timestamp()) // 60}"
    await services.jobs.enqueue([ScheduledJob(*row) for row in rows], suffix=stamp)
    if rows:
        log.info("outbox sweep re-enqueued %s overdue jobs", len(rows))
    return len(rows)


def worker_heartbeat_key(keys: Keys) -> str:
    return keys.key("worker", "heartbeat")


_JOB_FIGURES = text(
    """
    SELECT count(*) FILTER (WHERE due) AS backlog,
           min(run_at) FILTER (WHERE due) AS oldest,
           count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed
    FROM (
        SELECT run_at, failed_at,
               (done_at IS NULL AND cancelled_at IS NULL AND failed_at IS NULL
                AND run_at <= now()) AS due
        FROM outbox_jobs
    ) AS jobs
    """
)


async def refresh_metrics(services: Services) -> None:
    """The outbox backlog and its oldest due job, failed jobs, the worker's heartbeat."""
    metrics = services.metrics
    async with services.sessionmaker() as session:
        row = (await session.execute(_JOB_FIGURES)).one()
    metrics.outbox_backlog.set(row.backlog)
    oldest = (utcnow() - row.oldest).total_seconds() if row.oldest else 0.0
    metrics.outbox_oldest.set(max(0.0, oldest))
    metrics.jobs_failed.set(row.failed)
    beat = await services.redis.get(worker_heartbeat_key(services.keys))
    metrics.worker_heartbeat.set(time.time() - float(beat) if beat else -1)

"""The ARQ worker: runs outbox jobs and the periodic housekeeping (``clb worker``)."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
import redis.exceptions
from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Worker

from clb import jobs
from clb.audit import purge_audit_before
from clb.auth import service as auth_service
from clb.config import Settings
from clb.db import months_before, transaction, utcnow
from clb.services import Services

log = logging.getLogger(__name__)


async def run_outbox_job(ctx: dict[str, Any], job_id: int, version: int) -> str:
    return await jobs.run_outbox_job(ctx["services"], job_id, version)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    return await jobs.sweep_outbox(ctx["services"])


async def worker_heartbeat(ctx: dict[str, Any]) -> None:
    """The worker is alive and polling: /metrics shows how long ago it said so."""
    services: Services = ctx["services"]
    await services.redis.set(jobs.worker_heartbeat_key(services.keys), time.time(), ex=600)


async def purge_old_sessions(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    async with transaction(services.sessionmaker) as session:
        return await auth_service.purge_old_sessions(session)


async def purge_old_audit(ctx: dict[str, Any]) -> int:
    """Retention of the audit log: records older than ``retention_audit_months`` go."""
    services: Services = ctx["services"]
    cutoff = months_before(utcnow(), services.settings.retention_audit_months)
    async with transaction(services.sessionmaker) as session:
        return await purge_audit_before(session, cutoff)


@dataclass(frozen=True)
class PeriodicJob:
    """Housekeeping a domain asks the worker to run on a schedule (ARQ's cron fields).
    ``run`` takes the worker context, whose ``services`` are the process's services."""

    run: WorkerCoroutine
    hour: set[int] | None = None
    minute: int | None = None
    second: int | set[int] = 0
    timeout: int | None = None


def cron_jobs(namespace: str, periodic: Sequence[PeriodicJob] = ()) -> list[CronJob]:
    """The kernel's periodic jobs and the domains' ones. Their names carry the namespace:
    ARQ derives a unique cron job's id from its name alone, so deployments sharing one Redis
    would otherwise take each other's runs (and one of them would miss its outbox sweep)."""

    def named(function: str) -> str:
        return f"cron:{namespace}:{function}"

    return [
        cron(sweep_outbox, name=named("sweep_outbox"), second=30, unique=True, run_at_startup=True),
        cron(
            worker_heartbeat,
            name=named("worker_heartbeat"),
            second={0, 15, 30, 45},
            run_at_startup=True,
        ),
        cron(
            purge_old_sessions,
            name=named("purge_old_sessions"),
            hour={3},
            minute=17,
            second=0,
            unique=True,
        ),
        cron(
            purge_old_audit,
            name=named("purge_old_audit"),
            hour={3},
            minute=27,
            second=0,
            unique=True,
        ),
        *(
            cron(
                job.run,
                name=named(job.run.__qualname__),
                hour=job.hour,
                minute=job.minute,
                second=job.second,
                unique=True,
                timeout=job.timeout,
            )
            for job in periodic
        ),
    ]


def create_worker(
    services: Services,
    periodic: Sequence[PeriodicJob] = (),
    *,
    burst: bool = False,
    with_cron: bool = True,
    on_startup: StartupShutdown | None = None,
) -> Worker:
    """An ARQ worker on the services' Redis pool, with JSON (not pickle) serialisation.
    The job handlers are those registered by the imported task modules (composition.worker)."""
    settings = services.settings
    return Worker(
        functions=[run_outbox_job],
        cron_jobs=cron_jobs(services.keys.namespace, periodic) if with_cron else [],
        redis_pool=services.job_redis,
        redis_settings=RedisSettings.from_dsn(settings.jobs_redis_url or settings.redis_url or ""),
        queue_name=services.jobs.queue_name,
        job_serializer=orjson.dumps,
        job_deserializer=orjson.loads,
        ctx={"services": services},
        on_startup=on_startup,
        burst=burst,
        handle_signals=not burst,
        keep_result=300,
        max_tries=jobs.MAX_ATTEMPTS + 1,
        poll_delay=0.2,
    )


# A Redis that went away (killed, restarted, network cut): ARQ's polling loop raises these.
# They end one run of the ARQ worker, never the process; the next run reconnects.
REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    # redis-py reports a connection lost during ARQ's WATCH as a WatchError ("A
    # ConnectionError occurred while watching"), which ARQ does not catch there.
    redis.exceptions.WatchError,
    OSError,
)
RETRY_FIRST = 0.5
RETRY_MAX = 10.0


_STOPPING: set[asyncio.Task[None]] = set()


def _until_stopped(worker: Worker, loop: asyncio.AbstractEventLoop, sig: signal.Signals) -> None:
    """After ARQ's signal handler cancelled its run: cancel it again every second until it
    has ended. A cancel that lands inside a Redis call can come out as a connection error,
    which ARQ's loop carries on from; the worker then kept polling and running its cron jobs,
    and SIGTERM never ended the process."""

    async def again() -> None:
        while worker.main_task is not None and not worker.main_task.done():
            await asyncio.sleep(1)
            worker.main_task.cancel()

    task = loop.create_task(again())
    _STOPPING.add(task)
    task.add_done_callback(_STOPPING.discard)


async def run_worker(settings: Settings, periodic: Sequence[PeriodicJob] = ()) -> None:
    """Run the ARQ worker until SIGTERM/SIGINT (or cancellation), across Redis outages: a
    run that loses Redis is replaced, after a capped exponential back-off, by a new ARQ
    worker on the same services (the shared connection pool reconnects by itself)."""
    services = await Services.start(settings)
    try:
        await _supervise(services, periodic)
    finally:
        await services.stop()


async def _supervise(services: Services, periodic: Sequence[PeriodicJob]) -> None:
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    delay = RETRY_FIRST
    outage = False
    polling = asyncio.Event()
    # Jobs still running when their ARQ worker lost Redis: left to finish (the outbox claim
    # makes a second run harmless), cancelled at shutdown.
    leftovers: set[asyncio.Task[Any]] = set()

    async def started(ctx: dict[str, Any]) -> None:
        polling.set()
        if outage:
            log.info("worker polling again", extra={"queue": services.jobs.queue_name})

    try:
        while True:
            polling.clear()
            # Its constructor installs ARQ's SIGTERM/SIGINT handlers: they cancel its run.
            worker = create_worker(services, periodic, on_startup=started)
            worker.on_stop = partial(_until_stopped, worker, loop)
            if not outage:
                log.info("worker started", extra={"queue": services.jobs.queue_name})
            try:
                await worker.async_run()
                return  # not reached: ARQ polls until a signal cancels it
            except REDIS_UNAVAILABLE as exc:
                for task in (*worker.tasks.values(), *worker.job_tasks.values()):
                    if not task.done():
                        leftovers.add(task)
                        task.add_done_callback(leftovers.discard)
                if polling.is_set():
                    delay = RETRY_FIRST  # it had been running fine: a new outage
                if not outage or polling.is_set():
                    log.warning(
                        "worker lost Redis (%s); reconnecting in %.1f s (back-off up to %.0f s)",
                        type(exc).__name__,
                        delay,
                        RETRY_MAX,
                    )
                else:
                    log.debug("Redis still unavailable (%s)", type(exc).__name__)
                outage = True
            # ARQ's handlers belong to the dead worker now: a signal during the wait must
            # end this loop instead.
            if me is not None:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, me.cancel)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
    finally:
        for task in leftovers:
            task.cancel()

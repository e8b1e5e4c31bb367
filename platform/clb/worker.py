"""The ARQ worker: runs outbox jobs and the periodic housekeeping (``clb worker``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Worker

from clb import jobs
from clb.auth import service as auth_service
from clb.config import Settings
from clb.db import transaction
from clb.services import Services

log = logging.getLogger(__name__)


async def run_outbox_job(ctx: dict[str, Any], job_id: int, version: int) -> str:
    return await jobs.run_outbox_job(ctx["services"], job_id, version)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    return await jobs.sweep_outbox(ctx["services"])


async def purge_old_sessions(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    async with transaction(services.sessionmaker) as session:
        return await auth_service.purge_old_sessions(session)


@dataclass(frozen=True)
class PeriodicJob:
    """Housekeeping a domain asks the worker to run on a schedule (ARQ's cron fields).
    ``run`` takes the worker context, whose ``services`` are the process's services."""

    run: WorkerCoroutine
    hour: set[int] | None = None
    minute: int | None = None
    second: int = 0
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
            purge_old_sessions,
            name=named("purge_old_sessions"),
            hour={3},
            minute=17,
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
) -> Worker:
    """An ARQ worker on the services' Redis pool, with JSON (not pickle) serialisation.
    The job handlers are those registered by the imported task modules (composition.worker)."""
    settings = services.settings
    return Worker(
        functions=[run_outbox_job],
        cron_jobs=cron_jobs(services.keys.namespace, periodic) if with_cron else [],
        redis_pool=services.redis,
        redis_settings=RedisSettings.from_dsn(settings.redis_url or ""),
        queue_name=services.jobs.queue_name,
        job_serializer=orjson.dumps,
        job_deserializer=orjson.loads,
        ctx={"services": services},
        burst=burst,
        handle_signals=not burst,
        keep_result=300,
        max_tries=jobs.MAX_ATTEMPTS + 1,
        poll_delay=0.2,
    )


async def run_worker(settings: Settings, periodic: Sequence[PeriodicJob] = ()) -> None:
    services = await Services.start(settings)
    try:
        worker = create_worker(services, periodic)
        log.info("worker started", extra={"queue": services.jobs.queue_name})
        await worker.async_run()
    finally:
        await services.stop()

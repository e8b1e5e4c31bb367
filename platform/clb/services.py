"""The clients one process holds: database, Redis, the bus, the rate limiter, the job queue,
and the outgoing mail and SMS channels.

Built in the app's lifespan (or the worker's start-up) and reached through dependencies,
never through module globals, so two app instances in one process stay independent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import orjson
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from clb.bus import Bus
from clb.config import Settings
from clb.db import create_engine, create_sessionmaker
from clb.health.metrics import Metrics
from clb.jobs import JobQueue
from clb.jobs import refresh_metrics as refresh_job_metrics
from clb.mail import Mailer, mailer_from_settings
from clb.ratelimit import RateLimiter
from clb.redis import Keys, RedisClient, create_cluster, create_redis
from clb.sms import SmsTransport, sms_from_settings


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    # Plain commands, presence and fan-out: one Redis or a cluster (clb.redis).
    redis: RedisClient
    # ARQ's queue: always one plain Redis (the same as ``redis`` unless configured apart).
    job_redis: ArqRedis
    keys: Keys
    bus: Bus
    limiter: RateLimiter
    jobs: JobQueue
    # Outgoing mail and SMS (clb.mail, clb.sms); tests may replace them with their own.
    mailer: Mailer
    sms: SmsTransport
    # Per-process helpers a domain keeps for the life of the process (e.g. the chat's queue
    # watcher), and the background tasks that serve them; stopped with the services.
    local: dict[str, Any] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def run_in_background(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @classmethod
    async def start(cls, settings: Settings, *, metrics: Metrics | None = None) -> Services:
        database_url, redis_url = settings.service_urls()
        # First, so a bad CLB_SMS_TRANSPORT stops the start before anything is connected.
        mailer = mailer_from_settings(settings)
        sms = sms_from_settings(settings)
        engine = create_engine(database_url, pooling=settings.database_pooling)
        keys = Keys(settings.redis_namespace)
        # The job queue's client; on one Redis it shares its pool with plain commands.
        jobs_url = settings.jobs_redis_url or redis_url
        job_redis = ArqRedis(
            connection_pool=create_redis(jobs_url).connection_pool,
            job_serializer=orjson.dumps,
            job_deserializer=orjson.loads,
            default_queue_name=keys.job_queue,
        )
        redis: RedisClient = job_redis
        if settings.redis_cluster:
            redis = create_cluster(redis_url)
        elif jobs_url != redis_url:
            redis = create_redis(redis_url)
        bus = Bus(redis)
        await bus.start()
        services = cls(
            settings=settings,
            engine=engine,
            sessionmaker=create_sessionmaker(engine),
            redis=redis,
            job_redis=job_redis,
            keys=keys,
            bus=bus,
            limiter=RateLimiter(redis, keys),
            jobs=JobQueue(job_redis, keys),
            mailer=mailer,
            sms=sms,
            metrics=metrics or Metrics(),
        )
        services.metrics.bus_subscriptions.set_function(bus.channel_count)
        failing = services.metrics.loops_failing.labels("bus_publish")
        failing.set_function(lambda: float(bus.publish_failing))
        services.metrics.refreshers.append(refresh_job_metrics)
        return services

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bus.stop()
        if self.redis is not self.job_redis:
            await self.redis.aclose()
        await self.job_redis.aclose(close_connection_pool=True)
        await self.engine.dispose()

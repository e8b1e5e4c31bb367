"""The search log's periodic work, run by the worker: the counts move from Redis into
PostgreSQL every minute, and the days older than 90 go every night (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from clb.db import transaction
from clb.services import Services
from clb.worker import PeriodicJob
from toolbox.search_insights import service
from toolbox.search_insights.counting import flush_counts


async def flush_search_counts(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    return await flush_counts(services)


async def purge_search_log(ctx: dict[str, Any]) -> int:
    services: Services = ctx["services"]
    async with transaction(services.sessionmaker) as session:
        return await service.purge_search_log(session, service.today_in_brussels())


# Every minute (no hour or minute given), at second 20.
SEARCH_COUNT_FLUSH = PeriodicJob(flush_search_counts, second=20, timeout=50)
SEARCH_LOG_RETENTION = PeriodicJob(purge_search_log, hour={3}, minute=32, timeout=600)

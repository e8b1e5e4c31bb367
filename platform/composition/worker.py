"""The worker with every domain's job handlers and periodic jobs (``clb worker``)."""

from __future__ import annotations

from arq.cron import CronJob
from arq.worker import Worker

from clb import worker as kernel_worker
from clb.config import Settings
from clb.services import Services
from composition.tasks import PERIODIC_JOBS
from toolbox.tasks import check_toolbox_links

__all__ = ["check_toolbox_links", "create_worker", "cron_jobs", "run_worker"]


def cron_jobs(namespace: str) -> list[CronJob]:
    return kernel_worker.cron_jobs(namespace, PERIODIC_JOBS)


def create_worker(services: Services, *, burst: bool = False, with_cron: bool = True) -> Worker:
    return kernel_worker.create_worker(services, PERIODIC_JOBS, burst=burst, with_cron=with_cron)


async def run_worker(settings: Settings) -> None:
    await kernel_worker.run_worker(settings, PERIODIC_JOBS)

"""The toolbox's periodic work, run by the worker: the nightly link check."""

from __future__ import annotations

from typing import Any

from clb.worker import PeriodicJob
from toolbox import link_checker


async def check_toolbox_links(ctx: dict[str, Any]) -> dict[str, int]:
    return await link_checker.check_links(ctx["services"])


NIGHTLY_LINK_CHECK = PeriodicJob(check_toolbox_links, hour={2}, minute=30, timeout=3600)

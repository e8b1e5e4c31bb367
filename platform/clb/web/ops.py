"""Operational endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from clb.errors import NotFound
from clb.web.deps import ServicesDep

router = APIRouter(tags=["ops"])

READY_TIMEOUT = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no dependencies checked)."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    """PostgreSQL and Redis both answer: the instance can take traffic. Not once it is
    shutting down (``draining``, set on SIGTERM by ``clb serve``): the load balancer then
    sends new work elsewhere while this instance moves its sockets."""
    if request.app.state.draining:
        return JSONResponse({"status": "shutting down"}, status_code=503)

    async def database() -> None:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def redis() -> None:
        await services.redis.ping()

    checks = {"database": database, "redis": redis}
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), READY_TIMEOUT)
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready", reported by type only
            results[name] = f"unavailable ({type(exc).__name__})"
    ready = all(value == "ok" for value in results.values())
    # The long-lived loops (they heal by themselves; shown here, and in /metrics).
    loops = {"bus_publish": "failing, retrying" if services.bus.publish_failing else "ok"}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": results, "loops": loops},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: ServicesDep) -> Response:
    """For the operator's scraper only: refused (404) to clients from other networks."""
    settings = services.settings
    if not settings.metrics_enabled or not _from(request, settings.metrics_networks):
        raise NotFound()
    await services.metrics.refresh(services)
    registry = services.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _from(request: Request, networks: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in networks)

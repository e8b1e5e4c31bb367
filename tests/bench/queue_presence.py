"""Queue positions under presence, against real ``clb serve`` processes (issue 14).

Run ``python -m tests.bench.queue_presence --help``; tests/bench/README.md explains it.
Not a test: pytest does not collect it.

``--visitors`` waiting pupils (each with its own address) on ``--servers`` instances, of
whom ``--away-share`` closed their page and are away (inside the return window). Then,
one at a time, a present pupil departs, alternately by the quick exit (the page's
``POST …/exit``: at once) and by closing the socket (counted after the grace time). Per
departure: the time until *every* pupil behind them was told their new place, and each
pupil's own time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.bench.chat_load import VisitorIdentity, create_visitors, visitor_hello
from tests.bench.harness.cpu import CpuWindow
from tests.bench.harness.program import (
    Results,
    bench_parser,
    positive_int,
    run_info,
    run_main,
    run_scratch,
)
from tests.bench.harness.report import fmt, log, print_rows
from tests.bench.harness.services import Resources
from tests.bench.harness.stats import summarize_ms

DEFAULT_OUT = Path("/tmp/queue_presence_bench.json")  # noqa: S108 - the documented default
WHERE = (
    "load generator: this one asyncio process on the same machine, talking to 127.0.0.1; it "
    "shares the {cpus} CPU cores with the servers, PostgreSQL and Redis"
)


def build_parser() -> argparse.ArgumentParser:
    parser = bench_parser(
        "queue_presence",
        "Queue positions under presence",
        ["departures"],
        servers=(2, "clb serve processes"),
        out=DEFAULT_OUT,
        timeout=(900, "hard limit for the whole run, seconds"),
    )
    parser.add_argument("--visitors", type=positive_int, default=500, help="waiting pupils")
    parser.add_argument("--away-share", type=float, default=0.3, help="share of them away")
    parser.add_argument("--departures", type=positive_int, default=20, help="of each kind")
    parser.add_argument("--grace", type=int, default=10, help="CLB_CHAT_PRESENCE_GRACE_SECONDS")
    parser.add_argument("--seed", type=int, default=14, help="random seed (who leaves)")
    parser.add_argument(
        "--no-uvloop", action="store_true", help="plain asyncio loop for the client"
    )
    return parser


@dataclass
class Pupil:
    """One waiting pupil: their socket and the latest place they were told (and when)."""

    identity: VisitorIdentity
    rank: int  # place in the whole queue (arrival order)
    connection: ClientConnection | None = None
    position: int = 0
    told_at: float = 0.0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def listen(self) -> None:
        assert self.connection is not None  # noqa: S101 - listening needs a socket
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.connection:
                frame = orjson.loads(raw)
                if frame.get("type") == "queue":
                    self.position, self.told_at = int(frame["position"]), time.monotonic()
                    self.changed.set()


async def wait_until_placed(pupils: list[Pupil], timeout: float) -> float:
    """Until every pupil's latest place is their rank among the present ones; how long."""
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while True:
            wrong = [p for place, p in enumerate(pupils, 1) if p.position != place]
            if not wrong:
                return time.monotonic() - started
            wrong[0].changed.clear()
            await wrong[0].changed.wait()


async def depart(pupil: Pupil, kind: str, http: httpx.AsyncClient, resources: Resources) -> None:
    if kind == "exit":
        response = await http.post(
            f"{pupil.identity.server.base_url}/api/chat/conversations/"
            f"{pupil.identity.conversation_id}/exit",
            headers={
                "Authorization": f"Bearer {pupil.identity.token}",
                "X-Forwarded-For": pupil.identity.address,
            },
        )
        response.raise_for_status()
    assert pupil.connection is not None  # noqa: S101 - a present pupil has a socket
    await pupil.connection.close()
    resources.sockets.discard(pupil.connection)


async def one_departure(
    present: list[Pupil], kind: str, http: httpx.AsyncClient, resources: Resources, grace: int
) -> tuple[float, list[float]]:
    """A random present pupil (not the last) leaves: (every one behind told, each one)."""
    index = random.randrange(len(present) - 1)  # noqa: S311 - a benchmark's choice
    leaving = present.pop(index)
    behind = present[index:]
    started = time.monotonic()
    await depart(leaving, kind, http, resources)
    try:
        await wait_until_placed(present, timeout=60 + grace)
    except TimeoutError:
        wrong = [(place, p.position) for place, p in enumerate(present, 1) if p.position != place]
        raise RuntimeError(f"not placed after a departure: {wrong[:5]}") from None
    own = [p.told_at - started for p in behind]
    return max(own), own


async def set_up(resources: Resources, options: argparse.Namespace) -> list[Pupil]:
    identities = await create_visitors(
        [resources.servers[i % len(resources.servers)] for i in range(options.visitors)],
        resources.addresses,
        concurrency=1,  # one after the other: the queue order is the list order
    )
    pupils = [Pupil(identity, rank) for rank, identity in enumerate(identities, 1)]
    for pupil in pupils:  # in arrival order, as pupils would connect
        pupil.connection, _ = await visitor_hello(
            resources, pupil.identity, pupil.identity.server, 30
        )
        LISTENERS.add(asyncio.get_running_loop().create_task(pupil.listen()))
    return pupils


LISTENERS: set[asyncio.Task[None]] = set()  # kept, so they are not collected while running


async def scenario(resources: Resources, options: argparse.Namespace) -> dict[str, Any]:
    random.seed(options.seed)
    pupils = await set_up(resources, options)
    log(f"{len(pupils)} pupils waiting; placing them")
    await wait_until_placed(pupils, timeout=120)
    away = set(random.sample(range(len(pupils)), int(len(pupils) * options.away_share)))
    async with httpx.AsyncClient() as http:
        for index in sorted(away):
            await depart(pupils[index], "close", http, resources)
    present = [p for i, p in enumerate(pupils) if i not in away]
    started = time.monotonic()
    settle = await wait_until_placed(present, timeout=120)
    log(f"{len(away)} away; the {len(present)} others placed after {settle:.1f} s")
    window = CpuWindow(resources.servers)
    figures: dict[str, Any] = {"settle_after_away_seconds": round(time.monotonic() - started, 2)}
    async with httpx.AsyncClient(timeout=30) as http:
        for kind in ("exit", "close"):
            every, each = [], []
            for _ in range(options.departures):
                whole, own = await one_departure(present, kind, http, resources, options.grace)
                log(f"{kind}: every pupil behind told after {whole * 1000:.0f} ms")
                every.append(whole)
                each.extend(own)
            figures[kind] = {
                "every_pupil_told": summarize_ms(every),
                "per_pupil": summarize_ms(each),
            }
    figures["cpu"] = window.finish()
    figures["present_at_end"] = len(present)
    return figures


async def run(options: argparse.Namespace, resources: Resources, results: Results) -> None:
    task = asyncio.current_task()
    assert task is not None  # noqa: S101 - run inside a task
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)

    async def body() -> None:
        extra_env = {
            "CLB_CHAT_ALWAYS_OPEN": "true",
            "CLB_LOG_LEVEL": "WARNING",
            "CLB_CHAT_MAX_QUEUE": "100000",
            "CLB_CHAT_PRESENCE_GRACE_SECONDS": str(options.grace),
        }
        await resources.start_servers(options.servers, extra_env)
        results["run"] = run_info(WHERE.format(cpus=os.cpu_count()), resources, extra_env)
        results["departures"] = await scenario(resources, options)
        resources.check_servers()

    await run_scratch(
        resources, results, timeout=options.timeout, cleaning="sockets, servers, data", body=body
    )


def print_summary(results: Results) -> None:
    figures = results.get("departures") or {}
    rows = [("where", results["run"]["where"])]
    rows.append(
        ("settled after the away ones' grace (s)", fmt(figures.get("settle_after_away_seconds")))
    )
    for kind, label in (("exit", "quick exit"), ("close", "socket closed")):
        part = figures.get(kind) or {}
        for what in ("every_pupil_told", "per_pupil"):
            stats = part.get(what) or {}
            rows.append(
                (
                    f"{label}: {what.replace('_', ' ')} p50 / p99 / max ms",
                    f"{fmt(stats.get('p50'))} / {fmt(stats.get('p99'))} / {fmt(stats.get('max'))}",
                )
            )
    print_rows(rows)


def main(argv: list[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    return run_main(options, "queue_bench_", run, conclude=lambda _r: None, summary=print_summary)


if __name__ == "__main__":
    raise SystemExit(main())

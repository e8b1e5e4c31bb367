"""What every load program does around its scenarios: the common options, the run's JSON
header, the scratch services' life cycle, and ``main`` (exit codes, partial results)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import orjson

from tests.bench.harness.report import log, now_iso
from tests.bench.harness.servers import raise_nofile
from tests.bench.harness.services import Resources

Results = dict[str, Any]


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def bench_parser(
    name: str,
    title: str,
    scenarios: list[str],
    *,
    servers: tuple[int, str],
    out: Path,
    timeout: tuple[float, str],
) -> argparse.ArgumentParser:
    """The parser of ``python -m tests.bench.<name>``: --scenario (all or one of
    ``scenarios``) and the service options."""
    parser = argparse.ArgumentParser(
        prog=f"python -m tests.bench.{name}",
        description=(
            f"{title} against real `clb serve` processes on 127.0.0.1 with a "
            "scratch database and Redis namespace (both removed at the end). "
            "See tests/bench/README.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--scenario", choices=["all", *scenarios], default="all", help="what to run"
    )
    add_service_options(parser, servers=servers, out=out, timeout=timeout)
    return parser


def add_service_options(
    parser: argparse.ArgumentParser,
    *,
    servers: tuple[int, str],
    out: Path,
    timeout: tuple[float, str],
) -> None:
    """--database-url, --redis-url, --servers, --out and --timeout, with the given
    (default, help) of --servers and --timeout and the default of --out."""
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (any database on it) where bench_<random> is created",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379", help="Redis server")
    parser.add_argument("--servers", type=positive_int, default=servers[0], help=servers[1])
    parser.add_argument("--out", type=Path, default=out, help="JSON results")
    parser.add_argument("--timeout", type=float, default=timeout[0], help=timeout[1])


def run_info(where: str, resources: Resources, extra_env: dict[str, str], **extra: Any) -> Results:
    """``results["run"]``: when, how called, where, on what, with which servers."""
    return {
        "started": now_iso(),
        "argv": sys.argv[1:],
        "where": where,
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "client_loop": type(asyncio.get_running_loop()).__module__,
        },
        "servers": len(resources.servers),
        "server_env": extra_env,
        **extra,
        "work_dir": str(resources.work_dir),
    }


async def run_scratch(
    resources: Resources,
    results: Results,
    *,
    timeout: float,
    cleaning: str,
    body: Callable[[], Awaitable[None]],
) -> None:
    """Create the scratch database, run ``body`` within ``timeout``, then count the
    servers' log problems and clean up, whatever happened."""
    try:
        async with asyncio.timeout(timeout):
            log(f"database {resources.database}, Redis namespace {resources.namespace}")
            await resources.create_database()
            await body()
    finally:
        results["server_log_problems"] = [s.log_problems() for s in resources.servers]
        log(f"cleaning up: {cleaning}")
        await resources.cleanup()


def run_main(
    options: argparse.Namespace,
    work_prefix: str,
    run: Callable[[argparse.Namespace, Resources, Results], Coroutine[Any, Any, None]],
    *,
    conclude: Callable[[Results], None],
    summary: Callable[[Results], None],
) -> int:
    """Run ``run`` on uvloop (unless --no-uvloop), then ``conclude`` (verdicts), write the
    JSON to --out and print ``summary``. Exit status: 0 done, 1 error, 2 hard timeout,
    130 Ctrl+C; partial results are written in every case. The servers' logs stay in a new
    directory ``/tmp/<work_prefix>…``."""
    raise_nofile()
    resources = Resources.for_options(options.database_url, options.redis_url, work_prefix)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if not options.no_uvloop:
        with contextlib.suppress(ImportError):
            import uvloop

            loop_factory = uvloop.new_event_loop
    results: Results = {}
    code = 0
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            runner.run(run(options, resources, results))
    except KeyboardInterrupt:
        results["error"] = "interrupted"
        code = 130
    except TimeoutError:
        results["error"] = f"hard timeout of {options.timeout:g} s reached"
        code = 2
    except Exception as error:
        traceback.print_exc()
        results["error"] = repr(error)
        code = 1
    finally:
        resources.cleanup_sync()
    conclude(results)
    options.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    if "run" in results:
        summary(results)
    if "error" in results:
        log(f"run stopped early: {results['error']} (partial results written)")
    print(f"JSON: {options.out}   server logs: {resources.work_dir}")
    return code

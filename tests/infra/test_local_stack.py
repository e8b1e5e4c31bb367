"""``make stack`` as an operator runs it: nginx, two app processes, a worker and PgBouncer
in front of this run's PostgreSQL and Redis; a pupil's chat goes through all of them."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from development.nginx import nginx_binary
from development.pgbouncer import pgbouncer_binary
from tests.chat.support import Visitor
from tests.conftest import ROOT, ServerUrls, _with_database, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
async def scratch_database(server_urls: ServerUrls) -> AsyncIterator[str]:
    """A database of its own: the stack migrates it and loads the demo data."""
    name = f"clb_stack_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_urls.admin_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_database(server_urls.admin_database_url, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def read_until(process: subprocess.Popen[str], marker: str) -> str:
    """What the stack printed up to the line with ``marker`` (blocking: run in a thread)."""
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"the stack ended before {marker!r}:\n{''.join(seen)}")


@pytest.fixture
def stack(
    scratch_database: str, server_urls: ServerUrls, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``python -m development.stack`` (what ``make stack`` runs) on a scratch database."""
    if nginx_binary() is None or pgbouncer_binary() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx and pgbouncer are needed (Debian packages; .ci/run installs them)")
        pytest.skip("nginx or pgbouncer not installed")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CLB_")},
        "CLB_DATABASE_URL": scratch_database,
        "CLB_REDIS_URL": server_urls.redis_url,
        "CLB_REDIS_NAMESPACE": f"t{secrets.token_hex(4)}",
        "CLB_DATA_DIR": str(tmp_path),
        "CLB_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "development.stack", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)
    if process.stdout is not None:
        process.stdout.close()


async def test_make_stack_serves_a_chat_through_nginx_and_pgbouncer_and_stops_cleanly(
    stack: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = stack
    printed = await asyncio.wait_for(
        asyncio.to_thread(read_until, process, "Stop with Ctrl+C"), timeout=180
    )
    base = f"http://127.0.0.1:{port}"
    assert f"open {base}/" in printed and "@demo.clb.example" in printed
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        assert (await http.get("/")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/metrics")).status_code == 404  # internal only
        schools = await http.get("/api/schools", params={"q": "sint"})
        assert schools.status_code == 200 and schools.json()  # demo data, via PgBouncer
    visitor = await Visitor.join(base)
    pupil = await visitor.connect()  # the socket goes through nginx
    assert "position" in await pupil.expect("queue", timeout=30)  # in the queue, live
    await pupil.close()

    process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(process.wait, 90) == 0
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{base}/")  # nginx went with the stack

"""nginx (infra/nginx) in front of two real ``clb serve`` processes, round robin, no sticky
sessions: a chat with its two sides on different instances, a booking, rate limits that
see the person's address, and the proxy's own answers."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from development.nginx import Nginx, nginx_binary, start_nginx
from tests.chat.realtime.test_protocol import counsellor
from tests.chat.support import Socket, Visitor
from tests.conftest import ServerEnv, free_port, start_server
from tests.scheduling.booking_helpers import at, counsellor_with_open_day
from tests.scheduling.support import booking_body

pytestmark = pytest.mark.slow

BOOKINGS_PER_ADDRESS = 3


@pytest.fixture(scope="module")
def site(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Nginx, list[str]]]:
    """nginx on a free port before two app processes that know it as their public URL.
    Yields nginx and the two instances' direct addresses (for their /metrics).

    Not ``live_server_factory``: its processes live for the whole session (and it sets
    every later server's allowed origin itself); these two, with a lowered booking limit,
    end with this module."""
    if nginx_binary() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx is needed (Debian's nginx package; .ci/run installs it)")
        pytest.skip("nginx not installed")
    public_port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    instances: list[str] = []
    try:
        for _ in range(2):
            port = free_port()
            env = session_server_env(tmp_path_factory.mktemp("app"), port)
            env["CLB_PUBLIC_URL"] = f"http://127.0.0.1:{public_port}"
            env["CLB_BOOKING_RATE_PER_HOUR"] = str(BOOKINGS_PER_ADDRESS)
            processes.append(start_server(env, port))
            instances.append(f"127.0.0.1:{port}")
        nginx = start_nginx(tmp_path_factory.mktemp("nginx"), public_port, instances)
        yield nginx, instances
        nginx.stop()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


def base_of(nginx: Nginx) -> str:
    return f"http://127.0.0.1:{nginx.port}"


async def sockets_on(instance: str) -> dict[str, float]:
    """Open sockets by kind, read from the instance itself (nginx hides /metrics)."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://{instance}/metrics")).text
    found = re.findall(r'^clb_sockets_open\{kind="(\w+)"\} ([0-9.]+)$', text, re.M)
    return {kind: float(value) for kind, value in found}


def access_log(nginx: Nginx, at_least: int) -> list[str]:
    """The access log once it has ``at_least`` lines: nginx writes a request's line just
    after the answer, so a test can read the log before the last line is there."""
    deadline = time.monotonic() + 10
    while True:
        lines = (nginx.workdir / "access.log").read_text().splitlines()
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


async def test_requests_alternate_between_the_instances(site: tuple[Nginx, list[str]]) -> None:
    nginx, instances = site
    before = len(access_log(nginx, 0))
    async with httpx.AsyncClient(base_url=base_of(nginx)) as http:
        for _ in range(6):
            assert (await http.get("/readyz")).status_code == 200
    served = [line.split()[-2] for line in access_log(nginx, before + 6)[before : before + 6]]
    assert set(served) == set(instances)  # the upstream that answered each request
    assert all(a != b for a, b in zip(served, served[1:], strict=False)), served  # in turn


async def test_a_pupil_and_a_counsellor_on_different_instances_chat_through_nginx(
    site: tuple[Nginx, list[str]], db: AsyncSession
) -> None:
    nginx, instances = site
    base = base_of(nginx)
    visitor = await Visitor.join(base)
    pupil = await visitor.connect()
    staff: Socket | None = None
    for _ in range(4):  # round robin: the next socket goes to the other instance
        staff = await counsellor(db, base, email=f"an{_}@clb.example")
        counts = [await sockets_on(instance) for instance in instances]
        if all(count.get("visitor", 0) + count.get("console", 0) == 1 for count in counts):
            break
        await staff.close()
    else:
        pytest.fail(f"the two sockets never landed on different instances: {counts}")
    assert staff is not None
    await staff.send({"type": "claim", "conversation_id": visitor.conversation_id})
    await staff.expect("claimed")
    await pupil.expect("status", status="active")
    for n in range(3):
        await pupil.say(f"hallo {n}")
        assert (await staff.expect("message", sender="visitor"))["body"] == f"hallo {n}"
        await staff.say(f"dag {n}", visitor.conversation_id)
        assert (await pupil.expect("message", sender="counsellor"))["body"] == f"dag {n}"
    for socket in (pupil, staff):
        await socket.close()


def client_from(nginx: Nginx, address: str) -> httpx.AsyncClient:
    """A client whose connections to nginx come from ``address`` (any 127.x.y.z works)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_of(nginx), transport=transport, timeout=30)


async def test_a_booking_goes_through_and_limits_count_the_persons_address(
    site: tuple[Nginx, list[str]], db: AsyncSession
) -> None:
    nginx, _ = site
    staff, school, day = await counsellor_with_open_day(db)
    body = booking_body(school, staff, at(day, 10))
    async with client_from(nginx, "127.0.0.2") as parent:
        statuses = [(await parent.post("/api/appointments", json=body)).status_code]
        while statuses[-1] != 429 and len(statuses) <= BOOKINGS_PER_ADDRESS:
            statuses.append((await parent.post("/api/appointments", json=body)).status_code)
    assert statuses[0] == 201  # booked through nginx
    assert statuses[1:-1] == [409] * (BOOKINGS_PER_ADDRESS - 1)  # the slot is taken now
    assert statuses[-1] == 429  # this address has used its bookings
    async with client_from(nginx, "127.0.0.3") as neighbour:
        other = await neighbour.post("/api/appointments", json=body)
    assert other.status_code == 409  # someone else is not limited by 127.0.0.2's requests


async def test_the_proxy_answers_clearly_and_keeps_metrics_and_paths_to_itself(
    site: tuple[Nginx, list[str]],
) -> None:
    nginx, _ = site
    async with httpx.AsyncClient(base_url=base_of(nginx)) as http:
        assert (await http.get("/metrics")).status_code == 404
        too_big = await http.post("/api/visitors", content=b"x" * (4 * 1024 * 1024))
        assert too_big.status_code == 413
        assert too_big.json()["error"]["code"] == "too_large"
        static = await http.get("/static/js/chat.js", headers={"accept-encoding": "gzip"})
        assert static.status_code == 200
        # Unversioned file names: a short life, then revalidation; one header, not two.
        assert static.headers.get_list("cache-control") == ["public, max-age=300, must-revalidate"]
        assert static.headers["content-encoding"] == "gzip"  # text/javascript is compressed
        assert static.headers.get("server") == "nginx"  # no version number
        again = await http.get(
            "/static/js/chat.js", headers={"if-none-match": static.headers["etag"]}
        )
        assert (again.status_code, again.headers["x-cache-status"]) == (304, "HIT")
    log = (nginx.workdir / "access.log").read_text()
    assert "/api/" not in log and "127.0.0.2" not in log  # no paths, no addresses


def test_the_rendered_configuration_keeps_sockets_and_passes_the_address(
    site: tuple[Nginx, list[str]],
) -> None:
    config = Path(site[0].workdir / "clb.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert re.search(r"location /ws/ \{[^}]*proxy_read_timeout 120s;", config)
    assert re.search(r"location /ws/ \{[^}]*proxy_send_timeout 120s;", config)
    assert "proxy_next_upstream error timeout;" in config  # never non_idempotent
    assert "{{" not in config

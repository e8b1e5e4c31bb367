"""Many people booking the same moment at once, against a real ``clb serve`` process.

The server runs with its own environment (a booking rate limit high enough for one test
client to send hundreds of requests) on the test database and Redis namespace.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.jobs import OutboxJob
from scheduling.appointments.models import Appointment
from tests.conftest import ServerEnv, free_port, start_server
from tests.scheduling.booking_helpers import at, counsellor_with_open_day, count, error_of
from tests.scheduling.support import booking_body

pytestmark = pytest.mark.slow

STORM = 200


@pytest.fixture(scope="module")
def booking_server(
    session_server_env: ServerEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    data_dir: Path = tmp_path_factory.mktemp("booking-server")
    env = session_server_env(data_dir, port)
    env["CLB_BOOKING_RATE_PER_HOUR"] = "1000000"
    process = start_server(env, port)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def http_client(base_url: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=60,
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def test_two_hundred_requests_for_one_slot_book_it_once(
    booking_server: str, db: AsyncSession
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    wanted = at(day, 10)
    bodies = [
        booking_body(
            school,
            staff,
            wanted,
            contact={"first_name": f"Ouder {n}", "email": f"ouder{n}@example.be"},
        )
        for n in range(STORM)
    ]
    async with http_client(booking_server, STORM) as http:
        # Open the connections first, so the storm itself is 200 requests in flight at once.
        await asyncio.gather(*(http.get("/healthz") for _ in range(STORM)))
        responses = await asyncio.gather(
            *(http.post("/api/appointments", json=body) for body in bodies)
        )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: STORM - 1}, [
        r.text for r in responses if r.status_code not in (201, 409)
    ][:3]
    [winner] = [r for r in responses if r.status_code == 201]
    for refused in (r for r in responses if r.status_code == 409):
        error = error_of(refused.json())
        assert error["code"] == "slot_taken"
        fresh = {datetime.fromisoformat(slot["starts_at"]) for slot in error["details"]["slots"]}
        assert fresh and wanted not in fresh
    assert await count(db, Appointment) == 1
    booked = await db.scalar(select(Appointment))
    assert booked is not None and str(booked.id) == winner.json()["id"]
    assert booked.first_name == "Ouder " + str(
        next(n for n, r in enumerate(responses) if r.status_code == 201)
    )
    confirmations = (await db.scalars(select(OutboxJob.payload))).all()
    assert [p["kind"] for p in confirmations].count("confirmation") == 1


async def test_same_idempotency_key_over_real_http_books_once(
    booking_server: str, db: AsyncSession
) -> None:
    staff, school, day = await counsellor_with_open_day(db)
    body = booking_body(school, staff, at(day, 14))
    key = {"Idempotency-Key": str(uuid.uuid4())}
    async with http_client(booking_server, 5) as http:
        responses = await asyncio.gather(
            *(http.post("/api/appointments", json=body, headers=key) for _ in range(5))
        )
        assert [r.status_code for r in responses] == [201] * 5
        assert len({r.content for r in responses}) == 1
        assert Counter(r.headers.get("Idempotent-Replayed") for r in responses) == {
            "true": 4,
            None: 1,
        }
        other = {**body, "starts_at": at(day, 15).isoformat()}
        reused = await http.post("/api/appointments", json=other, headers=key)
        assert reused.status_code == 422
        assert error_of(reused.json())["code"] == "idempotency_key_reused"
    assert await count(db, Appointment) == 1

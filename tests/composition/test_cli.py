"""The ``clb`` command as a person runs it: real processes, real servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.org.models import Centre, Location, School
from scheduling.availability.models import AvailabilityRule
from tests.conftest import ROOT, ServerUrls, free_port, wait_until_ready


def clb(
    *args: str, env: dict[str, str], stdin: str = "", timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """``clb ARGS`` as a process (``python -m composition``, what the console script runs)."""
    return subprocess.run(
        [sys.executable, "-m", "composition", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli_env(
    database_url: str, server_urls: ServerUrls, redis_namespace: str, tmp_path: Path
) -> dict[str, str]:
    """The environment an administrator gives ``clb`` on this run's database and Redis, with
    ``tmp_path`` as the data folder."""
    return {
        **os.environ,
        "CLB_DATABASE_URL": database_url,
        "CLB_REDIS_URL": server_urls.redis_url,
        "CLB_REDIS_NAMESPACE": redis_namespace,
        "CLB_DATA_DIR": str(tmp_path),
        "CLB_LOG_LEVEL": "WARNING",
    }


@pytest.mark.slow
async def test_demo_loads_centres_schools_and_staff_once(
    cli_env: dict[str, str], tmp_path: Path, db: AsyncSession
) -> None:
    first = clb("demo", env=cli_env)
    assert first.returncode == 0, first.stderr
    assert "@demo.clb.example" in first.stdout
    assert (tmp_path / "demo-logins.txt").stat().st_mode & 0o077 == 0
    assert await db.scalar(select(func.count()).select_from(Centre)) == 3
    assert 18 <= (await db.scalar(select(func.count()).select_from(School)) or 0) <= 25
    assert await db.scalar(select(func.count()).select_from(Location)) == 6
    assert await db.scalar(select(func.count()).select_from(StaffAccount)) == 10
    # Every demo counsellor can be booked: weekly hours on five weekdays.
    rules = await db.scalar(select(func.count(AvailabilityRule.counsellor_id.distinct())))
    assert rules == 8
    second = clb("demo", env=cli_env)
    assert second.returncode == 0
    assert "already has data" in second.stdout
    assert "@demo.clb.example" not in second.stdout


@pytest.mark.slow
async def test_demo_is_refused_in_production(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CLB_ENV": "production",
        "CLB_SECRET_KEY": "s" * 40,
        "CLB_DATA_DIR": str(tmp_path),
    }
    result = clb("demo", env=env, timeout=60)
    assert result.returncode == 2
    assert "CLB_ENV=production" in result.stderr


@pytest.mark.slow
async def test_create_user_reads_the_password_from_stdin_and_can_log_in(
    cli_env: dict[str, str], db: AsyncSession
) -> None:
    db.add(Centre(slug="clb-gent", name="CLB Gent", phone=None, email=None, website=None))
    await db.commit()
    args = [
        "create-user",
        "--email",
        "Mia.Vos@CLB.example",
        "--name",
        "Mia Vos",
        "--centre",
        "clb-gent",
        "--role",
        "counsellor",
        "--role",
        "coordinator",
        "--password-stdin",
    ]
    created = clb(*args, env=cli_env, stdin="een-sterk-wachtwoord\n")
    assert created.returncode == 0, created.stderr
    account = await db.scalar(
        select(StaffAccount).where(StaffAccount.email == "mia.vos@clb.example")
    )
    assert account is not None
    assert account.display_name == "Mia" and account.roles == ["coordinator", "counsellor"]
    assert account.password_hash is not None and account.password_hash.startswith("$argon2id$")

    duplicate = clb(*args, env=cli_env, stdin="een-sterk-wachtwoord\n")
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    short = clb(*args[:-1], "--password-stdin", env=cli_env, stdin="kort\n")
    assert short.returncode == 2 and "password" in short.stderr.lower()
    unknown = clb(
        *[a if a != "clb-gent" else "clb-nergens" for a in args],
        env=cli_env,
        stdin="een-sterk-wachtwoord\n",
    )
    assert unknown.returncode == 2 and "Unknown centre" in unknown.stderr
    assert "Traceback" not in short.stderr + unknown.stderr + duplicate.stderr


@pytest.mark.slow
def test_serve_without_urls_runs_on_embedded_postgres_and_redis_and_keeps_data(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLB_")}
    env.update({"CLB_DATA_DIR": str(tmp_path / "var"), "CLB_LOG_LEVEL": "WARNING"})
    seeded = clb("demo", env=env)
    assert seeded.returncode == 0, seeded.stderr

    for _ in range(2):  # the second start finds the same data
        port = free_port()
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "composition", "serve", "--port", str(port)], cwd=ROOT, env=env
        )
        try:
            wait_until_ready(f"http://127.0.0.1:{port}", process, timeout=60)
            print(f"embedded start-up to /readyz: {time.monotonic() - started:.2f} s")
            login = httpx.get(f"http://127.0.0.1:{port}/console/login")
            assert login.status_code == 200
        finally:
            process.terminate()
            assert process.wait(timeout=30) == 0
    again = clb("demo", env=env)
    assert "already has data" in again.stdout
    # Servers were stopped with the app: nothing is left running on the data folder.
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""

"""``clb import-schools`` as an administrator runs it: a real process on this run's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import Centre, Location, School
from development.demo import SAMPLE_CENTRES, SAMPLE_SCHOOLS
from tests.composition.test_cli import clb, cli_env

__all__ = ["cli_env"]  # the fixture, used by name

LISTS = ("--centres", str(SAMPLE_CENTRES), "--schools", str(SAMPLE_SCHOOLS))


@pytest.mark.slow
async def test_the_command_imports_checks_and_refuses_as_it_says(
    cli_env: dict[str, str], tmp_path: Path, db: AsyncSession
) -> None:
    checked = clb("import-schools", *LISTS, "--dry-run", env=cli_env)
    assert checked.returncode == 0, checked.stderr
    assert "CLBs: 3 added, 0 updated, 0 unchanged, 0 skipped" in checked.stdout
    assert "Dry run: nothing was saved." in checked.stdout
    assert await db.scalar(select(func.count()).select_from(Centre)) == 0

    imported = clb("import-schools", *LISTS, env=cli_env)
    assert imported.returncode == 0, imported.stderr
    assert "schools: 24 added" in imported.stdout
    again = clb("import-schools", *LISTS, env=cli_env)
    assert "CLBs: 0 added, 0 updated, 3 unchanged, 0 skipped" in again.stdout
    assert "schools: 0 added, 0 updated, 24 unchanged, 0 skipped" in again.stdout
    assert await db.scalar(select(func.count()).select_from(School)) == 24
    assert await db.scalar(select(func.count()).select_from(Location)) == 6

    broken = tmp_path / "kapot.csv"
    broken.write_bytes(b"\x00\x01\x02")
    refused = clb("import-schools", "--centres", str(broken), env=cli_env)
    assert refused.returncode == 1
    assert "Cannot read the list: this is not a text (CSV) file" in refused.stderr
    assert "Traceback" not in refused.stderr
    # An endless source is refused at the limit, not read until the OOM killer ends it.
    endless = clb("import-schools", "--schools", "/dev/zero", env=cli_env)
    assert endless.returncode == 1, endless.stderr
    assert "Cannot read the list: /dev/zero: the file is larger than 50 MB" in endless.stderr
    assert "Traceback" not in endless.stderr
    nothing = clb("import-schools", env=cli_env)
    assert nothing.returncode == 2 and "--centres" in nothing.stderr
    level = clb("import-schools", "--schools", str(SAMPLE_SCHOOLS), "--level", "hoog", env=cli_env)
    assert level.returncode == 2 and "basis" in level.stderr

"""``clb import-schools``: read the files, import them in one transaction, print the counts
and every skipped row (docs/school-lists.md). Exit code 1 when a file cannot be read or
holds no usable row; then nothing is saved."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from clb.db import Pooling, create_engine, create_sessionmaker
from clb.org.list_files import (
    MAX_BYTES,
    TOO_LARGE,
    ListUnreadable,
    ParsedList,
    read_centres,
    read_schools,
)
from clb.org.list_rows import CentreRow, SchoolRow
from clb.org.models import SchoolLevel
from clb.org.school_lists import Counts, ImportResult, import_lists

Print = Callable[[str], None]


def _read(path: Path) -> bytes:
    """The file's bytes, refused once more than MAX_BYTES come: never more is read, so a
    huge file, a device (``/dev/zero``) or a pipe costs no more memory than a list may take."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ListUnreadable(f"{path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise ListUnreadable(f"{path}: {TOO_LARGE}")
    return data


def read_files(
    centres_path: Path | None,
    schools_path: Path | None,
    default_level: SchoolLevel | None = None,
) -> tuple[ParsedList[CentreRow] | None, ParsedList[SchoolRow] | None]:
    """Both lists read (either may be left out); ListUnreadable when one cannot be read."""
    centres = schools = None
    if centres_path is not None:
        centres = read_centres(_read(centres_path), centres_path.name)
    if schools_path is not None:
        schools = read_schools(_read(schools_path), schools_path.name, default_level=default_level)
    return centres, schools


def summary(what: str, counts: Counts) -> str:
    line = (
        f"{what}: {counts.added} added, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.skipped} skipped"
    )
    if what == "schools":
        line += f" ({counts.moved} moved to another CLB)"
    return line


def report(result: ImportResult, show: Print) -> None:
    show(summary("CLBs", result.centres))
    show(summary("schools", result.schools))
    if result.problems:
        show("Skipped rows:")
        for problem in result.problems:
            show(f"  {problem}")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


async def run_import(database_url: str, args: argparse.Namespace, pooling: Pooling) -> int:
    """``clb import-schools --centres … --schools … [--level …] [--dry-run]``."""
    if args.centres is None and args.schools is None:
        _stderr("Give --centres, --schools or both (docs/school-lists.md).")
        return 2
    level = None
    if args.level:
        try:
            level = SchoolLevel(args.level)
        except ValueError:
            _stderr(f"--level: choose from {', '.join(SchoolLevel)}.")
            return 2
    return await import_files(
        database_url,
        centres_path=args.centres,
        schools_path=args.schools,
        dry_run=args.dry_run,
        default_level=level,
        pooling=pooling,
    )


async def import_files(
    database_url: str,
    *,
    centres_path: Path | None,
    schools_path: Path | None,
    dry_run: bool = False,
    default_level: SchoolLevel | None = None,
    pooling: Pooling = "session",
    show: Print = print,
    complain: Print = _stderr,
) -> int:
    """0 when the lists were imported (or checked, with ``dry_run``), 1 when nothing could
    be read; then nothing is saved."""
    try:
        centres, schools = read_files(centres_path, schools_path, default_level)
    except ListUnreadable as exc:
        complain(f"Cannot read the list: {exc}. Nothing was imported.")
        return 1
    rows = len(centres.rows if centres else []) + len(schools.rows if schools else [])
    engine = create_engine(database_url, pooling=pooling)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await import_lists(session, centres, schools)
            if dry_run or not rows:
                await session.rollback()
            else:
                await session.commit()
    finally:
        await engine.dispose()
    report(result, show)
    if not rows:
        complain("No usable row in the lists. Nothing was imported.")
        return 1
    if dry_run:
        show("Dry run: nothing was saved.")
    return 0

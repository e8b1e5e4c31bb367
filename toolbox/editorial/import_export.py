"""Bulk editing: tools out as CSV or JSON, and back in, created or updated by slug.

An import checks every row: good rows are saved (each in its own savepoint, so one row
failing in the database loses no others), bad rows come back with their line and reason.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.errors import ClbError
from toolbox.catalogue.models import Tool, ToolStatus
from toolbox.editorial.fields import (
    RECORD_FIELDS,
    ROW_MESSAGE,
    Problem,
    ToolFields,
    _,
    is_valid_slug,
    problems_from,
    record,
    slugify,
)
from toolbox.editorial.repository import find_by_slug
from toolbox.editorial.service import (
    apply_fields,
    audit_tool,
    new_tool,
    require_editor,
    write_version,
)

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 5000
LIST_FIELDS = ("themes", "audiences", "levels", "languages")
# A cell starting with one of these is a formula to a spreadsheet: exported with a leading
# apostrophe (which the import removes again).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SAVE_FAILED = _("Deze rij kon niet bewaard worden. Controleer de gegevens en probeer opnieuw.")
TOO_MANY_CELLS = _("Deze regel heeft meer kolommen dan de eerste regel.")


class InvalidImportFile(ClbError):
    status = 422
    code = "invalid_import_file"
    message = "Dit bestand kon niet gelezen worden als CSV of JSON."

    def __init__(self, message: str | None = None, *, line: int | None = None) -> None:
        super().__init__(message, details={"line": line} if line else None)
        self.line = line


# --- Export --------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = ";".join(value) if isinstance(value, list) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_csv(tools: Iterable[Tool]) -> str:
    """Lists joined with ";"; a byte order mark so spreadsheets read the UTF-8 right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(RECORD_FIELDS)
    for tool in tools:
        data = record(tool)
        writer.writerow([_cell(data[name]) for name in RECORD_FIELDS])
    return "\ufeff" + buffer.getvalue()


def export_json(tools: Iterable[Tool]) -> str:
    return json.dumps([record(tool) for tool in tools], ensure_ascii=False, indent=2) + "\n"


# --- Reading a file ------------------------------------------------------------------------

Row = tuple[int, Any]  # (line where the row starts, its data)


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2].startswith(_FORMULA_START) else value


def read_csv(text: str) -> list[Row]:
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to Dutch save with ";" between columns.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise InvalidImportFile("Het bestand is leeg.") from None
    if "title" not in header:
        raise InvalidImportFile(
            "De eerste regel moet de kolomnamen bevatten, zoals bij een export.", line=1
        )
    rows: list[Row] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(cells) > len(header):
                    rows.append((line, None))
                else:
                    values = {k: _uncell(v) for k, v in zip(header, cells, strict=False)}
                    rows.append((line, values))
            line = reader.line_num + 1
    except csv.Error:
        raise InvalidImportFile("Dit CSV-bestand bevat een fout.", line=line) from None
    return rows


def read_json(text: str) -> list[Row]:
    """Each element of the top-level list with the line it starts on."""
    decoder = json.JSONDecoder()
    position, line, counted = 0, 1, 0

    def skip_space(at: int) -> int:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        return at

    def line_at(at: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, at)
        counted = at
        return line

    position = skip_space(position)
    if text[position : position + 1] != "[":
        raise InvalidImportFile("Een JSON-bestand moet een lijst van hulpmiddelen zijn.")
    position = skip_space(position + 1)
    rows: list[Row] = []
    while not text.startswith("]", position):
        if rows:
            if not text.startswith(",", position):
                raise InvalidImportFile("Dit JSON-bestand bevat een fout.", line=line_at(position))
            position = skip_space(position + 1)
        start = line_at(position)
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            raise InvalidImportFile("Dit JSON-bestand bevat een fout.", line=start) from None
        rows.append((start, item))
        position = skip_space(position)
        if position >= len(text):
            raise InvalidImportFile("Dit JSON-bestand bevat een fout.", line=line_at(position))
    if skip_space(position + 1) < len(text):
        raise InvalidImportFile("Dit JSON-bestand bevat een fout.", line=line_at(position))
    return rows


def read_rows(filename: str, content: bytes) -> list[Row]:
    if not content.strip():
        raise InvalidImportFile("Het bestand is leeg.")
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidImportFile("Het bestand is te groot: hoogstens 2 MB.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidImportFile("Sla het bestand op als UTF-8 en probeer opnieuw.") from None
    name = filename.lower()
    is_json = name.endswith(".json") or (
        not name.endswith(".csv") and text.lstrip().startswith(("[", "{"))
    )
    rows = read_json(text) if is_json else read_csv(text)
    if not rows:
        raise InvalidImportFile("Er staan geen hulpmiddelen in dit bestand.")
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidImportFile("Er staan te veel rijen in dit bestand: hoogstens 5000.")
    return rows


# --- Importing -----------------------------------------------------------------------------


class ImportedTool(ToolFields):
    """One row: the tool's fields, and optionally its slug, status and review date."""

    slug: str | None = None
    status: str | None = None
    reviewed_on: date | None = None

    @field_validator("slug", "status", "reviewed_on", mode="before")
    @classmethod
    def _blank_extra_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_slug(value):
            raise PydanticCustomError("bad_slug", "not a slug")
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: str | None) -> str | None:
        if value is not None and value not in {s.value for s in ToolStatus}:
            raise PydanticCustomError("unknown_choice", "unknown {value}", {"value": value[:60]})
        return value


@dataclass(frozen=True)
class RejectedRow:
    line: int
    problems: list[Problem]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.created + self.updated

    def reasons(self) -> list[tuple[int, str]]:
        """(line, reason) per problem, in Dutch."""
        return [(row.line, p.text()) for row in self.rejected for p in row.problems]


async def _save(session: AsyncSession, item: ImportedTool, actor: StaffAccount, note: str) -> str:
    tool = await find_by_slug(session, item.slug) if item.slug else None
    if tool is None:
        status = item.status or ToolStatus.draft.value
        tool = await new_tool(session, item, status, item.slug or slugify(item.title))
        tool.reviewed_on = item.reviewed_on
        outcome, before = "created", None
    else:
        before = record(tool)
        apply_fields(tool, item)
        tool.reviewed_on = item.reviewed_on or tool.reviewed_on
        tool.status = item.status or tool.status
        if record(tool) == before:
            return "unchanged"
        outcome = "updated"
    await write_version(session, tool, "imported", actor, note)
    if tool.status in ("published", "archived") and (before or {}).get("status") != tool.status:
        audit_tool(session, tool, tool.status, actor)
    return outcome


async def import_rows(
    session: AsyncSession, rows: Sequence[Row], actor: StaffAccount, *, source: str = ""
) -> ImportReport:
    require_editor(actor, _("Alleen redacteurs kunnen hulpmiddelen importeren."))
    report = ImportReport()
    note = f"import {source}".strip()
    for line, data in rows:
        if data is None:
            report.rejected.append(RejectedRow(line, [Problem("", TOO_MANY_CELLS)]))
            continue
        if not isinstance(data, dict):
            report.rejected.append(RejectedRow(line, [Problem("", ROW_MESSAGE)]))
            continue
        try:
            item = ImportedTool.model_validate(data)
        except ValidationError as exc:
            report.rejected.append(RejectedRow(line, problems_from(exc)))
            continue
        try:
            async with session.begin_nested():
                outcome = await _save(session, item, actor, note)
        except SQLAlchemyError:
            log.warning("toolbox import: row %s not saved", line, exc_info=True)
            report.rejected.append(RejectedRow(line, [Problem("", SAVE_FAILED)]))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


async def import_file(
    session: AsyncSession, filename: str, content: bytes, actor: StaffAccount
) -> ImportReport:
    return await import_rows(session, read_rows(filename, content), actor, source=filename[:200])

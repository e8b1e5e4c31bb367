"""The import of the education department's lists of CLBs and schools: an idempotent upsert.

A centre or school is found by its institution number; one the platform already had without
a number (added by hand, or the demo) is adopted by its slug (a centre) or its name and
postcode (a school). A second import of the same files changes nothing; a school whose CLB
changed moves to that CLB. Nothing is deleted: a location or school that is no longer listed
stays (appointments and staff may point to it). The caller commits (or rolls back: a dry run).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.list_files import ParsedList
from clb.org.list_rows import CentreRow, Problem, SchoolRow
from clb.org.models import Centre, Location, School

SLUG_MAX = 80


@dataclass
class Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    moved: int = 0  # schools only: now with another CLB (counted as updated too)


@dataclass
class ImportResult:
    centres: Counts = field(default_factory=Counts)
    schools: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)


def slug_of(name: str) -> str:
    """ "CLB Kempen-Limburg" -> "clb-kempen-limburg"."""
    decomposed = unicodedata.normalize("NFKD", name.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:SLUG_MAX] or "clb"


def _set(row: object, changes: dict[str, object]) -> bool:
    """Set the attributes that differ; True if any did."""
    changed = False
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def import_lists(
    session: AsyncSession,
    centres: ParsedList[CentreRow] | None,
    schools: ParsedList[SchoolRow] | None,
) -> ImportResult:
    """Upsert the centres (with their locations), then the schools. An optional field the
    CLB list's header lacks (phone, e-mail, website, opening hours) is left as it was."""
    result = ImportResult()
    if centres is not None:
        result.problems += centres.problems
        result.centres.skipped += len(centres.problems)
        await _import_centres(session, centres, result)
        await session.flush()
    if schools is not None:
        result.problems += schools.problems
        result.schools.skipped += len(schools.problems)
        await _import_schools(session, schools, result)
        await session.flush()
    result.problems.sort(key=lambda problem: (problem.label, problem.line))
    return result


async def _import_centres(
    session: AsyncSession, parsed: ParsedList[CentreRow], result: ImportResult
) -> None:
    status: dict[str, str] = {}  # number -> added, updated or unchanged
    seen_locations: dict[tuple[str, str], int] = {}
    centres = await _known_centres(session, parsed.rows)
    slugs = set(await session.scalars(select(Centre.slug)))
    for row in parsed.rows:
        place = (row.number, row.location.lower())
        if place in seen_locations:
            reason = f"the same CLB and location as line {seen_locations[place]}"
            result.problems.append(Problem(parsed.label, row.line, reason))
            result.centres.skipped += 1
            continue
        seen_locations[place] = row.line
        centre = centres.get(row.number)
        if centre is None:
            centre = centres[row.number] = _new_centre(row, slugs)
            session.add(centre)
            status[row.number] = "added"
        elif row.number not in status:
            updated = _update_centre(centre, row, parsed.columns)
            status[row.number] = "updated" if updated else "unchanged"
        if await _upsert_location(session, centre, row, parsed.columns):
            status[row.number] = "added" if status[row.number] == "added" else "updated"
    for state in status.values():
        setattr(result.centres, state, getattr(result.centres, state) + 1)


async def _known_centres(session: AsyncSession, rows: Sequence[CentreRow]) -> dict[str, Centre]:
    """The centres the rows name that exist: by number, or by slug when without a number."""
    numbers = {row.number for row in rows}
    found = {
        centre.institution_number: centre
        for centre in await session.scalars(
            select(Centre).where(Centre.institution_number.in_(numbers))
        )
        if centre.institution_number
    }
    wanted = {slug_of(row.name): row.number for row in rows if row.number not in found}
    if wanted:
        for centre in await session.scalars(
            select(Centre).where(Centre.slug.in_(wanted), Centre.institution_number.is_(None))
        ):
            found.setdefault(wanted[centre.slug], centre)
    return found


def _new_centre(row: CentreRow, slugs: set[str]) -> Centre:
    slug = slug_of(row.name)
    if slug in slugs:
        slug = f"{slug[: SLUG_MAX - len(row.number) - 1]}-{row.number}"
    slugs.add(slug)
    return Centre(
        id=uuid.uuid4(),
        slug=slug,
        institution_number=row.number,
        name=row.name,
        phone=row.phone,
        email=row.email,
        website=row.website,
    )


def _update_centre(centre: Centre, row: CentreRow, columns: frozenset[str]) -> bool:
    changes: dict[str, object] = {"institution_number": row.number, "name": row.name}
    for name in ("phone", "email", "website"):
        if name in columns:
            changes[name] = getattr(row, name)
    return _set(centre, changes)


async def _upsert_location(
    session: AsyncSession, centre: Centre, row: CentreRow, columns: frozenset[str]
) -> bool:
    """Add or update the row's location (found by its name within the centre)."""
    location = await session.scalar(
        select(Location).where(
            Location.centre_id == centre.id, func.lower(Location.name) == row.location.lower()
        )
    )
    values: dict[str, object] = {
        "street": row.street,
        "postcode": row.postcode,
        "municipality": row.municipality,
    }
    if "opening_info" in columns:
        values["opening_info"] = row.opening_info
    if location is None:
        session.add(Location(centre_id=centre.id, name=row.location, **values))
        return True
    return _set(location, values)


# --- schools ----------------------------------------------------------------------------------


async def _import_schools(
    session: AsyncSession, parsed: ParsedList[SchoolRow], result: ImportResult
) -> None:
    centre_ids = await _centre_ids(session, {row.centre_number for row in parsed.rows})
    schools = await _known_schools(session, parsed.rows)
    first_line: dict[str, int] = {}
    for row in parsed.rows:
        problem = None
        if row.number in first_line:
            problem = f"the same institution number as line {first_line[row.number]}"
        elif row.centre_number not in centre_ids:
            problem = f"CLB number {row.centre_number} is in neither the CLB list nor the database"
        if problem is not None:
            result.problems.append(Problem(parsed.label, row.line, problem))
            result.schools.skipped += 1
            continue
        first_line[row.number] = row.line
        centre_id = centre_ids[row.centre_number]
        school = schools.get(row.number)
        if school is None:
            session.add(
                School(
                    institution_number=row.number,
                    centre_id=centre_id,
                    name=row.name,
                    municipality=row.municipality,
                    postcode=row.postcode,
                    level=row.level,
                )
            )
            result.schools.added += 1
            continue
        moved = school.centre_id != centre_id
        values = {
            "institution_number": row.number,
            "centre_id": centre_id,
            "name": row.name,
            "municipality": row.municipality,
            "postcode": row.postcode,
            "level": row.level,
        }
        if _set(school, values):
            result.schools.updated += 1
            result.schools.moved += int(moved)
        else:
            result.schools.unchanged += 1


async def _centre_ids(session: AsyncSession, numbers: set[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        select(Centre.institution_number, Centre.id).where(Centre.institution_number.in_(numbers))
    )
    return {number: centre_id for number, centre_id in rows if number}


async def _known_schools(session: AsyncSession, rows: Sequence[SchoolRow]) -> dict[str, School]:
    """The schools the rows name that exist: by number, or by name and postcode when the
    school has no number yet."""
    numbers = {row.number for row in rows}
    found = {
        school.institution_number: school
        for school in await session.scalars(
            select(School).where(School.institution_number.in_(numbers))
        )
        if school.institution_number
    }
    unnumbered = {
        (school.name.lower(), school.postcode): school
        for school in await session.scalars(
            select(School).where(School.institution_number.is_(None))
        )
    }
    for row in rows:
        if row.number not in found and (
            adopted := unnumbered.pop((row.name.lower(), row.postcode), None)
        ):
            found[row.number] = adopted
    return found

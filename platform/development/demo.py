"""A realistic demo set: three CLBs with locations, schools and staff.

Names of centres and schools are made up; municipalities are real. They come from the sample
lists in sample_lists/ (the department's CSV format, docs/school-lists.md). Demo passwords are
random per load and only ever printed by the demo command (and kept in the data folder so
``make run`` can show them again). Refused in production.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Role, StaffAccount
from clb.auth.passwords import hash_password_async
from clb.org.list_files import read_centres, read_schools
from clb.org.models import Centre, Location
from clb.org.school_lists import import_lists
from scheduling.availability.models import AvailabilityRule

# The demo's centres and schools: a small sample in the format of the education department's
# lists, loaded through the same import as the real ones (clb.org.school_lists).
SAMPLE_LISTS = Path(__file__).resolve().parent / "sample_lists"
SAMPLE_CENTRES = SAMPLE_LISTS / "clbs.csv"
SAMPLE_SCHOOLS = SAMPLE_LISTS / "scholen.csv"

# (centre slug, e-mail, full name, display name, roles)
STAFF = [
    ("clb-scheldeland", "an.peeters", "An Peeters", "An", [Role.counsellor]),
    ("clb-scheldeland", "youssef.elamrani", "Youssef El Amrani", "Youssef", [Role.counsellor]),
    ("clb-scheldeland", "els.janssens", "Els Janssens", "Els", [Role.counsellor, Role.coordinator]),
    ("clb-leiestreek", "pieter.devos", "Pieter De Vos", "Pieter", [Role.counsellor]),
    ("clb-leiestreek", "lien.maes", "Lien Maes", "Lien", [Role.counsellor]),
    ("clb-leiestreek", "koen.willems", "Koen Willems", "Koen", [Role.counsellor, Role.coordinator]),
    ("clb-kempen-limburg", "sara.claes", "Sara Claes", "Sara", [Role.counsellor]),
    ("clb-kempen-limburg", "tom.goossens", "Tom Goossens", "Tom", [Role.counsellor]),
    ("clb-kempen-limburg", "nora.wouters", "Nora Wouters", "Nora", [Role.editor]),
    ("clb-scheldeland", "beheer", "Platformbeheer", "Beheer", [Role.admin]),
]
DEMO_DOMAIN = "demo.clb.example"
READ_ALONG_CENTRE = "clb-scheldeland"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    roles: list[str]


async def demo_loaded(session: AsyncSession) -> bool:
    count = await session.scalar(select(func.count()).select_from(Centre))
    return bool(count)


async def load_demo(session: AsyncSession) -> list[DemoLogin]:
    """Insert the demo set into an empty database; returns the staff logins created."""
    centres = await load_sample_lists(session)
    for centre in centres.values():
        # One demo centre shows read-along (and the privacy notice that goes with it).
        centre.chat_read_along = centre.slug == READ_ALONG_CENTRE
        # The demo logs in with the printed passwords alone; a real centre requires a
        # second factor unless a coordinator turns that off (/console/accounts).
        centre.second_factor_required = False
    await session.flush()
    logins = []
    for slug, local, full_name, display_name, roles in STAFF:
        password = secrets.token_urlsafe(12)
        email = f"{local}@{DEMO_DOMAIN}"
        account = StaffAccount(
            email=email,
            full_name=full_name,
            display_name=display_name,
            centre_id=centres[slug].id,
            roles=[r.value for r in roles],
            password_hash=await hash_password_async(password),
        )
        session.add(account)
        await session.flush()
        if Role.counsellor in roles:
            await _add_availability(session, account, centres[slug])
        logins.append(DemoLogin(email, password, [r.value for r in roles]))
    await session.flush()
    return logins


async def load_sample_lists(session: AsyncSession) -> dict[str, Centre]:
    """The sample lists, imported; the centres by slug."""
    imported = await import_lists(
        session,
        read_centres(SAMPLE_CENTRES.read_bytes(), SAMPLE_CENTRES.name),
        read_schools(SAMPLE_SCHOOLS.read_bytes(), SAMPLE_SCHOOLS.name),
    )
    if imported.problems:  # the sample is ours: a problem in it is a bug
        raise ValueError("; ".join(str(problem) for problem in imported.problems))
    return {centre.slug: centre for centre in await session.scalars(select(Centre))}


# Weekly hours of every demo counsellor: (weekday, from, to, modes, at the first location?)
DEMO_HOURS = [
    (0, time(9), time(12), ["office", "phone", "video"], True),
    (0, time(13), time(16), ["school", "phone", "chat"], False),
    (1, time(9), time(12), ["office", "phone", "video"], True),
    (2, time(9), time(12), ["office", "phone", "chat"], True),
    (3, time(13), time(17), ["office", "school", "phone", "video", "chat"], True),
    (4, time(9), time(12), ["phone", "video", "chat"], False),
]


async def _add_availability(session: AsyncSession, account: StaffAccount, centre: Centre) -> None:
    location = await session.scalar(
        select(Location).where(Location.centre_id == centre.id).order_by(Location.name).limit(1)
    )
    for weekday, starts_at, ends_at, modes, at_location in DEMO_HOURS:
        session.add(
            AvailabilityRule(
                counsellor_id=account.id,
                weekday=weekday,
                starts_at=starts_at,
                ends_at=ends_at,
                modes=modes,
                location_id=location.id if at_location and location else None,
            )
        )

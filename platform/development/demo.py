"""A realistic demo set: three CLBs with locations, schools and staff.

Names of centres and schools are made up; municipalities are real. Demo passwords are
random per load and only ever printed by the demo command (and kept in the data folder so
``make run`` can show them again). Refused in production.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import Role, StaffAccount
from clb.auth.passwords import hash_password_async
from clb.org.models import Centre, Location, School, SchoolLevel
from scheduling.availability.models import AvailabilityRule

CENTRES = [
    {
        "slug": "clb-scheldeland",
        "name": "CLB Scheldeland",
        "phone": "03 200 10 10",
        "email": "onthaal@scheldeland.clb.example",
        "locations": [
            ("Hoofdzetel Antwerpen", "Lange Lozanastraat 42", "2018", "Antwerpen"),
            ("Antenne Mechelen", "Hanswijkstraat 7", "2800", "Mechelen"),
        ],
        "schools": [
            ("Sint-Jozefscollege", "Antwerpen", "2018", SchoolLevel.secundair),
            ("Basisschool De Regenboog", "Berchem", "2600", SchoolLevel.basis),
            ("Atheneum Zuid", "Antwerpen", "2020", SchoolLevel.secundair),
            ("Vrije Basisschool Klimop", "Mortsel", "2640", SchoolLevel.basis),
            ("Technisch Instituut Dijle", "Mechelen", "2800", SchoolLevel.secundair),
            ("BuSO De Brug", "Mechelen", "2800", SchoolLevel.buitengewoon_secundair),
            ("Gemeentelijke Basisschool 't Kasteeltje", "Boom", "2850", SchoolLevel.basis),
        ],
    },
    {
        "slug": "clb-leiestreek",
        "name": "CLB Leiestreek",
        "phone": "09 300 20 20",
        "email": "onthaal@leiestreek.clb.example",
        "locations": [
            ("Vestiging Gent", "Kortrijksesteenweg 210", "9000", "Gent"),
            ("Vestiging Kortrijk", "Doorniksewijk 66", "8500", "Kortrijk"),
        ],
        "schools": [
            ("Sint-Barbaracollege Demo", "Gent", "9000", SchoolLevel.secundair),
            ("Basisschool Het Molentje", "Gentbrugge", "9050", SchoolLevel.basis),
            ("Leiedal Campus", "Kortrijk", "8500", SchoolLevel.secundair),
            ("Stedelijke Basisschool Overleie", "Kortrijk", "8500", SchoolLevel.basis),
            ("Kunsthumaniora Rabot", "Gent", "9000", SchoolLevel.secundair),
            (
                "Buitengewoon Basisonderwijs De Vlinder",
                "Deinze",
                "9800",
                SchoolLevel.buitengewoon_basis,
            ),
            ("Centrum voor Volwassenenonderwijs Leie", "Gent", "9000", SchoolLevel.volwassenen),
        ],
    },
    {
        "slug": "clb-kempen-limburg",
        "name": "CLB Kempen-Limburg",
        "phone": "011 40 30 30",
        "email": "onthaal@kempenlimburg.clb.example",
        "locations": [
            ("Vestiging Hasselt", "Kempische Steenweg 300", "3500", "Hasselt"),
            ("Vestiging Geel", "Nieuwstraat 12", "2440", "Geel"),
        ],
        "schools": [
            ("Heilig-Hartcollege Demo", "Hasselt", "3500", SchoolLevel.secundair),
            ("Basisschool De Zonnebloem", "Genk", "3600", SchoolLevel.basis),
            ("Kempisch Atheneum", "Geel", "2440", SchoolLevel.secundair),
            ("Vrije Basisschool Sint-Dimpna", "Geel", "2440", SchoolLevel.basis),
            ("Technicum Noord-Limburg", "Lommel", "3920", SchoolLevel.secundair),
            ("Basisschool De Linde", "Beringen", "3580", SchoolLevel.basis),
        ],
    },
]

OPENING_INFO = "Ma–vr 8.30–12.00 en 13.00–16.30, wo-namiddag gesloten. Ook op afspraak."

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
    centres: dict[str, Centre] = {}
    for data in CENTRES:
        centre = Centre(
            slug=data["slug"],
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            website=None,
            # One demo centre shows read-along (and the privacy notice that goes with it).
            chat_read_along=data["slug"] == READ_ALONG_CENTRE,
            # The demo logs in with the printed passwords alone; a real centre requires a
            # second factor unless a coordinator turns that off (/console/accounts).
            second_factor_required=False,
        )
        session.add(centre)
        await session.flush()
        centres[centre.slug] = centre
        for name, street, postcode, municipality in data["locations"]:
            session.add(
                Location(
                    centre_id=centre.id,
                    name=name,
                    street=street,
                    postcode=postcode,
                    municipality=municipality,
                    opening_info=OPENING_INFO,
                )
            )
        for name, municipality, postcode, level in data["schools"]:
            session.add(
                School(
                    centre_id=centre.id,
                    name=name,
                    municipality=municipality,
                    postcode=postcode,
                    level=level,
                )
            )
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

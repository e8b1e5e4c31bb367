"""Counsellors set their weekly hours, date overrides and booking policy; coordinators set
their centre's closed periods. Every form refuses bad input whole, and what is saved
changes the free slots the booking service offers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.org.models import Centre, Location, School
from clb.services import Services
from scheduling.appointments import repository
from scheduling.availability import offers
from scheduling.availability.models import (
    AvailabilityOverride,
    AvailabilityRule,
    BookingPolicy,
    ClosedPeriod,
)
from tests.conftest import make_centre, make_staff
from tests.scheduling.agenda_support import HTML, book_at, clock_at, post_form, switch_user
from tests.scheduling.booking_helpers import at, open_day
from tests.scheduling.support import add_location, bookable_counsellor

PAGE = "/console/beschikbaarheid"
CLOSED = "/console/afspraken/sluitingsdagen"
AN = "an@clb.example"
COORDINATOR = "cora@clb.example"


async def counsellor_without_hours(
    client: httpx.AsyncClient, db: AsyncSession
) -> tuple[StaffAccount, Location]:
    """A logged-in counsellor with a location at their centre and no weekly hours yet."""
    staff, _school = await bookable_counsellor(db, email=AN, weekdays=())
    location = await db.scalar(select(Location).where(Location.centre_id == staff.centre_id))
    assert location is not None
    await switch_user(client, AN)
    return staff, location


def weekly(*rows: tuple[str, str, str, list[str], str]) -> dict[str, object]:
    """The weekly form: rows of (weekday, from, to, modes, location id)."""
    data: dict[str, object] = {"rows": str(len(rows))}
    for i, (weekday, starts, ends, modes, location) in enumerate(rows):
        data |= {
            f"weekday_{i}": weekday,
            f"starts_at_{i}": starts,
            f"ends_at_{i}": ends,
            f"modes_{i}": modes,
            f"location_{i}": location,
        }
    return data


async def offered(
    db: AsyncSession, staff: StaffAccount, day: date, mode: str = "office", *, kind: str = "gesprek"
) -> list[datetime]:
    await db.commit()  # a fresh snapshot: see what the requests committed
    appointment_type = await repository.type_by_slug(db, kind)
    assert appointment_type is not None
    slots = await offers.offer(
        db,
        staff.centre_id,
        appointment_type,
        mode,
        now=utcnow(),
        first=day,
        last=day,
        counsellor_ids=[staff.id],
    )
    return [slot.starts_at for slot in slots]


async def rules_of(
    db: AsyncSession, staff: StaffAccount
) -> list[tuple[int, time, time, list[str]]]:
    await db.commit()
    rows = await db.scalars(
        select(AvailabilityRule)
        .where(AvailabilityRule.counsellor_id == staff.id)
        .order_by(AvailabilityRule.weekday, AvailabilityRule.starts_at)
    )
    return [(r.weekday, r.starts_at, r.ends_at, r.modes) for r in rows]


# --- Weekly hours --------------------------------------------------------------------------


async def test_saved_weekly_hours_change_the_free_slots(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, location = await counsellor_without_hours(client, db)
    tuesday = await open_day(db, staff.centre_id, weekday=1)
    assert await offered(db, staff, tuesday) == []
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "Mijn beschikbaarheid" in page.text and "Vestiging Gent" in page.text

    data = weekly(
        ("1", "09:00", "10:30", ["office", "phone"], str(location.id)),
        ("1", "13:00", "14:00", ["phone"], str(location.id)),
        ("", "", "", [], ""),
    )
    saved = await post_form(client, f"{PAGE}/weekschema", data, token_page=PAGE)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{PAGE}?bewaard=weekschema#week-title"
    assert await rules_of(db, staff) == [
        (1, time(9), time(10, 30), ["office", "phone"]),
        (1, time(13), time(14), ["phone"]),
    ]
    phone_rule = await db.scalar(
        select(AvailabilityRule).where(AvailabilityRule.starts_at == time(13))
    )
    assert phone_rule is not None and phone_rule.location_id is None  # only office needs one
    mornings = [at(tuesday, 9, m) for m in (0, 15, 30, 45)]
    assert await offered(db, staff, tuesday) == mornings
    assert await offered(db, staff, tuesday, "phone") == [
        *mornings,
        at(tuesday, 13),
        at(tuesday, 13, 15),
    ]
    assert await offered(db, staff, tuesday + timedelta(days=1)) == []

    page = await client.get(f"{PAGE}?bewaard=weekschema")
    assert "Je weekuren zijn bewaard." in page.text
    assert 'name="starts_at_0" type="time" value="09:00"' in page.text
    assert 'name="starts_at_1" type="time" value="13:00"' in page.text

    # Emptying a row's times removes that period; the rest replaces the old hours.
    data = weekly(
        ("1", "", "", ["office"], str(location.id)),
        ("3", "14:00", "16:00", ["video"], ""),
    )
    saved = await post_form(client, f"{PAGE}/weekschema", data, token_page=PAGE)
    assert saved.status_code == 303
    assert await rules_of(db, staff) == [(3, time(14), time(16), ["video"])]
    assert await offered(db, staff, tuesday, "phone") == []


async def test_weekly_hours_are_refused_whole_with_the_errors_next_to_the_fields(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, location = await counsellor_without_hours(client, db)
    first = weekly(("0", "09:00", "12:00", ["office"], str(location.id)))
    assert (
        await post_form(client, f"{PAGE}/weekschema", first, token_page=PAGE)
    ).status_code == 303
    other_centre = await make_centre(db, slug="clb-elders")
    foreign = await add_location(db, other_centre, "Elders", ("Straat 1", "2000", "Antwerpen"))
    await db.commit()

    data = weekly(
        ("0", "09:00", "12:00", ["office"], str(location.id)),  # 0: fine on its own
        ("0", "11:00", "13:00", ["phone"], ""),  # 1: overlaps row 0
        ("2", "09:00", "10:00", ["office"], ""),  # 2: office without a location
        ("3", "25:00", "26:00", ["phone"], ""),  # 3: no such times
        ("4", "14:00", "13:00", ["phone"], ""),  # 4: ends before it starts
        ("", "09:00", "10:00", ["phone"], ""),  # 5: no day
        ("4", "09:00", "10:00", [], ""),  # 6: no mode
        ("4", "10:00", "11:00", ["office"], str(foreign.id)),  # 7: another centre's location
        ("5", "10:00", "", ["phone"], ""),  # 8: no end
    )
    refused = await post_form(client, f"{PAGE}/weekschema", data, token_page=PAGE)
    assert refused.status_code == 422
    text = refused.text
    assert "Je weekuren zijn niet bewaard. Verbeter de fouten hieronder." in text
    expected = {
        "w1-starts_at": "Deze periode overlapt met een andere periode op dezelfde dag.",
        "w2-location": "Kies een vestiging: je biedt afspraken op het CLB aan.",
        "w3-starts_at": "Vul een geldig uur in, bijvoorbeeld 09:00.",
        "w3-ends_at": "Vul een geldig uur in, bijvoorbeeld 17:00.",
        "w4-ends_at": "Het einduur moet na het beginuur liggen.",
        "w5-weekday": "Kies een dag.",
        "w6-modes": "Kies minstens één manier van afspreken.",
        "w7-location": "Kies een vestiging uit de lijst.",
        "w8-ends_at": "Vul een einduur in.",
    }
    for key, message in expected.items():
        assert f'<p class="field-error" id="{key}-error">{message}</p>' in text, key
    typed = 'id="w1-starts_at" name="starts_at_1" type="time" value="11:00"'
    assert f'{typed} aria-describedby="w1-starts_at-error" aria-invalid="true"' in text
    assert 'id="w0-starts_at-error"' not in text
    assert 'value="25:00"' in text  # what was typed stays
    # Nothing of it was saved: the old hours hold.
    assert await rules_of(db, staff) == [(0, time(9), time(12), ["office"])]


# --- Date overrides ------------------------------------------------------------------------


async def test_overrides_replace_the_weekly_hours_of_their_date(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    staff, location = await counsellor_without_hours(client, db)
    hours = weekly(("1", "09:00", "12:00", ["office"], str(location.id)))
    await post_form(client, f"{PAGE}/weekschema", hours, token_page=PAGE)
    away_day = await open_day(db, staff.centre_id, weekday=1)
    other_day = await open_day(db, staff.centre_id, weekday=1, after=away_day)
    assert len(await offered(db, staff, away_day)) == 10

    add = f"{PAGE}/uitzonderingen"
    away = await post_form(
        client,
        add,
        {"day": away_day.isoformat(), "kind": "afwezig", "note": "Opleiding"},
        token_page=PAGE,
    )
    assert away.status_code == 303
    assert away.headers["location"] == f"{PAGE}?bewaard=uitzondering#overrides-title"
    assert await offered(db, staff, away_day) == []

    afternoon = {
        "day": other_day.isoformat(),
        "kind": "uren",
        "starts_at": "14:00",
        "ends_at": "15:00",
        "modes": ["office", "phone"],
        "location": str(location.id),
    }
    assert (await post_form(client, add, afternoon, token_page=PAGE)).status_code == 303
    assert await offered(db, staff, other_day) == [at(other_day, 14), at(other_day, 14, 15)]

    async def refused(data: dict[str, object], message: str) -> None:
        response = await post_form(client, add, data, token_page=PAGE)
        assert response.status_code == 422, data
        assert message in response.text, message
        assert "De afwijkende dag is niet toegevoegd." in response.text

    await refused(
        {"day": other_day.isoformat(), "kind": "afwezig"},
        "Voor deze dag staan al andere uren. Verwijder die eerst.",
    )
    await refused(
        {**afternoon, "day": away_day.isoformat()},
        "Deze dag staat al op niet beschikbaar. Verwijder dat eerst.",
    )
    await refused(
        {**afternoon, "starts_at": "14:30", "ends_at": "16:00"},
        "Deze uren overlappen met andere uren op die dag.",
    )
    await refused({**afternoon, "day": ""}, "Vul een datum in.")
    await refused({**afternoon, "day": "2026-02-30"}, "Vul een geldige datum in")
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    await refused({**afternoon, "day": yesterday}, "Kies een datum vanaf vandaag.")
    await refused({**afternoon, "location": ""}, "Kies een vestiging: je biedt afspraken")
    await refused({**afternoon, "note": "x" * 201}, "Schrijf hoogstens 200 tekens.")
    later = {**afternoon, "starts_at": "16:00", "ends_at": "17:00", "modes": ["phone"]}
    assert (await post_form(client, add, later, token_page=PAGE)).status_code == 303
    assert at(other_day, 16) in await offered(db, staff, other_day, "phone")

    page = await client.get(PAGE)
    assert "Opleiding" in page.text and "Niet beschikbaar" in page.text
    assert "14:00–15:00" in page.text
    override = await db.scalar(
        select(AvailabilityOverride).where(AvailabilityOverride.day == away_day)
    )
    assert override is not None
    removed = await post_form(client, f"{add}/{override.id}/verwijderen", {}, token_page=PAGE)
    assert removed.status_code == 303
    assert len(await offered(db, staff, away_day)) == 10
    # Someone else's override cannot be removed.
    await make_staff(db, email="bram@clb.example")
    await switch_user(client, "bram@clb.example")
    other_override = await db.scalar(select(AvailabilityOverride.id))
    response = await post_form(client, f"{add}/{other_override}/verwijderen", {}, token_page=PAGE)
    assert response.status_code == 404


# --- Booking policy ------------------------------------------------------------------------


async def test_booking_policy_is_validated_and_limits_the_slots(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, location = await counsellor_without_hours(client, db)
    hours = weekly(*[(str(d), "09:00", "12:00", ["office"], str(location.id)) for d in range(5)])
    await post_form(client, f"{PAGE}/weekschema", hours, token_page=PAGE)
    rules = f"{PAGE}/regels"
    bad = {"notice": "21", "horizon": "0", "max_per_day": "veel"}
    refused = await post_form(client, rules, bad, token_page=PAGE)
    assert refused.status_code == 422
    for message in (
        "Vul een aantal werkdagen van 0 tot 20 in.",
        "Vul een aantal dagen van 1 tot 365 in.",
        "Vul een aantal van 1 tot 40 in.",
    ):
        assert message in refused.text
    assert 'value="veel"' in refused.text
    await db.commit()
    policy = await db.get(BookingPolicy, staff.id, populate_existing=True)
    assert policy is not None and policy.horizon_days == 60  # unchanged

    good = {"notice": "0", "horizon": "14", "max_per_day": "1"}
    saved = await post_form(client, rules, good, token_page=PAGE)
    assert saved.status_code == 303
    policy = await db.get(BookingPolicy, staff.id, populate_existing=True)
    assert policy is not None
    assert (policy.min_notice_working_days, policy.horizon_days, policy.max_per_day) == (0, 14, 1)
    day = await open_day(db, staff.centre_id)
    assert await offered(db, staff, day)
    school = await db.scalar(select(School).where(School.centre_id == staff.centre_id))
    assert school is not None
    await book_at(db, services, staff, school, at(day, 9), now=utcnow())
    assert await offered(db, staff, day) == []  # one a day
    beyond = await open_day(db, staff.centre_id, after=day + timedelta(days=20))
    assert await offered(db, staff, beyond) == []  # past the horizon


# --- What the page explains ----------------------------------------------------------------


async def test_the_page_shows_public_holidays_and_closed_periods(
    client: httpx.AsyncClient, db: AsyncSession, app: FastAPI
) -> None:
    staff, _location = await counsellor_without_hours(client, db)
    other = await make_centre(db, slug="clb-elders")
    db.add_all(
        [
            ClosedPeriod(
                centre_id=staff.centre_id,
                first_day=date(2026, 12, 21),
                last_day=date(2027, 1, 1),
                name="Kerstsluiting",
            ),
            ClosedPeriod(
                centre_id=None,
                first_day=date(2027, 2, 15),
                last_day=date(2027, 2, 19),
                name="Krokusvakantie",
            ),
            ClosedPeriod(
                centre_id=other.id,
                first_day=date(2027, 7, 1),
                last_day=date(2027, 8, 15),
                name="Zomersluiting elders",
            ),
        ]
    )
    await db.commit()
    with clock_at(app, datetime(2026, 12, 1, 9, tzinfo=UTC)):
        page = await client.get(PAGE)
    text = page.text
    assert "vrijdag 25 december 2026: Kerstmis" in text
    assert "vrijdag 1 januari 2027: Nieuwjaar" in text
    assert "Kerstsluiting: maandag 21 december 2026 tot en met vrijdag 1 januari 2027" in text
    assert (
        "Krokusvakantie: maandag 15 februari 2027 tot en met vrijdag 19 februari 2027 (alle CLB's)"
        in text
    )
    assert "Zomersluiting elders" not in text
    client.cookies.set("clb_lang", "en")
    with clock_at(app, datetime(2026, 12, 1, 9, tzinfo=UTC)):
        english = await client.get(PAGE)
    assert "My availability" in english.text and "Christmas Day" in english.text


async def test_only_counsellors_set_availability(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db, email=COORDINATOR, roles=("coordinator",))
    await switch_user(client, COORDINATOR)
    assert (await client.get(PAGE, headers=HTML)).status_code == 403


# --- Closed periods (coordinators) ---------------------------------------------------------


async def test_a_closed_period_takes_its_days_out_of_the_offer(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    centre = await db.get_one(Centre, staff.centre_id)
    await make_staff(db, email=COORDINATOR, roles=("coordinator",), centre=centre)
    first = await open_day(db, staff.centre_id)
    second = await open_day(db, staff.centre_id, after=first)
    after = await open_day(db, staff.centre_id, after=second)
    await book_at(db, services, staff, school, at(first, 10))
    assert await offered(db, staff, first) and await offered(db, staff, second)

    await switch_user(client, COORDINATOR)
    page = await client.get(CLOSED)
    assert page.status_code == 200
    assert "Personeelsdagen" not in page.text
    added = await post_form(
        client,
        CLOSED,
        {"name": "Personeelsdagen", "first_day": str(first), "last_day": str(second)},
        token_page=CLOSED,
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{CLOSED}?bewaard=toegevoegd&afspraken=1#main"
    assert await offered(db, staff, first) == []
    assert await offered(db, staff, second) == []
    assert await offered(db, staff, after)
    page = await client.get(added.headers["location"])
    assert "De periode is toegevoegd." in page.text
    assert "in die periode staan nog afspraken (1)" in page.text
    assert "Personeelsdagen" in page.text

    period = await db.scalar(select(ClosedPeriod).where(ClosedPeriod.name == "Personeelsdagen"))
    assert period is not None and period.centre_id == staff.centre_id
    removed = await post_form(client, f"{CLOSED}/{period.id}/verwijderen", {}, token_page=CLOSED)
    assert removed.status_code == 303
    assert await offered(db, staff, second)
    actions = set((await db.scalars(select(AuditEvent.action))).all())
    assert {"scheduling.closed_period.added", "scheduling.closed_period.removed"} <= actions


async def test_closed_periods_are_validated_and_kept_per_centre(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db, slug="clb-gent")
    other = await make_centre(db, slug="clb-elders")
    await make_staff(db, email=COORDINATOR, roles=("coordinator",), centre=centre)
    await make_staff(db, email="ada@clb.example", roles=("admin",), centre=centre)
    await make_staff(db, email=AN, roles=("counsellor",), centre=centre)
    theirs = ClosedPeriod(
        centre_id=other.id, first_day=date(2027, 7, 1), last_day=date(2027, 8, 15), name="Elders"
    )
    everyone = ClosedPeriod(
        centre_id=None, first_day=date(2027, 2, 15), last_day=date(2027, 2, 19), name="Krokus"
    )
    db.add_all([theirs, everyone])
    await db.commit()

    await switch_user(client, AN)
    assert (await client.get(CLOSED, headers=HTML)).status_code == 403

    await switch_user(client, COORDINATOR)
    page = await client.get(CLOSED)
    assert "Krokus" in page.text and "Elders" not in page.text
    assert f"/{everyone.id}/verwijderen" not in page.text  # not theirs to remove
    assert 'name="scope"' not in page.text

    async def refused(data: dict[str, str], *messages: str) -> None:
        response = await post_form(client, CLOSED, data, token_page=CLOSED)
        assert response.status_code == 422, data
        assert "De periode is niet toegevoegd." in response.text
        for message in messages:
            assert message in response.text, message

    await refused(
        {"name": " ", "first_day": "", "last_day": "2027-13-01"},
        "Geef de periode een naam, bijvoorbeeld Kerstvakantie.",
        "Vul een datum in.",
        "Vul een geldige datum in, bijvoorbeeld 2026-12-24.",
    )
    await refused(
        {"name": "Zomer", "first_day": "2027-07-10", "last_day": "2027-07-01"},
        "De laatste dag mag niet voor de eerste dag liggen.",
    )
    await refused(
        {"name": "Lang", "first_day": "2027-01-01", "last_day": "2028-06-01"},
        "Een periode duurt hoogstens een jaar.",
    )
    await refused(
        {"name": "x" * 121, "first_day": "2027-07-01", "last_day": "2027-07-02"},
        "De naam mag hoogstens 120 tekens lang zijn.",
    )
    await refused(
        {"name": "Alles", "first_day": "2027-07-01", "last_day": "2027-07-02", "scope": "alle"},
        "Alleen beheerders kunnen sluitingsdagen voor alle CLB&#39;s instellen.",
    )
    await db.commit()
    names = set((await db.scalars(select(ClosedPeriod.name))).all())
    assert names == {"Elders", "Krokus", "Kerstvakantie 2026-2027"}  # the last one is seeded

    forbidden = await post_form(
        client, f"{CLOSED}/{everyone.id}/verwijderen", {}, token_page=CLOSED
    )
    assert forbidden.status_code == 403
    hidden = await post_form(client, f"{CLOSED}/{theirs.id}/verwijderen", {}, token_page=CLOSED)
    assert hidden.status_code == 404

    # An admin sets a period for every centre, and may remove those.
    await switch_user(client, "ada@clb.example")
    page = await client.get(CLOSED)
    assert 'name="scope"' in page.text and f"/{everyone.id}/verwijderen" in page.text
    added = await post_form(
        client,
        CLOSED,
        {
            "name": "Zomersluiting",
            "first_day": "2027-07-15",
            "last_day": "2027-08-15",
            "scope": "alle",
        },
        token_page=CLOSED,
    )
    assert added.status_code == 303
    summer = await db.scalar(select(ClosedPeriod).where(ClosedPeriod.name == "Zomersluiting"))
    assert summer is not None and summer.centre_id is None
    assert await repository.closed_days(db, other.id, date(2027, 7, 20), date(2027, 7, 20))
    removed = await post_form(client, f"{CLOSED}/{everyone.id}/verwijderen", {}, token_page=CLOSED)
    assert removed.status_code == 303

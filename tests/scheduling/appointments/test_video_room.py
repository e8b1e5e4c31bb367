"""Video appointments: each has its own room on the configured Jitsi server, shown to the
two parties only while it is open (from ``video_opens_minutes_before`` until the end), with
a JWT for that room when the server wants one; without a server, what happens instead."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import time, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.config import Settings, SettingsError, load_settings
from clb.db import utcnow
from clb.services import Services
from composition.app import create_app
from scheduling.appointments import booking, changes, messages, repository
from scheduling.appointments.models import Appointment, NotificationKind
from scheduling.appointments.video_room import TOKEN_AFTER_END
from tests.conftest import PUBLIC_URL
from tests.scheduling.agenda_support import book_at, clock_at, switch_user
from tests.scheduling.booking_pages_support import book_directly, move_to
from tests.scheduling.support import bookable_counsellor, next_weekday_at

SERVER = "https://meet.example.test"
SECRET = "jitsi-test-secret-" + "y" * 20
VIDEO = {
    "video_base_url": SERVER,
    "video_jwt_app_id": "clb-test",
    "video_jwt_secret": SECRET,
}
NO_VIDEO = {"video_base_url": None, "video_jwt_app_id": None, "video_jwt_secret": None}
ROOM = re.compile(r"^[a-z2-7]{32}$")  # 160 bits
NOT_YET = "De videoruimte gaat open om"
AN = "an@clb.example"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every app of this module has a video server with token authentication."""
    return settings.model_copy(update=VIDEO)


@pytest.fixture
async def plain_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, without a video server."""
    application = create_app(settings.model_copy(update=NO_VIDEO))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            yield http


async def _video(
    db: AsyncSession, services: Services, *, email: str = AN, weekday: int = 2
) -> tuple[Appointment, str]:
    staff, school = await bookable_counsellor(db, email=email, modes=["video", "office"])
    return await book_directly(
        db, services, staff, school, next_weekday_at(weekday, time(10)), mode="video"
    )


def _claims(location: str) -> dict[str, object]:
    token = parse_qs(urlsplit(location).query)["jwt"][0]
    return dict(jwt.decode(token, OctKey.import_key(SECRET), algorithms=["HS256"]).claims)


async def test_every_video_appointment_gets_its_own_room(
    db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN, modes=["video", "office"])
    starts = next_weekday_at(1, time(9))
    rooms = []
    for hour in range(4):
        appointment, _token = await book_directly(
            db, services, staff, school, starts + timedelta(hours=hour), mode="video"
        )
        rooms.append(appointment.video_room)
    office, _token = await book_directly(db, services, staff, school, starts + timedelta(hours=5))
    assert all(room is not None and ROOM.match(room) for room in rooms)
    assert len(set(rooms)) == len(rooms)
    assert office.video_room is None


async def test_the_person_gets_into_the_room_only_while_it_is_open(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    appointment, token = await _video(db, services)
    room = appointment.video_room
    assert room is not None

    # The mail's room link is the manage link: swapped for the cookie, out of the address.
    opened = await client.get(f"/afspraak/beheer/{token}/video")
    assert opened.status_code == 303 and opened.headers["location"] == "/afspraak/beheer/video"
    early = await client.get("/afspraak/beheer/video")
    assert early.status_code == 200 and NOT_YET in early.text
    manage = await client.get("/afspraak/beheer")
    assert NOT_YET in manage.text and 'href="/afspraak/beheer/video"' not in manage.text
    for page in (early, manage):
        assert room not in page.text and SERVER not in page.text

    await move_to(db, appointment, utcnow() + timedelta(minutes=5))
    manage = await client.get("/afspraak/beheer")
    assert 'href="/afspraak/beheer/video"' in manage.text and room not in manage.text
    inside = await client.get("/afspraak/beheer/video")
    assert inside.status_code == 303
    location = inside.headers["location"]
    assert location.startswith(f"{SERVER}/{room}?jwt=")
    assert inside.headers["cache-control"] == "no-store"


async def test_the_token_names_the_room_its_window_and_the_server(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    appointment, token = await _video(db, services)
    await move_to(db, appointment, utcnow() + timedelta(minutes=3))
    await db.refresh(appointment)
    await client.get(f"/afspraak/beheer/{token}")
    claims = _claims((await client.get("/afspraak/beheer/video")).headers["location"])
    assert claims["room"] == appointment.video_room
    assert (claims["aud"], claims["iss"], claims["sub"]) == (
        "jitsi",
        "clb-test",
        "meet.example.test",
    )
    opens = appointment.starts_at - timedelta(minutes=10)
    assert claims["nbf"] == int(opens.timestamp())
    assert claims["exp"] == int((appointment.ends_at + TOKEN_AFTER_END).timestamp())
    assert claims["context"] == {"user": {"name": "Sara", "moderator": False}}


async def test_the_counsellor_sees_the_room_open_and_goes_in_as_moderator(
    client: httpx.AsyncClient, db: AsyncSession, services: Services, app: FastAPI
) -> None:
    staff, school = await bookable_counsellor(db, email=AN, modes=["video"])
    starts = next_weekday_at(3, time(14))
    appointment = await book_at(db, services, staff, school, starts, mode="video")
    await switch_user(client, AN)
    detail = f"/console/agenda/afspraken/{appointment.id}"
    room = appointment.video_room
    assert room is not None

    with clock_at(app, starts - timedelta(minutes=11)):
        page = await client.get(detail)
        assert f"{NOT_YET} 13:50." in page.text and room not in page.text
        assert f'href="{detail}/video"' not in page.text
        waiting = await client.get(f"{detail}/video")
        assert waiting.status_code == 200 and NOT_YET in waiting.text
        assert room not in waiting.text
    with clock_at(app, starts - timedelta(minutes=10)):
        page = await client.get(detail)
        assert f'href="{detail}/video"' in page.text and room not in page.text
        inside = await client.get(f"{detail}/video")
        assert inside.status_code == 303
        claims = _claims(inside.headers["location"])
        assert claims["room"] == room
        assert claims["context"] == {"user": {"name": "An", "moderator": True}}
    with clock_at(app, appointment.ends_at):
        over = await client.get(f"{detail}/video")
        assert over.status_code == 200 and "Het videogesprek is voorbij." in over.text
    await db.commit()
    audited = await db.scalar(
        select(AuditEvent).where(AuditEvent.action == "scheduling.appointment.video_opened")
    )
    assert audited is not None and audited.object_id == str(appointment.id)


async def test_rescheduling_keeps_the_room_and_cancelling_closes_it(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    appointment, token = await _video(db, services)
    room = appointment.video_room
    moved = await changes.reschedule(
        db,
        services,
        appointment.id,
        appointment.counsellor_id,
        appointment.starts_at + timedelta(hours=2),
        by_staff=False,
    )
    await db.commit()
    assert moved.video_room == room

    await changes.cancel(db, services, appointment.id, by_staff=True, reason="Ziek.")
    await db.commit()
    await move_to(db, appointment, utcnow() + timedelta(minutes=5))  # inside the window
    await client.get(f"/afspraak/beheer/{token}")
    page = await client.get("/afspraak/beheer/video")
    assert page.status_code == 200 and "Deze afspraak is geannuleerd." in page.text
    assert room is not None and room not in page.text


async def test_the_mail_links_to_the_platform_never_to_the_room(
    db: AsyncSession, services: Services
) -> None:
    appointment, _token = await _video(db, services)
    details = await repository.details(db, appointment)
    link = booking.manage_url(services, appointment)
    messages.use_language("nl")
    mail = messages.mail(
        NotificationKind.confirmation,
        appointment,
        details,
        manage_url=link,
        settings=services.settings,
    )
    assert f"Open ze via deze link: {link}/video" in mail.text
    assert appointment.video_room is not None and appointment.video_room not in mail.text
    calendar = mail.attachments[0].data.decode()
    assert appointment.video_room not in calendar
    # The calendar's place is the platform's page in front of the room, one tap away.
    assert f"LOCATION:{link}/video" in calendar.replace("\r\n ", "")


async def test_without_a_server_everyone_reads_who_calls_or_mails(
    plain_client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN, modes=["video"])
    starts = next_weekday_at(2, time(10))
    by_phone, phone_token = await book_directly(
        db, services, staff, school, starts, mode="video", email=None
    )
    by_mail, _token = await book_directly(
        db, services, staff, school, starts + timedelta(hours=1), mode="video"
    )
    await plain_client.get(f"/afspraak/beheer/{phone_token}")
    manage = await plain_client.get("/afspraak/beheer")
    called = "Het CLB heeft nog geen videoruimte. Daarom belt An je op het afgesproken uur op"
    assert called in manage.text and NOT_YET not in manage.text
    await move_to(db, by_phone, utcnow() + timedelta(minutes=5))
    page = await plain_client.get("/afspraak/beheer/video")
    assert page.status_code == 200 and called in page.text

    await switch_user(plain_client, AN)
    console = await plain_client.get(f"/console/agenda/afspraken/{by_phone.id}")
    assert "Er is geen videoserver ingesteld. Bel Sara op het afgesproken uur op" in console.text
    console = await plain_client.get(f"/console/agenda/afspraken/{by_mail.id}")
    assert "Er is geen videoserver ingesteld. Mail Sara vóór de afspraak op" in console.text

    details = await repository.details(db, by_mail)
    plain = services.settings.model_copy(update=NO_VIDEO)
    mail = messages.mail(
        NotificationKind.confirmation, by_mail, details, manage_url="x", settings=plain
    )
    assert "Daarom mailt An je vóór de afspraak hoe jullie elkaar spreken." in mail.text
    assert "LOCATION" not in mail.attachments[0].data.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/afspraak/beheer/video",  # no cookie
        "/afspraak/beheer/geen-geldige-link/video",
        "/afspraak/beheer/" + "a" * 300 + "/video",
        "/afspraak/beheer/%00%ff/video",
    ],
)
async def test_a_wrong_link_gets_the_dutch_404_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Deze link werkt niet (meer)" in response.text


async def test_staff_get_404_for_an_unknown_or_non_video_appointment(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    staff, school = await bookable_counsellor(db, email=AN)
    office = await book_at(db, services, staff, school, next_weekday_at(2, time(10)))
    await switch_user(client, AN)
    for path in (
        "/console/agenda/afspraken/00000000-0000-4000-8000-000000000000/video",
        f"/console/agenda/afspraken/{office.id}/video",
    ):
        response = await client.get(path, headers={"accept": "text/html"})
        assert response.status_code == 404, path
        assert "<html" in response.text and 'lang="nl"' in response.text


def test_settings_refuse_a_half_configured_server() -> None:
    with pytest.raises(SettingsError):
        load_settings(video_base_url="ftp://meet.example.test")
    with pytest.raises(SettingsError):
        load_settings(video_jwt_secret=SECRET)  # no app id, no server
    with pytest.raises(SettingsError):
        load_settings(video_base_url=SERVER, video_jwt_app_id="clb", video_jwt_secret="kort")
    ok = load_settings(video_base_url=SERVER + "/", video_jwt_app_id="clb", video_jwt_secret="")
    assert (ok.video_base_url, ok.video_jwt_secret) == (SERVER, None)


async def test_the_booking_step_says_truly_what_a_video_appointment_is(
    client: httpx.AsyncClient, plain_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """With a server the person gets a link; without one the step says how the CLB reaches
    them instead of promising a link nobody sends."""
    _staff, school = await bookable_counsellor(db, email=AN, modes=["video"])
    link = "Je krijgt een link voor een videogesprek."
    instead = "Het CLB heeft nog geen videoruimte. De CLB-medewerker belt je of mailt je"
    with_server = await client.get("/afspraak/waarover", params={"school": str(school.id)})
    assert link in with_server.text and instead not in with_server.text
    without = await plain_client.get("/afspraak/waarover", params={"school": str(school.id)})
    assert instead in without.text and link not in without.text

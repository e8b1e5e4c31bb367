"""Presence that tells the truth, and the coordinator's team page (per-counsellor maximum)."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.console import duty
from chat.console import repository as staff_repository
from chat.console.models import ChatStaff, Duty
from chat.realtime import presence
from chat.realtime.queue import capacity_now
from clb.audit import AuditEvent
from clb.db import utcnow
from clb.org.models import Centre
from clb.services import Services
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre, make_staff

PAGE = "/console/team"
HTML = {"accept": "text/html"}


async def test_a_stale_heartbeat_or_a_pause_makes_a_counsellor_unavailable(
    services: Services, db: AsyncSession
) -> None:
    staff = await make_staff(db)
    await staff_repository.set_duty(db, staff.id, Duty.on_duty, utcnow())
    await db.commit()
    assert await duty.available_counsellors(db, services) == []  # on duty, no console
    await presence.heard_from_counsellor(services.redis, services.keys, staff.id)
    assert [c.staff_id for c in await duty.available_counsellors(db, services)] == [staff.id]
    assert await capacity_now(db, services) == (2, 2)

    # The laptop was closed: its last heartbeat is now older than the threshold.
    stale = time.time() - presence.FRESH_SECONDS - 1
    heartbeats = services.keys.key("presence", "counsellors")
    await services.redis.zadd(heartbeats, {str(staff.id): stale})
    assert await duty.available_counsellors(db, services) == []
    assert await capacity_now(db, services) == (0, 0)

    await presence.heard_from_counsellor(services.redis, services.keys, staff.id)
    await staff_repository.set_duty(db, staff.id, Duty.pause, utcnow())
    await db.commit()
    assert await capacity_now(db, services) == (0, 0)  # on pause: not counted


async def test_each_counsellor_brings_their_own_maximum_minus_what_they_hold(
    services: Services, db: AsyncSession
) -> None:
    one = await make_staff(db, email="an@clb.example")
    two = await make_staff(db, email="bo@clb.example")
    for staff, maximum in ((one, 3), (two, None)):
        await staff_repository.set_duty(db, staff.id, Duty.on_duty, utcnow())
        await staff_repository.set_max_chats(db, staff.id, maximum, utcnow())
        await presence.heard_from_counsellor(services.redis, services.keys, staff.id)
    await db.commit()
    assert await capacity_now(db, services) == (5, 5)


async def coordinator_client(client: httpx.AsyncClient, db: AsyncSession) -> Centre:
    centre = await make_centre(db, slug="clb-gent")
    await make_staff(db, email="co@clb.example", roles=("coordinator",), centre=centre)
    assert (await login(client, "co@clb.example")).status_code == 303
    return centre


async def test_a_coordinator_sets_a_counsellors_maximum(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    centre = await coordinator_client(client, db)
    mine = await make_staff(db, email="an@clb.example", centre=centre)
    elsewhere = await make_staff(db, email="bo@clb.example")
    await staff_repository.set_duty(db, mine.id, Duty.on_duty, utcnow())
    await db.commit()
    await presence.heard_from_counsellor(services.redis, services.keys, mine.id)

    page = await client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert "Chatteam" in page.text and "In dienst" in page.text
    assert f"max-{mine.id}" in page.text and f"max-{elsewhere.id}" not in page.text

    token = await form_token(client, PAGE)
    saved = await client.post(
        f"{PAGE}/{mine.id}/max", data={"max_chats": "4", "csrf_token": token}, headers=HTML
    )
    assert saved.status_code == 303
    row = await db.get(ChatStaff, mine.id)
    assert row is not None and row.max_chats == 4 and row.duty == "on_duty"
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "chat.max_chats_set"))
    assert audit is not None and audit.object_id == str(mine.id)

    bad = await client.post(
        f"{PAGE}/{mine.id}/max", data={"max_chats": "11", "csrf_token": token}, headers=HTML
    )
    assert bad.status_code == 422 and "Vul een getal van 1 tot 10 in." in bad.text
    other = await client.post(
        f"{PAGE}/{elsewhere.id}/max", data={"max_chats": "3", "csrf_token": token}, headers=HTML
    )
    assert other.status_code == 404
    forged = await client.post(f"{PAGE}/{mine.id}/max", data={"max_chats": "3"}, headers=HTML)
    assert forged.status_code == 403

    cleared = await client.post(
        f"{PAGE}/{mine.id}/max", data={"max_chats": "", "csrf_token": token}, headers=HTML
    )
    assert cleared.status_code == 303
    await db.refresh(row)
    assert row.max_chats is None


async def test_counsellors_cannot_open_the_team_page(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    assert (await login(client)).status_code == 303
    assert (await client.get(PAGE, headers=HTML)).status_code == 403

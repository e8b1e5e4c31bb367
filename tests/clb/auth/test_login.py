from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.auth.models import StaffSession
from clb.auth.service import staff_channel
from clb.db import utcnow
from clb.services import Services
from tests.clb.auth.helpers import form_token, login, new_staff_logs_in, post_login_form
from tests.conftest import PUBLIC_URL, make_staff


async def test_login_sets_a_protected_session_cookie_and_opens_the_console(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await new_staff_logs_in(client, db)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    cookie = next(h for h in response.headers.get_list("set-cookie") if "clb_session=" in h)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    console = await client.get("/console", headers={"accept": "text/html"})
    assert console.status_code == 200
    assert "An" in console.text
    assert await db.scalar(select(func.count()).select_from(AuditEvent)) == 1


async def test_wrong_password_gets_a_clear_dutch_answer_and_keeps_the_email(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    response = await login(client, password="fout-wachtwoord")
    assert response.status_code == 401
    assert "Dit e-mailadres of wachtwoord klopt niet." in response.text
    assert 'value="an@clb.example"' in response.text
    assert "clb_session" not in response.headers.get("set-cookie", "")


async def test_unknown_and_inactive_accounts_cannot_log_in(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db, email="weg@clb.example", active=False)
    assert (await login(client, email="weg@clb.example")).status_code == 401
    assert (await login(client, email="niemand@clb.example")).status_code == 401


async def test_login_without_csrf_token_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    response = await client.post(
        "/console/login", data={"email": "an@clb.example", "password": "x"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"


async def test_login_from_a_foreign_origin_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    response = await post_login_form(
        client, headers={"origin": "https://evil.example"}, password="x"
    )
    assert response.status_code == 403


@pytest.fixture
async def attacker(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4444))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
        yield http


async def test_failed_logins_are_throttled_without_locking_the_owner_out(
    client: httpx.AsyncClient, attacker: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    statuses = [(await login(attacker, password=f"gok-{n}")).status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]
    throttled = await login(attacker)  # even the right password waits now
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "Te veel mislukte pogingen" in throttled.text
    # The counsellor, from their own address, is not affected.
    assert (await login(client)).status_code == 303


async def test_logout_ends_the_session_for_good_and_tells_open_consoles(
    client: httpx.AsyncClient, db: AsyncSession, services: Services
) -> None:
    account = await make_staff(db)
    await login(client)
    cookie_value = client.cookies.get("clb_session")
    assert cookie_value
    token = await form_token(client, "/console")
    async with services.bus.subscribe(staff_channel(services.keys, account.id)) as events:
        response = await client.post(
            "/console/logout", data={"csrf_token": token}, headers={"accept": "text/html"}
        )
        assert response.status_code == 303
        event = await asyncio.wait_for(events.get(), 5)
    assert event.data is not None and event.data["type"] == "session_ended"
    # Replaying the old cookie does not work: the session ended server-side.
    client.cookies.set("clb_session", cookie_value)
    again = await client.get("/console")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "not_authenticated"


async def test_logout_needs_csrf(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_staff(db)
    await login(client)
    assert (await client.post("/console/logout")).status_code == 403
    assert (await client.get("/console")).status_code == 200


async def test_idle_and_expired_sessions_stop_working(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    await login(client)
    assert (await client.get("/console")).status_code == 200
    await db.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=3)))
    await db.commit()
    assert (await client.get("/console")).status_code == 401

    await login(client)
    await db.execute(update(StaffSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    await db.commit()
    assert (await client.get("/console")).status_code == 401


async def test_pages_send_people_to_the_login_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/console", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console"


async def test_login_redirect_never_leaves_the_site(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    response = await post_login_form(
        client, password="een-lang-testwachtwoord", next="//evil.example/steal"
    )
    assert response.headers["location"] == "/"

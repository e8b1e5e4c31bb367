from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import extract_parameters
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount, Visitor
from clb.auth.passwords import hash_password, verify_password
from clb.auth.router import VISITOR_CREATION_RATE
from clb.auth.tokens import hash_token
from clb.config import Settings
from clb.web.deps import CurrentAdmin, CurrentCoordinator, CurrentEditor
from tests.clb.auth.helpers import login, new_staff_logs_in
from tests.conftest import make_staff


@pytest.fixture
def app_with_role_routes(app: FastAPI) -> FastAPI:
    @app.get("/api/test/coordinator")
    async def coordinator_only(staff: CurrentCoordinator) -> dict[str, str]:
        return {"email": staff.email}

    @app.get("/api/test/editor")
    async def editor_only(staff: CurrentEditor) -> dict[str, str]:
        return {"email": staff.email}

    @app.get("/api/test/admin")
    async def admin_only(staff: CurrentAdmin) -> dict[str, str]:
        return {"email": staff.email}

    return app


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("counsellor",), set()),
        (("counsellor", "coordinator"), {"coordinator"}),
        (("editor",), {"editor"}),
        (("admin",), {"coordinator", "editor", "admin"}),
    ],
)
async def test_role_dependencies_allow_exactly_the_right_people(
    app_with_role_routes: FastAPI,
    client: httpx.AsyncClient,
    db: AsyncSession,
    roles: tuple[str, ...],
    allowed: set[str],
) -> None:
    await make_staff(db, roles=roles)
    await login(client)
    for route in ("coordinator", "editor", "admin"):
        response = await client.get(f"/api/test/{route}")
        assert response.status_code == (200 if route in allowed else 403), route


async def test_anonymous_requests_to_role_routes_get_401(
    app_with_role_routes: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.get("/api/test/coordinator")
    assert response.status_code == 401


def test_passwords_use_argon2id_above_the_owasp_floor() -> None:
    stored = hash_password("correct horse battery staple")
    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2
    assert parameters.parallelism >= 1
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "wrong")
    assert not verify_password(None, "anything")


async def test_passwords_are_never_stored_in_clear(db: AsyncSession) -> None:
    account = await make_staff(db)
    stored = await db.scalar(
        select(StaffAccount.password_hash).where(StaffAccount.id == account.id)
    )
    assert stored is not None and stored.startswith("$argon2id$")


@pytest.fixture
async def https_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from composition.app import create_app

    secure = create_app(settings.model_copy(update={"public_url": "https://clb.example.be"}))
    async with secure.router.lifespan_context(secure):
        transport = httpx.ASGITransport(app=secure)
        async with httpx.AsyncClient(transport=transport, base_url="https://clb.example.be") as c:
            yield c


async def test_over_https_cookies_are_secure_and_host_prefixed(
    https_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await new_staff_logs_in(https_client, db)
    assert response.status_code == 303
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("__Host-clb_session="))
    assert "Secure" in session_cookie and "Path=/" in session_cookie
    assert "Domain" not in session_cookie
    assert any(c.startswith("__Host-clb_csrf=") and "Secure" in c for c in cookies)
    page = await https_client.get("/")
    assert page.headers["strict-transport-security"].startswith("max-age=")


async def test_visitor_token_is_long_random_and_stored_only_hashed(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    response = await client.post("/api/visitors")
    assert response.status_code == 201
    token = response.json()["token"]
    assert len(token) >= 43  # 256 bits in URL-safe base64
    stored = (await db.scalars(select(Visitor.token_hash))).all()
    assert stored == [hash_token(token)]
    assert token not in stored[0]

    me = await client.get("/api/visitors/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json() == {"active": True}


async def test_visitor_token_is_only_accepted_in_the_header(client: httpx.AsyncClient) -> None:
    token = (await client.post("/api/visitors")).json()["token"]
    in_url = await client.get("/api/visitors/me", params={"token": token})
    assert in_url.status_code == 401
    wrong = await client.get("/api/visitors/me", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert (
        wrong.json()["error"]["message"]
        == "Je gesprek is niet meer gevonden. Begin gerust opnieuw."
    )


async def test_creating_visitors_is_rate_limited(client: httpx.AsyncClient) -> None:
    limit = VISITOR_CREATION_RATE.limit
    statuses = [(await client.post("/api/visitors")).status_code for _ in range(limit + 1)]
    assert statuses[:limit] == [201] * limit
    assert statuses[limit] == 429

"""The second step of a staff login: TOTP codes within a drift window and never twice,
recovery codes that work once, a centre that requires a second factor, and a throttle
message that states the real waiting time."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth import totp
from clb.auth.models import RecoveryCode, StaffAccount, StaffSession
from clb.db import utcnow
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_centre, make_staff

SECOND_STEP = "/console/login/tweede-stap"
HTML = {"accept": "text/html"}


def test_totp_matches_rfc_6238_and_accepts_one_step_of_drift_but_not_two() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = totp.current_step(now)
    for drift in (-1, 0, 1):
        code = totp.code_at(secret, step + drift)
        assert totp.matching_step(secret, code, last_step=None, now=now) == step + drift
    for drift in (-2, 2):
        assert (
            totp.matching_step(secret, totp.code_at(secret, step + drift), last_step=None, now=now)
            is None
        )
    # A code at or before the last accepted step never matches again.
    assert totp.matching_step(secret, totp.code_at(secret, step), last_step=step, now=now) is None
    assert totp.matching_step(secret, "12a456", last_step=None, now=now) is None


async def with_totp(db: AsyncSession, account: StaffAccount) -> str:
    account.totp_secret = totp.new_secret()
    account.totp_enabled_at = utcnow()
    await db.commit()
    return account.totp_secret


async def send_code(client: httpx.AsyncClient, code: str) -> httpx.Response:
    token = await form_token(client, SECOND_STEP)
    return await client.post(SECOND_STEP, data={"csrf_token": token, "code": code}, headers=HTML)


async def test_a_totp_code_completes_the_login_once_and_its_replay_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    first = client
    second = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    account = await make_staff(db)
    secret = await with_totp(db, account)
    password = await login(first)
    assert password.status_code == 303 and password.headers["location"] == SECOND_STEP
    assert (await first.get("/console", headers=HTML)).status_code == 303  # not in yet
    code = totp.code_at(secret, totp.current_step())
    done = await send_code(first, code)
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert (await first.get("/console", headers=HTML)).status_code == 200
    session = await db.scalar(select(StaffSession).where(StaffSession.account_id == account.id))
    assert session is not None and session.second_factor == "totp"
    # Someone who saw the code and knows the password tries it at once elsewhere.
    async with second:
        await login(second)
        replay = await send_code(second, code)
    assert replay.status_code == 401 and "al gebruikt" in replay.text


async def test_recovery_codes_work_once(client: httpx.AsyncClient, db: AsyncSession) -> None:
    account = await make_staff(db)
    await with_totp(db, account)
    await login(client)
    # Set up recovery codes through the security page's own route: log in with a code first.
    secret = account.totp_secret
    assert secret is not None
    await send_code(client, totp.code_at(secret, totp.current_step()))
    token = await form_token(client, "/console/beveiliging")
    page = await client.post(
        "/console/beveiliging/herstelcodes", data={"csrf_token": token}, headers=HTML
    )
    codes = re.findall(r"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>", page.text)
    assert len(codes) == 10
    assert await db.scalar(select(func.count()).select_from(RecoveryCode)) == 10
    await client.post("/console/logout", data={"csrf_token": await form_token(client, "/console")})
    await login(client)
    assert (await send_code(client, codes[0].lower())).status_code == 303  # typed in lower case
    await client.post("/console/logout", data={"csrf_token": await form_token(client, "/console")})
    await login(client)
    again = await send_code(client, codes[0])
    assert again.status_code == 401


async def test_a_centre_that_requires_a_second_factor_lets_a_new_login_only_set_one_up(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db, slug="clb-streng", second_factor=True)
    account = await make_staff(db, centre=centre)
    response = await login(client)
    assert response.headers["location"] == "/console/beveiliging?instellen=1"
    for path in ("/console", "/console/agenda", "/console/chat"):
        blocked = await client.get(path, headers=HTML)
        assert blocked.status_code == 303
        assert blocked.headers["location"] == "/console/beveiliging?instellen=1"
    token = await form_token(client, "/console/beveiliging")
    await client.post("/console/beveiliging/code-app", data={"csrf_token": token})
    await db.refresh(account)
    assert account.totp_secret is not None and account.totp_enabled_at is None
    setup = await client.get("/console/beveiliging", headers=HTML)
    assert "<svg" in setup.text  # the QR code
    code = totp.code_at(account.totp_secret, totp.current_step())
    token = await form_token(client, "/console/beveiliging")
    confirmed = await client.post(
        "/console/beveiliging/code-app/bevestigen",
        data={"csrf_token": token, "code": code},
        headers=HTML,
    )
    assert confirmed.status_code == 200 and "Je herstelcodes" in confirmed.text
    assert (await client.get("/console", headers=HTML)).status_code == 200


async def test_an_editor_alone_needs_no_second_factor(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    centre = await make_centre(db, slug="clb-redactie", second_factor=True)
    await make_staff(db, centre=centre, roles=("editor",))
    assert (await login(client)).headers["location"] == "/console"


async def test_the_throttle_message_states_the_real_waiting_time(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    for _ in range(5):
        assert (await login(client, password="fout-wachtwoord")).status_code == 401
    refused = await login(client, password="fout-wachtwoord")
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    minutes = re.search(r"over (\d+) min", refused.text)
    assert minutes, refused.text
    # The sentence rounds up, never down: "1 min." for 20 s, "15 min." for 14 min 10 s.
    assert int(minutes.group(1)) == -(-wait // 60)

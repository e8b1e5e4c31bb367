"""Driving the login form the way a browser does."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import TEST_PASSWORD, make_staff

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def form_token(client: httpx.AsyncClient, path: str = "/console/login") -> str:
    page = await client.get(path, headers={"accept": "text/html"})
    match = _CSRF.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def login(
    client: httpx.AsyncClient, email: str = "an@clb.example", password: str = TEST_PASSWORD
) -> httpx.Response:
    return await post_login_form(
        client, headers={"accept": "text/html"}, email=email, password=password, next="/console"
    )


async def post_login_form(
    client: httpx.AsyncClient, *, headers: dict[str, str] | None = None, **fields: str
) -> httpx.Response:
    """Send the login form with its CSRF token and ``fields`` (An's e-mail address unless
    ``email`` is given), as a browser that opened the form does."""
    data = {"email": "an@clb.example", "csrf_token": await form_token(client), **fields}
    return await client.post("/console/login", data=data, headers=headers)


async def new_staff_logs_in(client: httpx.AsyncClient, db: AsyncSession) -> httpx.Response:
    """A new staff account (An), logged in through the form: the form's answer."""
    await make_staff(db)
    return await login(client)

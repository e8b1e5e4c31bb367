"""Driving the login form the way a browser does."""

from __future__ import annotations

import re

import httpx

from tests.conftest import TEST_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def form_token(client: httpx.AsyncClient, path: str = "/console/login") -> str:
    page = await client.get(path, headers={"accept": "text/html"})
    match = _CSRF.search(page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def login(
    client: httpx.AsyncClient, email: str = "an@clb.example", password: str = TEST_PASSWORD
) -> httpx.Response:
    token = await form_token(client)
    return await client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/console"},
        headers={"accept": "text/html"},
    )

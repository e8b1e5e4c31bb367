from __future__ import annotations

import httpx
import pytest

from clb.i18n import negotiate_language


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "nl"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-BE,fr;q=0.9,en;q=0.5,nl;q=0.8", "nl"),
        (None, "de-DE", "nl"),
        ("en", "nl-BE", "en"),
        ("xx", "en", "en"),
        (None, "en;q=bogus,nl", "nl"),
    ],
)
def test_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate_language(cookie, header) == expected


async def test_language_switch_sets_a_cookie_and_returns_to_the_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/taal/en", params={"next": "/toolbox"})
    assert response.status_code == 303
    assert response.headers["location"] == "/toolbox"
    page = await client.get("/")
    assert '<html lang="en">' in page.text


async def test_language_switch_refuses_unknown_languages_and_foreign_targets(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/taal/xx")).status_code == 404
    response = await client.get("/taal/nl", params={"next": "https://evil.example/"})
    assert response.headers["location"] == "/"

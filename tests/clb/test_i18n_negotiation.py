from __future__ import annotations

import httpx
import pytest

from clb import i18n
from clb.i18n import STAFF_LANGUAGES, negotiate_language


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "nl"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "fr-BE,fr;q=0.9,en;q=0.5,nl;q=0.8", "fr"),
        (None, "ar-MA,ar;q=0.9,fr;q=0.8", "ar"),
        (None, "tr-TR", "tr"),
        (None, "uk,ru;q=0.8", "uk"),
        (None, "pl-PL,pl;q=0.9,en;q=0.9", "pl"),  # equal quality: the first one named
        (None, "de-DE", "nl"),
        (None, "fr;q=0,en", "en"),  # q=0 means "not this one"
        ("en", "nl-BE", "en"),
        ("xx", "en", "en"),
        (None, "en;q=bogus,nl", "nl"),
    ],
)
def test_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate_language(cookie, header) == expected


def test_staff_pages_offer_dutch_and_english_only() -> None:
    assert negotiate_language("tr", "tr", offered=STAFF_LANGUAGES) == "nl"
    assert negotiate_language(None, "ar,en;q=0.5", offered=STAFF_LANGUAGES) == "en"


def test_plural_forms_follow_each_language() -> None:
    translators = i18n.load_translators()
    # Polish and Ukrainian: one, few (2–4, 22–24 …), many; Arabic has six forms.
    polish = translators["pl"].catalogue.plural  # type: ignore[attr-defined]
    assert [polish(n) for n in (1, 2, 5, 12, 22, 25)] == [0, 1, 2, 2, 1, 2]
    ukrainian = translators["uk"].catalogue.plural  # type: ignore[attr-defined]
    assert [ukrainian(n) for n in (1, 21, 3, 11, 14, 100)] == [0, 0, 1, 2, 2, 2]
    arabic = translators["ar"].catalogue.plural  # type: ignore[attr-defined]
    assert [arabic(n) for n in (0, 1, 2, 3, 11, 100)] == [0, 1, 2, 3, 4, 5]
    assert translators["ar"].direction == "rtl" and translators["fr"].direction == "ltr"


async def test_language_switch_sets_a_cookie_and_returns_to_the_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/taal/en", params={"next": "/toolbox"})
    assert response.status_code == 303
    assert response.headers["location"] == "/toolbox"
    assert "clb_lang=en" in response.headers["set-cookie"]
    page = await client.get("/")
    assert '<html lang="en" dir="ltr">' in page.text


async def test_arabic_pages_run_right_to_left_with_alternates_for_every_language(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/toolbox", headers={"Accept-Language": "ar"})
    assert '<html lang="ar" dir="rtl">' in page.text
    for code in i18n.LANGUAGE_NAMES:
        assert f'<link rel="alternate" hreflang="{code}" href="/toolbox?lang={code}">' in page.text
        assert f'lang="{code}" hreflang="{code}"' in page.text or code == "ar"  # the picker
    # The alternate link itself picks the language, without a cookie.
    french = await client.get("/toolbox", params={"lang": "fr"})
    assert '<html lang="fr" dir="ltr">' in french.text


async def test_the_console_stays_in_dutch_or_english(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login", headers={"Accept-Language": "tr,en;q=0.5"})
    assert '<html lang="en" dir="ltr">' in page.text
    assert "Türkçe" not in page.text


async def test_plain_language_is_a_remembered_choice(client: httpx.AsyncClient) -> None:
    response = await client.get("/makkelijke-taal/aan", params={"next": "/chat"})
    assert response.status_code == 303 and response.headers["location"] == "/chat"
    assert "clb_plain=1" in response.headers["set-cookie"]
    page = await client.get("/")
    assert 'href="/makkelijke-taal/uit?next=/"' in page.text
    assert (await client.get("/makkelijke-taal/misschien")).status_code == 404
    # The booking's first step: simpler words and a pictogram.
    booking = await client.get("/afspraak")
    assert "Maak een afspraak met iemand van het CLB. Zoek eerst je school." in booking.text
    assert 'class="pictogram"' in booking.text
    await client.get("/makkelijke-taal/uit")
    booking = await client.get("/afspraak")
    assert "Elke school heeft een vast CLB." in booking.text
    assert 'class="pictogram"' not in booking.text
    # Other languages keep their own catalogue; the switch is offered in Dutch only.
    french = await client.get("/afspraak", params={"lang": "fr"})
    assert "makkelijke-taal" not in french.text


async def test_language_switch_refuses_unknown_languages_and_foreign_targets(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/taal/xx")).status_code == 404
    response = await client.get("/taal/nl", params={"next": "https://evil.example/"})
    assert response.headers["location"] == "/"

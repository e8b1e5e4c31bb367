"""The privacy statement (/privacy, in every interface language, its retention periods read
from the settings) and the accessibility statement (/toegankelijkheid, Dutch only), and the
links that lead to them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from chat.questions.router import COOKIE as QUESTION_COOKIE
from chat.questions.router import NEW_SUFFIX as QUESTION_NEW_SUFFIX
from clb import i18n
from clb.config import Settings
from clb.web.deps import session_cookie_name
from clb.web.security import csrf_cookie_name
from clb.web.templating import FRONTEND_DIR
from composition.app import create_app
from scheduling.booking_pages.manage_router import MANAGE_COOKIE
from scheduling.meetings.router import STATUS_COOKIE
from tests.conftest import PUBLIC_URL

TEMPLATES = FRONTEND_DIR / "templates"

# The statement's heading in each language: proof that the reader's language was chosen.
HEADINGS = {
    "nl": "Privacyverklaring",
    "en": "Privacy statement",
    "fr": "Déclaration de confidentialité",
    "ar": "بيان الخصوصية",
    "tr": "Gizlilik beyanı",
    "pl": "Oświadczenie o ochronie prywatności",
    "uk": "Заява про конфіденційність",
}


def main_of(html: str) -> str:
    found = re.search(r"<main\b.*?</main>", html, re.S)
    assert found is not None
    return found.group(0)


def section_of(main: str, anchor: str) -> str:
    """One section of the statement: from its heading to the end of its <section>."""
    found = re.search(rf'<h2 id="{anchor}">.*?</section>', main, re.S)
    assert found is not None, anchor
    return found.group(0)


def test_every_interface_language_has_its_own_statement() -> None:
    assert set(HEADINGS) == set(i18n.LANGUAGE_NAMES)
    for language in i18n.LANGUAGE_NAMES:
        assert (TEMPLATES / "statements" / f"privacy_{language}.html").is_file()


@pytest.mark.parametrize("language", sorted(HEADINGS))
async def test_privacy_statement_in_the_readers_language(
    client: httpx.AsyncClient, language: str
) -> None:
    response = await client.get("/privacy", params={"lang": language})
    assert response.status_code == 200
    html = response.text
    html_lang = "nl-BE" if language == "nl" else language
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{html_lang}" dir="{direction}">' in html
    main = main_of(html)
    assert f"<h1>{HEADINGS[language]}</h1>" in main
    others = [heading for code, heading in HEADINGS.items() if code != language]
    assert not any(heading in main for heading in others)
    # Every period was filled in from the settings.
    assert "<strong></strong>" not in main
    assert "<td></td>" not in main


async def test_privacy_statement_follows_the_language_cookie(client: httpx.AsyncClient) -> None:
    client.cookies.set(i18n.LANGUAGE_COOKIE, "uk")
    response = await client.get("/privacy")
    assert HEADINGS["uk"] in response.text


async def test_the_default_retention_periods_are_shown(client: httpx.AsyncClient) -> None:
    main = main_of((await client.get("/privacy", params={"lang": "nl"})).text)
    assert "<strong>30 dagen</strong> na het einde van de chat" in main
    assert "<strong>6 maanden</strong> na de afspraak" in main
    assert "<strong>6 maanden</strong> nadat de aanvraag is afgesloten" in main
    assert "We bewaren het logboek <strong>24 maanden</strong>" in main
    assert "hoogstens <strong>30 dagen</strong> na het einde van de chat" in main


@pytest.fixture
async def other_retention(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A deployment that keeps things for other periods than the defaults."""
    changed = settings.model_copy(
        update={
            "chat_retention_days": 45,
            "retention_handover_days": 14,
            "retention_appointment_months": 9,
            "retention_request_months": 3,
            "retention_audit_months": 18,
            "chat_time_limit_minutes": 50,
        }
    )
    application: FastAPI = create_app(changed)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            yield http


async def test_the_periods_follow_the_settings(other_retention: httpx.AsyncClient) -> None:
    main = main_of((await other_retention.get("/privacy", params={"lang": "nl"})).text)
    assert "<strong>45 dagen</strong> na het einde van de chat" in main
    assert "hoogstens <strong>14 dagen</strong> na het einde van de chat" in main
    assert "<strong>9 maanden</strong> na de afspraak" in main
    assert "<strong>3 maanden</strong> nadat de aanvraag is afgesloten" in main
    assert "We bewaren het logboek <strong>18 maanden</strong>" in main
    assert "30 dagen" not in main and "24 maanden" not in main and "6 maanden" not in main


@pytest.mark.parametrize(
    ("language", "periods"),
    [
        ("en", ["45 days", "14 days", "9 months", "3 months", "18 months"]),
        ("fr", ["45\xa0jours", "14\xa0jours", "9\xa0mois", "3\xa0mois", "18\xa0mois"]),
        ("ar", ["45 يومًا", "14 يومًا", "9 أشهر", "3 أشهر", "18 شهرًا"]),
        ("tr", ["45 gün", "14 gün", "9 ay", "3 ay", "18 ay"]),
        # The plural form follows the number (CLDR): miesiące after 3, miesięcy after 9.
        ("pl", ["45 dni", "14 dni", "9 miesięcy", "3 miesiące", "18 miesięcy"]),
        ("uk", ["45 днів", "14 днів", "9 місяців", "3 місяці", "18 місяців"]),
    ],
)
async def test_the_periods_are_written_in_the_readers_language(
    other_retention: httpx.AsyncClient, language: str, periods: list[str]
) -> None:
    main = main_of((await other_retention.get("/privacy", params={"lang": language})).text)
    for period in periods:
        assert f"<strong>{period}</strong>" in main


# How each language writes 45 days (other_retention's chat_retention_days).
CHAT_DAYS_45 = {
    "nl": "45 dagen",
    "en": "45 days",
    "fr": "45\xa0jours",
    "ar": "45 يومًا",
    "tr": "45 gün",
    "pl": "45 dni",
    "uk": "45 днів",
}


@pytest.mark.parametrize("language", sorted(HEADINGS))
async def test_the_table_of_contents_leads_to_every_section(
    client: httpx.AsyncClient, language: str
) -> None:
    main = main_of((await client.get("/privacy", params={"lang": language})).text)
    toc = re.search(r'<nav class="statement-toc".*?</nav>', main, re.S)
    assert toc is not None
    linked = re.findall(r'<a href="#([a-z]+)">', toc.group(0))
    sections = re.findall(r'<h2 id="([a-z]+)">', main[toc.end() :])
    # Every section in the contents, in the page's order, and the same ids in every language.
    assert linked == sections
    order = "wie chat lezen gevaar afspraak gesprek vraag toolbox cookies beveiliging rechten"
    assert linked == [*order.split(), "bewaren"]


@pytest.mark.parametrize("language", sorted(HEADINGS))
async def test_stel_je_vraag_is_described_with_the_chats_retention(
    other_retention: httpx.AsyncClient, language: str
) -> None:
    main = main_of((await other_retention.get("/privacy", params={"lang": language})).text)
    question = section_of(main, "vraag")
    # Kept as long as a chat (chat_retention_days), from the settings.
    assert f"<strong>{CHAT_DAYS_45[language]}</strong>" in question
    assert "<strong></strong>" not in question
    # Its two cookies are in the cookie list.
    cookies = section_of(main, "cookies")
    assert f"<code>{QUESTION_COOKIE}</code>" in cookies
    assert f"<code>{QUESTION_COOKIE}{QUESTION_NEW_SUFFIX}</code>" in cookies
    # The toolbox's search counts: kept 90 days, small counts never shown.
    assert "90" in section_of(main, "toolbox") and "10" in section_of(main, "toolbox")


def test_the_cookie_table_names_the_cookies_the_code_sets(settings: Settings) -> None:
    plain = settings.model_copy(update={"public_url": "http://clb.example"})
    names = {
        i18n.LANGUAGE_COOKIE,
        i18n.PLAIN_COOKIE,
        csrf_cookie_name(plain),
        session_cookie_name(plain),
        MANAGE_COOKIE.name,
        STATUS_COOKIE.name,
        "clb_login_step",  # clb.auth.second_step_router.PENDING_COOKIE
        QUESTION_COOKIE,
        QUESTION_COOKIE + QUESTION_NEW_SUFFIX,
    }
    for language in i18n.LANGUAGE_NAMES:
        text = (TEMPLATES / "statements" / f"privacy_{language}.html").read_text()
        listed = set(re.findall(r"<code>(clb_[a-z_]+)</code>", text))
        assert listed == names, language


async def test_accessibility_statement(client: httpx.AsyncClient) -> None:
    response = await client.get("/toegankelijkheid", params={"lang": "nl"})
    assert response.status_code == 200
    main = main_of(response.text)
    assert "<h1>Toegankelijkheids&shy;verklaring</h1>" in main
    assert "gedeeltelijk in overeenstemming" in main
    assert "WCAG 2.1" in main and "Vlaamse Ombudsdienst" in main
    assert '<time datetime="2026-12-05">' in main
    # The chat's times come from the settings.
    assert "Een chat duurt normaal 45 minuten." in main


@pytest.mark.parametrize("language", ["en", "ar"])
async def test_other_languages_point_to_the_dutch_statement(
    client: httpx.AsyncClient, language: str
) -> None:
    response = await client.get("/toegankelijkheid", params={"lang": language})
    assert response.status_code == 200
    assert f'<html lang="{language}"' in response.text
    main = main_of(response.text)
    assert '<a href="/toegankelijkheid?lang=nl" hreflang="nl">' in main
    assert "Toegankelijkheids&shy;verklaring" not in main and "Nalevingsstatus" not in main


async def test_accessibility_statement_follows_the_settings(
    other_retention: httpx.AsyncClient,
) -> None:
    main = main_of((await other_retention.get("/toegankelijkheid")).text)
    assert "Een chat duurt normaal 50 minuten." in main


async def test_the_footer_links_to_both_statements(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    footer = html[html.index('<footer class="site-footer">') :]
    assert '<a href="/privacy">Privacy</a>' in footer
    assert '<a href="/toegankelijkheid">Toegankelijkheid</a>' in footer


async def test_the_chat_form_links_to_the_privacy_statement(client: httpx.AsyncClient) -> None:
    html = (await client.get("/chat")).text
    notice = html[html.index('id="privacy"') :]
    assert '<a href="/privacy" target="_blank" rel="noopener">' in notice[: notice.index("</div>")]


@pytest.mark.parametrize("template", ["booking_contact.html", "meeting_step.html"])
def test_the_forms_that_ask_personal_data_link_to_the_statement(template: str) -> None:
    source = Path(TEMPLATES / template).read_text()
    assert '<a href="/privacy" target="_blank" rel="noopener">' in source

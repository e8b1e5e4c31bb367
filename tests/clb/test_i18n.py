"""The English catalogues cover every Dutch string people can see, placeholders intact.

Dutch is the source language. composition.message_sources gathers the strings (templates,
``_()`` calls, error messages, label constants) into two domains: ``messages`` for
everyone and ``console`` for staff. English covers both; tests/clb/test_catalogues.py
checks the other languages, which cover ``messages``.
"""

from __future__ import annotations

import contextvars
import re
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po

from clb import i18n
from clb.auth.models import ROLE_LABELS
from clb.web.pages import ENTRY_POINTS
from clb.web.templating import FRONTEND_DIR, create_environment
from composition.message_sources import Message, public_messages, staff_only_messages
from toolbox.catalogue.languages import language_helpers
from toolbox.catalogue.repository import ToolFilter
from toolbox.catalogue.router import AUDIENCE_PAGES, CATALOGUE_LEAD
from toolbox.labels import (
    AUDIENCE_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    SORT_LABELS,
    THEME_LABELS,
)

TEMPLATES = FRONTEND_DIR / "templates"

# %(name)s-style (Jinja's newstyle gettext always %-formats, so a lone % would break too)
# and {name}-style (str.format) placeholders.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?.?|\{\w*\}")


def read_catalogue(path: Path, language: str) -> dict[str, str]:
    """msgid → translation. A plural entry gives its singular the first form and its plural
    the last ("" for both while any form is missing)."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    found: dict[str, str] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        complete = all(forms)
        found[str(ids[0])] = str(forms[0]) if complete else ""
        found[str(ids[-1])] = str(forms[-1]) if complete else ""
    return found


def flat(messages: frozenset[Message]) -> frozenset[str]:
    return frozenset(part for m in messages for part in ((m,) if isinstance(m, str) else m))


@cache
def catalogue() -> dict[str, str]:
    """English: both domains."""
    return {
        **read_catalogue(i18n.catalogue_path("en"), "en"),
        **read_catalogue(i18n.catalogue_path("en", domain=i18n.STAFF_DOMAIN), "en"),
    }


def everything() -> frozenset[str]:
    return flat(public_messages()) | flat(staff_only_messages())


def test_the_sources_have_messages_to_translate() -> None:
    # Guards against a broken extractor silently finding nothing.
    assert {"Snel weg", "Welkom, %(name)s", "Dringend hulp nodig?"} <= everything()
    assert "Je gesprek is niet meer gevonden. Begin gerust opnieuw." in everything()
    assert ("%(num)s ster", "%(num)s sterren") in public_messages()
    assert "Welkom, %(name)s" in staff_only_messages()


def test_every_message_has_an_english_translation() -> None:
    missing = sorted(m for m in everything() if not catalogue().get(m, "").strip())
    assert missing == [], f"add these to the English catalogues: {missing}"


def test_catalogue_has_no_stale_entries() -> None:
    stale = sorted(set(catalogue()) - everything())
    assert stale == [], f"no longer used, remove from the English catalogues: {stale}"


@pytest.mark.parametrize("msgid", sorted(everything()))
def test_translation_keeps_placeholders(msgid: str) -> None:
    translation = catalogue().get(msgid, "")
    if not translation:
        pytest.skip("untranslated (reported by the coverage tests)")
    assert sorted(PLACEHOLDER.findall(translation)) == sorted(PLACEHOLDER.findall(msgid))


def test_placeholder_pattern_sees_both_styles() -> None:
    assert PLACEHOLDER.findall("Welkom, %(name)s, nog {minutes} min, 100%") == [
        "%(name)s",
        "{minutes}",
        "%",
    ]


def _render_all(language: str) -> dict[str, str]:
    translators = i18n.load_translators()
    i18n.use_translator(translators[language])
    env = create_environment()
    staff = SimpleNamespace(display_name="An", email="an@clb.example", roles=list(ROLE_LABELS))
    tool = SimpleNamespace(
        slug="awel",
        title="Awel",
        summary="Praat erover.",
        translations={},
        languages=["nl"],
        description="Een.\n\nTwee.",
        kind="hulplijn",
        themes=["welbevinden"],
        audiences=["leerling"],
        levels=["basis"],
        url="https://awel.be",
        phone="102",
        hours=None,
        provider="Awel vzw",
        reviewed_on=date(2026, 11, 24),
    )
    context = {
        "request": SimpleNamespace(query_params={"afgemeld": "1"}),
        "lang": language,
        "dir": translators[language].direction,
        "plain": False,
        "alternates": {},
        "languages": i18n.LANGUAGE_NAMES,
        "csrf_token": "token",
        "quick_exit_url": "https://www.google.be/search?q=weerbericht",
        "current_path": "/",
        "request_id": "abc123",
        "staff": staff,
        "entries": ENTRY_POINTS,
        "entry": ENTRY_POINTS[0],
        "others": ENTRY_POINTS[1:],
        "role_labels": ROLE_LABELS,
        "status": 404,
        "message": i18n.gettext("Deze pagina bestaat niet (meer)."),  # as error_pages does
        "error": "Dit e-mailadres of wachtwoord klopt niet.",
        "email": "an@clb.example",
        "next": "/console",
        # The public toolbox (catalogue and tool page).
        "heading": "Toolbox",
        "lead": CATALOGUE_LEAD,
        "audience_pages": AUDIENCE_PAGES,
        "spec": ToolFilter(query="faalangst", themes=("faalangst",)),
        "tools": [tool],
        "tool": tool,
        "total": 1,
        "page": 1,
        "pages": 2,
        "query_string": "q=faalangst",
        "share_url": "http://127.0.0.1:8000/toolbox?q=faalangst",
        "themes": THEME_LABELS,
        "audiences": AUDIENCE_LABELS,
        "levels": LEVEL_LABELS,
        "kinds": KIND_LABELS,
        "sorts": SORT_LABELS,
        "theme_counts": {"faalangst": 3},
        # The toolbox search's crisis help box and correction note.
        "safety_net": SimpleNamespace(
            chat_open=True, chat_url="/chat", zelfmoordlijn_chat_url="https://www.zelfmoord1813.be"
        ),
        "search_note": SimpleNamespace(corrected="faalangst", certain=False, url="?q=faalangst"),
        # Accounts and security pages.
        "account": SimpleNamespace(
            id="4f6b2d8e-0000-4000-8000-000000000001",
            full_name="An Peeters",
            display_name="An",
            email="an@clb.example",
            roles=["counsellor"],
            is_active=True,
            last_login_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
            totp_enabled_at=datetime(2026, 12, 1, 9, 31, tzinfo=UTC),
        ),
        "grantable": [("counsellor", "CLB-medewerker")],
        "form": {},
        "errors": {},
        "recovery_left": 9,
        # The platform page in front of a video room.
        "room": SimpleNamespace(
            when="maandag 7 december, 16:00", state="waiting", opens_at="15:50"
        ),
        **language_helpers(),
        # My notifications and their settings (clb.notifications).
        "notification_lines": [
            {"id": 1, "title": "Nieuwe afspraak", "text": "Er is een nieuwe afspraak.",
             "created_at": datetime(2026, 12, 1, 9, 30, tzinfo=UTC), "unread": True},
        ],
        "notification_unread": 1,
        "notification_done": None,
        "notification_kinds": [
            {"value": "booking_new", "label": "Nieuwe afspraak",
             "choice": SimpleNamespace(in_console=True, by_mail=False)},
        ],
        "notification_language": "nl",
        "notification_languages": {"nl": "Nederlands", "en": "English"},
        "notification_errors": {"language": "Kies Nederlands of English."},
        "notification_saved": True,
    }  # fmt: skip
    return {
        path.name: env.get_template(path.name).render(context)
        for path in sorted(TEMPLATES.glob("*.html"))
    }


@pytest.mark.parametrize("language", sorted(i18n.LANGUAGE_NAMES))
def test_every_template_renders_in_every_language(language: str) -> None:
    # A copied context keeps the chosen language from leaking into other tests.
    pages = contextvars.copy_context().run(_render_all, language)
    assert set(pages) >= {"base.html", "landing.html", "login.html", "console_home.html"}
    if language != "nl":
        assert "Snel weg" not in pages["landing.html"]
    if language == "en":
        assert "Quick exit" in pages["landing.html"]
        assert "Welcome, An" in pages["console_home.html"]
        assert "Chat with the CLB" in pages["landing.html"]
        assert "Snel weg" not in pages["landing.html"]
    if language == "nl":
        assert "Snel weg" in pages["landing.html"]
        assert "Welkom, An" in pages["console_home.html"]

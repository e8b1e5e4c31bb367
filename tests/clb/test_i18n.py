"""The English catalogue covers every Dutch string people can see, placeholders intact.

Dutch is the source language: templates wrap strings in ``_()``, Python code keeps Dutch
messages in constants. Both are collected here and looked up in the English catalogue
(``frontend/locales/en/LC_MESSAGES/messages.po``); tests/clb/test_catalogues.py checks the
other languages against the part of this set that pupils, parents and schools see.
"""

from __future__ import annotations

import ast
import contextvars
import re
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from chat.conversations.intake import TOO_MANY_STARTS
from chat.counsellor_tools import taxonomy
from chat.counsellor_tools.notes import NOTE_KIND_LABELS
from chat.labels import AGE_BAND_LABELS, DUTY_LABELS, SYSTEM_NOTICES, TOPIC_LABELS, WHO_LABELS
from chat.realtime.sockets import RATE_LIMITED
from chat.statistics import service as chat_statistics
from chat.supervision.audit_reads import ACTION_LABELS, OBJECT_LABELS
from chat.supervision.router import SOURCE_LABELS, STATE_LABELS, STATUS_LABELS
from chat.triage.service import TERM_PROBLEMS
from clb import i18n
from clb.auth.router import ROLE_LABELS
from clb.auth.service import THROTTLED_LOGIN
from clb.errors import ClbError
from clb.web.error_pages import HTTP_MESSAGES
from clb.web.forms import INVALID_DAY, INVALID_MONDAY
from clb.web.pages import ENTRY_POINTS
from clb.web.templating import FRONTEND_DIR, create_environment
from scheduling.appointments.api import BOOKING_LIMITED
from scheduling.appointments.messages import HELP_LINES
from scheduling.labels import MODE_HINTS, MODE_LABELS, SEEDED_TYPE_TEXTS
from scheduling.meetings import labels as meeting_labels
from toolbox.catalogue.repository import ToolFilter
from toolbox.catalogue.router import AUDIENCE_PAGES, CATALOGUE_LEAD
from toolbox.labels import (
    AUDIENCE_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    SORT_LABELS,
    THEME_LABELS,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = FRONTEND_DIR / "templates"
CATALOGUE = i18n.catalogue_path("en")
PROJECT_PACKAGES = ("clb", "chat", "scheduling", "toolbox")
# Calls whose first argument is a Dutch literal shown to people.
TRANSLATING_CALLS = {"gettext", "_", "raise_if_denied"}
PYTHON_SOURCES = ("platform/clb", "chat", "scheduling", "toolbox")

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


@cache
def catalogue() -> dict[str, str]:
    return read_catalogue(CATALOGUE, "en")


@cache
def template_messages() -> frozenset[str]:
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    found = extract_from_dir(
        str(TEMPLATES),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map={"**.html": options},
    )
    messages: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        # ngettext yields (singular, plural); both need a translation.
        messages.update([message] if isinstance(message, str) else message)
    return frozenset(messages)


def _error_classes(cls: type[ClbError] = ClbError) -> Iterator[type[ClbError]]:
    """The project's own errors (tests define throw-away subclasses of their own)."""
    if cls.__module__.partition(".")[0] in PROJECT_PACKAGES:
        yield cls
    for subclass in cls.__subclasses__():
        yield from _error_classes(subclass)


def _python_trees() -> Iterator[ast.Module]:
    for folder in PYTHON_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _messages_in_code() -> Iterator[str]:
    """Dutch literals in the source that the imports above do not reach: a ``message``
    on any error class (also in modules not imported here) and literals passed straight to
    an error, e.g. ``raise NotAuthenticated("...")``."""
    trees = list(_python_trees())
    error_names = {cls.__name__ for cls in _error_classes()}
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if isinstance(statement, ast.Assign):
                    targets = statement.targets
                elif isinstance(statement, ast.AnnAssign):
                    targets = [statement.target]
                else:
                    continue
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                message = _literal(statement.value)
                if "message" in names and message is not None:
                    error_names.add(node.name)
                    yield message
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                message = _literal(node.args[0])
                translated = name in error_names or name in TRANSLATING_CALLS
                if translated and message is not None:
                    yield message


@cache
def python_messages() -> frozenset[str]:
    messages: set[str] = set()
    for labels in (
        WHO_LABELS,
        AGE_BAND_LABELS,
        TOPIC_LABELS,
        taxonomy.DOMAIN_LABELS,
        taxonomy.TOPIC_LABELS,
        taxonomy.REFERRAL_LABELS,
        chat_statistics.LABELS,
        NOTE_KIND_LABELS,
        SYSTEM_NOTICES,
        STATE_LABELS,
        STATUS_LABELS,
        SOURCE_LABELS,
        ACTION_LABELS,
        OBJECT_LABELS,
        DUTY_LABELS,
        TERM_PROBLEMS,
        THEME_LABELS,
        AUDIENCE_LABELS,
        LEVEL_LABELS,
        KIND_LABELS,
        SORT_LABELS,
        MODE_LABELS,
        MODE_HINTS,
        meeting_labels.FOR_WHOM_LABELS,
        meeting_labels.FOR_WHOM_HINTS,
        meeting_labels.RELATION_LABELS,
        meeting_labels.DAY_LABELS,
        meeting_labels.TIME_LABELS,
        meeting_labels.PLACE_LABELS,
        meeting_labels.STATUS_LABELS,
        meeting_labels.STATUS_EXPLANATIONS,
        meeting_labels.CONSOLE_STATUS_LABELS,
        meeting_labels.CONTACT_WAY_LABELS,
    ):
        messages.update(labels.values())
    messages.update(SEEDED_TYPE_TEXTS)
    messages.update({BOOKING_LIMITED, HELP_LINES})
    messages.update(lead for _audience, lead in AUDIENCE_PAGES.values())
    messages.add(CATALOGUE_LEAD)
    for entry in ENTRY_POINTS:
        messages.update({entry.title, entry.lead})
    messages.update(cls.message for cls in _error_classes())
    messages.update(HTTP_MESSAGES.values())
    messages.update(ROLE_LABELS.values())
    messages.add(THROTTLED_LOGIN)
    messages.add(RATE_LIMITED)
    messages.add(TOO_MANY_STARTS)
    messages.update({INVALID_DAY, INVALID_MONDAY})
    messages.update(_messages_in_code())
    return frozenset(messages)


def test_templates_have_messages_to_translate() -> None:
    # Guards against a broken extractor silently finding nothing.
    assert {"Snel weg", "Welkom, %(name)s", "Dringend hulp nodig?"} <= template_messages()


def test_raised_literals_are_found() -> None:
    assert "Je gesprek is niet meer gevonden. Begin gerust opnieuw." in python_messages()


def test_every_template_string_has_an_english_translation() -> None:
    missing = sorted(m for m in template_messages() if not catalogue().get(m, "").strip())
    assert missing == [], f"add these to {CATALOGUE.name}: {missing}"


def test_every_python_side_message_has_an_english_translation() -> None:
    missing = sorted(m for m in python_messages() if not catalogue().get(m, "").strip())
    assert missing == [], f"add these to {CATALOGUE.name}: {missing}"


def test_catalogue_has_no_stale_entries() -> None:
    stale = sorted(set(catalogue()) - template_messages() - python_messages())
    assert stale == [], f"no longer used, remove from {CATALOGUE.name}: {stale}"


@pytest.mark.parametrize("msgid", sorted(template_messages() | python_messages()))
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
        "message": "Deze pagina bestaat niet (meer).",
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
    }
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

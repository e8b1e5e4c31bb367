"""Translations: Dutch (nl-BE) is the source language; other catalogues are gettext .po files.

Strings are written in Dutch in code and templates and wrapped in ``_()``. A catalogue
per language lives in ``frontend/locales/<lang>.po`` and is read at start-up (no compile
step). A missing translation falls back to the Dutch source.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

SOURCE_LANGUAGE = "nl"
LANGUAGE_COOKIE = "clb_lang"
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
LOCALES_DIR = Path(__file__).resolve().parents[2] / "frontend" / "locales"


@dataclass(frozen=True)
class Translator:
    language: str
    messages: dict[str, str]

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def load_catalogue(language: str, locales_dir: Path = LOCALES_DIR) -> dict[str, str]:
    if language == SOURCE_LANGUAGE:
        return {}
    with (locales_dir / f"{language}.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


def load_translators(locales_dir: Path = LOCALES_DIR) -> dict[str, Translator]:
    return {
        language: Translator(language, load_catalogue(language, locales_dir))
        for language in LANGUAGE_NAMES
    }


def negotiate_language(
    cookie_value: str | None, accept_language: str | None, default: str = SOURCE_LANGUAGE
) -> str:
    """The visitor's explicit choice wins; otherwise the best match from Accept-Language."""
    if cookie_value in LANGUAGE_NAMES:
        return str(cookie_value)
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGE_NAMES:
            ranked.append((quality, primary))
    if ranked:
        return max(ranked, key=lambda item: item[0])[1]
    return default


_SOURCE = Translator(SOURCE_LANGUAGE, {})
_current: ContextVar[Translator | None] = ContextVar("translator", default=None)


def use_translator(translator: Translator) -> None:
    """Select the language for the rest of this request (each request runs in its own task)."""
    _current.set(translator)


def _translator() -> Translator:
    return _current.get() or _SOURCE


def current_language() -> str:
    return _translator().language


def gettext(message: str) -> str:
    return _translator().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translator().ngettext(singular, plural, n)

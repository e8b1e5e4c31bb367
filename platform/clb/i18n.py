"""Translations: Dutch (nl-BE) is the source language; the others are gettext catalogues.

Strings are written in Dutch in code and templates and wrapped in ``_()``. Each language
has ``frontend/locales/<lang>/LC_MESSAGES/messages.po``, kept with Babel's extract /
update / compile (``make translations``, docs/translations.md). At start-up each catalogue
is compiled in memory (no stale .mo file can shadow a newer .po) and read through
:mod:`gettext`, which applies the catalogue's own ``Plural-Forms``: Arabic has six
forms, Polish and Ukrainian three.

Strings only staff see are in a second domain, ``console``, kept in Dutch and English.

"Makkelijke taal" (plain Dutch) is one more catalogue, ``frontend/locales/plain/nl.po``:
it maps the source text of the main flows to still simpler words. Entries it lacks keep
the source text, which is already written at B1.

A missing translation falls back to the Dutch source.
"""

from __future__ import annotations

import gettext as gnu
import io
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE_LANGUAGE = "nl"
LANGUAGE_COOKIE = "clb_lang"
PLAIN_COOKIE = "clb_plain"
PLAIN_KEY = "nl-plain"  # the translator for Makkelijke taal
# Each language by its own name: a parent who cannot read Dutch still finds theirs.
LANGUAGE_NAMES = {
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "uk": "Українська",
}
RIGHT_TO_LEFT = frozenset({"ar"})
# For dates, days and months written out (Babel/CLDR). Arabic as "ar" keeps Western digits.
BABEL_LOCALES = {
    "nl": "nl_BE",
    "en": "en_GB",
    "fr": "fr_BE",
    "ar": "ar",
    "tr": "tr_TR",
    "pl": "pl_PL",
    "uk": "uk_UA",
}
# The staff console is offered in these only (its strings are not in the other catalogues).
STAFF_LANGUAGES = ("nl", "en")
LOCALES_DIR = Path(__file__).resolve().parents[2] / "frontend" / "locales"
# Two gettext domains: "messages" for what everyone sees, "console" for staff pages.
PUBLIC_DOMAIN = "messages"
STAFF_DOMAIN = "console"


def catalogue_path(
    language: str, locales_dir: Path = LOCALES_DIR, domain: str = PUBLIC_DOMAIN
) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{domain}.po"


def plain_catalogue_path(locales_dir: Path = LOCALES_DIR) -> Path:
    return locales_dir / "plain" / f"{SOURCE_LANGUAGE}.po"


def compile_catalogue(po_file: Path, locale: str) -> gnu.GNUTranslations:
    """Read a .po file and compile it to gettext's binary form in memory; fuzzy and empty
    entries are left out, so they fall back to the source."""
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gnu.GNUTranslations(compiled)


@dataclass(frozen=True)
class Translator:
    language: str
    catalogue: gnu.NullTranslations
    plain: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.language in RIGHT_TO_LEFT else "ltr"

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalogue.ngettext(singular, plural, n)


def load_translators(locales_dir: Path = LOCALES_DIR) -> dict[str, Translator]:
    """One translator per language, plus ``"nl-plain"`` for Makkelijke taal."""
    translators = {SOURCE_LANGUAGE: Translator(SOURCE_LANGUAGE, gnu.NullTranslations())}
    for language in LANGUAGE_NAMES:
        if language != SOURCE_LANGUAGE:
            catalogue = compile_catalogue(catalogue_path(language, locales_dir), language)
            if language in STAFF_LANGUAGES:
                staff = catalogue_path(language, locales_dir, STAFF_DOMAIN)
                catalogue.add_fallback(compile_catalogue(staff, language))
            translators[language] = Translator(language, catalogue)
    plain = compile_catalogue(plain_catalogue_path(locales_dir), SOURCE_LANGUAGE)
    translators[PLAIN_KEY] = Translator(SOURCE_LANGUAGE, plain, plain=True)
    return translators


@cache
def translators() -> dict[str, Translator]:
    """The translators of the shipped catalogues, read once per process."""
    return load_translators()


def translations_of(message: str) -> dict[str, str]:
    """``message`` in every interface language, Dutch included."""
    return {code: translators()[code].gettext(message) for code in LANGUAGE_NAMES}


def negotiate_language(
    cookie_value: str | None,
    accept_language: str | None,
    default: str = SOURCE_LANGUAGE,
    offered: tuple[str, ...] | None = None,
) -> str:
    """The visitor's explicit choice wins; otherwise the best match from Accept-Language
    among the ``offered`` languages (all of them unless said otherwise)."""
    offered = offered or tuple(LANGUAGE_NAMES)
    if cookie_value in offered:
        return str(cookie_value)
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in offered and quality > 0:
            ranked.append((quality, -position, primary))
    if ranked:
        return max(ranked)[2]
    return default if default in offered else offered[0]


_SOURCE = Translator(SOURCE_LANGUAGE, gnu.NullTranslations())
_current: ContextVar[Translator | None] = ContextVar("translator", default=None)


def use_translator(translator: Translator) -> None:
    """Select the language for the rest of this request (each request runs in its own task)."""
    _current.set(translator)


def _translator() -> Translator:
    return _current.get() or _SOURCE


def current_language() -> str:
    return _translator().language


def babel_locale() -> str:
    """The CLDR locale for dates and numbers in the current language."""
    return BABEL_LOCALES[current_language()]


def current_direction() -> str:
    return _translator().direction


def plain_language() -> bool:
    return _translator().plain


def gettext(message: str) -> str:
    return _translator().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translator().ngettext(singular, plural, n)

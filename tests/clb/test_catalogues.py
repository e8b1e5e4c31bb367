"""The catalogues of the languages beyond Dutch and English: complete for everything that
pupils, parents, bridge figures and schools see, placeholders kept, plural forms valid, no
Dutch left on a public page, and Babel's extract → update → compile leaving them as they
are."""

from __future__ import annotations

import contextvars
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from markupsafe import escape

from clb import i18n
from composition.message_sources import public_messages, write_templates
from tests.clb.test_i18n import PLACEHOLDER, _render_all, flat

OTHERS = [code for code in i18n.LANGUAGE_NAMES if code not in i18n.STAFF_LANGUAGES]
PYBABEL = Path(sys.executable).parent / "pybabel"
STAFF_PAGES = ("console_", "dev_mailbox", "login")


@cache
def read(language: str, domain: str = i18n.PUBLIC_DOMAIN, root: Path = i18n.LOCALES_DIR) -> Catalog:
    with i18n.catalogue_path(language, root, domain).open("rb") as handle:
        return read_po(handle, locale=language)


def contents(catalog: Catalog) -> dict[object, object]:
    return {m.id: (m.string, m.fuzzy) for m in catalog if m.id}


@pytest.mark.parametrize("language", OTHERS)
def test_the_catalogue_holds_exactly_the_public_messages_all_translated(language: str) -> None:
    catalog = read(language)
    ids = {m.id for m in catalog if m.id}
    assert sorted(map(str, set(public_messages()) - ids)) == [], "missing"
    assert sorted(map(str, ids - set(public_messages()))) == [], "stale"
    untranslated = [m.id for m in catalog if m.id and not all(
        m.string if isinstance(m.string, tuple) else (m.string,)
    )]  # fmt: skip
    assert untranslated == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []


@pytest.mark.parametrize("language", OTHERS)
def test_translations_keep_their_placeholders(language: str) -> None:
    wrong = []
    for message in read(language):
        if not message.id:
            continue
        msgid, forms = message.id, message.string
        if isinstance(msgid, tuple | list) and isinstance(forms, tuple | list):
            wanted = set(PLACEHOLDER.findall(str(msgid[1])))
            # A form may leave the number out ("geen scholen"), never add one.
            wrong += [f for f in forms if not set(PLACEHOLDER.findall(str(f))) <= wanted]
        elif forms and sorted(PLACEHOLDER.findall(str(forms))) != sorted(
            PLACEHOLDER.findall(str(msgid))
        ):
            wrong.append(str(forms))
    assert wrong == []


@pytest.mark.parametrize("language", OTHERS)
def test_plural_forms_follow_the_language(language: str) -> None:
    catalog = read(language)
    expected = get_plural(Locale.parse(language))
    assert catalog.num_plurals == expected.num_plurals
    assert catalog.plural_expr == expected.plural_expr
    for message in catalog:
        if isinstance(message.id, tuple):
            assert len(tuple(message.string or ())) == expected.num_plurals, message.id


@pytest.mark.parametrize("language", OTHERS)
def test_no_dutch_is_left_on_a_public_page(language: str) -> None:
    pages = contextvars.copy_context().run(_render_all, language)
    translator = i18n.translators()[language]
    dutch = [
        m
        for m in flat(public_messages())
        if len(m) >= 12 and not PLACEHOLDER.search(m) and translator.gettext(m) != m
    ]
    left = {
        name: [m for m in dutch if str(escape(m)) in html]
        for name, html in pages.items()
        if not name.startswith(STAFF_PAGES)
    }
    assert {name: found for name, found in left.items() if found} == {}


def test_extract_update_and_compile_leave_the_catalogues_as_they_are(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, locales)
    write_templates(tmp_path)
    for domain in (i18n.PUBLIC_DOMAIN, i18n.STAFF_DOMAIN):
        template = str(tmp_path / f"{domain}.pot")
        update = [str(PYBABEL), "update", "-i", template, "-d", str(locales), "-D", domain]
        subprocess.run([*update, "--no-fuzzy-matching"], check=True, capture_output=True)
        compiled = [str(PYBABEL), "compile", "-d", str(locales), "-D", domain, "--statistics"]
        result = subprocess.run(compiled, check=True, capture_output=True, text=True)
        assert "error" not in result.stderr.lower()
    for language in i18n.LANGUAGE_NAMES:
        if language == i18n.SOURCE_LANGUAGE:
            continue
        domains = [i18n.PUBLIC_DOMAIN] + ([i18n.STAFF_DOMAIN] if language == "en" else [])
        for domain in domains:
            before, after = read(language, domain), read(language, domain, locales)
            assert contents(after) == contents(before), (language, domain)
            assert not after.obsolete, (language, domain)
            assert (locales / language / "LC_MESSAGES" / f"{domain}.mo").stat().st_size > 0

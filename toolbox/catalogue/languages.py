"""The toolbox in the visitor's language: a tool's own text where it has been translated.

Themes named in other languages ("bullying", "harcèlement") are found through the theme
vocabularies of the search (toolbox.search.vocabulary).
"""

from __future__ import annotations

from dataclasses import dataclass

from clb import i18n
from toolbox.catalogue.models import Tool


@dataclass(frozen=True)
class Localized:
    text: str
    language: str  # of the text: the reader's, or Dutch when not translated


def localized(tool: Tool, field: str) -> Localized:
    """A tool's summary or description in the current language, when someone wrote it."""
    language = i18n.current_language()
    translated = (tool.translations or {}).get(language, {}).get(field)
    if translated:
        return Localized(translated, language)
    return Localized(str(getattr(tool, field)), i18n.SOURCE_LANGUAGE)


def language_helpers() -> dict[str, object]:
    """What a page that shows tools needs to show them in the reader's language."""
    return {"localized": localized, "language_names": i18n.LANGUAGE_NAMES}

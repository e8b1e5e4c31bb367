"""A tool's fields as editors fill them in (a form, or a row of an import): checked with
pydantic, every problem a Dutch message for the field it is about."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from clb.errors import ClbError
from toolbox.catalogue.models import AUDIENCES, LEVELS, THEMES, Kind, Tool


def _(message: str) -> str:
    """Marks a Dutch message for the catalogue; it is translated where it is shown."""
    return message


# The fields of a tool as in the seed catalogue (and in exports and version snapshots).
RECORD_FIELDS = (
    "slug",
    "title",
    "summary",
    "description",
    "kind",
    "themes",
    "audiences",
    "levels",
    "languages",
    "url",
    "provider",
    "phone",
    "hours",
    "reviewed_on",
    "status",
)
CONTENT_FIELDS = RECORD_FIELDS[1:13]
FIELD_MESSAGES = {
    "title": _("Geef een titel van 1 tot 200 tekens."),
    "summary": _("Geef een korte samenvatting van 1 tot 300 tekens."),
    "description": _("De beschrijving mag hoogstens 10.000 tekens lang zijn."),
    "kind": _("Kies een soort uit de lijst."),
    "themes": _("Kies minstens één thema."),
    "audiences": _("Kies minstens één doelgroep."),
    "levels": _("Kies onderwijsniveaus uit de lijst."),
    "languages": _("Geef talen als codes van twee letters, bijvoorbeeld nl of en."),
    "url": _("Geef een webadres dat begint met http:// of https://."),
    "provider": _("De aanbieder mag hoogstens 200 tekens lang zijn."),
    "phone": _("Het telefoonnummer mag hoogstens 40 tekens lang zijn."),
    "hours": _("De bereikbaarheid mag hoogstens 200 tekens lang zijn."),
    "slug": _("Een slug bestaat alleen uit kleine letters, cijfers en koppeltekens."),
    "reviewed_on": _("Geef een datum als JJJJ-MM-DD, bijvoorbeeld 2026-01-31."),
    "status": _("Kies een status uit de lijst."),
}
UNKNOWN_MESSAGES = {
    "kind": _("Onbekende soort: %(value)s"),
    "themes": _("Onbekend thema: %(value)s"),
    "audiences": _("Onbekende doelgroep: %(value)s"),
    "levels": _("Onbekend onderwijsniveau: %(value)s"),
    "languages": _("Onbekende taalcode: %(value)s"),
    "status": _("Onbekende status: %(value)s"),
}
ROW_MESSAGE = _("Deze rij is geen geldig hulpmiddel.")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a field; ``message`` is a Dutch source text with ``%(value)s``."""

    field: str
    message: str
    value: str = ""

    def text(self) -> str:
        return self.message % {"value": self.value}


class InvalidTool(ClbError):
    status = 422
    code = "invalid_tool"
    message = "Niet alle gegevens van dit hulpmiddel zijn juist ingevuld."

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(details={"fields": {p.field: p.text() for p in problems}})
        self.problems = list(problems)


# --- Validation ----------------------------------------------------------------------------

_LIST_SEPARATORS = re.compile(r"[;,\s]+")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _choices(values: list[str], allowed: Sequence[str], *, required: bool) -> list[str]:
    for value in values:
        if value not in allowed:
            raise PydanticCustomError("unknown_choice", "unknown {value}", {"value": value[:60]})
    if required and not values:
        raise PydanticCustomError("missing_choice", "choose at least one")
    return values


# The fields chosen from a list: what may be chosen, and whether one is needed.
_CHOICE_FIELDS: dict[str, tuple[Sequence[str], bool]] = {
    "themes": (THEMES, True),
    "audiences": (AUDIENCES, True),
    "levels": (LEVELS, False),
}


class ToolFields(BaseModel):
    """What an editor fills in (a form, or one row of an import)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    description: Annotated[str, StringConstraints(max_length=10_000)] = ""
    kind: str
    themes: list[str]
    audiences: list[str]
    levels: list[str] = []
    languages: list[str] = []
    url: Annotated[str, StringConstraints(max_length=500)] | None = None
    provider: Annotated[str, StringConstraints(max_length=200)] = ""
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    hours: Annotated[str, StringConstraints(max_length=200)] | None = None

    @field_validator("themes", "audiences", "levels", "languages", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """Forms send lists, CSV cells "a;b", JSON either: one list of unique values."""
        if value is None:
            return []
        if isinstance(value, str):
            value = _LIST_SEPARATORS.split(value)
        if isinstance(value, list | tuple):
            items = [v.strip().lower() if isinstance(v, str) else v for v in value]
            return list(dict.fromkeys(v for v in items if v != ""))
        return value

    @field_validator("description", "provider", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @field_validator("url", "phone", "hours", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in {k.value for k in Kind}:
            return value.strip().lower()
        if isinstance(value, str) and value.strip():
            raise PydanticCustomError("unknown_choice", "unknown {value}", {"value": value[:60]})
        raise PydanticCustomError("missing_choice", "choose one")

    @field_validator("themes", "audiences", "levels")
    @classmethod
    def _known_choices(cls, value: list[str], info: ValidationInfo) -> list[str]:
        allowed, required = _CHOICE_FIELDS[str(info.field_name)]
        return _choices(value, allowed, required=required)

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not _LANGUAGE.match(code):
                raise PydanticCustomError("unknown_choice", "bad code", {"value": code[:60]})
        return value or ["nl"]

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", value):
            raise PydanticCustomError("bad_url", "not an http(s) address")
        return value


def problems_from(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as Dutch messages, the first one per field."""
    problems: dict[str, Problem] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        if field in problems:
            continue
        value = str((error.get("ctx") or {}).get("value", ""))
        if error["type"] == "unknown_choice" and field in UNKNOWN_MESSAGES:
            problems[field] = Problem(field, UNKNOWN_MESSAGES[field], value)
        else:
            problems[field] = Problem(field, FIELD_MESSAGES.get(field, ROW_MESSAGE))
    return list(problems.values())


def parse_fields(data: Mapping[str, Any]) -> ToolFields:
    try:
        return ToolFields.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidTool(problems_from(exc)) from None


def slugify(title: str) -> str:
    """Lowercase ASCII words joined by hyphens: "Één thuis" becomes "een-thuis"."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug[:100].rstrip("-") or "hulpmiddel"


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= 120 and _SLUG.match(slug) is not None


def record(tool: Tool) -> dict[str, Any]:
    """A tool as JSON-safe data: the version snapshot, and one row of an export."""
    data: dict[str, Any] = {name: getattr(tool, name) for name in RECORD_FIELDS}
    for name in ("themes", "audiences", "levels", "languages"):
        data[name] = list(data[name] or [])
    data["reviewed_on"] = tool.reviewed_on.isoformat() if tool.reviewed_on else None
    return data

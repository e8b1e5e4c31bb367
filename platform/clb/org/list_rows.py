"""One row of the department's lists, checked: what a CLB or a school row must hold, and the
reason a row is skipped (:class:`BadRow`). The import reports reasons to an administrator on
the command line, in English (docs/school-lists.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from clb.org.models import SchoolLevel

NUMBER_DIGITS = 6  # the department's numbers; Excel drops the leading zeros, we add them
MAX_NUMBER_DIGITS = 10
NAME_MAX = 200
STREET_MAX = 200
MUNICIPALITY_MAX = 100
PHONE_MAX = 40
EMAIL_MAX = 200
WEBSITE_MAX = 300
OPENING_MAX = 2000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BadRow(ValueError):
    """Why a row is skipped."""


@dataclass(frozen=True)
class Problem:
    """A row that was skipped: the file, its line number and why."""

    label: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.label} line {self.line}: {self.reason}"


@dataclass(frozen=True)
class CentreRow:
    line: int
    number: str
    name: str
    location: str  # the location's name: its own column, or the town
    street: str
    postcode: str
    municipality: str
    phone: str | None
    email: str | None
    website: str | None
    opening_info: str


@dataclass(frozen=True)
class SchoolRow:
    line: int
    number: str
    name: str
    postcode: str
    municipality: str
    level: SchoolLevel
    centre_number: str


def institution_number(value: str, what: str = "institution number") -> str:
    digits = re.sub(r"[\s.]", "", value)
    if not digits:
        raise BadRow(f"no {what}")
    # The digits 0-9 only: str.isdigit() takes "٨٠٠١١١" or "８００１１１" too, which would be
    # stored as another institution than "800111".
    if digits.isdigit() and not digits.isascii():
        raise BadRow(f"{what} {value[:40]!r} is not written with the digits 0-9")
    if not re.fullmatch(r"[0-9]+", digits) or len(digits) > MAX_NUMBER_DIGITS:
        raise BadRow(f"{what} {value[:40]!r} is not a number")
    return digits.zfill(NUMBER_DIGITS)


def _text(values: dict[str, str], name: str, limit: int, what: str) -> str:
    value = " ".join(values.get(name, "").split())
    if len(value) > limit:
        raise BadRow(f"{what} is longer than {limit} characters")
    return value


def _required(values: dict[str, str], name: str, limit: int, what: str) -> str:
    value = _text(values, name, limit, what)
    if not value:
        raise BadRow(f"no {what}")
    return value


def postcode(value: str) -> str:
    code = re.sub(r"^(B|BE)\s*-?\s*", "", value.strip().upper())
    if not re.fullmatch(r"[1-9][0-9]{3}", code):
        raise BadRow(f"postcode {value[:20]!r} is not 4 digits")
    return code


def municipality(values: dict[str, str]) -> str:
    town = _required(values, "municipality", MUNICIPALITY_MAX, "municipality")
    # Some lists write towns in capitals: "SINT-NIKLAAS" reads as "Sint-Niklaas".
    return town.title() if town.isupper() else town


def email(value: str) -> str | None:
    if not value:
        return None
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        raise BadRow(f"e-mail {value[:60]!r} is not an e-mail address")
    return value


def website(value: str) -> str | None:
    if not value:
        return None
    url = value if re.match(r"^https?://", value, re.IGNORECASE) else f"https://{value}"
    host = urlsplit(url).hostname or ""
    if len(url) > WEBSITE_MAX or "." not in host or " " in url:
        raise BadRow(f"website {value[:60]!r} is not a web address")
    return url


def level(value: str, default: SchoolLevel | None) -> SchoolLevel:
    """A level as the lists write it: "Gewoon basisonderwijs", "Buitengewoon secundair
    onderwijs", "BuSO", "Volwassenenonderwijs", or this platform's own value."""
    key = re.sub(r"[^a-z]", "", value.lower())
    if not key:
        if default is None:
            raise BadRow("no level (onderwijsniveau)")
        return default
    special = key.startswith(("buitengewoon", "bubao", "buso", "bulo"))
    if "volwassen" in key or key.startswith("cvo"):
        return SchoolLevel.volwassenen
    if "secundair" in key or key.startswith("buso"):
        return SchoolLevel.buitengewoon_secundair if special else SchoolLevel.secundair
    if any(word in key for word in ("basis", "kleuter", "lager", "bubao", "bulo")):
        return SchoolLevel.buitengewoon_basis if special else SchoolLevel.basis
    raise BadRow(f"level {value[:40]!r} is not one we know (basis, secundair, ...)")


def _street(values: dict[str, str]) -> str:
    parts = [values.get("street", ""), values.get("house_number", "")]
    box = values.get("box", "")
    if box:
        parts.append(f"bus {box}")
    street = " ".join(" ".join(part.split()) for part in parts if part.strip())
    if not street:
        raise BadRow("no street")
    if len(street) > STREET_MAX:
        raise BadRow(f"street is longer than {STREET_MAX} characters")
    return street


def centre_row(line: int, values: dict[str, str]) -> CentreRow:
    town = municipality(values)
    return CentreRow(
        line=line,
        number=institution_number(values.get("number", "")),
        name=_required(values, "name", NAME_MAX, "name"),
        location=_text(values, "location", NAME_MAX, "location name") or town,
        street=_street(values),
        postcode=postcode(values.get("postcode", "")),
        municipality=town,
        phone=_text(values, "phone", PHONE_MAX, "phone number") or None,
        email=email(values.get("email", "")),
        website=website(values.get("website", "")),
        opening_info=values.get("opening_info", "").strip()[:OPENING_MAX],
    )


def school_row(line: int, values: dict[str, str], default_level: SchoolLevel | None) -> SchoolRow:
    return SchoolRow(
        line=line,
        number=institution_number(values.get("number", "")),
        name=_required(values, "name", NAME_MAX, "name"),
        postcode=postcode(values.get("postcode", "")),
        municipality=municipality(values),
        level=level(values.get("level", ""), default_level),
        centre_number=institution_number(values.get("centre", ""), "CLB number"),
    )

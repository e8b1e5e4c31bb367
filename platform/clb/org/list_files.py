"""Reading the education department's lists of CLBs and schools (docs/school-lists.md).

The open data of Onderwijs Vlaanderen comes as CSV: a header row, then one institution per
row. Files found in the wild differ in small ways, and every one of them is read:

- UTF-8 with or without a byte order mark, or Windows-1252 (a list saved by Excel); a UTF-8
  file with a damaged byte is refused, not read as Windows-1252 (every accent garbled);
- ``;`` (the department's own) or ``,`` or a tab between the fields;
- header names in any case, with or without accents, spaces, hyphens or underscores, and a
  few known aliases (``e-mail`` / ``emailadres``, ``clb-nummer`` / ``instellingsnummer clb``).

A row that cannot be used is reported with its line number and the reason, and skipped;
only a file that cannot be read at all raises :class:`ListUnreadable`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from clb.org.list_rows import BadRow, CentreRow, Problem, SchoolRow, centre_row, school_row
from clb.org.models import SchoolLevel

# Header aliases per field, most specific first, in their normal form (:func:`header_key`).
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("instellingsnummer", "instellingsnr", "instnr", "instellingnummer", "nummer"),
    "street": ("straat", "straatnaam", "adresstraat", "adres"),
    "house_number": ("huisnummer", "huisnr", "nr", "nummerhuis", "nummer"),
    "box": ("bus", "busnummer", "busnr"),
    "postcode": ("postcode", "postnummer", "pc"),
    "municipality": ("gemeente", "deelgemeente", "gemeentenaam", "plaats", "woonplaats", "stad"),
    "phone": ("telefoon", "telefoonnummer", "telefoonnr", "tel", "telnr"),
    "email": ("email", "emailadres", "mail", "mailadres"),
    "website": ("website", "webadres", "internetadres", "url", "www", "site"),
}
CENTRE_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "name": ("naam", "clbnaam", "naamclb", "instellingsnaam", "officielenaam", "roepnaam"),
    "location": (
        "vestiging",
        "vestigingsplaats",
        "naamvestiging",
        "naamvestigingsplaats",
        "locatie",
        "locatienaam",
    ),
    "opening_info": ("openingsuren", "openingstijden", "openingsinfo", "openingsuur"),
}
SCHOOL_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "name": ("naam", "schoolnaam", "naamschool", "instellingsnaam", "officielenaam", "roepnaam"),
    "centre": (
        "clbinstellingsnummer",
        "instellingsnummerclb",
        "clbnummer",
        "nummerclb",
        "clbnr",
        "clbinstnr",
        "clb",
    ),
    "level": (
        "onderwijsniveau",
        "niveau",
        "soortonderwijs",
        "onderwijssoort",
        "typeonderwijs",
        "onderwijsvorm",
        "hoofdstructuur",
    ),
}
CENTRE_REQUIRED = ("number", "name", "street", "postcode", "municipality")
SCHOOL_REQUIRED = ("number", "name", "postcode", "municipality", "centre")
DELIMITERS = (";", ",", "\t")
MAX_BYTES = 50 * 1024 * 1024
TOO_LARGE = f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"
# A well-formed UTF-8 character of two to four bytes (The Unicode Standard, table 3-7). A
# Windows-1252 file hardly ever holds one by chance ("Ã©" would be one); a UTF-8 file with
# accents holds many.
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


class ListUnreadable(Exception):
    """The file cannot be read at all (the message says why)."""


Row = TypeVar("Row", CentreRow, SchoolRow)


@dataclass
class ParsedList(Generic[Row]):
    """The usable rows of one file, the rows skipped, and which fields its header has."""

    label: str
    columns: frozenset[str]
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def header_key(name: str) -> str:
    """A header name in its normal form: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "", plain)


def decode(data: bytes, label: str) -> str:
    """The text of a file in UTF-8 (with or without a byte order mark) or Windows-1252.

    Windows-1252 only when the data is no UTF-8 at all: a file with a byte order mark or a
    well-formed UTF-8 character but also a byte that is not UTF-8 is a damaged UTF-8 file,
    refused with the line of that byte rather than imported with every accent garbled."""
    if len(data) > MAX_BYTES:
        raise ListUnreadable(f"{label}: {TOO_LARGE}")
    says_utf8 = data.startswith(codecs.BOM_UTF8)
    if says_utf8:
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ListUnreadable("the file says it is UTF-16 but is not") from exc
    if b"\x00" in data:
        raise ListUnreadable("this is not a text (CSV) file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if says_utf8 or _UTF8_MULTIBYTE.search(data):
            raise ListUnreadable(
                f"{label} line {_line_at(data, exc.start)}: a byte that is not UTF-8, "
                "in a file of UTF-8 text (save the list as UTF-8 again)"
            ) from exc
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ListUnreadable("the text is neither UTF-8 nor Windows-1252") from exc


def _line_at(data: bytes, offset: int) -> int:
    """The line number of a byte, lines ending as the CSV reader ends them (LF, CR LF, CR)."""
    ends = data.count(b"\n", 0, offset) + data.count(b"\r", 0, offset)
    return ends - data.count(b"\r\n", 0, offset) + 1


def delimiter_of(header_line: str) -> str:
    """The separator the header line uses most: ``;``, ``,`` or a tab."""
    return max(DELIMITERS, key=header_line.count)


def column_map(header: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Field name -> column index, by the first alias (in order) the header has."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(header_key(name), index)
    found: dict[str, int] = {}
    for field_name, names in aliases.items():
        for alias in names:
            if alias in positions and positions[alias] not in found.values():
                found[field_name] = positions[alias]
                break
    return found


@dataclass
class _Table:
    label: str
    columns: dict[str, int]
    width: int
    records: Iterator[tuple[int, list[str]]]

    def values(self, problems: list[Problem]) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, field -> value) of every data row that is not empty; a row with
        more fields than the header is a problem."""
        for line, record in self.records:
            cells = [cell.strip() for cell in record]
            if not any(cells):
                continue
            if len(cells) > self.width and any(cells[self.width :]):
                reason = (
                    f"{len(cells)} fields where the header has {self.width} "
                    "(a separator inside a value without quotes?)"
                )
                problems.append(Problem(self.label, line, reason))
                continue
            yield (
                line,
                {
                    name: cells[index] if index < len(cells) else ""
                    for name, index in self.columns.items()
                },
            )


def _records(text: str, label: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every record, the header first."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter_of(first_line))
    try:
        for record in reader:
            yield reader.line_num, record
    except csv.Error as exc:
        raise ListUnreadable(f"{label} line {reader.line_num}: {exc}") from exc


def _open(
    data: bytes, label: str, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]
) -> _Table:
    records = _records(decode(data, label), label)
    header = next((record for _, record in records if any(c.strip() for c in record)), None)
    if header is None:
        raise ListUnreadable(f"{label} is empty")
    columns = column_map(header, aliases)
    missing = [name for name in required if name not in columns]
    if missing:
        wanted = ", ".join(aliases[name][0] for name in missing)
        found = ", ".join(cell.strip() for cell in header)
        raise ListUnreadable(f"{label}: no column for {wanted} in the header ({found})")
    return _Table(label, columns, len(header), records)


def read_centres(data: bytes, label: str) -> ParsedList[CentreRow]:
    """The rows of a list of CLBs: one row per address (a CLB with several locations has
    several rows with its number)."""
    table = _open(data, label, CENTRE_ALIASES, CENTRE_REQUIRED)
    parsed: ParsedList[CentreRow] = ParsedList(label, frozenset(table.columns))
    for line, values in table.values(parsed.problems):
        try:
            parsed.rows.append(centre_row(line, values))
        except BadRow as exc:
            parsed.problems.append(Problem(label, line, str(exc)))
    return parsed


def read_schools(
    data: bytes, label: str, *, default_level: SchoolLevel | None = None
) -> ParsedList[SchoolRow]:
    """The rows of a list of schools; ``default_level`` for a list without a level column
    (the department publishes one list per level)."""
    required = SCHOOL_REQUIRED if default_level else (*SCHOOL_REQUIRED, "level")
    table = _open(data, label, SCHOOL_ALIASES, required)
    parsed: ParsedList[SchoolRow] = ParsedList(label, frozenset(table.columns))
    for line, values in table.values(parsed.problems):
        try:
            parsed.rows.append(school_row(line, values, default_level))
        except BadRow as exc:
            parsed.problems.append(Problem(label, line, str(exc)))
    return parsed

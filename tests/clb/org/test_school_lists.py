"""The import of the department's CLB and school lists, on real PostgreSQL: the files as
they come (header variants, byte order mark, Windows-1252, commas), bad rows reported by line,
a second import changing nothing, a school moving to another CLB, a dry run; and what a
file may not do: be larger than the limit (or endless), mix UTF-8 with other bytes, or write
its numbers in other digits than 0-9."""

from __future__ import annotations

import codecs
import contextlib
import os
import threading
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.list_files import MAX_BYTES, ListUnreadable, read_centres, read_schools
from clb.org.list_import_command import import_files
from clb.org.list_rows import BadRow, institution_number
from clb.org.models import Centre, Location, School, SchoolLevel
from development.demo import SAMPLE_CENTRES, SAMPLE_SCHOOLS

CENTRES = (
    "instellingsnummer;naam;straat;huisnummer;postcode;gemeente;telefoon;e-mail;website\n"
    "101;CLB Noord;Noordstraat;1;2000;Antwerpen;03 111 11 11;noord@clb.example;www.noord.example\n"
    "202;CLB Zuid;Zuidlaan;2;9000;Gent;09 222 22 22;zuid@clb.example;\n"
)
SCHOOLS = (
    "instellingsnummer;naam;postcode;gemeente;onderwijsniveau;clb-instellingsnummer\n"
    "5001;Sint-Barbaracollege;9000;Gent;Secundair onderwijs;202\n"
    "5002;Basisschool De Wilg;2000;Antwerpen;Gewoon basisonderwijs;101\n"
)


class Lists:
    """Writes lists to files and imports them as the command does; keeps what it printed."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.out: list[str] = []
        self.err: list[str] = []

    def write(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        path = self.folder / name
        path.write_bytes(text.encode(encoding))
        return path

    async def run(
        self,
        centres: str | Path | None = CENTRES,
        schools: str | Path | None = SCHOOLS,
        **options: object,
    ) -> int:
        self.out, self.err = [], []
        paths = [
            value if isinstance(value, Path) or value is None else self.write(name, value)
            for name, value in (("clbs.csv", centres), ("scholen.csv", schools))
        ]
        return await import_files(
            self.database_url,
            centres_path=paths[0],
            schools_path=paths[1],
            show=self.out.append,
            complain=self.err.append,
            **options,  # type: ignore[arg-type]
        )


@pytest.fixture
def lists(tmp_path: Path, database_url: str) -> Lists:
    return Lists(tmp_path, database_url)


async def schools_by_number(db: AsyncSession) -> dict[str, tuple[str, str]]:
    """institution number -> (school name, its CLB's name)."""
    rows = await db.execute(
        select(School.institution_number, School.name, Centre.name).join(
            Centre, Centre.id == School.centre_id
        )
    )
    return {str(number): (name, centre) for number, name, centre in rows}


async def test_a_good_pair_of_lists_is_imported(lists: Lists, db: AsyncSession) -> None:
    assert await lists.run() == 0
    assert lists.out == [
        "CLBs: 2 added, 0 updated, 0 unchanged, 0 skipped",
        "schools: 2 added, 0 updated, 0 unchanged, 0 skipped (0 moved to another CLB)",
    ]
    noord = await db.scalar(select(Centre).where(Centre.institution_number == "000101"))
    assert noord is not None
    assert (noord.slug, noord.name, noord.phone) == ("clb-noord", "CLB Noord", "03 111 11 11")
    assert (noord.email, noord.website) == ("noord@clb.example", "https://www.noord.example")
    location = await db.scalar(select(Location).where(Location.centre_id == noord.id))
    assert location is not None
    assert (location.name, location.street, location.postcode) == (
        "Antwerpen",
        "Noordstraat 1",
        "2000",
    )
    assert await schools_by_number(db) == {
        "005001": ("Sint-Barbaracollege", "CLB Zuid"),
        "005002": ("Basisschool De Wilg", "CLB Noord"),
    }
    level = await db.scalar(select(School.level).where(School.name == "Basisschool De Wilg"))
    assert level == SchoolLevel.basis


async def test_a_second_import_changes_nothing_and_a_moved_school_moves(
    lists: Lists, db: AsyncSession
) -> None:
    assert await lists.run() == 0
    assert await lists.run() == 0
    assert lists.out[:2] == [
        "CLBs: 0 added, 0 updated, 2 unchanged, 0 skipped",
        "schools: 0 added, 0 updated, 2 unchanged, 0 skipped (0 moved to another CLB)",
    ]
    moved = SCHOOLS.replace("Secundair onderwijs;202", "Secundair onderwijs;101")
    renamed = CENTRES.replace("CLB Zuid;Zuidlaan;2", "CLB Zuid-Oost;Zuidlaan;4")
    assert await lists.run(renamed, moved) == 0
    assert lists.out[:2] == [
        "CLBs: 0 added, 1 updated, 1 unchanged, 0 skipped",
        "schools: 0 added, 1 updated, 1 unchanged, 0 skipped (1 moved to another CLB)",
    ]
    assert (await schools_by_number(db))["005001"] == ("Sint-Barbaracollege", "CLB Noord")
    assert await db.scalar(select(func.count()).select_from(Centre)) == 2
    assert await db.scalar(select(func.count()).select_from(School)) == 2
    zuid = await db.scalar(select(Centre).where(Centre.institution_number == "000202"))
    assert zuid is not None and (zuid.name, zuid.slug) == ("CLB Zuid-Oost", "clb-zuid")
    streets = await db.scalars(select(Location.street).where(Location.centre_id == zuid.id))
    assert list(streets) == ["Zuidlaan 4"]


@pytest.mark.parametrize(
    ("header", "encoding"),
    [
        # Capitals, accents, underscores, spaces and aliases; a comma as separator.
        (
            "Instellings_nummer,Naam,Straat,Huisnummer,Post code,Gemeente,Telefoonnummer,"
            "E-mailadres,Webadres",
            "utf-8",
        ),
        (
            "INSTELLINGSNR;CLB-naam;Straatnaam;Huisnr;Postcode;Gemeente;Tel;Mail;Website",
            "utf-8-sig",
        ),
        ("instellingsnummer;naam;straat;nr;postnummer;gemeente;telefoon;e-mail;URL", "cp1252"),
    ],
)
async def test_header_variants_byte_order_mark_and_windows_1252_are_read(
    lists: Lists, db: AsyncSession, header: str, encoding: str
) -> None:
    separator = "," if "," in header else ";"
    row = [
        "303",
        "CLB Sint-Truiden Rozé",
        "Stationsstraat",
        "5",
        "3800",
        "Sint-Truiden",
        "011",
        "a@b.be",
        "",
    ]
    text = f"{header}\r\n{separator.join(row)}\r\n"
    assert await lists.run(lists.write("clbs.csv", text, encoding), None) == 0, lists.err
    centre = await db.scalar(select(Centre))
    assert centre is not None and centre.name == "CLB Sint-Truiden Rozé"
    assert centre.slug == "clb-sint-truiden-roze"


async def test_bad_rows_are_reported_with_their_line_and_skipped(
    lists: Lists, db: AsyncSession
) -> None:
    schools = SCHOOLS + (
        "5003;Zonder Postcode;;Gent;Secundair onderwijs;202\n"
        "\n"  # an empty line is no problem
        "abc;Raar Nummer;9000;Gent;Secundair onderwijs;202\n"
        "5004;Onbekend CLB;9000;Gent;Secundair onderwijs;999\n"
        "5005;Hogeschool;9000;Gent;Hoger onderwijs;202\n"
        "5001;Dubbel;9000;Gent;Secundair onderwijs;202\n"
        "5006;Te veel;9000;Gent;Secundair onderwijs;202;extra\n"
    )
    centres = CENTRES + "303;CLB Kapot;Straat;1;2000;Antwerpen;;geen-mail;\n"
    assert await lists.run(centres, schools) == 0
    assert lists.out[:2] == [
        "CLBs: 2 added, 0 updated, 0 unchanged, 1 skipped",
        "schools: 2 added, 0 updated, 0 unchanged, 6 skipped (0 moved to another CLB)",
    ]
    assert lists.out[2:] == [
        "Skipped rows:",
        "  clbs.csv line 4: e-mail 'geen-mail' is not an e-mail address",
        "  scholen.csv line 4: postcode '' is not 4 digits",
        "  scholen.csv line 6: institution number 'abc' is not a number",
        "  scholen.csv line 7: CLB number 000999 is in neither the CLB list nor the database",
        "  scholen.csv line 8: level 'Hoger onderwijs' is not one we know (basis, secundair, ...)",
        "  scholen.csv line 9: the same institution number as line 2",
        "  scholen.csv line 10: 7 fields where the header has 6 (a separator inside a value "
        "without quotes?)",
    ]
    assert set(await schools_by_number(db)) == {"005001", "005002"}


async def test_a_dry_run_counts_but_saves_nothing(lists: Lists, db: AsyncSession) -> None:
    assert await lists.run(dry_run=True) == 0
    assert lists.out[0] == "CLBs: 2 added, 0 updated, 0 unchanged, 0 skipped"
    assert lists.out[-1] == "Dry run: nothing was saved."
    assert await db.scalar(select(func.count()).select_from(Centre)) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"naam;gemeente\nCLB;Gent\n", "no column for instellingsnummer, straat, postcode"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text (CSV) file"),
        (b"instellingsnummer;naam;straat;postcode;gemeente\n\x81\x8d\x8f", "neither UTF-8"),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_with_exit_code_1(
    lists: Lists, db: AsyncSession, content: bytes, message: str
) -> None:
    path = lists.folder / "clbs.csv"
    path.write_bytes(content)
    assert await lists.run(path, SCHOOLS) == 1
    assert len(lists.err) == 1 and message in lists.err[0], lists.err
    assert "Nothing was imported" in lists.err[0]
    assert await db.scalar(select(func.count()).select_from(School)) == 0


async def test_a_missing_file_and_a_file_without_usable_rows_give_exit_code_1(
    lists: Lists,
) -> None:
    assert await lists.run(lists.folder / "bestaat-niet.csv", None) == 1
    assert "bestaat-niet.csv" in lists.err[0]
    only_bad = "instellingsnummer;naam;straat;postcode;gemeente\n;;;;\nx;CLB;s;1;g\n"
    assert await lists.run(only_bad, None) == 1
    assert lists.err == ["No usable row in the lists. Nothing was imported."]


async def test_a_list_per_level_takes_the_level_given(lists: Lists, db: AsyncSession) -> None:
    without_level = (
        "instellingsnummer;naam;postcode;gemeente;clb\n7001;De Boomgaard;2000;Antwerpen;101\n"
    )
    with pytest.raises(ListUnreadable, match="onderwijsniveau"):
        read_schools(without_level.encode(), "basis.csv")
    assert await lists.run(CENTRES, without_level, default_level=SchoolLevel.basis) == 0
    assert await db.scalar(select(School.level)) == SchoolLevel.basis


async def test_a_school_added_by_hand_is_adopted_not_duplicated(
    lists: Lists, db: AsyncSession
) -> None:
    centre = Centre(slug="clb-zuid", name="CLB Zuid", phone=None, email=None, website=None)
    db.add(centre)
    await db.flush()
    db.add(
        School(
            centre_id=centre.id,
            name="Sint-Barbaracollege",
            municipality="Gent",
            postcode="9000",
            level=SchoolLevel.secundair,
        )
    )
    await db.commit()
    assert await lists.run() == 0
    assert lists.out[:2] == [
        "CLBs: 1 added, 1 updated, 0 unchanged, 0 skipped",
        "schools: 1 added, 1 updated, 0 unchanged, 0 skipped (0 moved to another CLB)",
    ]
    assert await db.scalar(select(func.count()).select_from(Centre)) == 2


def test_the_demo_sample_lists_read_without_a_problem() -> None:
    centres = read_centres(SAMPLE_CENTRES.read_bytes(), SAMPLE_CENTRES.name)
    schools = read_schools(SAMPLE_SCHOOLS.read_bytes(), SAMPLE_SCHOOLS.name)
    assert (centres.problems, schools.problems) == ([], [])
    assert len({row.number for row in centres.rows}) == 3 and len(centres.rows) == 6
    assert {row.centre_number for row in schools.rows} == {row.number for row in centres.rows}


def too_large(path: Path) -> list[str]:
    """What the command says of a file over the limit."""
    return [f"Cannot read the list: {path}: the file is larger than 50 MB. Nothing was imported."]


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (MAX_BYTES, "this is not a text (CSV) file"),  # the limit itself is no reason
        (MAX_BYTES + 1, "the file is larger than 50 MB"),
        (20 * MAX_BYTES, "the file is larger than 50 MB"),
    ],
)
async def test_a_file_over_the_limit_is_refused_before_more_than_the_limit_is_read(
    lists: Lists, size: int, message: str
) -> None:
    path = lists.folder / "scholen.csv"
    with path.open("wb") as file:
        file.truncate(size)  # sparse: zeros that take no disk
    tracemalloc.start()
    try:
        assert await lists.run(None, path) == 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(lists.err) == 1 and message in lists.err[0], lists.err
    if size > MAX_BYTES:
        assert lists.err == too_large(path)
    assert peak < MAX_BYTES + 16 * 1024 * 1024, f"{peak} bytes held to read {size}"


async def test_an_endless_pipe_is_read_no_further_than_the_limit(lists: Lists) -> None:
    """``--schools /dev/zero`` or a pipe that never ends: refused after MAX_BYTES + 1 bytes,
    not read to its end (or until the OOM killer ends the command)."""
    pipe = lists.folder / "scholen.csv"
    os.mkfifo(pipe)
    offered = 4 * MAX_BYTES
    written = 0

    def feed() -> None:
        nonlocal written
        block = b"x" * (1024 * 1024)
        with contextlib.suppress(BrokenPipeError), pipe.open("wb", buffering=0) as writer:
            while written < offered:
                written += writer.write(block) or 0

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    assert await lists.run(None, pipe) == 1
    feeder.join(timeout=30)
    assert not feeder.is_alive()
    assert lists.err == too_large(pipe)
    assert written < MAX_BYTES + 8 * 1024 * 1024  # what was read, and what a pipe buffers


CENTRE_HEADER = "instellingsnummer;naam;straat;postcode;gemeente"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        # UTF-8 accents and, on line 3, a byte sequence that is no UTF-8 (a lone surrogate).
        (
            f"{CENTRE_HEADER}\n101;CLB Gérard;Straat 1;2000;Antwerpen\n".encode()
            + b"202;CLB \xed\xa0\x80;Straat 2;9000;Gent\n",
            3,
        ),
        # The same with Windows line ends and the bad byte on the first line.
        (
            b"\xff" + f"{CENTRE_HEADER}\r\n101;CLB Gérard;Straat 1;2000;Antwerpen\r\n".encode(),
            1,
        ),
        # Old Mac line ends; the accents are on the line after the bad byte.
        (
            f"{CENTRE_HEADER}\r101;CLB Noord;Straat 1;2000;Antwerpen\r".encode()
            + b"202;CLB \xe9;Straat 2;9000;Gent\r303;CLB \xc3\xa9;Straat 3;3800;Sint-Truiden\r",
            3,
        ),
        # A byte order mark says UTF-8: Windows-1252 after it is a damaged file as well.
        (codecs.BOM_UTF8 + f"{CENTRE_HEADER}\n101;CLB Gérard;S 1;2000;Gent\n".encode("cp1252"), 2),
    ],
)
async def test_utf8_with_a_bad_byte_is_refused_with_its_line_not_read_as_windows_1252(
    lists: Lists, db: AsyncSession, content: bytes, line: int
) -> None:
    path = lists.folder / "clbs.csv"
    path.write_bytes(content)
    assert await lists.run(path, None) == 1
    assert lists.err == [
        f"Cannot read the list: clbs.csv line {line}: a byte that is not UTF-8, in a file of "
        "UTF-8 text (save the list as UTF-8 again). Nothing was imported."
    ]
    assert await db.scalar(select(func.count()).select_from(Centre)) == 0


async def test_a_windows_1252_file_with_accents_is_still_read(
    lists: Lists, db: AsyncSession
) -> None:
    text = f"{CENTRE_HEADER}\r\n101;CLB Gérard Ça;Straße 1 « ° »;2000;Antwerpen\r\n"
    assert await lists.run(lists.write("clbs.csv", text, "cp1252"), None) == 0, lists.err
    centre = await db.scalar(select(Centre))
    assert centre is not None and centre.name == "CLB Gérard Ça"
    assert await db.scalar(select(Location.street)) == "Straße 1 « ° »"


@pytest.mark.parametrize(
    "value", ["٨٠٠١١١", "۸۰۰۱۱۱", "８００１１１", "८००१११", "800¹¹¹", "80 0١١١"]
)
def test_an_institution_number_takes_the_digits_0_to_9_only(value: str) -> None:
    with pytest.raises(BadRow, match="is not written with the digits 0-9"):
        institution_number(value)
    with pytest.raises(BadRow, match="CLB number .* is not written with the digits 0-9"):
        institution_number(value, "CLB number")


def test_an_institution_number_of_ascii_digits_is_read() -> None:
    assert institution_number(" 30.627 ") == "030627"
    assert institution_number("800111") == "800111"
    with pytest.raises(BadRow, match="'12345678901' is not a number"):
        institution_number("12345678901")


async def test_a_number_in_other_digits_is_skipped_not_a_second_school(
    lists: Lists, db: AsyncSession
) -> None:
    schools = SCHOOLS + (
        "٨٠٠١١١;De Linde;9000;Gent;Secundair onderwijs;202\n"
        "5003;De Eik;9000;Gent;Secundair onderwijs;٢٠٢\n"
    )
    assert await lists.run(CENTRES, schools) == 0
    assert lists.out[1:] == [
        "schools: 2 added, 0 updated, 0 unchanged, 2 skipped (0 moved to another CLB)",
        "Skipped rows:",
        "  scholen.csv line 4: institution number '٨٠٠١١١' is not written with the digits 0-9",
        "  scholen.csv line 5: CLB number '٢٠٢' is not written with the digits 0-9",
    ]
    again = SCHOOLS + "800111;De Linde;9000;Gent;Secundair onderwijs;202\n"
    assert await lists.run(CENTRES, again) == 0
    assert await schools_by_number(db) == {
        "005001": ("Sint-Barbaracollege", "CLB Zuid"),
        "005002": ("Basisschool De Wilg", "CLB Noord"),
        "800111": ("De Linde", "CLB Zuid"),
    }

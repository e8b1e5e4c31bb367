"""A privacy request about one person (access and erasure, GDPR), handled by a coordinator
for their own centre: what is typed (an e-mail address, a phone number or a reference), the
records found in every domain through its ``public`` module, the export, and the erasure.

Erasure is retention done early: each domain anonymises the way its nightly job does, so
nothing identifies the person and the statistics count the same. Every search, export and
erasure is audited with ids and counts only, never what was typed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import orjson
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from chat import public as chat
from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.i18n import gettext as _
from scheduling import public as scheduling

QUERY_MAX = 254
BRUSSELS = ZoneInfo("Europe/Brussels")

# Every Dutch string the privacy pages show from code (composition is outside the sources
# composition.message_sources scans, so it lists these mappings itself).
MESSAGES = {
    "empty": "Vul een e-mailadres, een telefoonnummer of een referentie in.",
    "too_long": "Dat is te lang voor een e-mailadres, telefoonnummer of referentie.",
    "unknown": "Dit is geen e-mailadres, telefoonnummer of referentie. Een referentie ziet "
    "eruit als CLB-7K4Q-2M.",
    "not_confirmed": "Vink aan dat je zeker bent. Pas dan worden de gegevens gewist.",
    "nothing_chosen": "Er is niets meer om te wissen. Zoek opnieuw.",
    "yes": "Ja",
    "no": "Nee",
}
# The booking form's own sentence (a public message, translated there): not listed above,
# or the gathering of messages would take it for a staff-only one.
BAD_EMAIL = "Dit e-mailadres klopt niet. Bijvoorbeeld: naam@voorbeeld.be"
KIND_LABELS = {
    scheduling.APPOINTMENT: "Afspraak",
    scheduling.MEETING_REQUEST: "Aanvraag om iemand te zien",
    chat.CONVERSATION: "Chatgesprek",
}
RELATED_LABELS = {
    "notifications": "Verstuurde berichten",
    "events": "Verloop",
    "messages": "Berichten",
    "notes": "Notities",
    "outcome": "Afronding",
}


class Record(Protocol):
    """What scheduling's and the chat's records have in common."""

    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def when(self) -> datetime: ...
    @property
    def reference(self) -> str: ...
    @property
    def as_booker(self) -> bool: ...
    @property
    def fields(self) -> dict[str, Any]: ...
    @property
    def related(self) -> dict[str, list[dict[str, Any]]]: ...


class BadQuery(Exception):
    """What was typed is none of the three; ``message`` is Dutch source text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PersonQuery:
    typed: str
    email: str | None = None
    phone: str | None = None
    reference: str | None = None


def parse_query(raw: str) -> PersonQuery:
    """An e-mail address, a phone number or a reference, or BadQuery saying what is wrong."""
    typed = raw.strip()
    if not typed:
        raise BadQuery(MESSAGES["empty"])
    if len(typed) > QUERY_MAX:
        raise BadQuery(MESSAGES["too_long"])
    if scheduling.parse_reference(typed) is not None:
        return PersonQuery(typed, reference=typed)
    if "@" in typed:
        try:
            email = validate_email(typed, check_deliverability=False).normalized
        except EmailNotValidError:
            raise BadQuery(BAD_EMAIL) from None
        return PersonQuery(typed, email=email)
    if scheduling.phone_forms(typed):
        return PersonQuery(typed, phone=typed)
    raise BadQuery(MESSAGES["unknown"])


async def find(session: AsyncSession, staff: StaffAccount, query: PersonQuery) -> list[Record]:
    """Everything of this person at the coordinator's centre: appointments and requests,
    then the chats they link to or that mention the address or number."""
    found: list[Record] = list(
        await scheduling.records_of(
            session,
            staff.centre_id,
            email=query.email,
            phone=query.phone,
            reference=query.reference,
        )
    )
    linked = {c for record in found for c in getattr(record, "conversation_ids", ())}
    chats = await chat.records_of(
        session,
        staff.centre_id,
        conversation_ids=linked,
        email=query.email,
        phones=scheduling.phone_forms(query.phone) if query.phone else (),
    )
    return [*found, *chats]


def audit(
    session: AsyncSession, staff: StaffAccount, action: str, records: Sequence[Record]
) -> None:
    """One audit record per record touched (its kind and id); a search with its count."""
    if action == "privacy.search":
        record_audit(
            session, action, actor_id=staff.id, object_type="privacy", object_id=str(len(records))
        )
        return
    for record in records:
        record_audit(
            session, action, actor_id=staff.id, object_type=record.kind, object_id=str(record.id)
        )


def export_json(records: Sequence[Record], query: PersonQuery, now: datetime) -> bytes:
    """Every stored field of every record, and the rows that belong to each."""
    document = {
        "query": query.typed,
        "exported_at": now,
        "records": [
            {
                "kind": record.kind,
                "id": record.id,
                "found_as": "booker" if record.as_booker else "person",
                "fields": record.fields,
                "related": record.related,
            }
            for record in records
        ],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str)


async def erase(
    session: AsyncSession,
    staff: StaffAccount,
    records: Sequence[Record],
    chosen: Collection[str],
    now: datetime,
) -> int:
    """Erase the records among those found whose id was chosen (the ones the confirmation
    page showed); returns how many were erased."""
    picked = [record for record in records if str(record.id) in chosen]
    chats = [r.id for r in picked if r.kind == chat.CONVERSATION]
    others = [r for r in picked if isinstance(r, scheduling.PersonRecord)]
    erased = await scheduling.erase_records(session, others)
    erased += await chat.erase_chats(session, chats, now)
    audit(session, staff, "privacy.erase", picked)
    return erased


def display(value: Any) -> str:
    """A stored value as the readable export shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _(MESSAGES["yes"] if value else MESSAGES["no"])
    if isinstance(value, datetime):
        return value.astimezone(BRUSSELS).strftime("%d-%m-%Y %H:%M:%S")
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)


def short_when(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%d-%m-%Y %H:%M")


def record_view(record: Record, *, full: bool = False) -> dict[str, Any]:
    """A record as the pages show it: what it is and when; ``full``, every field too."""
    view: dict[str, Any] = {
        "id": str(record.id),
        "kind": KIND_LABELS.get(record.kind, record.kind),
        "when": short_when(record.when),
        "reference": record.reference if record.kind == scheduling.MEETING_REQUEST else "",
        "as_booker": record.as_booker,
    }
    if full:
        view["fields"] = [(name, display(value)) for name, value in record.fields.items()]
        view["related"] = [
            (
                RELATED_LABELS.get(name, name),
                [[(key, display(value)) for key, value in row.items()] for row in rows],
            )
            for name, rows in record.related.items()
        ]
    return view

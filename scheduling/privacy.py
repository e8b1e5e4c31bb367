"""One person's records in scheduling, for a privacy request (the coordinator's console page
``/console/privacy``, built in composition): their appointments and face-to-face requests,
found by e-mail address, phone number or reference, shown with every stored field, and
erased the way retention erases them (scheduling.appointments.personal_data and
scheduling.meetings.repository hold the one anonymising statement of each).

A reference is a face-to-face request's ("CLB-7K4Q-2M") or an appointment's id (the console
shows it in the appointment's address; the calendar file's UID is ``<id>@clb-platform``). A
request and the appointment made for it are found together. Someone found only as the one
who booked an appointment for another person sees, and loses, only their own part of it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import columns_of
from clb.jobs import cancel_job, pending_jobs
from scheduling.appointments import personal_data
from scheduling.appointments.booking_input import stored_phone
from scheduling.appointments.message_jobs import NOTIFY_JOB
from scheduling.appointments.models import Appointment
from scheduling.meetings import repository as meetings
from scheduling.meetings.models import MeetingRequest
from scheduling.meetings.tasks import MEETING_CONFIRMATION_JOB

APPOINTMENT = "appointment"
MEETING_REQUEST = "meeting_request"
_REQUEST_REFERENCE = re.compile(r"^CLB([2-9A-Z]{4})([2-9A-Z]{2})$")
_UID_SUFFIX = "@clb-platform"
# The person's own columns of an appointment: left out of what a booker is shown.
_PERSON_COLUMNS = frozenset(
    {"first_name", "email", "phone", "topic", "counsellor_note", "cancel_reason"}
    | {"manage_token_hash", "idempotency_key_hash", "request_fingerprint"}
    | {"conversation_id", "handover_conversation_id"}
)

# The columns of a request that are about the person it is for (left out of what its filer
# is shown).
_REQUEST_PERSON_COLUMNS = frozenset(
    {"first_name", "phone", "email", "interpreter_language", "need", "close_reason"}
    | {"status_token_hash", "handover_conversation_id"}
)


@dataclass(frozen=True)
class PersonRecord:
    """One appointment or request: ``fields`` holds every stored column (``related``, the
    rows that belong to it), ``as_booker`` that only the one who booked it for someone
    else was asked about, ``conversation_ids`` the chats it links to (the person's)."""

    kind: str
    id: uuid.UUID
    when: datetime
    reference: str
    fields: dict[str, Any]
    related: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    as_booker: bool = False
    conversation_ids: tuple[uuid.UUID, ...] = ()


def phone_forms(raw: str) -> tuple[str, ...]:
    """The ways a phone number may be stored: compact, nationally and internationally
    (0470…, +32470…, 0032470…); none if it cannot be a phone number."""
    number = stored_phone(raw)
    if number is None:
        return ()
    national = None
    if number.startswith("+32"):
        national = "0" + number[3:]
    elif number.startswith("0032"):
        national = "0" + number[4:]
    elif number.startswith("0") and not number.startswith("00"):
        national = number
    forms = {number}
    if national is not None:
        forms |= {national, "+32" + national[1:], "0032" + national[1:]}
    return tuple(sorted(forms))


def parse_reference(raw: str) -> str | uuid.UUID | None:
    """A request's reference (canonical form), an appointment's id, or None."""
    text = raw.strip()
    compact = "".join(ch for ch in text.upper() if ch not in " -_.")
    found = _REQUEST_REFERENCE.match(compact)
    if found:
        return f"CLB-{found[1]}-{found[2]}"
    try:
        return uuid.UUID(text.removesuffix(_UID_SUFFIX))
    except ValueError:
        return None


async def records_of(
    session: AsyncSession,
    centre_id: uuid.UUID,
    *,
    email: str | None = None,
    phone: str | None = None,
    reference: str | None = None,
) -> list[PersonRecord]:
    """The centre's appointments and requests of this person (nothing erased)."""
    phones = phone_forms(phone) if phone else ()
    parsed = parse_reference(reference) if reference else None
    if reference and parsed is None:
        return []
    by_reference = parsed if isinstance(parsed, str) else None
    requests = await meetings.matching_requests(
        session, centre_id, email=email, phones=phones, reference=by_reference
    )
    filed = [
        r
        for r in await meetings.filed_by(session, centre_id, email=email, phones=phones)
        if r.id not in {known.id for known in requests}
    ]
    ids = {r.appointment_id for r in requests if r.appointment_id}
    if isinstance(parsed, uuid.UUID):
        ids.add(parsed)
    appointments = await personal_data.matching(
        session, centre_id, email=email, phones=phones, ids=ids
    )
    if appointments:
        linked = await meetings.matching_requests(
            session, centre_id, appointment_ids=[a.id for a, _ in appointments]
        )
        requests += [r for r in linked if r.id not in {known.id for known in requests}]
    return [
        *await _appointment_records(session, appointments),
        *[await _request_record(session, r) for r in requests],
        *[_filer_record(r) for r in filed],
    ]


async def _appointment_records(
    session: AsyncSession, found: list[tuple[Appointment, bool]]
) -> list[PersonRecord]:
    sent = await personal_data.notifications(session, [a.id for a, _ in found])
    records = []
    for appointment, as_person in found:
        fields = columns_of(appointment)
        if not as_person:
            fields = {k: v for k, v in fields.items() if k not in _PERSON_COLUMNS}
        chats = (appointment.conversation_id, appointment.handover_conversation_id)
        records.append(
            PersonRecord(
                kind=APPOINTMENT,
                id=appointment.id,
                when=appointment.starts_at,
                reference=str(appointment.id),
                fields=fields,
                related={"notifications": [columns_of(n) for n in sent[appointment.id]]},
                as_booker=not as_person,
                conversation_ids=tuple(c for c in chats if c is not None) if as_person else (),
            )
        )
    return records


async def _request_record(session: AsyncSession, request: MeetingRequest) -> PersonRecord:
    events = await meetings.events(session, request.id)
    chat = request.handover_conversation_id
    return PersonRecord(
        kind=MEETING_REQUEST,
        id=request.id,
        when=request.created_at,
        reference=request.reference,
        fields=columns_of(request),
        related={"events": [columns_of(event) for event in events]},
        conversation_ids=(chat,) if chat is not None else (),
    )


def _filer_record(request: MeetingRequest) -> PersonRecord:
    """A request found by the own contact of who filed it for someone else: only their part."""
    fields = {k: v for k, v in columns_of(request).items() if k not in _REQUEST_PERSON_COLUMNS}
    return PersonRecord(
        kind=MEETING_REQUEST,
        id=request.id,
        when=request.created_at,
        reference=request.reference,
        fields=fields,
        as_booker=True,
    )


async def erase_records(session: AsyncSession, records: list[PersonRecord]) -> int:
    """Anonymise these records (as retention does) and cancel the messages still planned
    for them; returns how many were changed."""
    people = [r.id for r in records if r.kind == APPOINTMENT and not r.as_booker]
    bookers = [r.id for r in records if r.kind == APPOINTMENT and r.as_booker]
    requests = [r.id for r in records if r.kind == MEETING_REQUEST and not r.as_booker]
    filers = [r.id for r in records if r.kind == MEETING_REQUEST and r.as_booker]
    for appointment_id in people:
        for job in await pending_jobs(session, NOTIFY_JOB, appointment_id=str(appointment_id)):
            cancel_job(job)
    for request_id in requests:
        for job in await pending_jobs(
            session, MEETING_CONFIRMATION_JOB, request_id=str(request_id)
        ):
            cancel_job(job)
    changed = await personal_data.anonymise(session, people)
    changed += await personal_data.anonymise_booker(session, bookers)
    changed += await meetings.anonymise_requests(session, requests)
    changed += await meetings.anonymise_filers(session, filers)
    return changed

"""A booking's input and its checks: the person's contact, the booker (when booked for
someone else), the request itself and its fingerprint for Idempotency-Key replays."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from email_validator import EmailNotValidError, validate_email

from scheduling.appointments.models import Mode
from scheduling.errors import InvalidBooking

_PHONE_CHARS = re.compile(r"[\s./()-]")
_PHONE = re.compile(r"^(\+|00)?[0-9]{8,15}$")
LANGUAGES = ("nl", "en", "fr", "de", "tr", "ar", "uk", "pl")


@dataclass(frozen=True)
class Contact:
    first_name: str
    email: str | None
    phone: str | None
    language: str = "nl"
    topic: str = ""


@dataclass(frozen=True)
class Booker:
    """Someone booking "voor iemand anders": how they know the person, their name and how
    to reach them (checked by scheduling.booking_pages.contact_form before it gets here)."""

    relation: str
    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class BookingRequest:
    school_id: uuid.UUID
    type_slug: str
    mode: str
    counsellor_id: uuid.UUID
    starts_at: datetime
    contact: Contact
    location_id: uuid.UUID | None = None
    booker: Booker | None = None
    handover_conversation_id: uuid.UUID | None = None  # a chat's handover code was given
    # The staff member who booked for the person (their counsellor is told unless it was
    # them); None when the person booked. Not part of the fingerprint.
    booked_by: uuid.UUID | None = None

    def fingerprint(self) -> str:
        data: dict[str, Any] = {
            "school": str(self.school_id),
            "type": self.type_slug,
            "mode": self.mode,
            "counsellor": str(self.counsellor_id),
            "start": self.starts_at.isoformat(),
            "location": str(self.location_id),
            "contact": [
                self.contact.first_name,
                self.contact.email,
                self.contact.phone,
                self.contact.language,
                self.contact.topic,
            ],
        }
        if self.booker is not None:
            data["booker"] = dataclasses.astuple(self.booker)
        if self.handover_conversation_id is not None:
            data["handover"] = str(self.handover_conversation_id)
        return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def compact_phone(phone: str) -> str:
    """A phone number as it is stored: without spaces, dots, slashes, brackets or dashes."""
    return _PHONE_CHARS.sub("", phone)


def stored_phone(raw: str) -> str | None:
    """The number as a booking stores it, or None if it cannot be a phone number."""
    compact = compact_phone(raw.strip())
    return compact if _PHONE.match(compact) else None


def clean_contact(contact: Contact) -> Contact:
    """Trimmed and normalised, or InvalidBooking naming the field."""
    first_name = " ".join(contact.first_name.split())
    if not first_name:
        raise InvalidBooking("Vul je voornaam in.", field="first_name")
    if len(first_name) > 60:
        raise InvalidBooking("Je voornaam mag hoogstens 60 tekens lang zijn.", field="first_name")
    email = (contact.email or "").strip() or None
    phone = (contact.phone or "").strip() or None
    if email is None and phone is None:
        raise InvalidBooking(
            "Geef een e-mailadres of een telefoonnummer, zodat we je kunnen bereiken.",
            field="email",
        )
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            raise InvalidBooking(
                "Dit e-mailadres klopt niet. Bijvoorbeeld: naam@voorbeeld.be", field="email"
            ) from None
    if phone is not None:
        compact = compact_phone(phone)
        if not _PHONE.match(compact):
            raise InvalidBooking(
                "Dit telefoonnummer klopt niet. Bijvoorbeeld: 0470 12 34 56", field="phone"
            )
        phone = compact
    language = contact.language if contact.language in LANGUAGES else "nl"
    topic = " ".join(contact.topic.split())
    if len(topic) > 500:
        raise InvalidBooking("Schrijf hoogstens 500 tekens.", field="topic")
    return Contact(first_name, email, phone, language, topic)


def mode_or_error(mode: str) -> Mode:
    try:
        return Mode(mode)
    except ValueError:
        raise InvalidBooking("Kies hoe je wil afspreken.", field="mode") from None

"""Checking a meeting request before it is filed: every field, in the order the form asks
them, so the first problem found is the one the page shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from scheduling.appointments.booking_input import Contact, clean_contact
from scheduling.errors import InvalidBooking, InvalidRequest
from scheduling.meetings.models import DayPart, ForWhom, Place, Relation

NEED_MAX = 1000
# "Via mij" without a way to reach who files (the booking on someone's behalf says the same).
REQUESTER_CONTACT_NEEDED = (
    "Geef je eigen e-mailadres of telefoonnummer, zodat het CLB jou kan bereiken."
)


@dataclass(frozen=True)
class MeetingRequestData:
    """What the form (or a partner) sends; :func:`validate` checks all of it."""

    school_id: uuid.UUID | None
    for_whom: str
    first_name: str
    consent_contact: bool
    phone: str | None = None
    email: str | None = None
    via_school: bool = False
    via_bridge: bool = False
    requester_relation: str | None = None
    requester_name: str | None = None
    requester_phone: str | None = None  # "via mij": how to reach who files
    requester_email: str | None = None
    consent_of_person: bool = False
    preferred_days: tuple[int, ...] = ()
    preferred_times: tuple[str, ...] = ()
    preferred_place: str = Place.office.value
    interpreter_language: str | None = None
    need: str = ""


@dataclass(frozen=True)
class ValidRequest:
    for_whom: ForWhom
    first_name: str
    relation: Relation | None
    requester_name: str | None
    phone: str | None
    email: str | None
    requester_phone: str | None
    requester_email: str | None
    days: list[int]
    times: list[str]
    place: Place
    interpreter_language: str | None
    need: str


def one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def validate(data: MeetingRequestData) -> ValidRequest:
    try:
        for_whom = ForWhom(data.for_whom)
    except ValueError:
        raise InvalidRequest("Kies voor wie je deze aanvraag doet.", field="for_whom") from None
    first_name = one_line(data.first_name)
    if not first_name:
        raise InvalidRequest("Vul een voornaam in.", field="first_name")
    if len(first_name) > 60:
        raise InvalidRequest("Een voornaam mag hoogstens 60 tekens lang zijn.", field="first_name")
    relation, requester_name = _requester(data) if for_whom is ForWhom.other else (None, None)
    phone, email = _reachable(data, first_name)
    requester_phone, requester_email = _via_me(data) if data.via_bridge else (None, None)
    days, times, place = _preferences(data)
    interpreter = one_line(data.interpreter_language) or None
    if interpreter is not None and len(interpreter) > 40:
        raise InvalidRequest(
            "Schrijf de taal in hoogstens 40 tekens.", field="interpreter_language"
        )
    need = (data.need or "").strip()
    if len(need) > NEED_MAX:
        raise InvalidRequest("Schrijf hoogstens 1000 tekens.", field="need")
    if data.consent_contact is not True:
        raise InvalidRequest(
            "Geef toestemming dat het CLB contact opneemt, anders kunnen we je niet helpen.",
            field="consent_contact",
        )
    return ValidRequest(
        for_whom=for_whom,
        first_name=first_name,
        relation=relation,
        requester_name=requester_name,
        phone=phone,
        email=email,
        requester_phone=requester_phone,
        requester_email=requester_email,
        days=days,
        times=times,
        place=place,
        interpreter_language=interpreter,
        need=need,
    )


def _requester(data: MeetingRequestData) -> tuple[Relation, str]:
    """Who files the request for someone else, and that the person agreed."""
    try:
        relation = Relation(data.requester_relation or "")
    except ValueError:
        raise InvalidRequest("Kies hoe je de persoon kent.", field="requester_relation") from None
    requester_name = one_line(data.requester_name)
    if not requester_name:
        raise InvalidRequest("Vul je eigen naam in.", field="requester_name")
    if len(requester_name) > 120:
        raise InvalidRequest("Je naam mag hoogstens 120 tekens lang zijn.", field="requester_name")
    if data.consent_of_person is not True:
        raise InvalidRequest(
            "Vraag eerst of de persoon akkoord gaat dat je deze aanvraag doet.",
            field="consent_of_person",
        )
    return relation, requester_name


def _reachable(data: MeetingRequestData, first_name: str) -> tuple[str | None, str | None]:
    """The phone and e-mail, checked as for a booking; at least one way to reach someone."""
    phone = (data.phone or "").strip() or None
    email = (data.email or "").strip() or None
    if phone is None and email is None:
        if not (data.via_school or data.via_bridge):
            raise InvalidRequest(
                "Kies minstens één manier waarop we iemand kunnen bereiken.", field="contact"
            )
        return None, None
    try:
        cleaned = clean_contact(Contact(first_name, email, phone))
    except InvalidBooking as exc:
        raise InvalidRequest(exc.detail_message, field=exc.field) from None
    return cleaned.phone, cleaned.email


def _via_me(data: MeetingRequestData) -> tuple[str | None, str | None]:
    """ "Via mij": the own phone or e-mail of who files, checked as for a booking."""
    phone = (data.requester_phone or "").strip() or None
    email = (data.requester_email or "").strip() or None
    if phone is None and email is None:
        raise InvalidRequest(REQUESTER_CONTACT_NEEDED, field="requester_phone")
    try:
        cleaned = clean_contact(Contact("x", email, phone))
    except InvalidBooking as exc:
        field = "requester_email" if exc.field == "email" else "requester_phone"
        raise InvalidRequest(exc.detail_message, field=field) from None
    return cleaned.phone, cleaned.email


def _preferences(data: MeetingRequestData) -> tuple[list[int], list[str], Place]:
    """The preferred weekdays and parts of the day (in a fixed order) and the place."""
    try:
        days = sorted({int(day) for day in data.preferred_days})
    except (TypeError, ValueError):
        days = [-1]
    if any(day not in range(5) for day in days):
        raise InvalidRequest("Kies dagen van maandag tot vrijdag.", field="preferred_days")
    if any(time not in DayPart.__members__ for time in data.preferred_times):
        raise InvalidRequest("Kies voormiddag, namiddag of avond.", field="preferred_times")
    times: list[str] = [part.value for part in DayPart if part.value in data.preferred_times]
    try:
        place = Place(data.preferred_place)
    except ValueError:
        raise InvalidRequest(
            "Kies waar je het CLB wil ontmoeten.", field="preferred_place"
        ) from None
    return days, times, place

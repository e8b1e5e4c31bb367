"""The request form "Ik wil liever iemand van het CLB zien", one question per step.

Everything typed so far travels in hidden fields of each step's POST (nothing personal in
the address, no JavaScript, no server-side draft to expire). Each step checks its own
fields; the last step checks them all again (hidden fields can be changed) before
``meeting_requests.file_request``, which checks everything once more.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from clb.web.forms import form_text
from scheduling.appointments.booking_input import Contact, clean_contact
from scheduling.errors import InvalidBooking, InvalidRequest
from scheduling.meetings.models import DayPart, ForWhom, Place, Relation
from scheduling.meetings.validation import (
    NEED_MAX,
    REQUESTER_CONTACT_NEEDED,
    MeetingRequestData,
)

MAX_INPUT = 1200  # longer input is cut before it is checked (the checks then say why)

# The steps in order; "relatie" only when filing for someone else.
STEPS = ("wie", "relatie", "school", "bereiken", "wanneer", "tolk", "vraag")
# Which step shows (and fixes) each field.
FIELD_STEP = {
    "for_whom": "wie",
    "requester_relation": "relatie",
    "requester_name": "relatie",
    "consent_of_person": "relatie",
    "school": "school",
    "first_name": "bereiken",
    "contact": "bereiken",
    "phone": "bereiken",
    "email": "bereiken",
    "requester_phone": "bereiken",
    "requester_email": "bereiken",
    "preferred_days": "wanneer",
    "preferred_times": "wanneer",
    "preferred_place": "wanneer",
    "interpreter": "tolk",
    "interpreter_language": "tolk",
    "need": "vraag",
    "consent_contact": "vraag",
    "code": "vraag",
}
YES = "ja"
NO = "nee"


@dataclass(frozen=True)
class Draft:
    """What was typed, kept exactly as typed (strings), so every page can show it again."""

    for_whom: str = ""
    requester_relation: str = ""
    requester_name: str = ""
    consent_of_person: bool = False
    school: str = ""
    first_name: str = ""
    phone: str = ""
    email: str = ""
    via_school: bool = False
    via_bridge: bool = False
    requester_phone: str = ""  # "via mij": the own phone and e-mail of who files
    requester_email: str = ""
    preferred_days: tuple[str, ...] = ()
    preferred_times: tuple[str, ...] = ()
    preferred_place: str = ""
    interpreter: str = ""
    interpreter_language: str = ""
    need: str = ""
    consent_contact: bool = False
    code: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, object], many: Mapping[str, list[str]]) -> Draft:
        """``form``: the first value per name; ``many``: every value of the check boxes."""

        def text(name: str) -> str:
            return form_text(form, name, MAX_INPUT)

        return cls(
            for_whom=text("for_whom"),
            requester_relation=text("requester_relation"),
            requester_name=text("requester_name"),
            consent_of_person=text("consent_of_person") == YES,
            school=text("school"),
            first_name=text("first_name"),
            phone=text("phone"),
            email=text("email"),
            via_school=text("via_school") == YES,
            via_bridge=text("via_bridge") == YES,
            requester_phone=text("requester_phone"),
            requester_email=text("requester_email"),
            preferred_days=tuple(v[:2] for v in many.get("preferred_days", [])[:5]),
            preferred_times=tuple(v[:10] for v in many.get("preferred_times", [])[:3]),
            preferred_place=text("preferred_place"),
            interpreter=text("interpreter"),
            interpreter_language=text("interpreter_language"),
            need=text("need"),
            consent_contact=text("consent_contact") == YES,
            code=text("code")[:40],
        )

    @property
    def for_other(self) -> bool:
        return self.for_whom == ForWhom.other.value

    def steps(self) -> tuple[str, ...]:
        return STEPS if self.for_other else tuple(s for s in STEPS if s != "relatie")

    def hidden(self, except_step: str) -> list[tuple[str, str]]:
        """The fields of every other step as (name, value) pairs for hidden inputs."""
        pairs: list[tuple[str, str]] = []
        for field in dataclasses.fields(self):
            name = field.name
            if name in ("via_school", "via_bridge"):
                step: str | None = "bereiken"
            else:
                step = FIELD_STEP.get(name)
            if step == except_step:
                continue
            value = getattr(self, name)
            if isinstance(value, bool):
                if value:
                    pairs.append((name, YES))
            elif isinstance(value, tuple):
                pairs.extend((name, item) for item in value)
            elif value:
                pairs.append((name, value))
        return pairs

    def data(self, school_id: uuid.UUID | None) -> MeetingRequestData:
        days: list[int] = []
        for day in self.preferred_days:
            days.append(int(day) if day.isdigit() else -1)
        return MeetingRequestData(
            school_id=school_id,
            for_whom=self.for_whom,
            first_name=self.first_name,
            consent_contact=self.consent_contact,
            phone=self.phone.strip() or None,
            email=self.email.strip() or None,
            via_school=self.via_school,
            via_bridge=self.via_bridge and self.for_other,
            requester_relation=self.requester_relation if self.for_other else None,
            requester_name=self.requester_name if self.for_other else None,
            requester_phone=self.requester_phone if self.for_other else None,
            requester_email=self.requester_email if self.for_other else None,
            consent_of_person=self.consent_of_person,
            preferred_days=tuple(days),
            preferred_times=self.preferred_times,
            preferred_place=self.preferred_place,
            interpreter_language=(self.interpreter_language if self.interpreter == YES else None),
            need=self.need,
        )


def school_id_of(draft: Draft) -> uuid.UUID | None:
    try:
        return uuid.UUID(draft.school)
    except ValueError:
        return None


def step_errors(
    draft: Draft, step: str, *, school_known: bool, places: list[str]
) -> dict[str, str]:
    """Field → Dutch message for every field of ``step`` that is not right."""
    errors: dict[str, str] = {}
    if step == "wie":
        if draft.for_whom not in ForWhom.__members__:
            errors["for_whom"] = "Kies voor wie je deze aanvraag doet."
    elif step == "relatie":
        if draft.requester_relation not in Relation.__members__:
            errors["requester_relation"] = "Kies hoe je de persoon kent."
        name = " ".join(draft.requester_name.split())
        if not name:
            errors["requester_name"] = "Vul je eigen naam in."
        elif len(name) > 120:
            errors["requester_name"] = "Je naam mag hoogstens 120 tekens lang zijn."
        if not draft.consent_of_person:
            errors["consent_of_person"] = (
                "Vraag eerst of de persoon akkoord gaat dat je deze aanvraag doet."
            )
    elif step == "school":
        if not school_known:
            errors["school"] = "Kies de school uit de lijst."
    elif step == "bereiken":
        errors.update(_reach_errors(draft))
    elif step == "wanneer":
        if any(day not in {"0", "1", "2", "3", "4"} for day in draft.preferred_days):
            errors["preferred_days"] = "Kies dagen van maandag tot vrijdag."
        if any(time not in DayPart.__members__ for time in draft.preferred_times):
            errors["preferred_times"] = "Kies voormiddag, namiddag of avond."
        if draft.preferred_place not in places or draft.preferred_place not in Place.__members__:
            errors["preferred_place"] = "Kies waar je het CLB wil ontmoeten."
    elif step == "tolk":
        if draft.interpreter not in (YES, NO):
            errors["interpreter"] = InvalidRequest("Kies of er een tolk nodig is.").detail_message
        elif draft.interpreter == YES:
            language = " ".join(draft.interpreter_language.split())
            if not language:
                errors["interpreter_language"] = InvalidRequest(
                    "Schrijf welke taal de tolk moet spreken."
                ).detail_message
            elif len(language) > 40:
                errors["interpreter_language"] = "Schrijf de taal in hoogstens 40 tekens."
    elif step == "vraag":
        if len(draft.need.strip()) > NEED_MAX:
            errors["need"] = "Schrijf hoogstens 1000 tekens."
        if not draft.consent_contact:
            errors["consent_contact"] = (
                "Geef toestemming dat het CLB contact opneemt, anders kunnen we je niet helpen."
            )
    return errors


def _reach_errors(draft: Draft) -> dict[str, str]:
    errors: dict[str, str] = {}
    first_name = " ".join(draft.first_name.split())
    if not first_name:
        errors["first_name"] = "Vul een voornaam in."
    elif len(first_name) > 60:
        errors["first_name"] = "Een voornaam mag hoogstens 60 tekens lang zijn."
    phone, email = draft.phone.strip(), draft.email.strip()
    via = draft.via_school or (draft.via_bridge and draft.for_other)
    if not (phone or email or via):
        errors["contact"] = "Kies minstens één manier waarop we iemand kunnen bereiken."
    errors.update(_address_errors(phone, email))
    if draft.via_bridge and draft.for_other:
        own_phone, own_email = draft.requester_phone.strip(), draft.requester_email.strip()
        if not (own_phone or own_email):
            errors["requester_phone"] = REQUESTER_CONTACT_NEEDED
        errors.update(_address_errors(own_phone, own_email, prefix="requester_"))
    return errors


def _address_errors(phone: str, email: str, *, prefix: str = "") -> dict[str, str]:
    """The booking's own checks, one field at a time, so both errors can show at once."""
    errors: dict[str, str] = {}
    for field, probe in (
        ("email", Contact("x", email, None)),
        ("phone", Contact("x", None, phone)),
    ):
        if getattr(probe, field):
            try:
                clean_contact(probe)
            except InvalidBooking as exc:
                errors[prefix + field] = exc.detail_message
    return errors


def ordered(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Errors in the order of the fields on the pages."""
    rank = {field: index for index, field in enumerate(FIELD_STEP)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank)))

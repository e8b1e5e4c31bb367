"""The contact step of the booking pages: what was typed, kept as typed, and checked.

The checks are the booking service's own (``booking_input.clean_contact``); this module only
collects all of them at once, so the page can show every error next to its field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from clb.web.forms import form_text
from scheduling.appointments.booking_input import Booker, Contact, clean_contact
from scheduling.errors import InvalidBooking
from scheduling.meetings.labels import RELATION_LABELS

# The preferred language, each in its own name (read by whoever speaks it).
LANGUAGE_NAMES = {
    "nl": "Nederlands",
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "tr": "Türkçe",
    "ar": "العربية",
    "uk": "Українська",
    "pl": "Polski",
}
# Right-to-left scripts, for the dir attribute.
RTL_LANGUAGES = frozenset({"ar"})
CONTACT_FIELDS = (
    "for_whom",
    "booker_relation",
    "booker_name",
    "booker_email",
    "booker_phone",
    "person_consent",
    "first_name",
    "email",
    "phone",
    "language",
    "topic",
    "code",  # a handover code from a chat (scheduling.appointments.handover_link)
    "consent",
)
# "Voor iemand anders": the booker's own fields, carried along when a moment was taken.
BOOKER_FIELDS = ("booker_relation", "booker_name", "booker_email", "booker_phone")
OTHER = "anders"
MAX_INPUT = 600  # anything longer is cut before it is checked (the checks then say why)
# Values known to pass, to look past one error to the next.
_VALID = {
    "first_name": {"first_name": "Sara"},
    "email": {"email": "naam@voorbeeld.be"},
    "phone": {"phone": "0470123456"},
    "topic": {"topic": ""},
}


@dataclass(frozen=True)
class ContactForm:
    first_name: str = ""
    email: str = ""
    phone: str = ""
    language: str = "nl"
    topic: str = ""
    consent: bool = False
    for_other: bool = False
    booker_relation: str = ""
    booker_name: str = ""
    booker_email: str = ""
    booker_phone: str = ""
    person_consent: bool = False

    @classmethod
    def from_form(cls, form: Mapping[str, object], *, default_language: str) -> ContactForm:
        def text(name: str) -> str:
            return form_text(form, name, MAX_INPUT)

        language = text("language")
        return cls(
            first_name=text("first_name"),
            email=text("email"),
            phone=text("phone"),
            language=language if language in LANGUAGE_NAMES else default_language,
            topic=text("topic"),
            consent=text("consent") == "ja",
            for_other=text("for_whom") == OTHER,
            booker_relation=text("booker_relation"),
            booker_name=text("booker_name"),
            booker_email=text("booker_email"),
            booker_phone=text("booker_phone"),
            person_consent=text("person_consent") == "ja",
        )

    def hidden(self) -> list[tuple[str, str]]:
        """The "voor iemand anders" fields as hidden inputs (when a moment was taken)."""
        if not self.for_other:
            return []
        pairs = [("for_whom", OTHER), ("person_consent", "ja" if self.person_consent else "")]
        return pairs + [(name, getattr(self, name)) for name in BOOKER_FIELDS]

    def booker(self) -> Booker | None:
        """Who books for someone else (None: for themselves); call after ``errors()``."""
        if not self.for_other:
            return None
        cleaned = clean_contact(Contact("x", self.booker_email, self.booker_phone))
        name = " ".join(self.booker_name.split())
        return Booker(self.booker_relation, name, cleaned.email, cleaned.phone)

    def contact(self) -> Contact:
        return Contact(
            first_name=self.first_name,
            email=self.email.strip() or None,
            phone=self.phone.strip() or None,
            language=self.language,
            topic=self.topic,
        )

    def _booker_errors(self) -> dict[str, str]:
        return _booker_problems(self)

    def errors(self) -> dict[str, str]:
        """Field → Dutch message, for every field that is not right."""
        errors: dict[str, str] = {}
        probe = self.contact()
        for _attempt in range(len(_VALID) + 1):
            try:
                clean_contact(probe)
                break
            except InvalidBooking as exc:
                field = exc.field or "first_name"
                if field in errors or field not in _VALID:
                    errors.setdefault(field, exc.detail_message)
                    break
                errors[field] = exc.detail_message
                probe = dataclasses.replace(probe, **_VALID[field])
        if self.for_other:
            errors.update(self._booker_errors())
        if not self.consent:
            errors["consent"] = InvalidBooking(
                "Vink het vakje aan, dan mag het CLB je gegevens voor deze afspraak gebruiken.",
                field="consent",
            ).detail_message
        return errors


def _booker_problems(form: ContactForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.booker_relation not in RELATION_LABELS:
        errors["booker_relation"] = "Kies hoe je de persoon kent."
    name = " ".join(form.booker_name.split())
    if not name:
        errors["booker_name"] = "Vul je eigen naam in."
    elif len(name) > 120:
        errors["booker_name"] = "Je naam mag hoogstens 120 tekens lang zijn."
    email, phone = form.booker_email.strip(), form.booker_phone.strip()
    if not (email or phone):
        errors["booker_email"] = InvalidBooking(
            "Geef je eigen e-mailadres of telefoonnummer, zodat het CLB jou kan bereiken."
        ).detail_message
    probes = (
        ("booker_email", Contact("x", email, None)),
        ("booker_phone", Contact("x", None, phone)),
    )
    for field, probe in probes:
        if probe.email or probe.phone:
            try:
                clean_contact(probe)
            except InvalidBooking as exc:
                errors[field] = exc.detail_message
    if not form.person_consent:
        errors["person_consent"] = (
            "Vraag eerst of de persoon akkoord gaat dat je deze aanvraag doet."
        )
    return errors


def ordered(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Errors in the order of the fields on the page (others last)."""
    rank = {field: index for index, field in enumerate(CONTACT_FIELDS)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank)))

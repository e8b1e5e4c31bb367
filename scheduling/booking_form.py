"""The contact step of the booking pages: what was typed, kept as typed, and checked.

The checks are the booking service's own (``booking.clean_contact``); this module only
collects all of them at once, so the page can show every error next to its field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from scheduling.booking import Contact, clean_contact
from scheduling.errors import InvalidBooking

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
CONTACT_FIELDS = ("first_name", "email", "phone", "language", "topic", "consent")
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

    @classmethod
    def from_form(cls, form: Mapping[str, object], *, default_language: str) -> ContactForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value[:MAX_INPUT] if isinstance(value, str) else ""

        language = text("language")
        return cls(
            first_name=text("first_name"),
            email=text("email"),
            phone=text("phone"),
            language=language if language in LANGUAGE_NAMES else default_language,
            topic=text("topic"),
            consent=text("consent") == "ja",
        )

    def contact(self) -> Contact:
        return Contact(
            first_name=self.first_name,
            email=self.email.strip() or None,
            phone=self.phone.strip() or None,
            language=self.language,
            topic=self.topic,
        )

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
        if not self.consent:
            errors["consent"] = InvalidBooking(
                "Vink het vakje aan, dan mag het CLB je gegevens voor deze afspraak gebruiken.",
                field="consent",
            ).detail_message
        return errors


def ordered(errors: Mapping[str, str]) -> list[tuple[str, str]]:
    """Errors in the order of the fields on the page (others last)."""
    rank = {field: index for index, field in enumerate(CONTACT_FIELDS)}
    return sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank)))

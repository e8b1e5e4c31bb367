"""What other parts of the platform may use of scheduling, and nothing further in: one
person's appointments and face-to-face requests for a privacy request (find, export, erase;
the console page is composition's)."""

from __future__ import annotations

from scheduling.privacy import (
    APPOINTMENT,
    MEETING_REQUEST,
    PersonRecord,
    erase_records,
    parse_reference,
    phone_forms,
    records_of,
)

__all__ = [
    "APPOINTMENT",
    "MEETING_REQUEST",
    "PersonRecord",
    "erase_records",
    "parse_reference",
    "phone_forms",
    "records_of",
]

"""Typed errors of the appointments module (Dutch source messages, stable codes)."""

from __future__ import annotations

from typing import Any

from clb.errors import ClbError


class InvalidBooking(ClbError):
    """Input that cannot be booked; ``field`` says which form field to point at."""

    status = 422
    code = "invalid_booking"
    message = "Deze afspraak kan zo niet gemaakt worden."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None)
        self.field = field


class SlotTaken(ClbError):
    """The moment is no longer free (taken meanwhile, or never offered). Carries fresh
    slots so the person can choose again at once."""

    status = 409
    code = "slot_taken"
    message = "Dit moment is niet (meer) vrij. Kies een ander moment."

    def __init__(self, fresh_slots: list[dict[str, Any]] | None = None) -> None:
        super().__init__(details={"slots": fresh_slots or []})


class ChangeClosed(ClbError):
    """Too close to the start (or already past) to change it online."""

    status = 409
    code = "change_closed"
    message = "Deze afspraak kan je online niet meer wijzigen. Bel je CLB."


class AppointmentGone(ClbError):
    """The appointment is cancelled or over: nothing to change."""

    status = 409
    code = "appointment_inactive"
    message = "Deze afspraak is geannuleerd of voorbij."


class IdempotencyKeyReused(ClbError):
    status = 422
    code = "idempotency_key_reused"
    message = "Deze Idempotency-Key werd al gebruikt voor een andere aanvraag."


# --- Face-to-face meeting requests ---------------------------------------------------------


class InvalidRequest(ClbError):
    """A meeting request that cannot be filed or changed so; ``field`` names the form field."""

    status = 422
    code = "invalid_meeting_request"
    message = "Deze aanvraag kan zo niet verstuurd worden."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message, details={"field": field} if field else None)
        self.field = field


class MeetingRequestNotFound(ClbError):
    status = 404
    code = "meeting_request_not_found"
    message = "Deze aanvraag bestaat niet (meer)."


class RequestStateConflict(ClbError):
    """The step does not fit the request's status (e.g. scheduling a closed request)."""

    status = 409
    code = "meeting_request_conflict"
    message = "Dit kan niet meer: de aanvraag is intussen verder behandeld of afgesloten."

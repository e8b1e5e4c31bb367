"""What was chosen in the booking steps so far: the school (which decides the centre), the
kind of appointment, the way to meet and the moment. It travels in each step's address and
form, and each step checks it again (scheduling.booking_pages.step_pages)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from clb.org.models import Centre, School
from scheduling.appointments import repository
from scheduling.appointments.models import AppointmentType, Mode
from scheduling.availability.slot_picker import ChosenSlot


@dataclass(frozen=True)
class Choice:
    """What was chosen in the steps so far (each step checks it again)."""

    school: School
    centre: Centre
    kind: AppointmentType | None = None
    mode: str | None = None
    slot: ChosenSlot | None = None
    slot_value: str | None = None
    code: str = ""  # a handover code from a chat, as typed (checked when booking)

    def params(self, **extra: str | None) -> dict[str, str]:
        values = {
            "school": str(self.school.id),
            "soort": self.kind.slug if self.kind else None,
            "hoe": self.mode,
            "code": self.code,
            **extra,
        }
        return {name: value for name, value in values.items() if value}

    def url(self, path: str, **extra: str | None) -> str:
        return f"{path}?{urlencode(self.params(**extra))}"


class StepError(Exception):
    """Go back to an earlier step: ``response`` shows it with the error."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def school_of(session: AsyncSession, raw: str | None) -> tuple[School, Centre] | None:
    try:
        school_id = uuid.UUID(raw or "")
    except ValueError:
        return None
    return await repository.school_and_centre(session, school_id)


async def offered_modes(session: AsyncSession, centre_id: uuid.UUID) -> list[str]:
    """The ways to meet the centre offers, in a fixed order."""
    offered = await repository.offered_modes(session, centre_id)
    return [mode.value for mode in Mode if mode.value in offered]

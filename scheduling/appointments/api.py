"""JSON API for appointments: schools, appointment types, free slots, booking.

The booking pages use the same service functions; this API is for schools' and partners'
own front ends and for the benchmark. Errors are typed JSON (``code``, ``message``,
``details``): 409 ``slot_taken`` carries fresh slots to choose from.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, TypedDict

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from clb.db import utcnow
from clb.org.models import Centre
from clb.ratelimit import Rate
from clb.services import Services
from clb.web.deps import ServicesDep, SessionDep
from clb.web.security import ip_hash
from scheduling.appointments import booking, handover_link, repository
from scheduling.appointments.batcher import BookingBatcher
from scheduling.appointments.booking_input import BookingRequest, Contact
from scheduling.appointments.models import Mode
from scheduling.availability import offers
from scheduling.availability.slots import local_day
from scheduling.booking_pages import school_search

router = APIRouter(prefix="/api", tags=["appointments"])

MAX_DAYS = 21
BOOKING_LIMITED = "Je maakte heel veel afspraken na elkaar. Wacht even of bel je CLB."


class SchoolOut(BaseModel):
    # Read from a repository.SchoolMatch, field by field.
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    municipality: str
    centre_id: uuid.UUID
    centre_name: str


class TypeOut(BaseModel):
    # Read from an AppointmentType row, field by field.
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    description: str
    duration_minutes: int


class SlotOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    counsellor_id: uuid.UUID
    mode: Mode
    location_id: uuid.UUID | None


class SlotsOut(BaseModel):
    centre_id: uuid.UUID
    centre_name: str
    slots: list[SlotOut]


class ContactIn(BaseModel):
    first_name: str = Field(min_length=1, max_length=60)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    language: str = Field(default="nl", max_length=5)
    topic: str = Field(default="", max_length=500)


class BookingIn(BaseModel):
    school_id: uuid.UUID
    type: str = Field(max_length=40)
    mode: Mode
    counsellor_id: uuid.UUID
    starts_at: AwareDatetime
    location_id: uuid.UUID | None = None
    contact: ContactIn
    handover_code: str | None = Field(
        default=None,
        max_length=handover_link.CODE_MAX,
        examples=["K7M4-QX9P"],
        description=(
            "Optional: the code the person got in a CLBch@t conversation. Case, spaces and "
            "dashes do not matter. The counsellor then sees that chat's outcome (topics, "
            "referrals, short summary; never the transcript). A code that is unknown or no "
            "longer valid is refused: 422 `invalid_booking` with `details.field` "
            "`handover_code`, and nothing is booked."
        ),
    )


class AppointmentOut(BaseModel):
    id: uuid.UUID
    status: str
    starts_at: datetime
    ends_at: datetime
    mode: Mode
    type: str
    centre_name: str
    counsellor_name: str
    manage_url: str = Field(description="Secret link to reschedule or cancel; also mailed.")


@router.get("/schools")
async def search_schools(
    session: SessionDep, q: Annotated[str, Query(min_length=2, max_length=80)]
) -> list[SchoolOut]:
    """Schools by name, town or postcode, forgiving accents and typos, as the booking pages
    search them (the school decides the CLB)."""
    matches = await school_search.search_schools(session, q)
    return [SchoolOut.model_validate(match) for match in matches]


@router.get("/appointments/types")
async def appointment_types(session: SessionDep) -> list[TypeOut]:
    return [TypeOut.model_validate(kind) for kind in await repository.active_types(session)]


@router.get("/appointments/slots")
async def free_slots(
    session: SessionDep,
    school: uuid.UUID,
    type: Annotated[str, Query(max_length=40)],
    mode: Mode,
    start: date | None = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 14,
) -> SlotsOut:
    """Free moments, one per start time, from ``start`` (default today) for ``days`` days."""
    found = await offers.school_or_error(session, school)
    kind = await offers.type_or_error(session, type)
    centre = await session.get_one(Centre, found.centre_id)
    now = utcnow()
    first = max(start or local_day(now), local_day(now))
    slots = await offers.offer(
        session,
        centre.id,
        kind,
        mode.value,
        now=now,
        first=first,
        last=first + timedelta(days=days - 1),
    )
    return SlotsOut(
        centre_id=centre.id,
        centre_name=centre.name,
        slots=[
            SlotOut(
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                counsellor_id=s.counsellor_id,
                mode=Mode(s.mode),
                location_id=s.location_id,
            )
            for s in slots
        ],
    )


def booking_rate(services: ServicesDep) -> Rate:
    return Rate(services.settings.booking_rate_per_hour, 3600)


async def limited_retry_after(services: Services, request: Request, scope: str) -> str | None:
    """The seconds to wait (for Retry-After) when this address booked or filed too often
    within the hour; None while it may go on. The pages show BOOKING_LIMITED then."""
    decision = await services.limiter.hit(f"{scope}:{ip_hash(request)}", booking_rate(services))
    return None if decision.allowed else str(max(1, round(decision.retry_after)))


class LimitedPage(TypedDict):
    """What a booking or request page is shown with for an address over the limit."""

    errors: dict[str, str]
    status_code: int
    headers: dict[str, str]


async def limited_page(services: Services, request: Request, scope: str) -> LimitedPage | None:
    """The page's BOOKING_LIMITED answer (429, Retry-After) when this address booked or filed
    too often; None while it may go on."""
    wait = await limited_retry_after(services, request, scope)
    if wait is None:
        return None
    return {"errors": {"": BOOKING_LIMITED}, "status_code": 429, "headers": {"Retry-After": wait}}


@router.post(
    "/appointments",
    status_code=201,
    responses={
        409: {"description": "The slot is taken; ``details.slots`` offers others."},
        422: {"description": "Invalid input, or an unknown ``handover_code``."},
    },
)
async def create_appointment(
    request: Request,
    response: Response,
    body: BookingIn,
    services: ServicesDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> AppointmentOut:
    """Book a slot from ``/api/appointments/slots``. With an ``Idempotency-Key`` header a
    repeated request returns the same appointment instead of a second one."""
    decision = await services.limiter.hit(f"booking:{ip_hash(request)}", booking_rate(services))
    decision.raise_if_denied(BOOKING_LIMITED)
    handed_over = None
    if body.handover_code is not None:
        async with services.sessionmaker() as session:
            handed_over = await handover_link.check_code(
                session, body.handover_code, field="handover_code"
            )
    wish = booking.Wish(
        booking.prepare(
            BookingRequest(
                school_id=body.school_id,
                type_slug=body.type,
                mode=body.mode.value,
                counsellor_id=body.counsellor_id,
                starts_at=body.starts_at,
                location_id=body.location_id,
                contact=Contact(**body.contact.model_dump()),
                handover_conversation_id=handed_over.conversation_id if handed_over else None,
            )
        ),
        idempotency_key,
    )
    # Booked together with the requests arriving at the same time (scheduling.appointments.batcher).
    outcome = await BookingBatcher.of(services).book(wish)
    if isinstance(outcome, booking.Taken):
        async with services.sessionmaker() as session:
            raise await booking.conflict(session, outcome, utcnow())
    booked = booking.booked_or_raise(outcome)
    if booked.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    appointment = booked.appointment
    return AppointmentOut(
        id=appointment.id,
        status=appointment.status,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        mode=Mode(appointment.mode),
        type=booked.type_name,
        centre_name=booked.centre_name,
        counsellor_name=booked.counsellor_name,
        manage_url=booking.manage_url(services, appointment),
    )

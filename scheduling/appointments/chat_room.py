"""Chat by appointment: at the agreed time the person opens a chat that goes straight to
their counsellor, through the chat module (no queue, no opening hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from chat import public as chat_public
from clb.auth import service as auth_service
from clb.auth.models import StaffAccount
from clb.services import Services
from scheduling.appointments.models import Appointment, AppointmentType, Mode

OPENS_BEFORE = timedelta(minutes=10)


@dataclass(frozen=True)
class ChatHandoff:
    """What the person's browser needs to continue in the chat page."""

    visitor_token: str
    conversation_id: str
    counsellor_name: str


def opens_at(appointment: Appointment) -> datetime:
    return appointment.starts_at - OPENS_BEFORE


def chat_is_open(appointment: Appointment, now: datetime) -> bool:
    return (
        appointment.mode == Mode.chat.value
        and appointment.is_active
        and opens_at(appointment) <= now < appointment.ends_at
    )


async def open_chat(
    session: AsyncSession, services: Services, appointment: Appointment, now: datetime
) -> ChatHandoff | None:
    """A fresh visitor identity for this browser, on the appointment's conversation (made
    now, or the one already running: a second device or a lost tab takes it over — the
    manage link is the person's proof). None outside the chat's time window."""
    if not chat_is_open(appointment, now):
        return None
    visitor, token = await auth_service.new_visitor(session)
    counsellor = await session.get_one(StaffAccount, appointment.counsellor_id)
    kind = await session.get_one(AppointmentType, appointment.type_id)
    conversation = await chat_public.open_assigned_conversation(
        session,
        services,
        appointment.conversation_id,
        visitor.id,
        counsellor,
        nickname=appointment.first_name,
        # Data for the (Dutch-speaking) counsellor, not text for the person.
        subject=f"Afspraak: {kind.name}",
        time_limit_minutes=max(kind.duration_minutes, 15),
        now=now,
    )
    appointment.conversation_id = conversation.id
    await session.flush()
    return ChatHandoff(token, str(conversation.id), counsellor.display_name)

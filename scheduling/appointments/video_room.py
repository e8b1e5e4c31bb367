"""Video appointments: each has its own room on a Jitsi Meet compatible server.

The room name is random (160 bits from ``secrets``) and stored on the appointment; a
reschedule keeps it. Nobody is given the room's address before it opens
(``video_opens_minutes_before`` the start) or after the end, and never for a cancelled
appointment: the pages and mails link to a platform page (behind the manage link or the
staff session) that sends the browser on only within that window. With
``video_jwt_secret`` set, that address carries a token for this one room (HS256, the claims
Jitsi's token authentication reads). Without a server (``video_base_url`` unset) there is no
room: the counsellor calls the person, or mails them when no phone number was given.
"""

from __future__ import annotations

import base64
import enum
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey

from clb.config import Settings
from clb.i18n import gettext as _
from scheduling import labels
from scheduling.appointments.models import Appointment, Mode, Status

ROOM_BYTES = 20  # 160 bits; base32 keeps the name lowercase (Jitsi lowercases room names)
# The token stays valid this long after the end (a conversation that runs over).
TOKEN_AFTER_END = timedelta(hours=3)
JITSI_AUDIENCE = "jitsi"


class RoomState(enum.StrEnum):
    no_server = "no_server"  # no video server configured: a call or a mail instead
    waiting = "waiting"  # not open yet
    open = "open"
    ended = "ended"
    cancelled = "cancelled"


def new_room() -> str:
    """An unguessable room name: 32 characters a–z and 2–7."""
    return base64.b32encode(secrets.token_bytes(ROOM_BYTES)).decode().rstrip("=").lower()


def room_for(mode: str) -> str | None:
    """The room a new appointment of ``mode`` gets (None: not a video appointment)."""
    return new_room() if mode == Mode.video.value else None


def has_server(settings: Settings) -> bool:
    return settings.video_base_url is not None


def opens_at(settings: Settings, appointment: Appointment) -> datetime:
    return appointment.starts_at - timedelta(minutes=settings.video_opens_minutes_before)


def state(settings: Settings, appointment: Appointment, now: datetime) -> RoomState:
    if appointment.status == Status.cancelled.value:
        return RoomState.cancelled
    if not has_server(settings) or appointment.video_room is None:
        return RoomState.no_server
    if now >= appointment.ends_at:
        return RoomState.ended
    if now < opens_at(settings, appointment):
        return RoomState.waiting
    return RoomState.open


def _token(settings: Settings, appointment: Appointment, name: str, moderator: bool) -> str:
    assert settings.video_base_url and settings.video_jwt_secret  # noqa: S101 - checked
    claims = {
        "aud": JITSI_AUDIENCE,
        "iss": settings.video_jwt_app_id,
        "sub": urlsplit(settings.video_base_url).hostname,
        "room": appointment.video_room,
        "nbf": int(opens_at(settings, appointment).timestamp()),
        "exp": int((appointment.ends_at + TOKEN_AFTER_END).timestamp()),
        "context": {"user": {"name": name, "moderator": moderator}},
    }
    key = OctKey.import_key(settings.video_jwt_secret)
    return jwt.encode({"alg": "HS256", "typ": "JWT"}, claims, key)


def join_url(
    settings: Settings,
    appointment: Appointment,
    now: datetime,
    *,
    name: str,
    moderator: bool = False,
) -> str | None:
    """The room's address for one of the two parties, only while the room is open."""
    if state(settings, appointment, now) is not RoomState.open:
        return None
    url = f"{settings.video_base_url}/{appointment.video_room}"
    if settings.video_jwt_secret:
        url += "?" + urlencode({"jwt": _token(settings, appointment, name, moderator)})
    return url


# --- What people read ----------------------------------------------------------------------


def without_server_text(appointment: Appointment, counsellor_name: str) -> str:
    """What the person is told when there is no video server: the truth about the call."""
    if appointment.phone:
        return _(
            "Het CLB heeft nog geen videoruimte. Daarom belt {name} je op het afgesproken uur "
            "op {phone}."
        ).format(name=counsellor_name, phone=appointment.phone)
    return _(
        "Het CLB heeft nog geen videoruimte. Daarom mailt {name} je vóór de afspraak hoe jullie "
        "elkaar spreken."
    ).format(name=counsellor_name)


def mail_text(
    settings: Settings, appointment: Appointment, counsellor_name: str, manage_url: str
) -> str:
    """The "where" of a video appointment in a mail or calendar file."""
    if not appointment.is_active:
        return labels.mode_label(appointment.mode)
    if not has_server(settings) or appointment.video_room is None:
        return without_server_text(appointment, counsellor_name)
    text = _("Videogesprek: de videoruimte gaat open om {time}. Open ze via deze link: {url}")
    opening = labels.clock(opens_at(settings, appointment))
    return text.format(time=opening, url=f"{manage_url}/video")


@dataclass(frozen=True)
class RoomView:
    """What a page shows about the room, ready to show."""

    state: str
    opens_at: str  # "13:50", Brussels time
    when: str  # the appointment's day and time
    opens_in: int  # seconds until the room opens (0 once open), for the waiting page's reload


def room_view(settings: Settings, appointment: Appointment, now: datetime) -> RoomView | None:
    """None for an appointment that is not by video."""
    if appointment.mode != Mode.video.value:
        return None
    return RoomView(
        state=state(settings, appointment, now).value,
        opens_at=labels.clock(opens_at(settings, appointment)),
        when=labels.when(appointment.starts_at, appointment.ends_at),
        opens_in=max(0, math.ceil((opens_at(settings, appointment) - now).total_seconds())),
    )

"""Validated shapes of what browsers send: HTTP bodies and WebSocket frames (protocol v1)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

from chat.conversations.models import AgeBand, Topic, Who
from clb.i18n import LANGUAGE_NAMES, SOURCE_LANGUAGE

MAX_BODY = 4000
PROTOCOL_VERSION = 1

Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY)]


# Message numbers fit PostgreSQL's integer; a larger one in a frame is refused, not stored.
MAX_SEQ = 2**31 - 1


class Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StartConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nickname: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    who: Who
    age_band: AgeBand | None = None
    topic: Topic
    # Not on the form any more; an older page may still send it.
    subject: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    language: str = Field(default=SOURCE_LANGUAGE, max_length=5)
    consent: Literal[True]

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGE_NAMES:
            raise ValueError("not a chat language")
        return value


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stars: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class VisitorHello(Frame):
    type: Literal["hello"]
    v: int = Field(ge=0, le=1000)
    token: str = Field(min_length=10, max_length=200)
    conversation_id: uuid.UUID
    last_seq: int = Field(default=0, ge=0, le=MAX_SEQ)


class ConsoleHello(Frame):
    type: Literal["hello"]
    v: int = Field(ge=0, le=1000)


class VisitorSend(Frame):
    type: Literal["send"]
    client_msg_id: uuid.UUID
    body: Body


class VisitorTyping(Frame):
    type: Literal["typing"]
    active: bool


class VisitorReceipt(Frame):
    type: Literal["receipt"]
    kind: Literal["delivered", "read"]
    seq: int = Field(ge=0, le=MAX_SEQ)


class Leave(Frame):
    type: Literal["leave"]


class Ping(Frame):
    type: Literal["ping"]


class Claim(Frame):
    type: Literal["claim"]
    conversation_id: uuid.UUID


class Open(Frame):
    type: Literal["open"]
    conversation_id: uuid.UUID
    last_seq: int = Field(default=0, ge=0, le=MAX_SEQ)


class ConsoleSend(Frame):
    type: Literal["send"]
    conversation_id: uuid.UUID
    client_msg_id: uuid.UUID
    body: Body


class ConsoleTyping(Frame):
    type: Literal["typing"]
    conversation_id: uuid.UUID
    active: bool


class ConsoleReceipt(Frame):
    type: Literal["receipt"]
    conversation_id: uuid.UUID
    kind: Literal["delivered", "read"]
    seq: int = Field(ge=0, le=MAX_SEQ)


class End(Frame):
    type: Literal["end"]
    conversation_id: uuid.UUID


class Extend(Frame):
    type: Literal["extend"]
    conversation_id: uuid.UUID
    minutes: int = Field(ge=5, le=60)


class Heartbeat(Frame):
    type: Literal["heartbeat"]


class SetDuty(Frame):
    """On duty, on pause or off duty; only "on_duty" takes new chats."""

    type: Literal["duty"]
    duty: Literal["on_duty", "pause", "off_duty"]


class Next(Frame):
    """Take the highest-priority, longest-waiting chat."""

    type: Literal["next"]


class Colleagues(Frame):
    """Who could take over a chat now (for the warm-transfer chooser)."""

    type: Literal["colleagues"]


class Transfer(Frame):
    """Warm: to a named colleague (``to``) with an optional private handover note. Cold: back
    to the queue at the conversation's original place."""

    type: Literal["transfer"]
    conversation_id: uuid.UUID
    kind: Literal["warm", "cold"]
    to: uuid.UUID | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _warm_names_a_colleague(self) -> Transfer:
        if self.kind == "warm" and self.to is None:
            raise ValueError("a warm transfer names a colleague")
        return self


VisitorFrame = Annotated[
    VisitorSend | VisitorTyping | VisitorReceipt | Leave | Ping, Field(discriminator="type")
]
ConsoleFrame = Annotated[
    Claim
    | Open
    | ConsoleSend
    | ConsoleTyping
    | ConsoleReceipt
    | End
    | Extend
    | Heartbeat
    | Ping
    | SetDuty
    | Next
    | Colleagues
    | Transfer,
    Field(discriminator="type"),
]
visitor_frames: TypeAdapter[VisitorFrame] = TypeAdapter(VisitorFrame)
console_frames: TypeAdapter[ConsoleFrame] = TypeAdapter(ConsoleFrame)

"""Centres (CLB), their locations, and the schools each centre serves."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import Enum, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clb.db import Base, Timestamped


class SchoolLevel(enum.StrEnum):
    basis = "basis"
    secundair = "secundair"
    buitengewoon_basis = "buitengewoon_basis"
    buitengewoon_secundair = "buitengewoon_secundair"
    volwassenen = "volwassenen"


class Centre(Timestamped, Base):
    """A CLB (pupil guidance centre)."""

    __tablename__ = "centres"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    # Its number in the education department's lists (clb.org.school_lists): a re-import
    # updates the centre it names. None for a centre added by hand.
    institution_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    # Whether this centre's coordinators may read along with the chats its counsellors hold
    # (the chat's privacy notice says so when any centre allows it). Off unless turned on.
    chat_read_along: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Every role that can read transcripts or personal data needs a second factor here.
    second_factor_required: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Single sign-on: the centre's OpenID Connect issuer (pinned: tokens from any other issuer
    # are refused) and this platform's client id there. The client secret is a setting.
    oidc_issuer: Mapped[str | None] = mapped_column(String(300))
    oidc_client_id: Mapped[str | None] = mapped_column(String(200))

    locations: Mapped[list[Location]] = relationship(back_populates="centre", lazy="raise")
    schools: Mapped[list[School]] = relationship(back_populates="centre", lazy="raise")


class Location(Timestamped, Base):
    """An address where a centre receives people."""

    __tablename__ = "locations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(4))
    municipality: Mapped[str] = mapped_column(String(100))
    opening_info: Mapped[str] = mapped_column(Text, default="")

    centre: Mapped[Centre] = relationship(back_populates="locations", lazy="raise")


class School(Timestamped, Base):
    __tablename__ = "schools"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    # As for the centre: the school's number in the department's list, None if added by hand.
    institution_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(4))
    level: Mapped[SchoolLevel] = mapped_column(
        Enum(SchoolLevel, name="school_level", native_enum=False, length=40)
    )

    centre: Mapped[Centre] = relationship(back_populates="schools", lazy="raise")


# The school search (scheduling.booking_pages.school_search): trigrams of the name, town and
# postcode as the SQL function school_search_text (migration 0016) normalises them.
Index(
    "ix_schools_search",
    func.school_search_text(School.name, School.municipality, School.postcode).label("search_text"),
    postgresql_using="gin",
    postgresql_ops={"search_text": "gin_trgm_ops"},
)

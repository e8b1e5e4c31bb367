"""Staff accounts, their server-side sessions, and anonymous visitors."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clb.db import Base, Timestamped, utcnow
from clb.org.models import Centre


class Role(enum.StrEnum):
    counsellor = "counsellor"
    coordinator = "coordinator"
    editor = "editor"
    admin = "admin"


class StaffAccount(Timestamped, Base):
    __tablename__ = "staff_accounts"
    __table_args__ = (
        CheckConstraint(
            "roles <@ ARRAY['counsellor','coordinator','editor','admin']::varchar[]",
            name="known_roles",
        ),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # What visitors see in a chat: a first name or an alias, never the full name.
    display_name: Mapped[str] = mapped_column(String(60))
    centre_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("centres.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]

    centre: Mapped[Centre] = relationship(lazy="raise")

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles or Role.admin.value in self.roles


class StaffSession(Base):
    """A login. Only the token's hash is stored; logging out ends it for good."""

    __tablename__ = "staff_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    account: Mapped[StaffAccount] = relationship(lazy="raise")


class Visitor(Base):
    """An anonymous pupil or parent, known only by a random token (stored hashed)."""

    __tablename__ = "visitors"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

"""A staff member's notifications and their settings per kind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow
from clb.notifications.kinds import KINDS_SQL


class StaffNotification(Base):
    """One line in a person's list: the kind, a time or a reference, the console link."""

    __tablename__ = "staff_notifications"
    __table_args__ = (
        CheckConstraint(f"kind IN ({KINDS_SQL})", name="known_kind"),
        CheckConstraint("link LIKE '/console/%'", name="console_link"),
        Index("ix_staff_notifications_account_created", "account_id", "created_at"),
        Index(
            "ix_staff_notifications_unread",
            "account_id",
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(30))
    # Only what the line needs: "at"/"was" (ISO moments), "reference". Never a message.
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class NotificationPrefs(Base):
    """A person's choices: per kind ``{"console": bool, "mail": bool}`` (a kind missing
    keeps its default) and the language of the mails (Dutch or English)."""

    __tablename__ = "staff_notification_prefs"
    __table_args__ = (CheckConstraint("language IN ('nl', 'en')", name="staff_language"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(5), default="nl", server_default="nl")
    choices: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

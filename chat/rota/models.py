"""The chat duty rota: who of a centre is planned on which opening slot, and the swaps
counsellors ask each other."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clb.db import Base, utcnow


class RotaShift(Base):
    """One counsellor planned on one opening slot (its instants, UTC). The slot is kept as
    planned: when the opening hours change, a shift whose slot is gone stays and is shown
    as outside the opening hours instead of disappearing."""

    __tablename__ = "chat_rota_shifts"
    __table_args__ = (
        UniqueConstraint("staff_id", "starts_at"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("centres.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )


class SwapKind(enum.StrEnum):
    take_over = "take_over"  # the colleague takes the shift
    swap = "swap"  # the colleague takes the shift and gives theirs in return


class SwapStatus(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    cancelled = "cancelled"  # withdrawn by the one who asked
    void = "void"  # the shift changed (or was removed) before an answer


class RotaSwap(Base):
    """A counsellor's request to a colleague to take over (or swap) a shift. The slots are
    copied, so both still see what it was about after a shift is removed."""

    __tablename__ = "chat_rota_swaps"
    __table_args__ = (
        CheckConstraint("kind IN ('take_over', 'swap')", name="known_kind"),
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'cancelled', 'void')",
            name="known_status",
        ),
        CheckConstraint("requester_id <> colleague_id", name="not_oneself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default=SwapStatus.pending.value)
    requester_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    colleague_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_rota_shifts.id", ondelete="SET NULL"), index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # A swap: the colleague's shift the requester takes in return.
    counter_shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_rota_shifts.id", ondelete="SET NULL")
    )
    counter_starts_at: Mapped[datetime | None]
    counter_ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

"""The one query of a centre's active staff, for the agenda (its counsellors) and the
meeting requests (its coordinators): the rooms add the role and the order they need."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, select

from clb.auth.models import StaffAccount


def active_staff_of(centre_id: uuid.UUID, *conditions: ColumnElement[bool]) -> Select[StaffAccount]:
    """The centre's active accounts that also meet ``conditions``."""
    return select(StaffAccount).where(
        StaffAccount.centre_id == centre_id, StaffAccount.is_active.is_(True), *conditions
    )

"""Canned replies: short texts a counsellor inserts into the composer (and still edits
before sending). Shared ones belong to a centre and are managed by its coordinators;
personal ones belong to one counsellor. Nobody sees another centre's replies or another
person's personal ones.

A reply may contain ``{naam}``, filled in with the visitor's nickname on insertion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from chat.counsellor_tools import repository as repo
from chat.counsellor_tools.models import CannedReply
from clb.auth.models import Role, StaffAccount
from clb.db import utcnow
from clb.errors import ClbError, Forbidden, NotFound
from clb.i18n import gettext as _

TITLE_MAX = 80
BODY_MAX = 2000
NAME_PLACEHOLDER = "{naam}"


class InvalidCannedReply(ClbError):
    status = 422
    code = "invalid_canned_reply"
    message = "Dit snelle antwoord kon niet bewaard worden."


@dataclass(frozen=True)
class CannedForm:
    title: str
    body: str
    shared: bool


def may_manage_shared(staff: StaffAccount) -> bool:
    return staff.has_role(Role.coordinator)


def validate(title: str, body: str) -> tuple[str, str, dict[str, str]]:
    """Cleaned title and body, and per field what is wrong (in the reader's language)."""
    errors: dict[str, str] = {}
    clean_title = " ".join(title.split())
    clean_body = body.strip().replace("\r\n", "\n")
    if not clean_title:
        errors["title"] = _("Geef het antwoord een korte titel.")
    elif len(clean_title) > TITLE_MAX:
        errors["title"] = _("De titel is te lang: hoogstens 80 tekens.")
    if not clean_body:
        errors["body"] = _("Schrijf de tekst van het antwoord.")
    elif len(clean_body) > BODY_MAX:
        errors["body"] = _("De tekst is te lang: hoogstens 2000 tekens.")
    return clean_title, clean_body, errors


async def visible_to(session: AsyncSession, staff: StaffAccount) -> list[CannedReply]:
    """The centre's shared replies first, then the person's own."""
    return list(await repo.canned_replies_for(session, staff.centre_id, staff.id))


async def editable(session: AsyncSession, staff: StaffAccount, reply_id: uuid.UUID) -> CannedReply:
    """The reply, if this person may change it. Replies they cannot even see are "not
    found", so nobody learns what another centre or colleague keeps."""
    reply = await repo.get_canned_reply(session, reply_id)
    if reply is None or reply.centre_id != staff.centre_id:
        raise NotFound()
    if reply.owner_id is not None:
        if reply.owner_id != staff.id:
            raise NotFound()
        return reply
    if not may_manage_shared(staff):
        raise Forbidden("Alleen een coördinator kan gedeelde snelle antwoorden aanpassen.")
    return reply


async def create(
    session: AsyncSession, staff: StaffAccount, title: str, body: str, *, shared: bool
) -> CannedReply:
    clean_title, clean_body, errors = validate(title, body)
    if errors:
        raise InvalidCannedReply(details={"fields": errors})
    if shared and not may_manage_shared(staff):
        raise Forbidden("Alleen een coördinator kan gedeelde snelle antwoorden aanpassen.")
    reply = CannedReply(
        centre_id=staff.centre_id,
        owner_id=None if shared else staff.id,
        title=clean_title,
        body=clean_body,
    )
    session.add(reply)
    await session.flush()
    return reply


async def update(
    session: AsyncSession, staff: StaffAccount, reply_id: uuid.UUID, title: str, body: str
) -> CannedReply:
    reply = await editable(session, staff, reply_id)
    clean_title, clean_body, errors = validate(title, body)
    if errors:
        raise InvalidCannedReply(details={"fields": errors})
    reply.title = clean_title
    reply.body = clean_body
    reply.updated_at = utcnow()
    await session.flush()
    return reply


async def delete(session: AsyncSession, staff: StaffAccount, reply_id: uuid.UUID) -> None:
    await editable(session, staff, reply_id)
    await repo.delete_canned_reply(session, reply_id)

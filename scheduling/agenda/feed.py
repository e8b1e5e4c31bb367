"""The counsellor's personal calendar feed (iCalendar), for subscribing in a calendar app.

Calendar apps cannot log in, so the URL itself is the key: a token derived from the secret
key, the counsellor and a generation (scheduling.tokens). Only its hash is stored, in the
booking policy, for the lookup; a new generation revokes the old URL. The feed tells as
little as possible: type, mode, place and the person's first name, never their e-mail
address, phone number or topic, and no manage link.
"""

from __future__ import annotations

import dataclasses
import hmac
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.config import Settings
from clb.i18n import gettext as _
from scheduling import labels
from scheduling.agenda.repository import appointments_between
from scheduling.agenda.view import detail_url, place
from scheduling.appointments import ics, messages, repository
from scheduling.appointments.models import Appointment, Status
from scheduling.appointments.repository import Details
from scheduling.availability.repository import ensure_policy, policy_by_feed_hash
from scheduling.tokens import derive_token, hash_token

FEED_PURPOSE = "agenda-feed"
PAST = timedelta(days=30)
# The longest horizon a policy allows: a horizon shortened later never drops appointments
# that were booked under the longer one.
FUTURE = timedelta(days=366)
MAX_TOKEN_LENGTH = 100


def _token(secret_key: str, counsellor_id: uuid.UUID, generation: int) -> str:
    return derive_token(secret_key, FEED_PURPOSE, counsellor_id, generation)


def feed_path(token: str) -> str:
    return f"/agenda/feed/{token}.ics"


async def current_token(session: AsyncSession, secret_key: str, counsellor_id: uuid.UUID) -> str:
    """The counsellor's feed token; stores its hash (and the policy row) when missing."""
    policy = await ensure_policy(session, counsellor_id)
    token = _token(secret_key, counsellor_id, policy.feed_token_generation)
    hashed = hash_token(token)
    if policy.feed_token_hash != hashed:
        policy.feed_token_hash = hashed
        await session.flush()
    return token


async def renew_token(
    session: AsyncSession, secret_key: str, counsellor_id: uuid.UUID, *, actor_id: uuid.UUID
) -> str:
    """A new feed URL; the old one stops working at once."""
    policy = await ensure_policy(session, counsellor_id, lock=True)
    policy.feed_token_generation += 1
    token = _token(secret_key, counsellor_id, policy.feed_token_generation)
    policy.feed_token_hash = hash_token(token)
    await session.flush()
    record_audit(
        session,
        "scheduling.feed.renewed",
        actor_id=actor_id,
        object_type="staff_account",
        object_id=str(counsellor_id),
    )
    return token


async def owner_of(session: AsyncSession, secret_key: str, token: str) -> StaffAccount | None:
    """The active counsellor whose current feed token this is, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    policy = await policy_by_feed_hash(session, hash_token(token))
    if policy is None:
        return None
    # The stored hash must also belong to the current key and generation (a changed
    # secret key revokes every feed even before its owner opens the agenda again).
    expected = _token(secret_key, policy.counsellor_id, policy.feed_token_generation)
    if not hmac.compare_digest(expected, token):
        return None
    owner = await session.get(StaffAccount, policy.counsellor_id)
    if owner is None or not owner.is_active:
        return None
    return owner


def feed_event(appointment: Appointment, details: Details, settings: Settings) -> ics.CalendarEvent:
    """The appointment as the counsellor's own calendar shows it (nothing that identifies
    or reaches the person besides their first name)."""
    link = settings.public_url + detail_url(appointment)
    # Its description is replaced below: never the person's link or a video room here.
    event = messages.calendar_event(appointment, details, link, settings)
    kind = _(details.type_name)
    mode = labels.mode_label(appointment.mode)
    summary = _("{name}: {kind} ({mode})").format(name=appointment.first_name, kind=kind, mode=mode)
    if appointment.status == Status.no_show.value:
        summary = _("{summary} – niet gekomen").format(summary=summary)
    lines = [
        _("Soort: {kind}").format(kind=kind),
        _("Hoe: {mode}").format(mode=mode),
    ]
    where = place(appointment, details)
    if where:
        lines.append(_("Waar: {place}").format(place=where))
    lines.append(_("Met: {name}").format(name=appointment.first_name))
    lines.append(_("Meer in de console: {url}").format(url=link))
    return dataclasses.replace(
        event,
        summary=summary,
        description="\n".join(lines),
        url=link,
        attendee_email=None,
        cancelled=appointment.status == Status.cancelled.value,
    )


async def build_feed(
    session: AsyncSession, owner: StaffAccount, settings: Settings, now: datetime
) -> bytes:
    appointments = await appointments_between(session, owner.id, now - PAST, now + FUTURE)
    details = await repository.details_for(session, [a.id for a in appointments])
    events = [feed_event(a, details[a.id], settings) for a in appointments]
    return ics.feed(events, name=_("CLB-agenda van {name}").format(name=owner.display_name))

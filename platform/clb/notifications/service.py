"""Use cases of staff notifications. Nothing here commits: the caller's transaction does,
so a change that rolls back notifies nobody.

``notify`` is the one entry point for the domains: it writes the console rows and the mail
jobs of any number of notices in one statement, in the caller's transaction, and the mail
jobs go to the queue after commit (clb.jobs, the outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import after_commit, utcnow
from clb.errors import InvalidInput, NotFound
from clb.i18n import SOURCE_LANGUAGE, STAFF_LANGUAGES
from clb.i18n import gettext as _
from clb.jobs import JobQueue
from clb.notifications import repository
from clb.notifications.kinds import DEFAULTS, Choice, Kind
from clb.notifications.models import NotificationPrefs, StaffNotification

MAIL_JOB = "notifications.mail"
CONSOLE_PREFIX = "/console/"
LIST_LIMIT = 100
PARAM_MAX = 100


@dataclass(frozen=True)
class Notice:
    """One person to tell about one thing."""

    account_id: uuid.UUID
    kind: Kind
    link: str
    params: Mapping[str, str] = field(default_factory=dict)


def _row(notice: Notice) -> dict[str, Any]:
    if not notice.link.startswith(CONSOLE_PREFIX) or len(notice.link) > 300:
        raise ValueError("a notification links to a console page")
    params = {str(k): str(v)[:PARAM_MAX] for k, v in notice.params.items()}
    default = DEFAULTS[notice.kind]
    return {
        "account_id": str(notice.account_id),
        "kind": notice.kind.value,
        "link": notice.link,
        "params": params,
        "console_default": default.in_console,
        "mail_default": default.by_mail,
    }


async def notify_all(session: AsyncSession, queue: JobQueue, notices: Sequence[Notice]) -> None:
    """Every notice in one statement; nothing at all for an empty list."""
    if not notices:
        return
    rows = [_row(notice) for notice in notices]
    jobs = await repository.write_notices(session, rows, MAIL_JOB, utcnow())
    if jobs:
        after_commit(session, lambda: queue.enqueue(jobs))


async def notify(
    session: AsyncSession,
    queue: JobQueue,
    account_ids: Iterable[uuid.UUID | None],
    kind: Kind,
    *,
    link: str,
    params: Mapping[str, str] | None = None,
    actor_id: uuid.UUID | None = None,
) -> None:
    """Tell these accounts (once each; None and ``actor_id``, who did it, are left out)."""
    targets = dict.fromkeys(a for a in account_ids if a is not None and a != actor_id)
    notices = [Notice(a, kind, link, dict(params or {})) for a in targets]
    await notify_all(session, queue, notices)


# --- The console --------------------------------------------------------------------------


async def latest(session: AsyncSession, account_id: uuid.UUID) -> list[StaffNotification]:
    return await repository.latest(session, account_id, LIST_LIMIT)


async def unread_count(session: AsyncSession, account_id: uuid.UUID) -> int:
    return await repository.unread_count(session, account_id)


async def open_notification(
    session: AsyncSession, account_id: uuid.UUID, notification_id: int
) -> str:
    """Mark it read and give its link; NotFound for another person's (or none)."""
    link = await repository.mark_read(session, account_id, notification_id, utcnow())
    if link is None or not link.startswith(CONSOLE_PREFIX):
        raise NotFound()
    return link


async def mark_all_read(session: AsyncSession, account_id: uuid.UUID) -> int:
    return await repository.mark_all_read(session, account_id, utcnow())


# --- Settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    language: str
    choices: dict[Kind, Choice]


def choices_from(stored: Mapping[str, Any]) -> dict[Kind, Choice]:
    """Each kind's choice: what the person stored, else the default."""
    result: dict[Kind, Choice] = {}
    for kind, default in DEFAULTS.items():
        saved = stored.get(kind.value)
        if isinstance(saved, dict):
            result[kind] = Choice(
                bool(saved.get("console", default.in_console)),
                bool(saved.get("mail", default.by_mail)),
            )
        else:
            result[kind] = default
    return result


async def settings_of(session: AsyncSession, account_id: uuid.UUID) -> Settings:
    """What applies now: the person's choices, or the defaults (mails in Dutch, as the
    worker writes them until the person chooses English)."""
    prefs = await repository.prefs_of(session, account_id)
    if prefs is None:
        return Settings(SOURCE_LANGUAGE, dict(DEFAULTS))
    return Settings(prefs.language, choices_from(prefs.choices))


def parse_settings(form: Mapping[str, list[str]]) -> tuple[Settings, dict[str, str]]:
    """The settings form's fields (``language``; ``console_<kind>``/``mail_<kind>`` = "ja"
    when ticked) → the settings and the errors by field id (translated)."""
    errors: dict[str, str] = {}
    language = (form.get("language") or [""])[-1]
    if language not in STAFF_LANGUAGES:
        errors["language"] = _("Kies Nederlands of English.")
    choices: dict[Kind, Choice] = {}
    for kind in Kind:
        ticked: list[bool] = []
        for channel in ("console", "mail"):
            values = form.get(f"{channel}_{kind.value}", [])
            if any(value != "ja" for value in values):
                errors[f"{channel}_{kind.value}"] = _("Deze keuze kennen we niet. Vink aan of uit.")
            ticked.append(bool(values))
        choices[kind] = Choice(ticked[0], ticked[1])
    return Settings(language, choices), errors


async def save_settings(
    session: AsyncSession, account_id: uuid.UUID, settings: Settings, now: datetime | None = None
) -> None:
    if settings.language not in STAFF_LANGUAGES:
        raise InvalidInput("Kies Nederlands of English.")
    stored = {
        kind.value: {"console": choice.in_console, "mail": choice.by_mail}
        for kind, choice in settings.choices.items()
    }
    prefs = await repository.prefs_of(session, account_id)
    if prefs is None:
        prefs = NotificationPrefs(account_id=account_id)
        session.add(prefs)
    prefs.language = settings.language
    prefs.choices = stored
    prefs.updated_at = now or utcnow()
    await session.flush()

"""The editorial workflow: editors create, edit, review, publish and archive tools;
counsellors suggest new ones. Every change is a numbered version with who and when."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth.models import Role, StaffAccount
from clb.db import utcnow
from clb.errors import ClbError, Forbidden, NotFound
from toolbox.catalogue.models import Tool, ToolSlug, ToolStatus, ToolVersion
from toolbox.editorial import repository
from toolbox.editorial.fields import CONTENT_FIELDS, ToolFields, _, record, slugify

# The console and the import read these through the service.
from toolbox.editorial.repository import find_by_slug as find_by_slug
from toolbox.editorial.repository import list_tools as list_tools
from toolbox.editorial.repository import list_versions as list_versions

REVIEW_INTERVAL_DAYS = 365
BRUSSELS = ZoneInfo("Europe/Brussels")

STATUS_LABELS = {
    ToolStatus.draft.value: _("Concept"),
    ToolStatus.in_review.value: _("Ter beoordeling"),
    ToolStatus.published.value: _("Gepubliceerd"),
    ToolStatus.archived.value: _("Gearchiveerd"),
}
ACTION_LABELS = {
    "created": _("Aangemaakt"),
    "suggested": _("Voorgesteld"),
    "edited": _("Bewerkt"),
    "submitted": _("Ter beoordeling voorgelegd"),
    "returned": _("Teruggezet naar concept"),
    "published": _("Gepubliceerd"),
    "archived": _("Gearchiveerd"),
    "restored": _("Uit het archief gehaald"),
    "reviewed": _("Nagekeken"),
    "imported": _("Geïmporteerd"),
}
# (from, to) -> the version's action. Only editors change a status.
TRANSITIONS = {
    (ToolStatus.draft, ToolStatus.in_review): "submitted",
    (ToolStatus.in_review, ToolStatus.published): "published",
    (ToolStatus.in_review, ToolStatus.draft): "returned",
    (ToolStatus.published, ToolStatus.archived): "archived",
    (ToolStatus.archived, ToolStatus.draft): "restored",
}
AUDITED_ACTIONS = {"published", "archived"}


class ToolNotFound(NotFound):
    message = "Dit hulpmiddel bestaat niet (meer)."


class TransitionNotAllowed(ClbError):
    status = 409
    code = "transition_not_allowed"
    message = "Deze statuswijziging kan niet vanuit de huidige status."


def today_in_brussels() -> date:
    return datetime.now(BRUSSELS).date()


# --- Reading -------------------------------------------------------------------------------


async def get_tool(session: AsyncSession, tool_id: uuid.UUID, *, for_update: bool = False) -> Tool:
    tool = await repository.tool_by_id(session, tool_id, for_update=for_update)
    if tool is None:
        raise ToolNotFound()
    return tool


async def review_due(session: AsyncSession, today: date) -> Sequence[Tool]:
    """Published tools not reviewed in the last year (or never)."""
    cutoff = today - timedelta(days=REVIEW_INTERVAL_DAYS)
    return await repository.published_not_reviewed_since(session, cutoff)


async def _free_slug(session: AsyncSession, wanted: str, tool_id: uuid.UUID | None) -> str:
    """``wanted``, or ``wanted-2``, ``-3``…: the first not used (ever) by another tool."""
    taken = await repository.slugs_taken(session, wanted)
    candidate, number = wanted, 1
    while candidate in taken and taken[candidate] != tool_id:
        number += 1
        candidate = f"{wanted}-{number}"
    return candidate


async def _use_slug(session: AsyncSession, tool: Tool, slug: str) -> None:
    """Every slug a tool ever had keeps a row, so old links still find it."""
    known = await repository.slugs_of(session, tool.id)
    for value in {tool.slug, slug} - known:
        session.add(ToolSlug(slug=value, tool_id=tool.id))
    tool.slug = slug


# --- Changes -------------------------------------------------------------------------------


def audit_tool(session: AsyncSession, tool: Tool, action: str, actor: StaffAccount) -> None:
    record_audit(
        session,
        f"toolbox.tool.{action}",
        actor_id=actor.id,
        object_type="toolbox_tool",
        object_id=str(tool.id),
    )


def require_editor(actor: StaffAccount, message: str) -> None:
    if not actor.has_role(Role.editor):
        raise Forbidden(message)


async def write_version(
    session: AsyncSession, tool: Tool, action: str, actor: StaffAccount, note: str | None = None
) -> ToolVersion:
    """Stamp the tool and keep a snapshot of how it looks now."""
    tool.updated_at = utcnow()
    tool.updated_by = actor.id
    await session.flush()
    last = await repository.last_version_number(session, tool.id)
    version = ToolVersion(
        tool_id=tool.id,
        number=(last or 0) + 1,
        action=action,
        changed_by=actor.id,
        note=(note or "").strip()[:500] or None,
        snapshot=record(tool),
    )
    session.add(version)
    if action in AUDITED_ACTIONS:
        audit_tool(session, tool, action, actor)
    await session.flush()
    return version


def apply_fields(tool: Tool, fields: ToolFields) -> None:
    if list(tool.themes or []) != fields.themes or not tool.search_terms:
        # As the seed does: the themes in words, so "examens" finds stress-en-examens.
        tool.search_terms = " ".join(t.replace("-", " ") for t in fields.themes)
    for name in CONTENT_FIELDS:
        setattr(tool, name, getattr(fields, name))


async def new_tool(session: AsyncSession, fields: ToolFields, status: str, slug: str) -> Tool:
    tool = Tool(id=uuid.uuid4(), status=status, search_terms="")
    apply_fields(tool, fields)
    tool.slug = await _free_slug(session, slug, None)
    session.add(tool)
    await session.flush()
    session.add(ToolSlug(slug=tool.slug, tool_id=tool.id))
    return tool


async def create_tool(
    session: AsyncSession, fields: ToolFields, actor: StaffAccount, *, note: str | None = None
) -> Tool:
    """An editor's new tool starts as a draft; a counsellor's is a suggestion to review."""
    if actor.has_role(Role.editor):
        status, action = ToolStatus.draft, "created"
    elif actor.has_role(Role.counsellor):
        status, action = ToolStatus.in_review, "suggested"
    else:
        raise Forbidden()
    tool = await new_tool(session, fields, status.value, slugify(fields.title))
    await write_version(session, tool, action, actor, note)
    return tool


async def update_tool(
    session: AsyncSession,
    tool: Tool,
    fields: ToolFields,
    actor: StaffAccount,
    *,
    note: str | None = None,
) -> bool:
    """Save an edit; a new title gives a new slug (the old one keeps working). False when
    nothing changed (no version then)."""
    require_editor(actor, _("Alleen redacteurs kunnen hulpmiddelen bewerken."))
    before = record(tool)
    title_changed = tool.title != fields.title
    apply_fields(tool, fields)
    if title_changed:
        await _use_slug(session, tool, await _free_slug(session, slugify(fields.title), tool.id))
    if record(tool) == before:
        return False
    await write_version(session, tool, "edited", actor, note)
    return True


def allowed_transitions(status: str) -> list[ToolStatus]:
    return [to for (frm, to) in TRANSITIONS if frm.value == status]


async def change_status(
    session: AsyncSession,
    tool: Tool,
    to: ToolStatus,
    actor: StaffAccount,
    *,
    note: str | None = None,
) -> None:
    require_editor(actor, _("Alleen redacteurs kunnen de status van een hulpmiddel wijzigen."))
    action = TRANSITIONS.get((ToolStatus(tool.status), to))
    if action is None:
        raise TransitionNotAllowed()
    tool.status = to.value
    await write_version(session, tool, action, actor, note)


async def mark_reviewed(
    session: AsyncSession, tool: Tool, actor: StaffAccount, today: date, *, note: str | None = None
) -> None:
    require_editor(actor, _("Alleen redacteurs kunnen een hulpmiddel als nagekeken markeren."))
    tool.reviewed_on = today
    await write_version(session, tool, "reviewed", actor, note)

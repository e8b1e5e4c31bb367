"""Walking the request form in tests: read a step's fields (hidden ones included) and post
the next step with them, as a browser without JavaScript does."""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from clb.db import transaction
from clb.services import Services
from scheduling.meetings import service as meeting_requests
from scheduling.meetings.models import MeetingRequest
from scheduling.meetings.validation import MeetingRequestData

FORM = "/liever-iemand-zien"
STATUS = "/liever-iemand-zien/status"
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
_STEP = re.compile(r"Stap (\d+) van (\d+)")


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs as httpx takes them (a name may repeat: the check boxes)."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return [(name, html.unescape(value)) for name, value in _HIDDEN.findall(page)]


def step_of(page: str) -> str:
    found = re.search(r'name="stap" value="([^"]+)"', page)
    assert found is not None, "not a step of the request form"
    return found[1]


async def next_step(
    client: httpx.AsyncClient, page: str, fields: list[tuple[str, str]], action: str = "verder"
) -> httpx.Response:
    """Post the step shown on ``page`` with its hidden fields and ``fields`` typed in."""
    data = [(n, v) for n, v in hidden_fields(page) if n not in {f for f, _ in fields}]
    return await client.post(FORM, data=as_form([*data, *fields, ("actie", action)]))


async def file_directly(
    services: Services, school_id: uuid.UUID, now: datetime, **changes: object
) -> tuple[uuid.UUID, str]:
    """A request filed through the service (committed) and its status token."""
    values: dict[str, object] = {
        "school_id": school_id,
        "for_whom": "other",
        "first_name": "Yasmina",
        "consent_contact": True,
        "phone": "0470 12 34 56",
        "requester_relation": "brugfiguur",
        "requester_name": "Fatima El Amrani",
        "consent_of_person": True,
        "preferred_place": "office",
        "need": "Moeder wil praten over het schoolverzuim.",
    }
    values.update(changes)
    data = MeetingRequestData(**values)  # type: ignore[arg-type]
    async with transaction(services.sessionmaker) as session:
        filed, token = await meeting_requests.file_request(session, services, data, now)
        return filed.id, token


async def reload_request(db: AsyncSession, request_id: uuid.UUID) -> MeetingRequest:
    await db.commit()  # see what the app committed
    return await db.get_one(MeetingRequest, request_id, populate_existing=True)

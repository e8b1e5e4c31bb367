"""A question asked through one app instance and answered through another (two real ``clb
serve`` processes on one PostgreSQL and Redis): every message once and in order, on both
sides, also when both sides write at the same time."""

from __future__ import annotations

import asyncio
import html
import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.questions.models import Question, QuestionMessage
from tests.clb.auth.helpers import login
from tests.conftest import make_staff

pytestmark = pytest.mark.slow

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CODE = re.compile(r'<bdi id="pickup-code">([A-Z0-9-]+)</bdi>')
_BODY = re.compile(r'<p class="question-msg-body">([^<]*)</p>')


async def token(http: httpx.AsyncClient, url: str) -> str:
    page = await http.get(url)
    found = _CSRF.search(page.text)
    assert found, f"no form on {url}"
    return found[1]


def bodies(page: str) -> list[str]:
    return [html.unescape(body) for body in _BODY.findall(page)]


async def test_a_question_asked_on_one_instance_and_answered_on_another_loses_nothing(
    live_server: str, live_server_b: str, db: AsyncSession
) -> None:
    a, b = live_server, live_server_b
    await make_staff(db, email="an@clb.example")
    async with (
        httpx.AsyncClient(timeout=30) as person,
        httpx.AsyncClient(base_url=b, timeout=30) as counsellor,
    ):
        asked = await person.post(
            f"{a}/vraag",
            data={"csrf_token": await token(person, f"{a}/vraag"), "body": "Vraag 0"},
        )
        assert asked.status_code == 303
        shown = await person.get(f"{a}/vraag/gesprek?nieuw=1")
        assert _CODE.search(shown.text)
        question = await db.scalar(select(Question))
        assert question is not None
        url = f"/console/vragen/{question.id}"

        assert (await login(counsellor)).status_code == 303
        staff_token = await token(counsellor, url)
        person_token = await token(person, f"{b}/vraag")

        async def person_writes(n: int) -> None:
            data = {"csrf_token": person_token, "body": f"Vraag {n}"}
            sent = await person.post(f"{a if n % 2 else b}/vraag/gesprek", data=data)
            assert sent.status_code == 303, sent.text

        async def counsellor_writes(n: int) -> None:
            data = {"csrf_token": staff_token, "body": f"Antwoord {n}"}
            sent = await counsellor.post(f"{url}/antwoorden", data=data)
            assert sent.status_code == 303, sent.text

        await asyncio.gather(
            *(person_writes(n) for n in range(1, 6)), *(counsellor_writes(n) for n in range(5))
        )

        rows = (
            await db.scalars(
                select(QuestionMessage)
                .where(QuestionMessage.question_id == question.id)
                .order_by(QuestionMessage.seq)
            )
        ).all()
        in_order = [row.body for row in rows]
        assert [row.seq for row in rows] == list(range(1, 12))
        assert sorted(in_order) == sorted(
            [f"Vraag {n}" for n in range(6)] + [f"Antwoord {n}" for n in range(5)]
        )
        for base in (a, b):
            seen_by_person = bodies((await person.get(f"{base}/vraag/gesprek")).text)
            assert seen_by_person == in_order
        seen_by_counsellor = bodies((await counsellor.get(url)).text)
        assert seen_by_counsellor == in_order
        async with httpx.AsyncClient(base_url=a, timeout=30) as on_a:
            assert (await login(on_a)).status_code == 303
            assert bodies((await on_a.get(url)).text) == in_order

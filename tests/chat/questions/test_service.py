"""The use cases of "Stel je vraag" on real PostgreSQL and Redis: the code and its hash,
the answer target, the claim race, the thread's order, triage, the notice mail and
retention."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from chat.counsellor_tools.handover import ALPHABET
from chat.events import supervision_channel
from chat.opening_hours.models import OpeningException
from chat.opening_hours.schedule import BRUSSELS
from chat.public import take_questions_past_target
from chat.questions import codes, repository, service
from chat.questions.models import Question, QuestionMessage
from chat.questions.tasks import purge_closed_questions
from clb.config import Settings
from clb.db import commit, transaction, utcnow
from clb.jobs import OutboxJob, run_outbox_job
from clb.services import Services
from tests.chat.questions.support import CRISIS_TEXT, Inbox, ask, staff_in
from tests.conftest import free_port, make_staff, serving_smtp


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox(port=free_port())
    with serving_smtp(handler, handler.port):
        yield handler


@pytest.fixture
def settings(settings: Settings, inbox: Inbox) -> Settings:
    return settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{inbox.port}"})


def brussels(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=BRUSSELS).astimezone(UTC)


# --- The code -------------------------------------------------------------------------------


def test_a_code_has_100_bits_in_five_readable_groups_and_forgives_typing() -> None:
    code = codes.new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4, 4]
    assert not set(code.replace("-", "")) & set("ILOU")
    assert len(ALPHABET) ** codes.CODE_LENGTH >= 2**100
    typed = " " + code.lower().replace("-", " ").replace("0", "o").replace("1", "l") + " "
    assert codes.code_hash(typed) == codes.code_hash(code)
    assert codes.normalise(code[:-1]) is None  # one character short
    assert codes.normalise(code.replace(code[0], "U", 1)) is None  # U is no symbol
    assert codes.normalise("x" * 200) is None
    assert codes.new_code() != code


async def test_only_the_hash_of_the_code_is_stored(services: Services, db: AsyncSession) -> None:
    question_id, code = await ask(services)
    row = await db.get_one(Question, question_id)
    canonical = code.replace("-", "")
    assert row.token_hash == codes.code_hash(code) and len(row.token_hash) == 64
    dump = await db.scalar(text("SELECT row_to_json(q)::text FROM questions q"))
    assert canonical not in str(dump) and code not in str(dump)
    found = await service.by_code(db, code.lower())
    assert found is not None and found.id == question_id
    assert await service.by_code(db, codes.new_code()) is None
    assert await service.by_code(db, "niet-een-code") is None


# --- The answer target ------------------------------------------------------------------------


def test_the_target_skips_the_weekend_at_the_same_clock_time() -> None:
    friday = date(2026, 12, 4)
    assert friday.weekday() == 4
    due = codes.answer_target(brussels(friday, 15), 2)
    assert due == brussels(date(2026, 12, 8), 15)  # Tuesday
    saturday_night = brussels(date(2026, 12, 5), 23)
    assert codes.answer_target(saturday_night, 1) == brussels(date(2026, 12, 7), 23)  # Monday
    holiday = {date(2026, 12, 7)}
    assert codes.answer_target(brussels(friday, 15), 2, holiday) == brussels(date(2026, 12, 9), 15)


async def test_a_question_asked_on_friday_is_due_on_tuesday_or_later_with_a_holiday(
    services: Services, db: AsyncSession
) -> None:
    friday = brussels(date(2026, 12, 4), 16)
    first, _code = await ask(services, now=friday)
    assert (await db.get_one(Question, first)).due_at == brussels(date(2026, 12, 8), 16)
    db.add(OpeningException(day=date(2026, 12, 7), opens_at=None, closes_at=None, note="Vrij"))
    await db.commit()
    second, _code = await ask(services, now=friday)
    assert (await db.get_one(Question, second)).due_at == brussels(date(2026, 12, 9), 16)


# --- Claim, answer, order ---------------------------------------------------------------------


async def test_two_counsellors_claim_at_once_and_only_one_gets_it(
    services: Services, db: AsyncSession
) -> None:
    question_id, _code = await ask(services)
    an = await make_staff(db, email="an@clb.example")
    bo = await make_staff(db, email="bo@clb.example")

    async def claim(staff_id: uuid.UUID) -> str:
        async with services.sessionmaker() as session:
            try:
                await service.claim(
                    session, await staff_in(session, staff_id), question_id, utcnow()
                )
            except service.QuestionTaken:
                await session.rollback()
                return "taken"
            await asyncio.sleep(0.2)  # hold the row while the other one tries
            await commit(session)
            return "claimed"

    results = await asyncio.gather(claim(an.id), claim(bo.id))
    assert sorted(results) == ["claimed", "taken"]
    holder = (await db.get_one(Question, question_id, populate_existing=True)).claimed_by
    async with transaction(services.sessionmaker) as session:
        loser = bo.id if holder == an.id else an.id
        with pytest.raises(service.QuestionTaken):
            await service.answer(
                session, services, await staff_in(session, loser), question_id, "Ik ook!", utcnow()
            )


async def test_the_thread_keeps_one_order_when_both_sides_write_at_once(
    services: Services, db: AsyncSession
) -> None:
    question_id, code = await ask(services)
    an = await make_staff(db, email="an@clb.example")

    async def person(n: int) -> None:
        async with transaction(services.sessionmaker) as session:
            question = await service.by_code(session, code)
            assert question is not None
            await service.reply(session, services, question, f"vraag {n}", utcnow())

    async def counsellor(n: int) -> None:
        async with transaction(services.sessionmaker) as session:
            staff = await staff_in(session, an.id)
            await service.answer(session, services, staff, question_id, f"antwoord {n}", utcnow())

    await asyncio.gather(*(person(n) for n in range(8)), *(counsellor(n) for n in range(8)))
    rows = (
        await db.scalars(
            select(QuestionMessage)
            .where(QuestionMessage.question_id == question_id)
            .order_by(QuestionMessage.seq)
        )
    ).all()
    assert [row.seq for row in rows] == list(range(1, 18))
    assert sorted(row.body for row in rows[1:]) == sorted(
        [f"vraag {n}" for n in range(8)] + [f"antwoord {n}" for n in range(8)]
    )
    question = await db.get_one(Question, question_id, populate_existing=True)
    assert question.last_seq == 17


async def test_a_closed_question_takes_no_more_messages(
    services: Services, db: AsyncSession
) -> None:
    question_id, code = await ask(services)
    an = await make_staff(db, email="an@clb.example")
    async with transaction(services.sessionmaker) as session:
        await service.close(session, await staff_in(session, an.id), question_id, utcnow())
    async with transaction(services.sessionmaker) as session:
        question = await service.by_code(session, code)
        assert question is not None
        with pytest.raises(service.QuestionClosed):
            await service.reply(session, services, question, "Nog iets", utcnow())
        with pytest.raises(service.QuestionClosed):
            await service.answer(
                session, services, await staff_in(session, an.id), question_id, "x", utcnow()
            )
        with pytest.raises(service.QuestionClosed):
            await service.release(session, await staff_in(session, an.id), question_id)


def test_bad_input_gets_a_message_per_field() -> None:
    errors = service.check(
        service.Asked(body="   ", who="kat", age_band="oud", topic="?", email="geen-adres")
    )
    assert set(errors) == {"body", "who", "age_band", "topic", "email"}
    assert "tekens" in service.check(service.Asked(body="x" * 4001))["body"]
    assert service.check(service.Asked(body="x" * 4000, who="ouder", email="a@clb.example")) == {}


# --- Triage -----------------------------------------------------------------------------------


async def test_a_crisis_word_flags_the_question_puts_it_on_top_and_alerts_coordinators(
    services: Services, db: AsyncSession
) -> None:
    calm_id, _code = await ask(services, now=utcnow() - timedelta(days=3))
    async with services.bus.subscribe(supervision_channel(services.keys)) as alerts:
        flagged_id, _code = await ask(services, CRISIS_TEXT)
        alert = (await asyncio.wait_for(alerts.get(), 10)).data
    assert alert is not None
    assert alert["type"] == "flag" and alert["source"] == "question"
    assert alert["conversation_id"] == str(flagged_id)
    assert alert["url"] == f"/console/vragen/{flagged_id}"
    assert "leven" in alert["term"] and CRISIS_TEXT not in str(alert)
    row = await db.get_one(Question, flagged_id)
    assert row.flagged_at is not None and row.flag_term == alert["term"]
    # On top, before an older question that is past its target.
    order = [q.id for q in await repository.open_questions(db)]
    assert order == [flagged_id, calm_id]


async def test_a_reply_with_a_crisis_word_flags_a_calm_question(
    services: Services, db: AsyncSession
) -> None:
    question_id, code = await ask(services)
    assert (await db.get_one(Question, question_id)).flagged_at is None
    async with transaction(services.sessionmaker) as session:
        question = await service.by_code(session, code)
        assert question is not None
        await service.reply(session, services, question, CRISIS_TEXT, utcnow())
    row = await db.get_one(Question, question_id, populate_existing=True)
    assert row.flagged_at is not None


# --- Past the target, the notice, retention ---------------------------------------------------


async def test_questions_past_target_are_only_open_unanswered_ones_each_taken_once(
    services: Services, db: AsyncSession
) -> None:
    long_ago = utcnow() - timedelta(days=10)
    late, _code = await ask(services, now=long_ago)
    answered, _code = await ask(services, now=long_ago)
    await ask(services)  # asked now: not due yet
    an = await make_staff(db, email="an@clb.example")
    async with transaction(services.sessionmaker) as session:
        await service.answer(
            session, services, await staff_in(session, an.id), answered, "Zo!", utcnow()
        )
    found = await take_questions_past_target(db, utcnow())
    assert [(f.id, f.flagged) for f in found] == [(late, False)]
    assert found[0].due_at < utcnow()
    # Taken once: counsellors are told about a target once.
    assert await take_questions_past_target(db, utcnow()) == []


async def test_an_answer_sends_a_notice_without_any_text_in_the_persons_language(
    services: Services, db: AsyncSession, inbox: Inbox
) -> None:
    question_id, code = await ask(
        services, "Mijn geheime vraag", email="leerling@example.be", language="en"
    )
    silent, _code = await ask(services, "Zonder adres")
    an = await make_staff(db, email="an@clb.example")
    for target in (question_id, silent):
        async with transaction(services.sessionmaker) as session:
            staff = await staff_in(session, an.id)
            await service.answer(session, services, staff, target, "Mijn geheim antwoord", utcnow())
    jobs = (
        await db.scalars(select(OutboxJob).where(OutboxJob.kind == service.ANSWER_NOTICE_JOB))
    ).all()
    assert [job.payload["question_id"] for job in jobs] == [str(question_id)]
    assert await run_outbox_job(services, jobs[0].id, jobs[0].version) == "done"
    [mail] = inbox.received
    assert mail.to == ("leerling@example.be",)
    for secret in ("geheim", code, code.replace("-", "")):
        assert secret not in mail.text and secret not in mail.subject
    assert "/vraag/ophalen" in mail.text
    assert "112" in mail.text


async def test_closed_questions_go_after_the_chat_retention(
    services: Services, db: AsyncSession
) -> None:
    old, _code = await ask(services)
    recent, _code = await ask(services)
    still_open, _code = await ask(services)
    an = await make_staff(db, email="an@clb.example")
    days = services.settings.chat_retention_days
    for question_id, closed_at in ((old, utcnow() - timedelta(days=days + 1)), (recent, utcnow())):
        async with transaction(services.sessionmaker) as session:
            await service.close(session, await staff_in(session, an.id), question_id, closed_at)
    assert await purge_closed_questions({"services": services}) == 1
    left = set((await db.scalars(select(Question.id))).all())
    assert left == {recent, still_open}
    messages_left = await db.scalar(select(func.count()).where(QuestionMessage.question_id == old))
    assert messages_left == 0


async def test_an_answered_question_nobody_closed_goes_too_but_a_waiting_one_stays(
    services: Services, db: AsyncSession
) -> None:
    """A person who never comes back for the answer: the thread is not kept forever."""
    days = services.settings.chat_retention_days
    long_ago = utcnow() - timedelta(days=days + 1)
    answered, _code = await ask(services, now=long_ago)
    waiting, _code = await ask(services, now=long_ago)
    an = await make_staff(db, email="an@clb.example")
    async with transaction(services.sessionmaker) as session:
        staff = await staff_in(session, an.id)
        await service.answer(session, services, staff, answered, "Zo!", long_ago)
    assert await purge_closed_questions({"services": services}) == 1
    assert set((await db.scalars(select(Question.id))).all()) == {waiting}

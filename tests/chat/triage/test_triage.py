"""Crisis triage on real PostgreSQL and Redis: flags from the subject and from visitor
messages, the queue order, the coordinators' alert (after commit), the counsellor's event,
dismissing with a reason (audited), and the coordinators' lexicon editor."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chat.conversations import repository, service
from chat.conversations.models import Conversation, Status, Topic, Who
from chat.events import conversation_channel, supervision_channel
from chat.realtime.sockets import conversation_summary, visitor_summary
from chat.triage import service as triage
from chat.triage.lexicon import DEFAULT_TERMS
from chat.triage.models import ConversationFlag, TriageTerm
from clb.audit import AuditEvent
from clb.auth.models import StaffAccount, Visitor
from clb.auth.service import staff_channel
from clb.db import commit
from clb.services import Services
from tests.clb.auth.helpers import form_token, login
from tests.conftest import ServerUrls, make_staff

# Wednesday 25 November 2026, 15:00 in Brussels: the chat is open.
OPEN_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
CRISIS = "ik wil niet meer leven"
PAGE = "/console/triage"
HTML = {"accept": "text/html"}


@pytest.fixture
async def listen(server_urls: ServerUrls) -> AsyncIterator[PubSub]:
    """A plain Redis subscriber, independent of the app's own bus."""
    client = Redis.from_url(server_urls.redis_url)
    pubsub = client.pubsub()
    yield pubsub
    await pubsub.aclose()
    await client.aclose()


async def subscribe(pubsub: PubSub, channel: str) -> None:
    await pubsub.subscribe(channel)
    confirmation = await pubsub.get_message(timeout=5)
    assert confirmation is not None and confirmation["type"] == "subscribe"


async def next_event(pubsub: PubSub) -> dict[str, Any]:
    for _ in range(50):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
        if message is not None:
            event: dict[str, Any] = orjson.loads(message["data"])
            return event
    raise AssertionError("no event")


async def start(
    services: Services, *, subject: str | None = None, minutes: int = 0, nickname: str = "Sam"
) -> tuple[uuid.UUID, uuid.UUID]:
    """A waiting conversation started ``minutes`` after OPEN_NOW: (conversation, visitor)."""
    async with services.sessionmaker() as session:
        visitor = Visitor(token_hash=secrets.token_hex(32))
        session.add(visitor)
        await session.flush()
        form = service.NewConversation(nickname, Who.leerling, Topic.school, subject=subject)
        now = OPEN_NOW + timedelta(minutes=minutes)
        conversation, created = await service.start_conversation(
            session, services, visitor.id, form, now
        )
        assert created
        await commit(session)
        return conversation.id, visitor.id


async def say(
    services: Services, visitor_id: uuid.UUID, conversation_id: uuid.UUID, body: str
) -> int:
    async with services.sessionmaker() as session:
        message = await service.visitor_send(
            session, services, visitor_id, conversation_id, uuid.uuid4(), body
        )
        await commit(session)
        return message.seq


async def conversation_row(db: AsyncSession, conversation_id: uuid.UUID) -> Conversation:
    db.expire_all()
    row = await db.get(Conversation, conversation_id)
    assert row is not None
    return row


async def flags_of(db: AsyncSession, conversation_id: uuid.UUID) -> list[ConversationFlag]:
    result = await db.scalars(
        select(ConversationFlag)
        .where(ConversationFlag.conversation_id == conversation_id)
        .order_by(ConversationFlag.id)
    )
    return list(result.all())


async def hold(db: AsyncSession, conversation_id: uuid.UUID, staff: StaffAccount) -> None:
    """Put the conversation in a counsellor's hands (claiming itself is tested elsewhere)."""
    await db.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(status=Status.active.value, counsellor_id=staff.id, claimed_at=OPEN_NOW)
    )
    await db.commit()


# --- Flags and the queue -----------------------------------------------------------------


async def test_the_migration_seeds_the_default_lexicon(db: AsyncSession) -> None:
    stored = set((await db.scalars(select(TriageTerm.term))).all())
    assert stored == set(DEFAULT_TERMS)


async def test_a_crisis_message_moves_the_chat_ahead_of_older_ones(
    services: Services, db: AsyncSession
) -> None:
    first, _ = await start(services, minutes=0)
    second, _ = await start(services, minutes=1)
    third, visitor = await start(services, minutes=2)
    async with services.sessionmaker() as session:
        assert await repository.waiting_ids(session) == [first, second, third]

    assert await say(services, visitor, third, "hallo") == 1
    seq = await say(services, visitor, third, "Ik wil echt niet meer l3v3n...")

    async with services.sessionmaker() as session:
        assert await repository.waiting_ids(session) == [third, first, second]
    row = await conversation_row(db, third)
    assert row.flagged_at is not None and row.priority == triage.FLAG_PRIORITY
    [flag] = await flags_of(db, third)
    assert (flag.source, flag.seq, flag.term) == ("message", seq, "niet meer leven")
    assert flag.dismissed_at is None
    # The flag keeps the lexicon term, never the message.
    assert "l3v3n" not in flag.term
    assert conversation_summary(row, None)["flagged"] is True
    assert "flagged" not in visitor_summary(row, None)


async def test_a_crisis_subject_flags_the_new_chat_and_it_waits_first(
    services: Services, db: AsyncSession
) -> None:
    older, _ = await start(services, minutes=0)
    flagged, _ = await start(services, minutes=5, subject="Niemand zou me missen")
    calm, _ = await start(services, minutes=6, subject="Ik twijfel over mijn studiekeuze")
    async with services.sessionmaker() as session:
        assert await repository.waiting_ids(session) == [flagged, older, calm]
    [flag] = await flags_of(db, flagged)
    assert (flag.source, flag.seq, flag.term) == ("subject", None, "niemand zou me missen")
    assert await flags_of(db, calm) == []


async def start_watched(
    services: Services, listen: PubSub, *, subject: str | None = None, nickname: str = "Sam"
) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A waiting conversation (as :func:`start` makes it) while ``listen`` listens on the
    coordinators' channel: (conversation, visitor, the channel)."""
    conversation_id, visitor_id = await start(services, subject=subject, nickname=nickname)
    channel = supervision_channel(services.keys)
    await subscribe(listen, channel)
    return conversation_id, visitor_id, channel


async def test_the_coordinators_alert_comes_after_the_commit(
    services: Services, db: AsyncSession, listen: PubSub
) -> None:
    conversation_id, visitor_id, channel = await start_watched(services, listen, nickname="Robin")
    async with services.sessionmaker() as session:
        message = await service.visitor_send(
            session, services, visitor_id, conversation_id, uuid.uuid4(), CRISIS
        )
        # Not committed yet: a marker published now must reach the subscriber first.
        await services.job_redis.publish(channel, orjson.dumps({"type": "marker"}))
        await commit(session)

    assert (await next_event(listen))["type"] == "marker"
    alert = await next_event(listen)
    assert alert["type"] == "flag"
    # Everything the alert speaks of is already durable when it arrives.
    [flag] = await flags_of(db, conversation_id)
    assert alert == {
        "type": "flag",
        "conversation_id": str(conversation_id),
        "source": "message",
        "term": "ik wil niet meer leven",
        "seq": message.seq,
        "at": flag.created_at.isoformat(),
        "nickname": "Robin",
        "status": "waiting",
    }
    assert CRISIS not in orjson.dumps(alert).decode().replace('"term":"ik wil niet meer leven"', "")


async def test_a_second_hit_is_recorded_but_not_alerted_again(
    services: Services, db: AsyncSession, listen: PubSub
) -> None:
    conversation_id, visitor_id, channel = await start_watched(
        services, listen, subject="zelfmoordgedachten"
    )
    await say(services, visitor_id, conversation_id, "en ik heb slaappillen")
    await services.job_redis.publish(channel, orjson.dumps({"type": "marker"}))
    assert (await next_event(listen))["type"] == "marker"
    flags = await flags_of(db, conversation_id)
    assert [(f.source, f.term) for f in flags] == [
        ("subject", "zelfmoordgedachten"),
        ("message", "slaappillen"),
    ]


async def test_the_holding_counsellor_hears_of_the_flag_and_the_visitor_channel_does_not(
    services: Services, db: AsyncSession, listen: PubSub
) -> None:
    staff = await make_staff(db)
    conversation_id, visitor_id = await start(services)
    await hold(db, conversation_id, staff)
    await subscribe(listen, staff_channel(services.keys, staff.id))
    await listen.subscribe(conversation_channel(services.keys, conversation_id))
    assert await listen.get_message(timeout=5) is not None  # the second confirmation

    seq = await say(services, visitor_id, conversation_id, "🔪🔪")
    events = [await next_event(listen), await next_event(listen)]
    flagged = next(e for e in events if e["type"] == "flagged")
    assert flagged["conversation_id"] == str(conversation_id)
    assert (flagged["source"], flagged["term"], flagged["seq"]) == ("message", "🔪", seq)
    # On the conversation channel (the visitor's socket reads it): only the message itself.
    [message] = [e for e in events if e["type"] != "flagged"]
    assert message["type"] == "message" and message["seq"] == seq
    assert "flag" not in orjson.dumps(message).decode()


async def test_a_resent_message_is_not_flagged_twice(services: Services, db: AsyncSession) -> None:
    conversation_id, visitor_id = await start(services)
    client_msg_id = uuid.uuid4()
    for _ in range(2):
        async with services.sessionmaker() as session:
            await service.visitor_send(
                session, services, visitor_id, conversation_id, client_msg_id, CRISIS
            )
            await commit(session)
    assert len(await flags_of(db, conversation_id)) == 1


# --- Dismissing a false flag -------------------------------------------------------------


async def dismiss(
    client: httpx.AsyncClient, conversation_id: uuid.UUID, reason: str, *, token: bool = True
) -> httpx.Response:
    headers = {"x-csrf-token": await form_token(client, "/console")} if token else {}
    return await client.post(
        f"/api/chat/conversations/{conversation_id}/flags/dismiss",
        json={"reason": reason},
        headers=headers,
    )


async def test_the_holding_counsellor_dismisses_a_false_flag_with_a_reason(
    client: httpx.AsyncClient, services: Services, db: AsyncSession, listen: PubSub
) -> None:
    staff = await make_staff(db)
    staff_id = staff.id
    assert (await login(client)).status_code == 303
    conversation_id, visitor_id = await start(
        services, subject="Hoe moet ik mijn brug springen oefenen?"
    )
    await say(services, visitor_id, conversation_id, "ik wil van een brug springen (bungee!)")
    await hold(db, conversation_id, staff)

    assert (await dismiss(client, conversation_id, "ok", token=False)).status_code == 403
    short = await dismiss(client, conversation_id, " ok ")
    assert short.status_code == 422
    assert short.json()["error"]["code"] == "invalid_reason"
    assert (await dismiss(client, conversation_id, "x" * 301)).status_code == 422
    assert (await flags_of(db, conversation_id))[0].dismissed_at is None

    await subscribe(listen, supervision_channel(services.keys))
    done = await dismiss(client, conversation_id, "Gaat over bungeejumpen op kamp.")
    assert done.status_code == 200 and done.json() == {"dismissed": 1}
    assert (await next_event(listen))["type"] == "flag_dismissed"

    row = await conversation_row(db, conversation_id)
    assert row.flagged_at is None and row.priority == 0
    [flag] = await flags_of(db, conversation_id)
    assert flag.dismissed_by == staff_id and flag.dismissed_at is not None
    assert flag.dismiss_reason == "Gaat over bungeejumpen op kamp."
    [audit] = (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "chat.flag_dismissed"))
    ).all()
    assert (audit.actor_id, audit.object_type, audit.object_id) == (
        staff_id,
        "conversation",
        str(conversation_id),
    )
    again = await dismiss(client, conversation_id, "Nog eens.")
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_open_flag"

    # A new hit after the dismissal flags the chat again, and alerts again.
    await say(services, visitor_id, conversation_id, "nee echt, ik wil dood")
    alert = await next_event(listen)
    assert (alert["type"], alert["term"], alert["status"]) == ("flag", "ik wil dood", "active")
    assert (await conversation_row(db, conversation_id)).flagged_at is not None


async def test_only_the_holder_or_a_coordinator_may_dismiss(
    client: httpx.AsyncClient, services: Services, db: AsyncSession
) -> None:
    holder = await make_staff(db, email="holder@clb.example")
    await make_staff(db)  # an@clb.example: a counsellor who does not hold the chat
    conversation_id, visitor_id = await start(services)
    await say(services, visitor_id, conversation_id, CRISIS)
    await hold(db, conversation_id, holder)
    assert (await login(client)).status_code == 303
    refused = await dismiss(client, conversation_id, "Niet mijn gesprek")
    assert refused.status_code == 403

    await make_staff(db, email="coord@clb.example", roles=("coordinator",))
    client.cookies.clear()
    assert (await login(client, "coord@clb.example")).status_code == 303
    assert (await dismiss(client, conversation_id, "Bekeken: een songtekst.")).status_code == 200


# --- The lexicon and its editor ----------------------------------------------------------


@pytest.fixture
async def coordinator(client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    await make_staff(db, roles=("counsellor", "coordinator"))
    assert (await login(client)).status_code == 303
    return client


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> httpx.Response:
    token = await form_token(client, PAGE)
    return await client.post(path, data={**data, "csrf_token": token}, headers=HTML)


async def test_a_term_added_by_a_coordinator_flags_the_next_message(
    coordinator: httpx.AsyncClient, services: Services, db: AsyncSession
) -> None:
    conversation_id, visitor_id = await start(services)
    await say(services, visitor_id, conversation_id, "Ik oefen met een klimtouw")  # warms the cache
    assert await flags_of(db, conversation_id) == []

    added = await post_form(coordinator, f"{PAGE}/termen", {"term": "  Klimtouw "})
    assert added.status_code == 303
    page = await coordinator.get(added.headers["location"], headers=HTML)
    assert "klimtouw" in page.text and "De term is toegevoegd." in page.text

    await say(services, visitor_id, conversation_id, "ik pak het KLIMTOUW")
    [flag] = await flags_of(db, conversation_id)
    assert flag.term == "klimtouw"

    row = await db.scalar(select(TriageTerm).where(TriageTerm.term == "klimtouw"))
    assert row is not None
    removed = await post_form(coordinator, f"{PAGE}/termen/{row.id}/verwijderen", {})
    assert removed.status_code == 303
    other, other_visitor = await start(services, minutes=1)
    await say(services, other_visitor, other, "ik pak het klimtouw")
    assert await flags_of(db, other) == []
    actions = (await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert actions[-2:] == ["chat.triage_term_added", "chat.triage_term_removed"]


async def test_the_editor_refuses_duplicates_and_unusable_terms_next_to_the_field(
    coordinator: httpx.AsyncClient, db: AsyncSession
) -> None:
    before = len((await db.scalars(select(TriageTerm.id))).all())
    duplicate = await post_form(coordinator, f"{PAGE}/termen", {"term": "ZELFMOOOORD*"})
    assert duplicate.status_code == 409
    assert 'id="term-error"' in duplicate.text and "staat al in de lijst" in duplicate.text
    assert 'aria-invalid="true"' in duplicate.text
    for raw, words in (("ab", "drie letters"), ("ik 🔪", "niet uit allebei")):
        refused = await post_form(coordinator, f"{PAGE}/termen", {"term": raw})
        assert refused.status_code == 422 and words in refused.text
    assert len((await db.scalars(select(TriageTerm.id))).all()) == before


async def test_testing_a_sentence_names_the_term_that_matches(
    coordinator: httpx.AsyncClient,
) -> None:
    hit = await post_form(
        coordinator, f"{PAGE}/testen", {"sentence": "ik wil er een einde aan maken"}
    )
    assert hit.status_code == 200
    assert "Deze term past: „er een einde aan maken”" in hit.text
    calm = await post_form(coordinator, f"{PAGE}/testen", {"sentence": "Ik ben doodmoe"})
    assert "Geen crisissignaal" in calm.text
    empty = await post_form(coordinator, f"{PAGE}/testen", {"sentence": "  "})
    assert empty.status_code == 422 and 'id="sentence-error"' in empty.text


async def test_the_filter_narrows_the_list(coordinator: httpx.AsyncClient) -> None:
    page = await coordinator.get(PAGE, params={"zoek": "brug"}, headers=HTML)
    assert page.status_code == 200
    assert "van een brug springen" in page.text and "slaappillen" not in page.text


async def test_the_lexicon_page_is_for_coordinators_only(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_staff(db)
    assert (await login(client)).status_code == 303
    assert (await client.get(PAGE, headers=HTML)).status_code == 403


async def test_other_processes_pick_up_an_edit_through_the_version_number(
    services: Services, db: AsyncSession
) -> None:
    cache = triage.LexiconCache()  # as in another process: not invalidated directly
    async with services.sessionmaker() as session:
        before = await cache.matcher_for(session, services)
    assert "klimtouw" not in before

    db.add(TriageTerm(term="klimtouw"))
    await db.commit()
    await services.redis.incr(triage.version_key(services))
    async with services.sessionmaker() as session:
        # Within the check window the compiled lexicon is used as is: no Redis, no query.
        assert await cache.matcher_for(session, services) is before
        cache.checked_at -= triage.VERSION_CHECK_SECONDS
        after = await cache.matcher_for(session, services)
    assert "klimtouw" in after

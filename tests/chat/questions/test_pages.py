"""The pages of "Stel je vraag" through the real app (no JavaScript): asking, the code shown
once, picking up, replying, bad input and limits; and the console's claim, answer, close."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chat.questions import codes
from chat.questions.models import Question, QuestionMessage
from chat.questions.router import cookie_name
from clb.config import Settings
from tests.chat.questions.support import CRISIS_TEXT
from tests.clb.auth.helpers import form_token, login
from tests.conftest import make_staff

_CODE = re.compile(r'<bdi id="pickup-code">([A-Z0-9-]+)</bdi>')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"question_asks_per_hour": 4, "question_lookups_per_hour": 6})


async def csrf(client: httpx.AsyncClient, path: str = "/vraag") -> str:
    return await form_token(client, path)


async def ask(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {"csrf_token": await csrf(client), **fields}
    return await client.post("/vraag", data=data)


async def asked(client: httpx.AsyncClient, body: str = "Hoe kies ik een richting?") -> str:
    """Ask, follow to the thread and return the code shown once."""
    response = await ask(client, body=body, who="leerling", topic="studiekeuze")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/vraag/gesprek?nieuw=1"
    page = await client.get(response.headers["location"])
    assert page.status_code == 200 and "Bewaar deze code" in page.text
    assert page.headers["cache-control"] == "no-store"  # "back" does not bring it again
    found = _CODE.search(page.text)
    assert found, "the code is shown after asking"
    return found[1]


async def count(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(Question)) or 0)


async def test_a_question_gives_a_code_shown_once_that_opens_the_thread(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    form = await client.get("/vraag")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    assert (
        "niet verplicht" in form.text
        and "In die mail staan je vraag en het antwoord niet" in form.text
    )
    code = await asked(client)
    stored = await db.scalar(select(Question))
    assert stored is not None and stored.token_hash == codes.code_hash(code)
    again = await client.get("/vraag/gesprek")
    assert "Hoe kies ik een richting?" in again.text and "Je krijgt uiterlijk" in again.text
    assert code not in again.text  # shown once, on the page right after asking
    # Not by a reload or the history either (the next user of a shared computer).
    reloaded = await client.get("/vraag/gesprek?nieuw=1")
    assert reloaded.status_code == 200 and code not in reloaded.text
    assert "Bewaar deze code" not in reloaded.text

    fresh = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with fresh:
        opened = await fresh.get(f"/vraag/{code.lower()}")
        assert opened.status_code == 303 and opened.headers["location"] == "/vraag/gesprek"
        assert cookie_name(Settings()) in opened.headers["set-cookie"]
        thread = await fresh.get("/vraag/gesprek")
        assert "Hoe kies ik een richting?" in thread.text


async def test_bad_input_gets_dutch_messages_next_to_the_fields_and_stores_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    empty = await ask(client, body="   ")
    assert empty.status_code == 422 and "Schrijf je vraag." in empty.text
    assert 'class="error-summary"' in empty.text and 'id="body-error"' in empty.text
    long = await ask(client, body="x" * 4001)
    assert long.status_code == 422 and "hoogstens 4000 tekens" in long.text
    huge = await ask(client, body="y" * 20000)  # pasted: the form comes back, its start kept
    assert huge.status_code == 422 and "hoogstens 4000 tekens" in huge.text
    assert "y" * 4000 in huge.text
    mail = await ask(client, body="Vraag", email="niet-goed@")
    assert mail.status_code == 422 and "Dit e-mailadres klopt niet" in mail.text
    assert 'value="niet-goed@"' in mail.text and "Vraag</textarea>" in mail.text
    choice = await ask(client, body="Vraag", who="hacker", age_band="1000", topic="x")
    assert choice.status_code == 422 and choice.text.count("Kies een van de mogelijkheden") >= 3
    no_csrf = await client.post("/vraag", data={"body": "Vraag"})
    assert no_csrf.status_code == 403
    assert await count(db) == 0


async def test_unknown_or_malformed_codes_get_one_clear_answer(client: httpx.AsyncClient) -> None:
    for path in (f"/vraag/{codes.new_code()}", "/vraag/%3Cscript%3E", "/vraag/" + "A" * 300):
        page = await client.get(path)
        assert page.status_code == 404 and "Deze code kennen we niet" in page.text
    empty = await client.post(
        "/vraag/ophalen", data={"csrf_token": await csrf(client), "code": " "}
    )
    assert empty.status_code == 422 and "Typ je code" in empty.text
    wrong = await client.post(
        "/vraag/ophalen", data={"csrf_token": await csrf(client), "code": codes.new_code()}
    )
    assert wrong.status_code == 404 and 'aria-invalid="true"' in wrong.text
    assert (await client.get("/vraag/gesprek")).headers["location"] == "/vraag/ophalen"


async def test_code_look_ups_and_questions_are_limited_per_client(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    code = await asked(client)
    for _ in range(6):
        await client.get(f"/vraag/{codes.new_code()}")
    last_try = await client.get(f"/vraag/{code}")  # the right code, but the 7th look-up
    assert last_try.status_code == 429 and "Retry-After" in last_try.headers
    assert "Te veel pogingen" in last_try.text
    client.cookies.set(cookie_name(Settings(env="test")), codes.new_code(), path="/vraag")
    guessed = await client.get("/vraag/gesprek")  # a guessed cookie counts as a look-up
    assert guessed.status_code == 429
    client.cookies.clear()
    for n in range(3):
        assert (await ask(client, body=f"Vraag {n}")).status_code == 303
    limited = await ask(client, body="Nog een vraag")
    assert limited.status_code == 429 and "Te veel pogingen" in limited.text
    assert "Nog een vraag</textarea>" in limited.text  # what was typed stays
    assert await count(db) == 4


async def test_the_person_replies_and_a_crisis_word_shows_the_help_box(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await asked(client, "Ik heb een vraag over school.")
    page = await client.get("/vraag/gesprek")
    assert "tel:1813" not in page.text.split("<main", 1)[1]  # only the top bar has it
    token = await csrf(client, "/vraag/gesprek")
    empty = await client.post("/vraag/gesprek", data={"csrf_token": token, "body": ""})
    assert empty.status_code == 422 and "Schrijf je vraag." in empty.text
    sent = await client.post("/vraag/gesprek", data={"csrf_token": token, "body": CRISIS_TEXT})
    assert sent.status_code == 303
    thread = (await client.get("/vraag/gesprek")).text
    main = thread.split("<main", 1)[1]
    assert "tel:1813" in main and "tel:102" in main and "tel:112" in main
    assert html.escape(CRISIS_TEXT, quote=False) in thread
    assert thread.index("Ik heb een vraag over school.") < thread.index("niet meer leven")
    question = await db.scalar(select(Question))
    assert question is not None and question.flagged_at is not None


async def test_counsellors_claim_answer_and_close_in_the_console(
    client: httpx.AsyncClient, app: object, db: AsyncSession
) -> None:
    await asked(client, "Wanneer is de inschrijving?")
    question = await db.scalar(select(Question))
    assert question is not None
    url = f"/console/vragen/{question.id}"
    person_cookie = client.cookies.get(cookie_name(Settings(env="test")))
    await make_staff(db, email="an@clb.example")
    await make_staff(db, email="bo@clb.example")
    await make_staff(db, email="ed@clb.example", roles=("editor",))

    client.cookies.clear()
    assert (await client.get("/console/vragen", headers={"accept": "text/html"})).status_code in (
        303,
        401,
    )
    assert (await login(client, "ed@clb.example")).status_code == 303
    assert (await client.get("/console/vragen")).status_code == 403

    client.cookies.clear()
    assert (await login(client, "an@clb.example")).status_code == 303
    listing = await client.get("/console/vragen")
    assert listing.status_code == 200 and url in listing.text
    token = await csrf(client, url)
    empty = await client.post(f"{url}/antwoorden", data={"csrf_token": token, "body": " "})
    assert empty.status_code == 422 and "Schrijf je vraag." in empty.text
    assert (await client.post(f"{url}/nemen", data={"csrf_token": token})).status_code == 303
    answered = await client.post(
        f"{url}/antwoorden", data={"csrf_token": token, "body": "In maart, via de school."}
    )
    assert answered.status_code == 303

    client.cookies.clear()
    assert (await login(client, "bo@clb.example")).status_code == 303
    page = await client.get(url)
    assert "Een collega neemt deze vraag op." in page.text and "/antwoorden" not in page.text
    token = await csrf(client, "/vraag")  # no form for Bo on the question itself
    taken = await client.post(f"{url}/antwoorden", data={"csrf_token": token, "body": "Ik ook"})
    assert taken.status_code == 409 and "Een collega beantwoordt deze vraag al." in taken.text
    assert (await client.post(f"{url}/afsluiten", data={"csrf_token": token})).status_code == 409
    unknown = await client.get("/console/vragen/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404

    client.cookies.clear()
    assert (await login(client, "an@clb.example")).status_code == 303
    token = await csrf(client, url)
    assert (await client.post(f"{url}/afsluiten", data={"csrf_token": token})).status_code == 303

    client.cookies.clear()
    assert person_cookie
    client.cookies.set(cookie_name(Settings(env="test")), person_cookie, path="/vraag")
    thread = await client.get("/vraag/gesprek")
    assert "In maart, via de school." in thread.text and "Deze vraag is afgesloten" in thread.text
    assert 'action="/vraag/gesprek"' not in thread.text  # no reply form on a closed one
    token = await csrf(client, "/vraag")
    late = await client.post("/vraag/gesprek", data={"csrf_token": token, "body": "Nog iets"})
    assert late.status_code == 409 and "Deze vraag is afgesloten" in late.text
    messages = await db.scalar(select(func.count()).select_from(QuestionMessage))
    assert messages == 2

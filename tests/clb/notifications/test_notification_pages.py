"""``/console/meldingen`` and its settings through the real app: my list (newest first,
unread marked), opening one marks it read and goes to its page, "alles gelezen", the count
for the header; someone else's is a 404; the settings form refuses what it does not know
with the reason next to the field."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from clb.auth.models import StaffAccount
from clb.db import utcnow
from clb.notifications import service as notifications
from clb.notifications.kinds import Choice, Kind
from clb.notifications.models import NotificationPrefs, StaffNotification
from clb.org.models import Centre
from tests.clb.auth.helpers import form_token
from tests.clb.notifications.support import rows_of
from tests.conftest import make_staff
from tests.scheduling.agenda_support import switch_user
from tests.scheduling.meeting_pages_support import as_form

AN = "an@clb.example"
BEN = "ben@clb.example"
HTML = {"accept": "text/html"}
PAGE = "/console/meldingen"
SETTINGS = "/console/meldingen/instellingen"
FIELDS = [(f"{channel}_{kind.value}", "ja") for kind in Kind for channel in ("console", "mail")]


async def two_colleagues(db: AsyncSession) -> tuple[StaffAccount, StaffAccount]:
    an = await make_staff(db, email=AN)
    ben = await make_staff(db, email=BEN, centre=await db.get_one(Centre, an.centre_id))
    return an, ben


async def told(db: AsyncSession, account: StaffAccount, kind: Kind, minutes_ago: int) -> int:
    row = StaffNotification(
        account_id=account.id,
        kind=kind.value,
        params={"reference": "CLB-7K4Q-2M", "at": "2026-12-08T13:00:00+00:00"},
        link=f"/console/aanvragen/{uuid.uuid4()}",
        created_at=utcnow() - timedelta(minutes=minutes_ago),
    )
    db.add(row)
    await db.commit()
    return row.id


async def test_my_list_newest_first_opening_marks_read_and_all_read(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    an, ben = await two_colleagues(db)
    older = await told(db, an, Kind.booking_new, 30)
    newer = await told(db, an, Kind.request_assigned, 5)
    bens = await told(db, ben, Kind.booking_cancelled, 1)
    await switch_user(client, AN)

    page = await client.get(PAGE, headers=HTML)
    assert page.status_code == 200
    assert page.text.index(f'href="{PAGE}/{newer}"') < page.text.index(f'href="{PAGE}/{older}"')
    assert f"{PAGE}/{bens}" not in page.text  # only mine
    assert "Je hebt 2 ongelezen meldingen." in page.text
    assert page.text.count('<span class="tag">Nieuw</span>') == 2
    assert "De aanvraag CLB-7K4Q-2M (liever iemand zien) is aan jou toegewezen." in page.text
    assert "Er is een nieuwe afspraak bij jou op dinsdag 8 december, 14:00." in page.text
    assert (await client.get(f"{PAGE}/aantal")).json() == {"unread": 2}

    opened = await client.get(f"{PAGE}/{newer}", headers=HTML)
    assert opened.status_code == 303
    [row] = [r for r in await rows_of(db, an.id) if r.id == newer]
    assert opened.headers["location"] == row.link and row.read_at is not None
    assert (await client.get(f"{PAGE}/aantal")).json() == {"unread": 1}

    refused = await client.post(f"{PAGE}/gelezen", data={}, headers=HTML)
    assert refused.status_code == 403  # no CSRF token
    token = await form_token(client, PAGE)
    done = await client.post(f"{PAGE}/gelezen", data={"csrf_token": token}, headers=HTML)
    assert done.status_code == 303
    assert (await client.get(f"{PAGE}/aantal")).json() == {"unread": 0}
    after = await client.get(done.headers["location"], headers=HTML)
    assert "Alles is gelezen." in after.text and "Je hebt geen ongelezen meldingen." in after.text
    # Ben's stays unread.
    assert [r.read_at for r in await rows_of(db, ben.id)] == [None]


async def test_someone_elses_notification_cannot_be_opened(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    _an, ben = await two_colleagues(db)
    bens = await told(db, ben, Kind.booking_new, 1)
    await switch_user(client, AN)
    for path in (f"{PAGE}/{bens}", f"{PAGE}/999999", f"{PAGE}/{2**70}"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 404, path
    assert (await client.get(f"{PAGE}/abc", headers=HTML)).status_code == 404
    assert [r.read_at for r in await rows_of(db, ben.id)] == [None]


async def test_the_pages_need_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{PAGE}/aantal")).status_code == 401
    page = await client.get(SETTINGS, headers=HTML)
    assert page.status_code in {303, 401}


async def test_settings_show_the_defaults_and_keep_a_choice(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    an, _ben = await two_colleagues(db)
    await switch_user(client, AN)
    page = await client.get(SETTINGS, headers=HTML)
    assert page.status_code == 200
    assert 'id="mail_booking_new" name="mail_booking_new" value="ja" checked' in page.text
    assert 'id="mail_question_overdue" name="mail_question_overdue" value="ja">' in page.text

    kept = [f for f in FIELDS if f[0] not in {"mail_booking_new", "console_booking_moved"}]
    token = await form_token(client, SETTINGS)
    data = [("csrf_token", token), ("language", "en"), *kept]
    saved = await client.post(SETTINGS, data=as_form(data), headers=HTML)
    assert saved.status_code == 303
    await db.commit()
    prefs = await db.get_one(NotificationPrefs, an.id, populate_existing=True)
    assert prefs.language == "en"
    choices = notifications.choices_from(prefs.choices)
    assert choices[Kind.booking_new] == Choice(True, False)
    assert choices[Kind.booking_moved] == Choice(False, True)
    assert choices[Kind.question_overdue] == Choice(True, True)
    shown = await client.get(saved.headers["location"], headers=HTML)
    assert "Je instellingen zijn bewaard." in shown.text


async def test_settings_refuse_what_they_do_not_know(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    an, _ben = await two_colleagues(db)
    await switch_user(client, AN)
    token = await form_token(client, SETTINGS)
    data = [("csrf_token", token), ("language", "fr"), *FIELDS[1:], ("console_booking_new", "x")]
    refused = await client.post(SETTINGS, data=as_form(data), headers=HTML)
    assert refused.status_code == 422
    assert "Je instellingen zijn niet bewaard." in refused.text
    assert '<p class="field-error" id="language-error">Kies Nederlands of English.</p>' in (
        refused.text
    )
    assert 'href="#console_booking_new"' in refused.text
    assert 'id="console_booking_new-error">Deze keuze kennen we niet.' in refused.text
    assert 'aria-invalid="true" aria-describedby="console_booking_new-error"' in refused.text
    await db.commit()
    assert await db.get(NotificationPrefs, an.id) is None
    no_token = await client.post(SETTINGS, data={"language": "nl"}, headers=HTML)
    assert no_token.status_code == 403

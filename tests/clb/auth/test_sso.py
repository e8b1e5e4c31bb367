"""Single sign-on for staff against a real OpenID Connect provider (oidc-provider on Node).

Each test drives the whole flow the way a browser does: the app sends it to the provider,
the provider logs the test account in (its `login_hint`) and sends it back to the app's
callback, which checks everything before it starts a session.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent
from clb.auth.models import StaffAccount, StaffSession
from clb.auth.sso import ProviderDirectory, SsoRefused, centres_with_sso
from clb.auth.tokens import hash_token
from clb.config import Settings
from clb.org.models import Centre
from clb.services import Services
from clb.web.deps import session_cookie_name
from tests.clb.auth.sso_support import (
    CLIENT_SECRET,
    CONFIDENTIAL_CLIENT,
    PUBLIC_CLIENT,
    Browser,
    RunningProvider,
    query_param,
    run_provider,
    without_param,
)
from tests.conftest import PUBLIC_URL, free_port, make_centre, make_staff

CENTRE = "clb-sso"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProvider]:
    yield from run_provider(tmp_path_factory.mktemp("oidc-provider"))


@pytest.fixture(scope="module")
def provider_with_claims_in_id_token(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningProvider]:
    yield from run_provider(tmp_path_factory.mktemp("oidc-provider"), claims_in_id_token=True)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"oidc_client_secrets": {CENTRE: CLIENT_SECRET}})


@pytest.fixture
async def browser(client: httpx.AsyncClient) -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(timeout=30) as provider_client:
        yield Browser(client, provider_client)


async def sso_centre(
    db: AsyncSession,
    issuer: str,
    *,
    slug: str = CENTRE,
    client_id: str = CONFIDENTIAL_CLIENT,
) -> Centre:
    # The product's default: a second factor is required; the provider's login is one.
    centre = await make_centre(db, slug, second_factor=True)
    centre.oidc_issuer = issuer
    centre.oidc_client_id = client_id
    await db.commit()
    return centre


async def invited(db: AsyncSession, centre: Centre, email: str = "an@clb.example") -> StaffAccount:
    """An account an administrator made: no password yet."""
    account = await make_staff(db, email=email, centre=centre)
    account.password_hash = None
    await db.commit()
    return account


async def sessions(db: AsyncSession) -> list[StaffSession]:
    return list((await db.scalars(select(StaffSession))).all())


async def refused(answer: httpx.Response, status: int, text: str, db: AsyncSession) -> None:
    assert answer.status_code == status, answer.text
    assert text in answer.text
    assert "Aanmelden met het account van je CLB" in answer.text
    assert await sessions(db) == []


async def test_a_verified_staff_member_logs_in_with_the_centre_account(
    browser: Browser, db: AsyncSession, provider: RunningProvider, services: Services
) -> None:
    centre = await sso_centre(db, provider.issuer)
    account = await invited(db, centre)

    answer = await browser.log_in(CENTRE, "an", next_url="/console/agenda")

    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/agenda"
    assert session_cookie_name(services.settings) in answer.cookies
    [started] = await sessions(db)
    assert (started.account_id, started.second_factor) == (account.id, "sso")
    assert not started.enrolment_only
    await db.refresh(account)
    assert account.sso_subject == f"{provider.issuer} an"
    actions = set(await db.scalars(select(AuditEvent.action)))
    assert {"login", "login_sso"} <= actions
    home = await browser.app.get("/console", headers={"accept": "text/html"})
    assert home.status_code == 200


async def test_the_address_may_come_in_the_id_token_itself(
    browser: Browser, db: AsyncSession, provider_with_claims_in_id_token: RunningProvider
) -> None:
    centre = await sso_centre(db, provider_with_claims_in_id_token.issuer)
    await invited(db, centre)

    assert (await browser.log_in(CENTRE, "an")).status_code == 303
    # The same refusals hold for the address found there (another person at the provider).
    await db.execute(delete(StaffSession))
    await db.commit()
    browser.provider.cookies.clear()
    await refused(await browser.log_in(CENTRE, "bert"), 403, "geen bevestigd e-mailadres", db)


async def test_the_next_login_must_come_from_the_same_provider_account(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer)
    account = await invited(db, centre)
    account.sso_subject = f"{provider.issuer} someone-else"
    await db.commit()

    answer = await browser.log_in(CENTRE, "an")

    await refused(answer, 403, "al gekoppeld aan een ander account", db)


async def test_a_centre_without_a_client_secret_logs_in_as_a_public_client(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer, slug="clb-publiek", client_id=PUBLIC_CLIENT)
    await invited(db, centre)

    answer = await browser.log_in("clb-publiek", "an")

    assert answer.status_code == 303, answer.text
    assert len(await sessions(db)) == 1


async def test_a_confidential_client_without_its_secret_is_refused(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    # The centre's slug has no secret in the settings: the provider refuses the code.
    centre = await sso_centre(db, provider.issuer, slug="clb-zonder-geheim")
    await invited(db, centre)

    answer = await browser.log_in("clb-zonder-geheim", "an")

    await refused(answer, 400, "niet bevestigd", db)


async def test_a_tampered_nonce_is_refused(
    browser: Browser, db: AsyncSession, provider: RunningProvider, services: Services
) -> None:
    centre = await sso_centre(db, provider.issuer)
    account = await invited(db, centre)
    started = await browser.start(CENTRE)
    authorization_url = started.headers["location"]
    key = services.keys.key("sso-flow", hash_token(query_param(authorization_url, "state")))
    flow = orjson.loads(await services.redis.get(key))
    await services.redis.set(key, orjson.dumps({**flow, "nonce": "een-andere-nonce"}), ex=600)

    callback = await browser.log_in_at_provider(authorization_url, "an")
    answer = await browser.app.get(callback)

    await refused(answer, 403, "hoort niet bij deze aanmelding", db)
    await db.refresh(account)
    assert account.sso_subject is None


@pytest.mark.parametrize("iss_in_answer", [True, False], ids=["rfc9207-iss", "id-token-iss"])
async def test_a_provider_other_than_the_pinned_issuer_is_refused(
    browser: Browser,
    db: AsyncSession,
    provider: RunningProvider,
    caplog: pytest.LogCaptureFixture,
    iss_in_answer: bool,
) -> None:
    # Pinned: localhost. The provider's discovery answers for localhost too (as a proxy
    # reflecting the Host header would), but it is 127.0.0.1 that answers and signs.
    centre = await sso_centre(db, f"http://localhost:{provider.port}")
    await invited(db, centre)

    callback = await browser.callback_url(CENTRE, "an")
    assert query_param(callback, "iss") == provider.issuer
    if not iss_in_answer:  # a provider without RFC 9207: the ID token's iss must catch it
        callback = without_param(callback, "iss")
    with caplog.at_level(logging.WARNING, logger="clb.auth.sso_router"):
        answer = await browser.app.get(callback)

    await refused(answer, 403, "niet van de aanmeldpagina die voor je CLB is ingesteld", db)
    expected = "authorization response" if iss_in_answer else "ID token of another issuer"
    assert expected in caplog.text


async def test_a_discovery_document_of_another_issuer_is_refused_at_the_start(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    await sso_centre(db, provider.issuer + "/")  # exact match: a trailing slash differs

    answer = await browser.start(CENTRE)

    await refused(answer, 403, "niet van de aanmeldpagina die voor je CLB is ingesteld", db)


async def test_an_unverified_address_is_refused(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer)
    account = await invited(db, centre, "bert@clb.example")

    answer = await browser.log_in(CENTRE, "bert")

    await refused(answer, 403, "geen bevestigd e-mailadres", db)
    await db.refresh(account)
    assert account.sso_subject is None


async def test_an_address_without_an_account_is_refused_and_no_account_made(
    browser: Browser,
    db: AsyncSession,
    provider: RunningProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    centre = await sso_centre(db, provider.issuer)
    await invited(db, centre)

    with caplog.at_level(logging.DEBUG):
        answer = await browser.log_in(CENTRE, "nobody")

    await refused(answer, 403, "geen actieve account van dit CLB", db)
    assert await db.scalar(select(func.count()).select_from(StaffAccount)) == 1
    # The log says why, never who.
    assert "account with this address" in caplog.text
    assert "nobody@" not in caplog.text.lower()


async def test_an_account_of_another_centre_is_refused(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    await sso_centre(db, provider.issuer)
    other = await make_centre(db, "clb-ander")
    account = await invited(db, other, "els@clb.example")

    answer = await browser.log_in(CENTRE, "els")

    await refused(answer, 403, "geen actieve account van dit CLB", db)
    await db.refresh(account)
    assert account.sso_subject is None


async def test_a_deactivated_account_is_refused(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer)
    account = await invited(db, centre)
    account.is_active = False
    await db.commit()

    answer = await browser.log_in(CENTRE, "an")

    await refused(answer, 403, "geen actieve account van dit CLB", db)


async def test_a_state_works_once(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer)
    await invited(db, centre)
    callback = await browser.callback_url(CENTRE, "an")
    assert (await browser.app.get(callback)).status_code == 303

    again = await browser.app.get(callback)

    assert again.status_code == 400
    assert "verlopen of werd al gebruikt" in again.text
    assert len(await sessions(db)) == 1


async def test_a_state_works_only_in_the_browser_that_started_it(
    browser: Browser, app: FastAPI, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer)
    await invited(db, centre)
    callback = await browser.callback_url(CENTRE, "an")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as other_browser:
        answer = await other_browser.get(callback)
    await refused(answer, 400, "verlopen of werd al gebruikt", db)
    # Used up by the attempt: the state does not work afterwards either.
    await refused(await browser.app.get(callback), 400, "verlopen of werd al gebruikt", db)


async def test_a_login_the_provider_denies_is_refused(
    browser: Browser, db: AsyncSession, provider: RunningProvider
) -> None:
    centre = await sso_centre(db, provider.issuer)
    await invited(db, centre)

    answer = await browser.log_in(CENTRE, "an-unknown-account")

    await refused(answer, 400, "niet bevestigd", db)


async def test_a_centre_without_single_sign_on_is_refused(
    browser: Browser, db: AsyncSession
) -> None:
    await make_centre(db, "clb-zonder")
    await db.commit()

    for slug in ("clb-zonder", "bestaat-niet"):
        await refused(await browser.start(slug), 404, "niet ingesteld", db)


async def test_an_unreachable_provider_is_a_clear_refusal(
    browser: Browser, db: AsyncSession
) -> None:
    await sso_centre(db, f"http://127.0.0.1:{free_port()}")

    await refused(await browser.start(CENTRE), 400, "nu niet bereikbaar", db)


async def test_in_production_a_provider_must_use_https(provider: RunningProvider) -> None:
    with pytest.raises(SsoRefused) as refusal:
        await ProviderDirectory(https_only=True).metadata(provider.issuer)
    assert refusal.value.reason == "unavailable"
    assert "https" in refusal.value.detail
    found = await ProviderDirectory(https_only=False).metadata(provider.issuer)
    assert found.token_endpoint.startswith(provider.issuer)


async def test_the_login_page_partial_lists_the_centres_with_single_sign_on(
    app: FastAPI, db: AsyncSession, provider: RunningProvider
) -> None:
    await sso_centre(db, provider.issuer)
    await make_centre(db, "clb-zonder")
    await db.commit()

    centres = await centres_with_sso(db)
    html = app.state.templates.get_template("login_sso_links.html").render(
        sso_centres=centres, next="/console/agenda"
    )

    assert [centre.slug for centre in centres] == [CENTRE]
    assert "Aanmelden met het account van je CLB" in html
    assert 'href="/console/login/sso?centre=clb-sso&amp;next=/console/agenda"' in html
    empty = app.state.templates.get_template("login_sso_links.html").render(sso_centres=[])
    assert empty.strip() == ""

"""Single sign-on for staff through their centre's OpenID Connect provider.

One identity provider per centre: its pinned issuer (``centres.oidc_issuer``) and this
platform's client id there (``centres.oidc_client_id``); the client secret, when there is
one, is a setting (``CLB_OIDC_CLIENT_SECRETS``), else the client is public and PKCE alone
protects the code. The flow is the authorization code flow with PKCE (S256). Its state,
nonce and code verifier stay in Redis, bound to the browser that started the flow by a
cookie, and are used once.

A login opens only an account that already exists: active, of that centre, with the
e-mail address the provider vouches for (``email_verified``). The first login links the
account to the provider's subject ("<issuer> <sub>"); later logins must come from that
same subject. Nothing here logs an e-mail address or a token.
"""

from __future__ import annotations

import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import httpx
import orjson
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import record_audit
from clb.auth.models import StaffAccount
from clb.auth.tokens import hash_token
from clb.org.models import Centre
from clb.services import Services

START_PATH = "/console/login/sso"
CALLBACK_PATH = "/console/login/sso/callback"
# The cookie that binds a flow to the browser that started it (a random id; Redis keeps
# its hash). SameSite=Lax: the provider sends the browser back with a top-level GET.
BROWSER_COOKIE = "clb_sso"
# Time to log in at the provider, its own second factor included.
FLOW_SECONDS = 600
# Discovery documents and key sets are kept this long per process.
DISCOVERY_SECONDS = 300
HTTP_TIMEOUT = httpx.Timeout(10.0)
ACCEPT_JSON = {"accept": "application/json"}
SCOPE = "openid email"
# Asymmetric signatures only: a provider's ID token is checked against its published keys.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
CLOCK_LEEWAY_SECONDS = 60
MAX_PARAMETER_LENGTH = 2048
# staff_accounts.sso_subject holds "<issuer> <sub>" in this many characters.
SUBJECT_LENGTH = 400


class SsoRefused(Exception):
    """A login through the provider that is refused. ``reason`` picks the Dutch message on
    the page (login_sso_error.html); ``detail`` is for the log only, never personal."""

    def __init__(self, reason: str, status: int = 403, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.detail = detail or reason


@dataclass(frozen=True)
class SsoCentre:
    """A centre whose staff can log in with their centre's account."""

    slug: str
    name: str


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None


@dataclass(frozen=True)
class Flow:
    """One login under way: what the callback needs to finish it."""

    centre_id: uuid.UUID
    nonce: str
    code_verifier: str
    next_url: str


@dataclass(frozen=True)
class Identity:
    """Who the provider says logged in."""

    subject: str  # "<issuer> <sub>"
    email: str
    email_verified: bool


async def centres_with_sso(session: AsyncSession) -> list[SsoCentre]:
    """The centres whose staff can log in through their centre's provider, by name."""
    rows = await session.execute(
        select(Centre.slug, Centre.name)
        .where(Centre.oidc_issuer.is_not(None), Centre.oidc_client_id.is_not(None))
        .order_by(Centre.name)
    )
    return [SsoCentre(slug, name) for slug, name in rows.all()]


def _client(centre: Centre | None) -> tuple[Centre, str, str]:
    """The centre, its pinned issuer and client id; refused without single sign-on."""
    if centre is None or not centre.oidc_issuer or not centre.oidc_client_id:
        raise SsoRefused("unknown_centre", 404, "no single sign-on for this centre")
    return centre, centre.oidc_issuer, centre.oidc_client_id


async def centre_by_slug(session: AsyncSession, slug: str) -> Centre:
    return _client(await session.scalar(select(Centre).where(Centre.slug == slug[:80])))[0]


def redirect_uri(services: Services) -> str:
    return services.settings.public_url.rstrip("/") + CALLBACK_PATH


async def _get_json(url: str, *, token: str | None = None) -> dict[str, Any]:
    headers = dict(ACCEPT_JSON)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as client:
            response = await client.get(url, headers=headers)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise SsoRefused("unavailable", 400, f"GET failed: {type(error).__name__}") from None
    if not isinstance(data, dict):
        raise SsoRefused("unavailable", 400, "GET answer is not a JSON object")
    return data


def _metadata_from(issuer: str, document: dict[str, Any], https_only: bool) -> ProviderMetadata:
    # OpenID Connect Discovery 1.0, 4.3: the document names exactly the issuer asked for.
    if document.get("issuer") != issuer:
        raise SsoRefused("issuer", 403, "discovery document of another issuer")
    try:
        metadata = ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=str(document["authorization_endpoint"]),
            token_endpoint=str(document["token_endpoint"]),
            jwks_uri=str(document["jwks_uri"]),
            userinfo_endpoint=str(document["userinfo_endpoint"])
            if document.get("userinfo_endpoint")
            else None,
        )
    except KeyError as missing:
        raise SsoRefused("unavailable", 400, f"discovery lacks {missing}") from None
    urls = [issuer, metadata.authorization_endpoint, metadata.token_endpoint, metadata.jwks_uri]
    urls += [metadata.userinfo_endpoint] if metadata.userinfo_endpoint else []
    if https_only and not all(url.startswith("https://") for url in urls):
        raise SsoRefused("unavailable", 400, "provider without https in production")
    return metadata


@dataclass
class ProviderDirectory:
    """Each issuer's discovery document and signing keys, kept briefly in this process."""

    KEY = "clb.auth.sso.directory"
    https_only: bool = True
    _metadata: dict[str, tuple[float, ProviderMetadata]] = field(default_factory=dict)
    _keys: dict[str, tuple[float, KeySet]] = field(default_factory=dict)

    @classmethod
    def of(cls, services: Services) -> ProviderDirectory:
        directory = services.local.get(cls.KEY)
        if not isinstance(directory, cls):
            https_only = services.settings.env == "production"
            directory = services.local[cls.KEY] = cls(https_only=https_only)
        return directory

    async def metadata(self, issuer: str) -> ProviderMetadata:
        kept = self._metadata.get(issuer)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        document = await _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
        metadata = _metadata_from(issuer, document, self.https_only)
        self._metadata[issuer] = (time.monotonic() + DISCOVERY_SECONDS, metadata)
        return metadata

    async def keys(self, metadata: ProviderMetadata, *, fresh: bool = False) -> KeySet:
        kept = self._keys.get(metadata.jwks_uri)
        if not fresh and kept is not None and kept[0] > time.monotonic():
            return kept[1]
        document = await _get_json(metadata.jwks_uri)
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise SsoRefused("unavailable", 400, "unusable key set") from None
        self._keys[metadata.jwks_uri] = (time.monotonic() + DISCOVERY_SECONDS, keys)
        return keys


def _flow_key(services: Services, state: str) -> str:
    return services.keys.key("sso-flow", hash_token(state))


async def start_flow(services: Services, centre: Centre, next_url: str, browser: str) -> str:
    """Keep a new flow for ``browser`` and return the provider's authorization URL."""
    _centre, issuer, client_id = _client(centre)
    metadata = await ProviderDirectory.of(services).metadata(issuer)
    state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
    value = {
        "centre": str(centre.id),
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "browser": hash_token(browser),
    }
    await services.redis.set(_flow_key(services, state), orjson.dumps(value), ex=FLOW_SECONDS)
    url: str = prepare_grant_uri(
        metadata.authorization_endpoint,
        client_id,
        "code",
        redirect_uri=redirect_uri(services),
        scope=SCOPE,
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
    )
    return url


async def take_flow(services: Services, state: str, browser: str) -> Flow:
    """The flow of ``state``, removed so that it is used once; only for the browser that
    started it."""
    if not state or len(state) > MAX_PARAMETER_LENGTH:
        raise SsoRefused("expired", 400, "no state")
    raw = await services.redis.getdel(_flow_key(services, state))
    if raw is None:
        raise SsoRefused("expired", 400, "unknown, expired or used state")
    data = orjson.loads(raw)
    if not browser or not hmac.compare_digest(hash_token(browser), data["browser"]):
        raise SsoRefused("expired", 400, "state from another browser")
    return Flow(uuid.UUID(data["centre"]), data["nonce"], data["verifier"], data["next"])


async def flow_centre(session: AsyncSession, flow: Flow) -> Centre:
    return _client(await session.get(Centre, flow.centre_id))[0]


async def _exchange(
    services: Services, centre: Centre, metadata: ProviderMetadata, flow: Flow, code: str
) -> dict[str, Any]:
    """The code for tokens at the provider's token endpoint, with the PKCE verifier."""
    _centre, _issuer, client_id = _client(centre)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(services),
        "code_verifier": flow.code_verifier,
    }
    secret = services.settings.oidc_client_secrets.get(centre.slug)
    auth: httpx.Auth | None = None
    if secret is None:
        form["client_id"] = client_id
    else:
        # RFC 6749, 2.3.1: both are form-encoded before they go into the Basic header.
        auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(secret))
    try:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, auth=auth) as client:
            response = await client.post(metadata.token_endpoint, data=form, headers=ACCEPT_JSON)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise SsoRefused("unavailable", 400, f"token request: {type(error).__name__}") from None
    if response.status_code != 200 or not isinstance(answer, dict):
        error_code = answer.get("error") if isinstance(answer, dict) else None
        detail = f"token endpoint answered {response.status_code} {str(error_code)[:40]}"
        raise SsoRefused("provider_error", 400, detail)
    if not isinstance(answer.get("id_token"), str):
        raise SsoRefused("provider_error", 400, "token answer without an ID token")
    return answer


def _checked_claims(claims: dict[str, Any], issuer: str, client_id: str, nonce: str) -> None:
    """The ID token's claims (OpenID Connect Core 1.0, 3.1.3.7), its signature checked."""
    if claims.get("iss") != issuer:
        raise SsoRefused("issuer", 403, "ID token of another issuer")
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY_SECONDS,
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise SsoRefused("invalid_token", 403, f"ID token claims: {error.error}") from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != client_id:
        raise SsoRefused("invalid_token", 403, "ID token for several audiences, not authorised")
    found = claims.get("nonce")
    if not isinstance(found, str) or not hmac.compare_digest(found.encode(), nonce.encode()):
        raise SsoRefused("nonce", 403, "ID token with another nonce")


async def _id_token_claims(
    services: Services, metadata: ProviderMetadata, id_token: str, client_id: str, nonce: str
) -> dict[str, Any]:
    directory = ProviderDirectory.of(services)
    token, problem = None, ""
    for fresh in (False, True):  # the second time with fresh keys: they may have rotated
        keys = await directory.keys(metadata, fresh=fresh)
        try:
            token = jwt.decode(id_token, keys, algorithms=SIGNING_ALGORITHMS)
            break
        except (JoseError, ValueError, TypeError) as error:
            problem = type(error).__name__
    if token is None:
        raise SsoRefused("invalid_token", 403, f"ID token signature: {problem}")
    claims = dict(token.claims)
    _checked_claims(claims, metadata.issuer, client_id, nonce)
    return claims


async def _email_claims(
    metadata: ProviderMetadata, claims: dict[str, Any], access_token: object
) -> dict[str, Any]:
    """``email`` and ``email_verified``: from the ID token, or else from the UserInfo
    endpoint, where a provider puts them when the ID token is kept small."""
    if "email" in claims or not metadata.userinfo_endpoint or not isinstance(access_token, str):
        return claims
    info = await _get_json(metadata.userinfo_endpoint, token=access_token)
    if info.get("sub") != claims["sub"]:
        raise SsoRefused("invalid_token", 403, "UserInfo of another subject")
    return info


async def identify(
    services: Services, centre: Centre, flow: Flow, code: str, iss: str | None
) -> Identity:
    """Who logged in, from the provider's answer at the callback, every check made."""
    _centre, issuer, client_id = _client(centre)
    # RFC 9207: a provider that names itself in the answer must be the pinned one.
    if iss is not None and iss != issuer:
        raise SsoRefused("issuer", 403, "authorization response of another issuer")
    if not code or len(code) > MAX_PARAMETER_LENGTH:
        raise SsoRefused("provider_error", 400, "callback without a code")
    metadata = await ProviderDirectory.of(services).metadata(issuer)
    tokens = await _exchange(services, centre, metadata, flow, code)
    claims = await _id_token_claims(services, metadata, tokens["id_token"], client_id, flow.nonce)
    email_claims = await _email_claims(metadata, claims, tokens.get("access_token"))
    email = email_claims.get("email")
    verified = email_claims.get("email_verified") in (True, "true")
    subject = f"{issuer} {claims['sub']}"
    if len(subject) > SUBJECT_LENGTH:
        raise SsoRefused("invalid_token", 403, "subject too long")
    return Identity(subject, email.strip().lower() if isinstance(email, str) else "", verified)


async def match_account(session: AsyncSession, centre: Centre, identity: Identity) -> StaffAccount:
    """The centre's active account with the verified address, linked to the subject on its
    first login; no account is ever created here."""
    if not identity.email_verified or "@" not in identity.email:
        raise SsoRefused("unverified", 403, "no verified e-mail address")
    account = await session.scalar(select(StaffAccount).where(StaffAccount.email == identity.email))
    if account is None:
        raise SsoRefused("no_account", 403, "no account with this address")
    if account.centre_id != centre.id:
        raise SsoRefused("no_account", 403, "account of another centre")
    if not account.is_active:
        raise SsoRefused("no_account", 403, "account deactivated")
    if account.sso_subject is None:
        taken = await session.scalar(
            select(StaffAccount.id).where(StaffAccount.sso_subject == identity.subject)
        )
        if taken is not None:
            raise SsoRefused("subject_mismatch", 403, "subject linked to another account")
        account.sso_subject = identity.subject
    elif not hmac.compare_digest(account.sso_subject.encode(), identity.subject.encode()):
        raise SsoRefused("subject_mismatch", 403, "account linked to another subject")
    record_audit(
        session, "login_sso", actor_id=account.id, object_type="centre", object_id=str(centre.id)
    )
    return account

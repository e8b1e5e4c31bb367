"""Passkeys (WebAuthn) as a second factor: registering one on the security page, and
proving it at login. The relying party is the public URL's host; the browser's origin must
be the public URL (or one of the allowed origins). The challenge waits in Redis for five
minutes, once."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from clb.audit import record_audit
from clb.auth.models import Passkey, StaffAccount
from clb.config import Settings
from clb.db import utcnow
from clb.errors import InvalidInput
from clb.redis import Keys, RedisClient

log = logging.getLogger(__name__)

CHALLENGE_SECONDS = 300
RP_NAME = "CLB-platform"
FAILED = "Dat lukte niet met deze passkey. Probeer opnieuw of gebruik je code-app."


def _origins(settings: Settings) -> list[str]:
    return sorted({settings.public_origin, *(o.rstrip("/") for o in settings.allowed_origins)})


def relying_party(settings: Settings) -> str:
    return urlsplit(settings.public_url).hostname or "localhost"


def usable_here(settings: Settings) -> bool:
    """Browsers refuse an IP address as relying party: passkeys need a host name."""
    host = relying_party(settings)
    return not host.replace(".", "").isdigit() and ":" not in host


def _challenge_key(keys: Keys, purpose: str, owner: str) -> str:
    return keys.key("webauthn", purpose, owner)


async def _keep_challenge(redis: RedisClient, key: str, challenge: bytes) -> None:
    await redis.set(key, challenge, ex=CHALLENGE_SECONDS)


async def _take_challenge(redis: RedisClient, key: str) -> bytes:
    challenge = await redis.getdel(key)
    if challenge is None:
        raise InvalidInput("Dat duurde te lang. Probeer opnieuw.")
    return bytes(challenge)


async def passkeys_of(session: AsyncSession, account_id: uuid.UUID) -> list[Passkey]:
    result = await session.scalars(
        select(Passkey).where(Passkey.account_id == account_id).order_by(Passkey.created_at)
    )
    return list(result)


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=key.credential_id,
            transports=[AuthenticatorTransport(t) for t in key.transports],
        )
        for key in passkeys
    ]


async def registration_options(
    session: AsyncSession,
    redis: RedisClient,
    keys: Keys,
    settings: Settings,
    account: StaffAccount,
    owner: str,
) -> str:
    options = webauthn.generate_registration_options(
        rp_id=relying_party(settings),
        rp_name=RP_NAME,
        user_id=account.id.bytes,
        user_name=account.email,
        user_display_name=account.full_name,
        exclude_credentials=_descriptors(await passkeys_of(session, account.id)),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    await _keep_challenge(redis, _challenge_key(keys, "register", owner), options.challenge)
    return webauthn.options_to_json(options)


async def register(
    session: AsyncSession,
    redis: RedisClient,
    keys: Keys,
    settings: Settings,
    account: StaffAccount,
    owner: str,
    credential: dict[str, object],
    name: str,
) -> Passkey:
    challenge = await _take_challenge(redis, _challenge_key(keys, "register", owner))
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=relying_party(settings),
            expected_origin=_origins(settings),
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as exc:
        log.info("passkey registration refused: %s", type(exc).__name__)
        raise InvalidInput(FAILED) from None
    transports = credential.get("response", {})
    listed = transports.get("transports", []) if isinstance(transports, dict) else []
    passkey = Passkey(
        account_id=account.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in listed if t in {x.value for x in AuthenticatorTransport}],
        name=name.strip()[:60] or "Passkey",
    )
    session.add(passkey)
    record_audit(session, "account.second_factor_added", actor_id=account.id, object_type="passkey")
    return passkey


async def login_options(
    session: AsyncSession,
    redis: RedisClient,
    keys: Keys,
    settings: Settings,
    account_id: uuid.UUID,
    owner: str,
) -> str:
    options = webauthn.generate_authentication_options(
        rp_id=relying_party(settings),
        allow_credentials=_descriptors(await passkeys_of(session, account_id)),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    await _keep_challenge(redis, _challenge_key(keys, "login", owner), options.challenge)
    return webauthn.options_to_json(options)


async def verify_login(
    session: AsyncSession,
    redis: RedisClient,
    keys: Keys,
    settings: Settings,
    account_id: uuid.UUID,
    owner: str,
    credential: dict[str, object],
) -> None:
    """Raises InvalidInput unless ``credential`` is a fresh signature by one of the
    account's passkeys. A signature counter that went backwards means a cloned key."""
    challenge = await _take_challenge(redis, _challenge_key(keys, "login", owner))
    raw_id = str(credential.get("rawId") or credential.get("id") or "")
    passkey = next(
        (
            k
            for k in await passkeys_of(session, account_id)
            if bytes_to_base64url(k.credential_id) == raw_id
        ),
        None,
    )
    if passkey is None:
        raise InvalidInput(FAILED)
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=relying_party(settings),
            expected_origin=_origins(settings),
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as exc:
        log.info("passkey login refused: %s", type(exc).__name__)
        raise InvalidInput(FAILED) from None
    await session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id)
        .values(sign_count=verified.new_sign_count, last_used_at=utcnow())
    )


async def remove(session: AsyncSession, account: StaffAccount, passkey_id: uuid.UUID) -> None:
    passkey = await session.get(Passkey, passkey_id)
    if passkey is not None and passkey.account_id == account.id:
        await session.delete(passkey)
        record_audit(
            session, "account.second_factor_removed", actor_id=account.id, object_type="passkey"
        )

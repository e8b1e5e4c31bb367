"""Creating staff accounts (``clb create-user``), with clear errors for bad input."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field, ValidationError
from sqlalchemy import select

from clb.auth import password_policy
from clb.auth.models import Role, StaffAccount
from clb.auth.password_policy import check_password
from clb.auth.passwords import MIN_PASSWORD_LENGTH, hash_password_async
from clb.auth.service import normalise_email
from clb.config import SettingsError
from clb.db import Pooling, create_engine, create_sessionmaker, transaction
from clb.org.models import Centre

WEAK_PASSWORD_REASONS = {
    password_policy.TOO_SHORT: f"use at least {password_policy.MIN_LENGTH} characters",
    password_policy.TOO_LONG: f"use at most {password_policy.MAX_LENGTH} characters",
    password_policy.COMMON: "it is on the list of common passwords",
    password_policy.OWN_NAME: "it contains the person's name or e-mail address",
    password_policy.GUESSABLE: "it is too easy to guess; use four or more unrelated words",
}


class NewStaffAccount(BaseModel):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=200)
    display_name: str = Field(min_length=1, max_length=60)
    centre_slug: str
    roles: list[Role] = Field(min_length=1)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


async def create_staff_account(
    database_url: str, *, pooling: Pooling = "session", **fields: object
) -> None:
    try:
        data = NewStaffAccount.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"Invalid {first['loc'][0]}: {first['msg']}") from None
    verdict = check_password(
        data.password, personal=(data.full_name, data.display_name, data.email)
    )
    if verdict.problem is not None:
        # The same rule as the console's; the command speaks English like its other errors.
        raise SettingsError(f"Invalid password: {WEAK_PASSWORD_REASONS[verdict.problem]}")
    engine = create_engine(database_url, pooling=pooling)
    try:
        async with transaction(create_sessionmaker(engine)) as session:
            centre = await session.scalar(select(Centre).where(Centre.slug == data.centre_slug))
            if centre is None:
                raise SettingsError(f"Unknown centre {data.centre_slug!r}")
            email = normalise_email(str(data.email))
            if await session.scalar(select(StaffAccount.id).where(StaffAccount.email == email)):
                raise SettingsError(f"An account for {email} already exists")
            session.add(
                StaffAccount(
                    email=email,
                    full_name=data.full_name,
                    display_name=data.display_name,
                    centre_id=centre.id,
                    roles=sorted({role.value for role in data.roles}),
                    password_hash=await hash_password_async(data.password),
                )
            )
    finally:
        await engine.dispose()

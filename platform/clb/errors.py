"""Typed errors, shown to people as a clear message and never as a stack trace.

Each error carries a Dutch source message (translated through the i18n layer for pages)
and a stable machine ``code`` for the JSON API.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ClbError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "Er ging iets mis met je vraag."

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail_message = message or self.message
        self.details = details or {}
        self.headers = headers or {}
        super().__init__(self.detail_message)


class NotFound(ClbError):
    status = 404
    code = "not_found"
    message = "Deze pagina bestaat niet (meer)."


class NotAuthenticated(ClbError):
    status = 401
    code = "not_authenticated"
    message = "Meld je eerst aan."


class Forbidden(ClbError):
    status = 403
    code = "forbidden"
    message = "Je hebt geen toegang tot deze pagina."


class SecondFactorSetupNeeded(ClbError):
    """The centre requires a second factor and this login has none yet: the only page open
    is the one that sets it up (pages redirect there)."""

    status = 403
    code = "second_factor_setup_needed"
    message = "Stel eerst een tweede stap in: een code-app of een passkey."


class CsrfFailed(ClbError):
    status = 403
    code = "csrf_failed"
    message = "Dit formulier is verlopen. Laad de pagina opnieuw en probeer nog eens."


class RateLimited(ClbError):
    status = 429
    code = "rate_limited"
    message = "Te veel pogingen na elkaar. Wacht even en probeer dan opnieuw."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = max(1, retry_after)
        super().__init__(
            message,
            details={"retry_after": self.retry_after},
            headers={"Retry-After": str(self.retry_after)},
        )


class InvalidCredentials(ClbError):
    status = 401
    code = "invalid_credentials"
    message = "Dit e-mailadres of wachtwoord klopt niet."


class ServiceUnavailable(ClbError):
    status = 503
    code = "service_unavailable"
    message = "Het platform is even niet bereikbaar. Probeer het binnen enkele minuten opnieuw."


class UnstorableText(ClbError):
    """Text that PostgreSQL cannot store, such as the NUL character (U+0000): refused with a
    clear answer instead of a failed statement (clb.db turns the database's refusal into
    this)."""

    status = 422
    code = "unstorable_text"
    message = (
        "Je tekst bevat een onzichtbaar teken dat we niet kunnen bewaren. "
        "Typ de tekst opnieuw en probeer nog eens."
    )


class TemporarilyUnavailable(ClbError):
    """Redis or PostgreSQL is away, frozen or out of connections (clb.health.outage): an answer
    to try again shortly, never a crash. Nothing already stored is lost."""

    status = 503
    code = "temporarily_unavailable"
    message = "Er is even een storing bij ons. We proberen het zo opnieuw; wacht even."

    def __init__(self, retry_after: int = 5) -> None:
        self.retry_after = retry_after
        super().__init__(
            details={"retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
        )


class InvalidInput(ClbError):
    """Input that is well-formed but not acceptable (a weak password, a role that may not be
    given); the message says what to change."""

    status = 422
    code = "invalid_input"
    message = "Controleer wat je invulde en probeer opnieuw."


class Conflict(ClbError):
    status = 409
    code = "conflict"
    message = "Dit bestaat al of is intussen gewijzigd."

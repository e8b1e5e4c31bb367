"""The cookie a secret link is exchanged for (an appointment's manage link, a meeting
request's status link), so the token leaves the address bar, the history and Referers.

Not ``__Host-``: that prefix requires Path=/, and each of these cookies is for one path only.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from clb.config import Settings

# How long this browser may use the link after opening it (a shared computer at school
# should not keep it for the day).
COOKIE_MINUTES = 60


@dataclass(frozen=True)
class LinkCookie:
    name: str  # without the __Secure- prefix that HTTPS adds
    path: str

    def name_for(self, settings: Settings) -> str:
        return f"__Secure-{self.name}" if settings.secure_cookies else self.name

    def token(self, request: Request) -> str:
        """The token this browser carries ("" without the cookie)."""
        return request.cookies.get(self.name_for(request.app.state.settings), "")

    def set(self, response: Response, settings: Settings, token: str) -> None:
        response.set_cookie(
            self.name_for(settings),
            token,
            max_age=COOKIE_MINUTES * 60,
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )

    def clear(self, response: Response, settings: Settings) -> None:
        response.delete_cookie(
            self.name_for(settings),
            path=self.path,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )

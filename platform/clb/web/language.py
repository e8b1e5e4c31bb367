"""Which language each request is answered in, and the links to the same page in others."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from clb import i18n

# Pages for staff only: their strings exist in Dutch and English alone.
STAFF_PREFIXES = ("/console", "/dev/postvak")


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PREFIXES)


def offered_languages(path: str) -> tuple[str, ...]:
    return i18n.STAFF_LANGUAGES if is_staff_path(path) else tuple(i18n.LANGUAGE_NAMES)


class LanguageMiddleware:
    """Picks the language for each request: ``?lang=`` on the link (what the hreflang
    alternates point to), else the visitor's choice in a cookie, else Accept-Language.
    Dutch readers who asked for Makkelijke taal get the plain-language catalogue."""

    def __init__(self, app: ASGIApp, *, translators: dict[str, i18n.Translator], default: str):
        self.app = app
        self.translators = translators
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            i18n.use_translator(self.translators[self._choose(scope)])
        await self.app(scope, receive, send)

    def _choose(self, scope: Scope) -> str:
        # A function of its own: nothing it reads stays alive for a socket's hours.
        cookies: dict[str, str] = {}
        for name, value in scope["headers"]:
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, cookie = part.strip().partition("=")
                    cookies[key] = cookie
        offered = offered_languages(scope.get("path", ""))
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        chosen = query.get("lang") if query.get("lang") in offered else None
        accept = next((v for k, v in scope["headers"] if k == b"accept-language"), b"")
        language = i18n.negotiate_language(
            chosen or cookies.get(i18n.LANGUAGE_COOKIE),
            accept.decode("latin-1"),
            self.default,
            offered,
        )
        if language == i18n.SOURCE_LANGUAGE and cookies.get(i18n.PLAIN_COOKIE) == "1":
            return i18n.PLAIN_KEY
        return language


def alternate_links(path: str, query: str) -> dict[str, str]:
    """The same page in every offered language (``<link rel="alternate" hreflang>``)."""
    kept = [(k, v) for k, v in parse_qsl(query) if k != "lang"]
    return {
        code: f"{path}?{urlencode([*kept, ('lang', code)])}" for code in offered_languages(path)
    }

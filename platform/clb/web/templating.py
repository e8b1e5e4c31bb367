"""Server-rendered pages: Jinja2 with the translation layer and CSRF tokens built in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from clb import i18n
from clb.web.language import alternate_links, is_staff_path, offered_languages
from clb.web.security import csrf_token, set_csrf_cookie

BRUSSELS = ZoneInfo("Europe/Brussels")
FRONTEND_DIR = Path(__file__).resolve().parents[3] / "frontend"


def create_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(FRONTEND_DIR / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["brussels"] = brussels_time
    return env


def brussels_time(moment: datetime) -> str:
    """A stored (UTC) moment as staff in Flanders read it: 05/12/2026 19:30."""
    return moment.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    settings = request.app.state.settings
    path = request.url.path
    offered = offered_languages(path)
    page = {
        "request": request,
        "lang": i18n.current_language(),
        "dir": i18n.current_direction(),
        "plain": i18n.plain_language(),
        "languages": {code: i18n.LANGUAGE_NAMES[code] for code in offered},
        "alternates": alternate_links(path, request.url.query),
        "csrf_token": csrf_token(request),
        "quick_exit_url": settings.quick_exit_url,
        "current_path": quote(path),
        "request_id": getattr(request.state, "request_id", ""),
        "staff": getattr(request.state, "staff", None),
        # Quick exit protects visitors; in the staff console Escape must not drop a chat.
        "staff_page": is_staff_path(path),
        **(context or {}),
    }
    html = env.get_template(template).render(page)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    # Pages may hold personal data (a console, a form being filled in): never cache them.
    response.headers.setdefault("Cache-Control", "no-store")
    set_csrf_cookie(request, response)
    return response

"""What the pages that schools put on their own website share: the one policy that lets
other sites frame a page, a page without the site's session bits, the snippet to paste and
the QR code for posters."""

from __future__ import annotations

import html
import io
from typing import Any

import segno
from fastapi import Request
from fastapi.responses import HTMLResponse

from clb.web.security import CONTENT_SECURITY_POLICY

QR_ERROR_LEVEL = "m"
QR_CACHE = "public, max-age=86400"

# For the pages other sites may frame (the toolbox widget, the chat button). The security
# middleware keeps a route's own policy and leaves out X-Frame-Options when that policy
# does not forbid framing.
EMBED_CSP = CONTENT_SECURITY_POLICY.replace("frame-ancestors 'none'", "frame-ancestors *")


def qr_svg(url: str) -> bytes:
    """A scalable QR code (viewBox, no fixed size) with a white quiet zone, so it scans off
    coloured paper too. Only presentation attributes: no style attribute for the CSP."""
    out = io.BytesIO()
    segno.make(url, error=QR_ERROR_LEVEL, micro=False).save(
        out, kind="svg", dark="#000", light="#fff", border=4, omitsize=True, title=url
    )
    return out.getvalue()


def embed_snippet(embed_url: str, title: str, height: int, *, borderless: bool = False) -> str:
    """The HTML a school pastes into its website (escaped here: it is shown as text).
    ``borderless``: no frame drawn around it (a button that should look part of the page)."""
    style = ' style="border: 0"' if borderless else ""
    return (
        f'<iframe src="{html.escape(embed_url)}" title="{html.escape(title)}" '
        f'width="100%" height="{height}" loading="lazy"{style}></iframe>'
    )


def plain_page(
    request: Request, template: str, context: dict[str, Any], status: int, headers: dict[str, str]
) -> HTMLResponse:
    """A page without the site's session bits: no CSRF cookie (it lives in other sites'
    pages) and cacheable, unlike ``render``."""
    page = request.app.state.templates.get_template(template).render(context)
    return HTMLResponse(page, status_code=status, headers=headers)

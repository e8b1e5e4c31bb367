"""Toolbox routes: the public catalogue of tools and help sources."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clb.pages import coming_soon

router = APIRouter(include_in_schema=False)


@router.get("/toolbox", response_class=HTMLResponse)
async def toolbox_entry(request: Request) -> HTMLResponse:
    return coming_soon(request, "toolbox")

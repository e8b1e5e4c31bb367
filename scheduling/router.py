"""Scheduling routes: booking an appointment and asking for a face-to-face meeting."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clb.pages import coming_soon

router = APIRouter(include_in_schema=False)


@router.get("/afspraak", response_class=HTMLResponse)
async def booking_entry(request: Request) -> HTMLResponse:
    return coming_soon(request, "afspraak")


@router.get("/liever-iemand-zien", response_class=HTMLResponse)
async def meeting_request_entry(request: Request) -> HTMLResponse:
    return coming_soon(request, "iemand-zien")

"""Chat routes. The visitor's entry page is all there is until the chat itself is built."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clb.pages import coming_soon

router = APIRouter(include_in_schema=False)


@router.get("/chat", response_class=HTMLResponse)
async def chat_entry(request: Request) -> HTMLResponse:
    return coming_soon(request, "chat")

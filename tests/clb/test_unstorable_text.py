"""Text PostgreSQL cannot store (NUL, U+0000) gets a clear, typed answer on every path:
a 422 over HTTP and an error frame on a socket, with nothing stored and no trace in the log."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.chat.support import Visitor


async def test_a_nul_in_a_search_is_a_422_not_a_500_and_leaves_no_trace(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        response = await client.get("/api/schools", params={"q": "sint\x00barbara"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unstorable_text"
    server_side = [record for record in caplog.records if not record.name.startswith("httpx")]
    assert not [record for record in server_side if record.exc_info]
    assert all("barbara" not in record.getMessage() for record in server_side)


async def test_a_nul_in_a_chat_message_is_an_error_frame_and_the_socket_goes_on(
    live_server: str,
) -> None:
    visitor = await Visitor.join(live_server)
    socket = await visitor.connect()
    await socket.say("hallo\x00daar")
    error = await socket.expect("error")
    assert error["code"] == "unstorable_text"
    sent = await socket.say("hallo daar")
    ack = await socket.expect("ack", client_msg_id=sent)
    assert ack["seq"] >= 1
    await socket.close()

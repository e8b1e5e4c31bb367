"""Which typing frames a socket passes on: changes at once, repeats of the same state only
every TYPING_REFRESH_SECONDS, and never more than the TYPING pace."""

from __future__ import annotations

import time
import uuid

import pytest

from chat.realtime import sockets
from chat.realtime.sockets import TypingRelay


def test_changes_pass_and_quick_repeats_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    relay, chat, other = TypingRelay(), uuid.uuid4(), uuid.uuid4()
    assert relay.passes(chat, True)
    assert not relay.passes(chat, True)  # the other page still shows it
    assert relay.passes(other, True)  # another chat of the same console is its own
    now[0] += sockets.TYPING_REFRESH_SECONDS
    assert relay.passes(chat, True)  # refreshed before the other page hides it
    assert relay.passes(chat, False)
    assert not relay.passes(chat, False)  # stopping twice says nothing new
    now[0] += 60
    assert not relay.passes(chat, False)


def test_a_flood_of_changes_is_paced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "monotonic", lambda: 100.0)
    relay, chat = TypingRelay(), uuid.uuid4()
    passed = [relay.passes(chat, n % 2 == 0) for n in range(20)]
    assert sum(passed) == sockets.TYPING.limit

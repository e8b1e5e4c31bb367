"""The conversation room's use cases, in one place for its callers (routers, sockets, jobs,
other rooms): the work itself lives in one module per purpose. ``intake`` starts and claims
conversations, ``messaging`` stores messages, notices and receipts, ``ending`` keeps the
time limit and ends them.

Services never commit (the HTTP request or socket frame boundary does). Every event is
published after commit, so nobody ever sees a message that is not stored.
"""

from __future__ import annotations

from chat.conversations.ending import (
    cancel_time_notices,
    end_conversation,
    end_while_away,
    extend_conversation,
    rate_conversation,
    visitor_exit,
    visitor_leave,
)
from chat.conversations.group_commit import Outgoing
from chat.conversations.intake import (
    NewConversation,
    claim_conversation,
    claim_next_conversation,
    open_assigned_conversation,
    start_conversation,
)
from chat.conversations.messaging import (
    announce_receipt,
    counsellor_send,
    locked_for_counsellor,
    locked_for_visitor,
    post_notice,
    send_from_socket,
    visitor_send,
)

__all__ = [
    "NewConversation",
    "Outgoing",
    "announce_receipt",
    "cancel_time_notices",
    "claim_conversation",
    "claim_next_conversation",
    "counsellor_send",
    "end_conversation",
    "end_while_away",
    "extend_conversation",
    "locked_for_counsellor",
    "locked_for_visitor",
    "open_assigned_conversation",
    "post_notice",
    "rate_conversation",
    "send_from_socket",
    "start_conversation",
    "visitor_exit",
    "visitor_leave",
    "visitor_send",
]

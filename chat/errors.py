"""The chat's typed errors: JSON over HTTP, ``error`` frames on the sockets."""

from __future__ import annotations

from clb.errors import ClbError


class ChatClosed(ClbError):
    status = 409
    code = "chat_closed"
    message = "De chat is nu gesloten."


class QueueFull(ClbError):
    status = 503
    code = "queue_full"
    message = "Het is nu heel druk. Probeer het later opnieuw of kies een andere manier."


class NotAllowed(ClbError):
    status = 403
    code = "not_allowed"
    message = "Dit gesprek is niet van jou."


class AlreadyTaken(ClbError):
    status = 409
    code = "already_taken"
    message = "Een collega heeft dit gesprek al aangenomen."


class OverCapacity(ClbError):
    status = 409
    code = "over_capacity"
    message = "Je hebt al het maximum aantal gesprekken open."


class ConversationClosed(ClbError):
    status = 409
    code = "conversation_closed"
    message = "Dit gesprek is afgelopen."


class InvalidFrame(ClbError):
    status = 400
    code = "invalid_frame"
    message = "Dit bericht kon niet verwerkt worden."


class NotOnDuty(ClbError):
    status = 409
    code = "not_on_duty"
    message = "Zet je status op 'In dienst' om gesprekken aan te nemen."


class QueueEmpty(ClbError):
    status = 409
    code = "queue_empty"
    message = "Er wacht nu niemand."


class ColleagueUnavailable(ClbError):
    status = 409
    code = "colleague_unavailable"
    message = "Deze collega kan het gesprek nu niet overnemen. Kies iemand anders."


class TooManyWindows(ClbError):
    """A visitor token with more chat pages open than a person needs."""

    status = 429
    code = "too_many_windows"
    message = "Je hebt de chat al open in een ander venster. Sluit dat venster eerst."


class BusyNetwork(ClbError):
    """An address (a whole school may share one) with more chats open than a class."""

    status = 429
    code = "busy_network"
    message = (
        "Vanaf dit netwerk zijn nu heel veel chats open. Probeer het over een paar minuten "
        "opnieuw, of bel of mail je CLB."
    )

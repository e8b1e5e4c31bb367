"""The kinds of staff notifications, their defaults and their texts.

Texts are Dutch source strings passed to ``_()`` here, so they are translated in the
reader's console language (Dutch or English) when a page or a mail is written.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from clb import i18n
from clb.i18n import gettext as _

BRUSSELS = ZoneInfo("Europe/Brussels")


class Kind(enum.StrEnum):
    booking_new = "booking_new"
    booking_moved = "booking_moved"
    booking_cancelled = "booking_cancelled"
    request_assigned = "request_assigned"
    question_overdue = "question_overdue"


KINDS_SQL = ", ".join(f"'{kind.value}'" for kind in Kind)


class Choice(NamedTuple):
    in_console: bool
    by_mail: bool


# Everything shows in the console. Mail for what changes a person's own day or starts a
# deadline (a booking, a move, a cancellation, a request given to you); not for a question
# waiting too long, which goes to a whole team and repeats: the console is enough there.
DEFAULTS: dict[Kind, Choice] = {
    Kind.booking_new: Choice(True, True),
    Kind.booking_moved: Choice(True, True),
    Kind.booking_cancelled: Choice(True, True),
    Kind.request_assigned: Choice(True, True),
    Kind.question_overdue: Choice(True, False),
}


def kind_label(kind: Kind) -> str:
    """The kind's name on the settings page and as a mail's subject, translated."""
    match kind:
        case Kind.booking_new:
            return _("Nieuwe afspraak")
        case Kind.booking_moved:
            return _("Afspraak verplaatst")
        case Kind.booking_cancelled:
            return _("Afspraak geannuleerd")
        case Kind.request_assigned:
            return _("Aanvraag aan jou toegewezen")
        case Kind.question_overdue:
            return _("Vraag wacht te lang op antwoord")


def moment(value: str) -> str:
    """A stored ISO moment as staff read it, in Brussels time and the current language."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return ""
    if parsed.tzinfo is None:
        return ""
    return format_datetime(
        parsed.astimezone(BRUSSELS), "EEEE d MMMM, HH:mm", locale=i18n.babel_locale()
    )


def describe(kind: Kind, params: dict[str, str]) -> str:
    """One sentence about the notification, translated."""
    at = moment(params.get("at", ""))
    reference = params.get("reference", "")
    match kind:
        case Kind.booking_new:
            return _("Er is een nieuwe afspraak bij jou op {moment}.").format(moment=at)
        case Kind.booking_moved:
            was = moment(params.get("was", ""))
            return _("Een afspraak van {before} is verplaatst naar {moment}.").format(
                before=was, moment=at
            )
        case Kind.booking_cancelled:
            return _("De afspraak van {moment} is geannuleerd.").format(moment=at)
        case Kind.request_assigned:
            return _("De aanvraag {reference} (liever iemand zien) is aan jou toegewezen.").format(
                reference=reference
            )
        case Kind.question_overdue:
            return _("De vraag {reference} wacht langer dan beloofd op een antwoord.").format(
                reference=reference
            )

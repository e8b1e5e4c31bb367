"""The pick-up code of a question, and its answer target.

The code is 20 characters from Crockford's base32 (no I, L, O or U), 100 bits from
``secrets``, shown in five groups of four ("K7M4-QX9P-…"). Only its SHA-256 is stored
(clb.auth.tokens.hash_token of the canonical form); look-ups forgive case, spaces, dashes
and the look-alikes O/0 and I/L/1, as handover codes do (chat.counsellor_tools.handover).

The target is ``question_answer_working_days`` working days after the person wrote, at the
same Brussels clock time: Saturdays, Sundays and the days the chat's opening-hours
exceptions mark as closed (holidays) do not count.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta

from chat.counsellor_tools.handover import ALPHABET
from chat.opening_hours.schedule import BRUSSELS
from clb.auth.tokens import hash_token

GROUPS, GROUP_SIZE = 5, 4
CODE_LENGTH = GROUPS * GROUP_SIZE  # 20 × 5 bits = 100 bits
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = " -\t\n\u00a0_."
MAX_TYPED = 60  # longer input is no code


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))


def normalise(code: str) -> str | None:
    """The code's canonical form (upper case, no separators), or None if it cannot be one."""
    if len(code) > MAX_TYPED:
        return None
    cleaned = "".join(ch for ch in code.upper() if ch not in _SEPARATORS).translate(_LOOK_ALIKES)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def code_hash(code: str) -> str | None:
    canonical = normalise(code)
    return None if canonical is None else hash_token(canonical)


def is_working_day(day: date, closed_days: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in closed_days


def answer_target(moment: datetime, days: int, closed_days: Collection[date] = ()) -> datetime:
    """``moment`` moved ``days`` working days ahead at the same Brussels clock time."""
    local = moment.astimezone(BRUSSELS)
    day = local.date()
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day, closed_days):
            day += timedelta(days=1)
    clock = local.time().replace(tzinfo=None)
    return datetime.combine(day, clock, tzinfo=BRUSSELS).astimezone(UTC)

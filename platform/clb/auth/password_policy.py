"""Which staff passwords are acceptable: long enough, not a common one, and not easy to guess.

The guessability estimate is zxcvbn's, run offline. zxcvbn knows English words and names
only, so a Dutch word list, the person's own name and e-mail and this platform's own words
are added as a dictionary: "Zomervakantie2026!" is then seen as one word and a year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MAX_LENGTH = 1024
# zxcvbn's 0-4 scale: 4 means at least about 10^10 guesses. These accounts read what minors
# write, and a stolen hash is attacked offline, where rate limits do not help; a phrase of
# four unrelated words reaches 4 easily.
MIN_SCORE = 4
# zxcvbn refuses longer input (its time grows with length); what follows only adds strength.
CHECKED_PREFIX = 72

TOO_SHORT = "Kies een wachtwoord van minstens {count} tekens."
TOO_LONG = "Een wachtwoord mag hoogstens {count} tekens lang zijn."
COMMON = "Dit wachtwoord staat op de lijst van veelgebruikte wachtwoorden. Kies een ander."
OWN_NAME = "Gebruik je naam of e-mailadres niet in je wachtwoord."
GUESSABLE = (
    "Dit wachtwoord is te makkelijk te raden. Tip: maak een zin van vier of meer woorden "
    "die niemand met jou verbindt."
)
PROBLEMS = (TOO_SHORT, TOO_LONG, COMMON, OWN_NAME, GUESSABLE)


@dataclass(frozen=True)
class PasswordVerdict:
    """``problem`` is a Dutch source message (with ``count`` to fill in), None when fine."""

    problem: str | None
    count: int = 0


def _wordlist(name: str) -> tuple[str, ...]:
    text = resources.files("clb.auth").joinpath("wordlists", name).read_text(encoding="utf-8")
    return tuple(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(_wordlist("common_passwords.txt"))


@cache
def dutch_words() -> tuple[str, ...]:
    return _wordlist("dutch_words.txt")


def _core(password: str) -> str:
    """The password without the digits and symbols people add to its ends ("Welkom2026!")."""
    return re.sub(r"^[\W\d_]+|[\W\d_]+$", "", password.lower())


def _personal_words(personal: tuple[str, ...]) -> list[str]:
    words: list[str] = []
    for item in personal:
        words.extend(part for part in re.split(r"[\s@._+-]+", item.lower()) if len(part) >= 3)
    return words


def check_password(password: str, *, personal: tuple[str, ...] = ()) -> PasswordVerdict:
    """``personal``: the person's name, display name and e-mail address."""
    if len(password) < MIN_LENGTH:
        return PasswordVerdict(TOO_SHORT, MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return PasswordVerdict(TOO_LONG, MAX_LENGTH)
    lowered = password.lower()
    if lowered in common_passwords() or _core(password) in common_passwords():
        return PasswordVerdict(COMMON)
    own = _personal_words(personal)
    if any(word in lowered for word in own if len(word) >= 4):
        return PasswordVerdict(OWN_NAME)
    inputs = [*own, *dutch_words(), "clb", "clbchat", "console"]
    result = zxcvbn(password[:CHECKED_PREFIX], user_inputs=inputs)
    if int(result["score"]) < MIN_SCORE:
        return PasswordVerdict(GUESSABLE)
    return PasswordVerdict(None)

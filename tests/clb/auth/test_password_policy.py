"""Staff passwords: long enough, not a common one, not built from one's own name, and not
easy to guess, with Dutch words and names known to the estimate."""

from __future__ import annotations

import pytest

from clb.auth.password_policy import COMMON, GUESSABLE, OWN_NAME, TOO_SHORT, check_password

ME = ("An Peeters", "An", "an.peeters@clb.example")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("kort", TOO_SHORT),
        ("aaaaaaaaaaaa", COMMON),  # twelve a's: long enough, and worthless
        ("Wachtwoord123!", COMMON),
        ("Azerty123456", COMMON),
        ("welkom2026!!", COMMON),
        ("Peeters-2026-clb", OWN_NAME),
        ("WachtwoordVanAn1", GUESSABLE),  # Dutch words zxcvbn alone does not know
        ("Zomervakantie2026", COMMON),
        ("Brussel12345678", COMMON),  # a town and a sequence
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    assert check_password(password, personal=ME).problem == problem


@pytest.mark.parametrize(
    "password",
    [
        "groene-fiets-zingt-vandaag",
        "correct horse battery staple",
        "kq8#Lm2!pZ4w",
        "de kat van de buren " * 5 + "en meer",
    ],
)
def test_strong_passwords_pass(password: str) -> None:
    assert check_password(password, personal=ME).problem is None

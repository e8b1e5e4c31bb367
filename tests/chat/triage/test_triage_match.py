"""Crisis-triage matching: normalisation, word boundaries, misspellings, emoji, and the
default lexicon (no database needed)."""

from __future__ import annotations

import pytest

from chat.triage.lexicon import DEFAULT_TERMS
from chat.triage.match import Matcher, clean_term, normalise, term_key, term_problem
from chat.triage.service import TERM_PROBLEMS

DEFAULT = Matcher(DEFAULT_TERMS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ik wil DOOD!!", "ik wil dod"),
        ("ik wil doooooood", "ik wil dod"),  # repeated letters count once
        ("z3lfm00rd", "zelfmord"),  # leetspeak
        ("n13t m33r l3v3n", "niet mer leven"),
        ("4ll3s 15 5t0m", "ales is stom"),
        ("Suïcide, één keer", "suicide en ker"),  # accents off
        ("zelf-moord  gedachten…", "zelfmord gedachten"),
        ("naaktfoto’s", "naktfotos"),  # typographic apostrophe
        ("  ik\n\twil\u00a0dood ", "ik wil dod"),
        ("ﬁjn", "fijn"),  # compatibility forms
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_a_term_and_its_variants_share_one_key() -> None:
    assert term_key("Zelfmoord") == term_key("zelfmoooord") == term_key("zelfm00rd")
    assert term_key("zelfmoord*") == term_key("zelfmoord") + "*"
    assert term_key("⚰️") == term_key("⚰") == "⚰"
    assert clean_term("  Ik   WIL dood ") == "ik wil dood"
    assert clean_term("zelfmoord *") == "zelfmoord*"


MATCHER = Matcher(["dood", "ik wil dood", "zelfmoord*", "mezelf snijden", "🔪", "⚰️"])


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("ik wil dood", "ik wil dood"),  # the longest entry wins
        ("Ik wil DOOOOD...", "ik wil dood"),
        ("ik w1l d00d", "ik wil dood"),
        ("mijn hamster is dood", "dood"),
        ("dood.", "dood"),
        ("(dood)", "dood"),
        ("ik heb zelfmoordgedachten", "zelfmoord*"),  # trailing * = prefix
        ("ZELFMOORD", "zelfmoord*"),
        ("ik wil mezelf snijjjjden", "mezelf snijden"),
        ("ik wil mezelf,   snijden", "mezelf snijden"),  # punctuation between the words
        ("ik heb een 🔪", "🔪"),
        ("ik🔪", "🔪"),  # emoji match anywhere
        ("⚰", "⚰️"),  # with or without the variation selector
        ("⚰️⚰️", "⚰️"),
    ],
)
def test_matches(text: str, term: str) -> None:
    hit = MATCHER.first(text)
    assert hit is not None and hit.term == term


@pytest.mark.parametrize(
    "text",
    [
        "dat is doodgewoon",  # "dood" only on word boundaries
        "ik ben kapotdood",
        "doodsbang voor de examens",
        "mezelf",
        "snijden",
        "ik snij mezelf een stuk taart",
        "🔫",
        "",
    ],
)
def test_no_match(text: str) -> None:
    assert MATCHER.first(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "Ik ben zo doodmoe na die toets",
        "Dat is doodgewoon, zei ze",
        "Mijn hamster is vorige week gestorven",
        "ik moest zo hard lachen 💀😂",
        "We gingen met de fiets over de brug naar school",
        "Ik neem pillen tegen hooikoorts",
        "Ik moet ophangen, mijn mama roept",
        "Mijn mes is bot, ik kan mijn boterham niet snijden",
        "Ik kan niet meer wachten op de vakantie!",
        "Hij verslaat me altijd met FIFA",
        "Dat slaat nergens op",
        "Ik wil zelfstandig leren werken",
        "Bel ik 1813 of 112 als het dringend is?",
        "Mijn zus studeert misbruik van vertrouwen in het recht",
    ],
)
def test_the_default_lexicon_leaves_harmless_sentences_alone(text: str) -> None:
    assert DEFAULT.first(text) is None, DEFAULT.first(text)


@pytest.mark.parametrize(
    "text",
    [
        "ik wil niet meer leven",
        "Ik wil echt niet meer l3v3n…",
        "ik denk aan zelfmoord",
        "zelfmoordgedachten",
        "ik heb zelfmoooordgedachten",
        "ik wil dooood",
        "niemand zou me missen",
        "ik wil er een einde aan maken",
        "ik sta op de brug",
        "ik heb slaappillen gespaard",
        "ik wil van een brug springen",
        "ik snij mezelf. mezelf snijden helpt",
        "mijn stiefvader slaat me",
        "ik word geslagen thuis",
        "ik ben misbruikt",
        "kms",
        "💊💊💊",
        "⚰️",
        "🔪",
    ],
)
def test_the_default_lexicon_flags_crisis_language(text: str) -> None:
    assert DEFAULT.first(text) is not None


def test_the_default_lexicon_is_well_formed() -> None:
    assert 80 <= len(DEFAULT_TERMS) <= 150
    keys = [term_key(term) for term in DEFAULT_TERMS]
    assert len(set(keys)) == len(keys), "two entries mean the same after normalisation"
    for term in DEFAULT_TERMS:
        assert clean_term(term) == term
        assert term_problem(term) is None, term
        assert term in DEFAULT
    assert DEFAULT.size == len(DEFAULT_TERMS)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("*", "empty"),
        ("ab", "too_short"),
        ("22 + 88", "no_letter"),
        ("ik 🔪", "mixed"),
        ("🔪*", "star_after_emoji"),
        ("zelf*moord", "star_inside"),
        ("x" * 101, "too_long"),
    ],
)
def test_unusable_terms_are_refused_with_a_reason(raw: str, problem: str) -> None:
    assert term_problem(clean_term(raw)) == problem
    assert problem in TERM_PROBLEMS


def test_a_long_message_is_matched_in_one_pass() -> None:
    # The cost is measured in tests/bench/triage_match.py (not a timed test); here: a
    # 4,000-character message is handled, and a term at its very end is found.
    message = ("Het gaat niet zo goed op school en thuis, eerlijk gezegd. " * 80)[:3980]
    assert DEFAULT.first(message) is None
    assert DEFAULT.first(message + " zelfmoord") is not None

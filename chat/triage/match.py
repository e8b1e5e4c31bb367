"""Crisis-triage matching: messages and lexicon terms normalised the same way, one compiled
pattern per lexicon version. Pure functions, no I/O (the per-process cache is in
chat.triage).

Normalisation, the same for a message and for a term:

1. Lowercase (``casefold``) and strip accents (``é`` → ``e``, ``ï`` → ``i``). Words are
   compared in Latin script; other characters (emoji, curly quotes, other scripts) are
   set aside as spaces.
2. Leetspeak: ``0→o 1→i 3→e 4→a 5→s 7→t @→a $→s``, everywhere. A bare number such as
   1813 turns into letters too, which is harmless: no term is a number, and a term a
   coordinator types with digits is mapped the same way.
3. Hyphens, apostrophes and underscores disappear ("zelf-moord" → "zelfmoord",
   "naaktfoto's" → "naaktfotos"); every other punctuation mark becomes a space; runs of
   spaces become one.
4. Repeated letters count once: "zelfmoooord", "zelfmoord" and "zelfmord" meet the same
   entry. Collapsing every run (not only runs of three) is deliberate: "snijjjden" and
   "doooood" should meet the entry spelled right, and since terms are collapsed as well,
   nothing that would match without collapsing stops matching.

Matching rule: a term matches whole words only — "dood" finds "ik wil dood" but not
"doodgewoon" or "kapotdood". A phrase matches the same words in the same order (with any
punctuation or spacing between them). A term ending in ``*`` matches every word that
*starts* with it ("zelfmoord*" finds "zelfmoordgedachten"). An emoji term matches wherever
the emoji appears, with or without skin tone or emoji-style variation selector.

Speed: the message is folded with C-level string operations only (no per-character
Python), and the lexicon is one regular expression shaped like a trie that allows each
letter to repeat, so repeated letters need no extra pass over the message. The engine
only tries word starts. A 4,000-character message costs about 0.1–0.2 ms (see the test).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX_MARK = "*"
MAX_TERM_LENGTH = 100  # triage_terms.term

_TABLE = str.maketrans(
    {
        **{ord(c): " " for c in '!"#%&()*+,./:;<=>?[\\]^{|}~\t\n\r\x0b\x0c'},
        **{ord(d): letter for d, letter in zip("013457@$", "oieastas", strict=True)},
        **{ord(c): None for c in "'-_`"},
    }
)
# Accents and the invisible parts of emoji: variation selectors, joiners, skin tones.
_MARKS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe0e\ufe0f\u200b-\u200d\U0001f3fb-\U0001f3ff]"
)
# Typographic apostrophes and hyphens join words like their ASCII forms do.
_JOINERS = ("’", "‘", "´", "‐", "‑")
_REPEATS = re.compile(r"(.)\1+")
_WORDISH = re.compile(r"[a-z]")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]")


def _fold(text: str) -> str:
    """Steps 1–3: lowercase, accents off, leetspeak, punctuation, spaces (not step 4)."""
    folded = text.casefold()
    if not folded.isascii():
        for joiner in _JOINERS:
            if joiner in folded:  # str.replace: C speed (translate is slow off ASCII)
                folded = folded.replace(joiner, "'")
        folded = unicodedata.normalize("NFKD", folded)
        folded = _MARKS.sub("", folded).encode("ascii", "replace").decode("ascii")
    return " ".join(folded.translate(_TABLE).split())


def normalise(text: str) -> str:
    """The form both messages and terms are compared in (see the module docstring)."""
    return _REPEATS.sub(r"\1", _fold(text))


def _symbols(text: str) -> str:
    """An emoji term's form: the emoji themselves, without selectors, tones or spaces."""
    return "".join(_MARKS.sub("", text).split())


def is_emoji_term(term: str) -> bool:
    """True when a term has no letters or digits at all (emoji and pictographs only)."""
    stripped = term.rstrip(PREFIX_MARK)
    return bool(_EMOJI.search(stripped)) and not any(ch.isalnum() for ch in stripped)


def clean_term(raw: str) -> str:
    """How a lexicon entry is stored and shown: trimmed, lowercased, single spaces; a
    trailing ``*`` (prefix) is kept and glued to the last word."""
    term = " ".join(raw.lower().split())
    prefix = term.endswith(PREFIX_MARK)
    term = term.rstrip(PREFIX_MARK).rstrip()
    return term + PREFIX_MARK if prefix and term else term


def term_key(term: str) -> str:
    """A term's identity, for matching and for spotting duplicates: its normalised form,
    ``*`` kept for prefix terms ("Zelfmoord" and "zelfmoord" are one entry)."""
    if is_emoji_term(term):
        return _symbols(term.rstrip(PREFIX_MARK))
    prefix = term.rstrip().endswith(PREFIX_MARK)
    key = normalise(term.rstrip().rstrip(PREFIX_MARK))
    return key + PREFIX_MARK if prefix and key else key


def term_problem(term: str) -> str | None:
    """Why a (cleaned) term cannot be used, as a code (chat.triage.TERM_PROBLEMS says it
    in Dutch), or None."""
    if not term or term == PREFIX_MARK:
        return "empty"
    if len(term) > MAX_TERM_LENGTH:
        return "too_long"
    if _EMOJI.search(term) and not is_emoji_term(term):
        return "mixed"
    if is_emoji_term(term):
        return "star_after_emoji" if term.endswith(PREFIX_MARK) else None
    if PREFIX_MARK in term.rstrip(PREFIX_MARK):
        return "star_inside"
    key = term_key(term).rstrip(PREFIX_MARK)
    if not _WORDISH.search(key):
        return "no_letter"
    if len(key) < 3:
        return "too_short"
    return None


@dataclass(frozen=True)
class Hit:
    term: str  # the lexicon entry as stored: never any of the message


class Matcher:
    """One compiled pattern for a whole lexicon."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.exact: dict[str, str] = {}
        self.prefixes: dict[str, str] = {}
        self.emoji: dict[str, str] = {}
        for term in terms:
            key = term_key(term)
            if not key or key == PREFIX_MARK:
                continue
            if is_emoji_term(term):
                self.emoji.setdefault(key, term)
            elif key.endswith(PREFIX_MARK):
                self.prefixes.setdefault(key[:-1], term)
            else:
                self.exact.setdefault(key, term)
        self.size = len(self.exact) + len(self.prefixes) + len(self.emoji)
        self._pattern = _compile(self.exact, self.prefixes)

    def first(self, text: str) -> Hit | None:
        """A term found in ``text`` (words before emoji), or None."""
        if not text:
            return None
        if self._pattern is not None:
            padded = f" {_fold(text)} "
            found = self._pattern.search(padded)
            if found is not None:
                key = _REPEATS.sub(r"\1", found.group("t"))
                at_word_end = padded[found.end("t")] == " "
                term = self.exact.get(key) if at_word_end else None
                return Hit(term or self.prefixes.get(key) or key)
        if self.emoji and not text.isascii():
            bare = _MARKS.sub("", text) if _MARKS.search(text) else text
            for key, term in self.emoji.items():
                if key in bare:
                    return Hit(term)
        return None

    def __contains__(self, term: str) -> bool:
        key = term_key(term)
        if is_emoji_term(term):
            return key in self.emoji
        return key[:-1] in self.prefixes if key.endswith(PREFIX_MARK) else key in self.exact


_Trie = dict[str, "_Trie"]
_EXACT_END = "exact"
_PREFIX_END = "prefix"


def _compile(exact: dict[str, str], prefixes: dict[str, str]) -> re.Pattern[str] | None:
    """`` (?P<t>trie)``: the folded message is padded with spaces and has single spaces
    between words, so "a word starts here" is "right after a space" — and a pattern that
    starts with a literal lets the engine skip straight to the next space."""
    trie: _Trie = {}
    for key in exact:
        _insert(trie, key, _EXACT_END)
    for key in prefixes:
        _insert(trie, key, _PREFIX_END)
    if not trie:
        return None
    return re.compile(f" (?P<t>{_trie_regex(trie)})")


def _insert(trie: _Trie, key: str, end: str) -> None:
    node = trie
    for char in key:
        node = node.setdefault(char, {})
    node[end] = {}


def _trie_regex(node: _Trie) -> str:
    # Keys have no doubled letters (collapsed), so ``xx*`` takes every repeat in the
    # message without backtracking (``xx*`` rather than ``x+``: a branch that starts with a
    # literal is skipped at C speed when the letter differs). Depth first: the longest
    # entry wins. An exact entry must end at a word end; a prefix entry may be followed by
    # more letters.
    branches = [
        re.escape(char) + (f"{re.escape(char)}*" if char != " " else "") + _trie_regex(node[char])
        for char in sorted(node)
        if len(char) == 1
    ]
    if _EXACT_END in node:
        branches.append("(?= )")
    if _PREFIX_END in node:
        branches.append("")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"

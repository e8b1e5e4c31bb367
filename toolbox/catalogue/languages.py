"""The toolbox in the visitor's language: a tool's own text where it has been translated,
and themes found by their name or common words in any interface language.

A query such as "bullying" or "harcèlement" matches no Dutch tool text; it does name the
theme "pesten" in English or French. The theme names come from the interface catalogues
(the filter labels), the extra words below from the people who search.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from clb import i18n
from toolbox.catalogue.models import Tool
from toolbox.labels import THEME_LABELS

# Words people use for a theme besides its label, in the languages of the interface.
THEME_WORDS: dict[str, tuple[str, ...]] = {
    "faalangst": (
        "fear of failure",
        "test anxiety",
        "exam anxiety",
        "peur de l'échec",
        "peur d'échouer",
        "başarısızlık korkusu",
        "sınav kaygısı",
        "lęk przed porażką",
        "strach przed porażką",
        "страх невдачі",
        "الخوف من الفشل",
        "قلق الامتحان",
    ),
    "studiekeuze": (
        "study choice",
        "choosing a course",
        "which school",
        "orientation",
        "choix d'études",
        "choix des études",
        "bölüm seçimi",
        "okul seçimi",
        "wybór szkoły",
        "wybór studiów",
        "вибір навчання",
        "вибір школи",
        "اختيار الدراسة",
        "اختيار المدرسة",
    ),
    "pesten": (
        "bullying",
        "bullied",
        "cyberbullying",
        "harassment",
        "harcèlement",
        "harcelement",
        "zorbalık",
        "akran zorbalığı",
        "nękanie",
        "przemoc rówieśnicza",
        "cyberprzemoc",
        "булінг",
        "цькування",
        "التنمر",
        "تنمر",
    ),
    "stress-en-examens": (
        "stress",
        "exams",
        "exam stress",
        "examens",
        "stress des examens",
        "sınav stresi",
        "sınavlar",
        "egzaminy",
        "stres",
        "іспити",
        "стрес",
        "الامتحانات",
        "ضغط الامتحانات",
    ),
    "welbevinden": (
        "wellbeing",
        "well-being",
        "feeling good",
        "bien-être",
        "iyi oluş",
        "dobre samopoczucie",
        "самопочуття",
        "الرفاهية",
    ),
    "mentale-gezondheid": (
        "mental health",
        "depression",
        "anxiety",
        "santé mentale",
        "dépression",
        "ruh sağlığı",
        "depresyon",
        "zdrowie psychiczne",
        "depresja",
        "психічне здоров'я",
        "депресія",
        "الصحة النفسية",
        "اكتئاب",
    ),
    "zelfdoding-preventie": (
        "suicide",
        "suicidal",
        "suicidaire",
        "intihar",
        "samobójstwo",
        "самогубство",
        "суїцид",
        "انتحار",
    ),
    "thuissituatie": (
        "home",
        "family",
        "parents divorce",
        "divorce",
        "famille",
        "aile",
        "boşanma",
        "rodzina",
        "rozwód",
        "сім'я",
        "розлучення",
        "العائلة",
        "الطلاق",
    ),
    "relaties-en-seksualiteit": (
        "relationships",
        "sexuality",
        "love",
        "relations",
        "sexualité",
        "ilişkiler",
        "cinsellik",
        "związki",
        "seksualność",
        "стосунки",
        "сексуальність",
        "العلاقات",
    ),
    "middelengebruik": (
        "drugs",
        "alcohol",
        "gaming",
        "cannabis",
        "alcool",
        "drogues",
        "uyuşturucu",
        "alkol",
        "narkotyki",
        "наркотики",
        "алкоголь",
        "المخدرات",
        "الكحول",
    ),
    "online-veiligheid": (
        "online safety",
        "sexting",
        "sécurité en ligne",
        "internet güvenliği",
        "bezpieczeństwo w sieci",
        "безпека в інтернеті",
        "الأمان على الإنترنت",
    ),
    "rouw": (
        "grief",
        "loss",
        "mourning",
        "deuil",
        "yas",
        "żałoba",
        "горе",
        "втрата",
        "الحزن",
        "فقدان",
    ),
    "leren-leren": (
        "study skills",
        "learning to learn",
        "homework",
        "apprendre à apprendre",
        "devoirs",
        "ders çalışma",
        "ödev",
        "nauka uczenia się",
        "zadanie domowe",
        "навчання",
        "домашнє завдання",
        "الواجبات",
        "طريقة الدراسة",
    ),
    "geld": (
        "money",
        "study grant",
        "argent",
        "bourse",
        "para",
        "burs",
        "pieniądze",
        "гроші",
        "المال",
    ),
    "diversiteit": (
        "racism",
        "discrimination",
        "diversity",
        "racisme",
        "ırkçılık",
        "ayrımcılık",
        "rasizm",
        "dyskryminacja",
        "расизм",
        "дискримінація",
        "العنصرية",
        "التمييز",
    ),
}


def fold(text: str) -> str:
    """Lower case, without accents, one space between words: how both sides are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.findall(r"\w+", plain))


@cache
def _theme_names() -> dict[str, str]:
    """Every name and word of every theme, folded, to its theme."""
    names: dict[str, str] = {}
    for theme, label in THEME_LABELS.items():
        for name in (*i18n.translations_of(label).values(), *THEME_WORDS.get(theme, ())):
            names.setdefault(fold(name), theme)
    return names


def theme_named_in(query: str) -> str | None:
    """The theme a query names in any language, as a whole or as its longest phrase."""
    words = fold(query).split()
    names = _theme_names()
    for size in range(len(words), 0, -1):
        for start in range(len(words) - size + 1):
            theme = names.get(" ".join(words[start : start + size]))
            if theme is not None:
                return theme
    return None


@dataclass(frozen=True)
class Localized:
    text: str
    language: str  # of the text: the reader's, or Dutch when not translated


def localized(tool: Tool, field: str) -> Localized:
    """A tool's summary or description in the current language, when someone wrote it."""
    language = i18n.current_language()
    translated = (tool.translations or {}).get(language, {}).get(field)
    if translated:
        return Localized(translated, language)
    return Localized(str(getattr(tool, field)), i18n.SOURCE_LANGUAGE)


def language_helpers() -> dict[str, object]:
    """What a page that shows tools needs to show them in the reader's language."""
    return {"localized": localized, "language_names": i18n.LANGUAGE_NAMES}

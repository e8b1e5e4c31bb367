"""The default crisis lexicon (Dutch, with Flemish youth language, common misspellings,
some English that Flemish teenagers use, and emoji).

Matching rules are in chat.triage_match: whole words, phrases word for word, a trailing
``*`` matches words starting with it, repeated letters, accents and leetspeak are
forgiven ("zelfmoooord", "z3lfm00rd", "suïcide"), emoji anywhere. So this list only needs
spellings that those rules do not already cover.

Migration 0008 seeds the ``triage_terms`` table from a frozen copy of this list; the
table (edited by coordinators at /console/triage) is what counts at run time. Changing
this list later changes neither that migration nor a running lexicon.

Choices: precision matters less than recall — a false flag costs a counsellor a click
("onterecht signaal"), a missed one can cost far more — but words with a common harmless
meaning on their own ("dood", "mes", "ophangen", "pillen", "snijden") are only listed
inside a phrase that gives them the crisis meaning.
"""

from __future__ import annotations

SUICIDE = (
    "zelfmoord*",
    "zelfmoordgedachten",
    "zelfmoordpoging",
    "zelfmoort",
    "zelmoord",
    "selfmoord",
    "zelfdoding",
    "suïcide",
    "suïcidaal",
    "suicidale gedachten",
    "ik wil dood",
    "ik wil doot",
    "wil dood gaan",
    "ik wil doodgaan",
    "ik wil sterven",
    "ik wil niet meer leven",
    "niet meer leven",
    "wil niet meer leven",
    "ik wil er niet meer zijn",
    "wil er niet meer zijn",
    "ik wil verdwijnen",
    "er een einde aan maken",
    "een einde aan maken",
    "er een eind aan maken",
    "een eind aan maken",
    "een einde aan mijn leven",
    "mijn leven beëindigen",
    "mezelf van kant maken",
    "van kant maken",
    "mezelf ombrengen",
    "mezelf doden",
    "mezelf vermoorden",
    "mezelf iets aandoen",
    "mezelf wat aandoen",
    "me iets aandoen",
    "liever dood",
    "was ik maar dood",
    "ik wou dat ik dood was",
    "beter af zonder mij",
    "beter af zonder me",
    "niemand zou me missen",
    "niemand zal me missen",
    "niemand gaat me missen",
    "niemand zou mij missen",
    "niet meer wakker worden",
    "nooit meer wakker worden",
    "geen zin meer om te leven",
    "het leven heeft geen zin",
    "ik zie het niet meer zitten",
    "zie het niet meer zitten",
    "ik kan niet meer verder",
    "afscheidsbrief",
    "mezelf ophangen",
    "me ophangen",
    "strop",
    "van een brug springen",
    "van de brug springen",
    "van het dak springen",
    "van een flat springen",
    "voor de trein springen",
    "voor een trein springen",
    "onder de trein",
    "voor een auto springen",
    "slaappillen",
    "slaapmiddelen",
    "overdosis",
    "al mijn pillen",
    "alle pillen innemen",
    "pillen slikken",
    "doos paracetamol",
    "kms",
    "kill myself",
    "want to die",
    "wanna die",
    "unalive",
    "sewerslide",
    "sewer slide",
)

SELF_HARM = (
    "zelfverwonding",
    "zelfbeschadiging",
    "automutilatie",
    "mezelf snijden",
    "mezelf gesneden",
    "me snijden",
    "in mijn arm snijden",
    "in mijn armen snijden",
    "mezelf krassen",
    "mezelf pijn doen",
    "mezelf verwonden",
    "mezelf branden",
    "mezelf slaan",
    "scheermesje",
    "snijwonden",
    "cutten",
    "self harm",
    "selfharm",
)

ABUSE = (
    "ik word geslagen",
    "word geslagen",
    "slaat me",
    "slaat mij",
    "ik word geschopt",
    "mishandeld",
    "mishandeling",
    "misbruikt",
    "seksueel misbruik",
    "verkracht",
    "verkrachting",
    "aangerand",
    "aanranding",
    "betast",
    "aan me zitten",
    "aan mij zitten",
    "naaktfoto's",
    "naaktfoto",
    "sextortion",
    "hij chanteert me",
    "ze chanteren me",
    "incest",
    "niet veilig thuis",
    "thuis niet veilig",
    "bang om naar huis",
    "durf niet naar huis",
    "ze sluiten me op",
    "krijg geen eten",
    "uithuwelijken",
    "gedwongen huwelijk",
)

DANGER = (
    "ik heb pillen genomen",
    "pillen ingenomen",
    "te veel pillen",
    "ik sta op het dak",
    "ik sta op de brug",
    "ik sta op een brug",
    "ik ben aan het bloeden",
    "ik bloed",
    "hij heeft een mes",
    "heeft een wapen",
    "wil me vermoorden",
    "ze gaan me vermoorden",
    "ik word bedreigd",
    "doodslaan",
)

EMOJI = ("🔪", "💊", "⚰️", "🪦", "🔫", "🩸", "🪢", "🗡️")

DEFAULT_TERMS: tuple[str, ...] = SUICIDE + SELF_HARM + ABUSE + DANGER + EMOJI

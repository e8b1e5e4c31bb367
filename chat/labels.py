"""Dutch labels the chat shows people (translated through clb.i18n at render time).

System messages are stored as a notice code with parameters, not as text, so each side
reads them in its own language and the transcript can be rendered again later.
"""

from __future__ import annotations

from chat.conversations.models import AgeBand, Topic, Who
from clb.i18n import LANGUAGE_NAMES
from clb.i18n import gettext as _

WHO_LABELS = {
    Who.leerling: "Leerling",
    Who.ouder: "Ouder",
    Who.andere: "Iemand anders",
}

AGE_BAND_LABELS = {
    AgeBand.basis: "Lagere school",
    AgeBand.secundair_1: "Secundair, 1e graad (12–14 jaar)",
    AgeBand.secundair_2: "Secundair, 2e graad (14–16 jaar)",
    AgeBand.secundair_3: "Secundair, 3e graad (16–18 jaar)",
    AgeBand.hoger: "Hoger onderwijs",
    AgeBand.volwassene: "Volwassene",
}

TOPIC_LABELS = {
    Topic.school: "School en leren",
    Topic.studiekeuze: "Studiekeuze",
    Topic.thuis: "Thuis",
    Topic.vrienden: "Vrienden en relaties",
    Topic.gevoelens: "Hoe ik me voel",
    Topic.pesten: "Pesten",
    Topic.gezondheid: "Gezondheid",
    Topic.iets_anders: "Iets anders",
}


def language_labels() -> dict[str, str]:
    """Every chat language by its Dutch name, translated, for staff (the visitor's form shows
    each in its own name, clb.i18n.LANGUAGE_NAMES)."""
    names = {
        "nl": _("Nederlands"),
        "en": _("Engels"),
        "fr": _("Frans"),
        "ar": _("Arabisch"),
        "tr": _("Turks"),
        "pl": _("Pools"),
        "uk": _("Oekraïens"),
    }
    return {code: names.get(code, own) for code, own in LANGUAGE_NAMES.items()}


DUTY_LABELS = {
    "on_duty": "In dienst",
    "pause": "Pauze",
    "off_duty": "Uit dienst",
}

SYSTEM_NOTICES = {
    "joined": "{name} neemt deel aan het gesprek.",
    "ended_by_counsellor": "{name} heeft het gesprek beëindigd.",
    "ended_by_visitor": "Het gesprek is beëindigd door {name}.",
    "time_soon": "Nog {minutes} minuten. Zo krijgen ook andere jongeren een kans.",
    "time_up": "De tijd is om. Jullie ronden het gesprek rustig af.",
    "extended": "Het gesprek is met {minutes} minuten verlengd.",
    "handover_code": (
        "Je code voor je eigen CLB: {code}. "
        "Liever iemand zien: {meeting_url} — Een afspraak maken: {booking_url}"
    ),
    "transferred": "{name} neemt het gesprek over.",
    "visitor_left": "{name} heeft het gesprek verlaten.",
    "ended_away": "{name} is al een tijd weg. Het gesprek is daarom afgesloten.",
    "requeued": (
        "Je gesprek gaat naar een andere begeleider. Je wacht even, op je plaats in de wachtrij."
    ),
}

"""Dutch names for the toolbox's themes, audiences, levels and kinds (translated at render)."""

from __future__ import annotations

THEME_LABELS = {
    "faalangst": "Faalangst",
    "studiekeuze": "Studiekeuze",
    "motivatie": "Motivatie",
    "gezondheidsbevordering": "Gezond leven",
    "welbevinden": "Je goed voelen",
    "pesten": "Pesten",
    "stress-en-examens": "Stress en examens",
    "relaties-en-seksualiteit": "Relaties en seksualiteit",
    "thuissituatie": "Thuis",
    "rouw": "Rouw en verlies",
    "middelengebruik": "Alcohol, drugs en gamen",
    "online-veiligheid": "Veilig online",
    "leren-leren": "Leren leren",
    "mentale-gezondheid": "Mentale gezondheid",
    "zelfdoding-preventie": "Zelfdoding voorkomen",
    "geld": "Geld",
    "diversiteit": "Diversiteit",
}

AUDIENCE_LABELS = {
    "leerling": "Leerlingen",
    "ouder": "Ouders",
    "clb-medewerker": "CLB-medewerkers",
    "school": "Scholen",
    "netwerkpartner": "Netwerkpartners",
}

LEVEL_LABELS = {
    "basis": "Basisonderwijs",
    "secundair-1": "Secundair, 1e graad",
    "secundair-2": "Secundair, 2e graad",
    "secundair-3": "Secundair, 3e graad",
    "hoger": "Hoger onderwijs",
}

KIND_LABELS = {
    "oefening": "Oefening",
    "werkblad": "Werkblad",
    "video": "Video",
    "website": "Website",
    "app": "App",
    "brochure": "Brochure",
    "hulplijn": "Hulplijn",
    "chat": "Chat",
}

SORT_LABELS = {
    "relevantie": "Best passend",
    "titel": "Titel (A–Z)",
    "nieuw": "Laatst bijgewerkt",
}


def label_sets() -> dict[str, dict[str, str]]:
    """The names for a page that shows tools: ``themes``, ``audiences``, ``levels``, ``kinds``."""
    return {
        "themes": THEME_LABELS,
        "audiences": AUDIENCE_LABELS,
        "levels": LEVEL_LABELS,
        "kinds": KIND_LABELS,
    }

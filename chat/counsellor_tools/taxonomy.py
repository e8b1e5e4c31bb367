"""The outcome taxonomy: the four CLB guidance domains, their sub-topics and the places a
counsellor may refer to. Codes are stored (and kept for statistics after the purge);
labels are Dutch source strings translated at render time."""

from __future__ import annotations

DOMAIN_LABELS = {
    "onderwijsloopbaan": "Onderwijsloopbaan",
    "leren_en_studeren": "Leren en studeren",
    "psychisch_sociaal": "Psychisch en sociaal functioneren",
    "preventieve_gezondheid": "Preventieve gezondheidszorg",
}

# sub-topic code -> (domain code, label)
TOPICS = {
    "studiekeuze": ("onderwijsloopbaan", "Studiekeuze"),
    "schoolverandering": ("onderwijsloopbaan", "Van school of richting veranderen"),
    "schoolmoeheid": ("onderwijsloopbaan", "Schoolmoeheid en spijbelen"),
    "faalangst": ("leren_en_studeren", "Faalangst"),
    "studiemethode": ("leren_en_studeren", "Studiemethode en planning"),
    "motivatie": ("leren_en_studeren", "Motivatie"),
    "leerproblemen": ("leren_en_studeren", "Leerproblemen"),
    "pesten": ("psychisch_sociaal", "Pesten"),
    "thuissituatie": ("psychisch_sociaal", "Thuissituatie"),
    "relaties": ("psychisch_sociaal", "Relaties en vriendschap"),
    "gevoelens": ("psychisch_sociaal", "Somberheid, stress of angst"),
    "zelfbeeld": ("psychisch_sociaal", "Zelfbeeld en identiteit"),
    "rouw": ("psychisch_sociaal", "Verlies en rouw"),
    "geweld": ("psychisch_sociaal", "Geweld of misbruik"),
    "zelfverwonding": ("psychisch_sociaal", "Zelfverwonding"),
    "zelfmoordgedachten": ("psychisch_sociaal", "Zelfmoordgedachten"),
    "lichaam": ("preventieve_gezondheid", "Lichaam en puberteit"),
    "seksualiteit": ("preventieve_gezondheid", "Seksualiteit"),
    "middelen": ("preventieve_gezondheid", "Alcohol, drugs en gamen"),
    "slaap_en_eten": ("preventieve_gezondheid", "Slapen en eten"),
    "andere": ("psychisch_sociaal", "Iets anders"),
}

REFERRAL_LABELS = {
    "geen": "Geen doorverwijzing",
    "eigen_clb": "Eigen CLB",
    "awel": "Awel (102)",
    "zelfmoordlijn": "Zelfmoordlijn 1813",
    "huisarts": "Huisarts",
    "tejo": "Tejo",
    "jac": "JAC (CAW)",
    "teleonthaal": "Tele-Onthaal (106)",
    "school": "Leerlingenbegeleiding op school",
    "noodhulp": "Noodhulp (112)",
    "andere": "Andere hulpverlening",
}

TOPIC_LABELS = {code: label for code, (_domain, label) in TOPICS.items()}


def topics_by_domain() -> dict[str, list[str]]:
    """Sub-topic codes grouped under their domain, in the order above (for forms)."""
    grouped: dict[str, list[str]] = {code: [] for code in DOMAIN_LABELS}
    for code, (domain, _label) in TOPICS.items():
        grouped[domain].append(code)
    return grouped

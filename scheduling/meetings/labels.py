"""Dutch words for face-to-face meeting requests and bookings "voor iemand anders".

Values are Dutch source strings, translated where they are shown (``_()`` in templates).
The relation list is shared by the request form and the booking form.
"""

from __future__ import annotations

from scheduling.meetings.models import DayPart, ForWhom, Place, Relation, RequestStatus

FOR_WHOM_LABELS = {
    ForWhom.self_pupil.value: "Voor mezelf, ik ben leerling",
    ForWhom.self_parent.value: "Voor mijn kind, ik ben ouder",
    ForWhom.other.value: "Voor iemand anders",
}

FOR_WHOM_HINTS = {
    ForWhom.self_pupil.value: "Je wil zelf met iemand van het CLB praten.",
    ForWhom.self_parent.value: "Je wil als ouder met iemand van het CLB praten.",
    ForWhom.other.value: "Je bent brugfiguur, leerkracht, zorgcoördinator, "
    "maatschappelijk werker of iemand anders en je helpt een leerling of ouder.",
}

RELATION_LABELS = {
    Relation.brugfiguur.value: "Brugfiguur",
    Relation.leerkracht.value: "Leerkracht",
    Relation.zorgcoordinator.value: "Zorgcoördinator",
    Relation.maatschappelijk_werker.value: "Maatschappelijk werker",
    Relation.andere.value: "Iemand anders",
}

DAY_LABELS = {
    0: "Maandag",
    1: "Dinsdag",
    2: "Woensdag",
    3: "Donderdag",
    4: "Vrijdag",
}

TIME_LABELS = {
    DayPart.morning.value: "Voormiddag",
    DayPart.afternoon.value: "Namiddag",
    DayPart.evening.value: "Na school (avond)",
}

PLACE_LABELS = {
    Place.office.value: "Op het CLB",
    Place.school.value: "Op school",
    Place.other.value: "Ergens anders, dat spreken we samen af",
}

# Where a request stands, as the requester reads it.
STATUS_LABELS = {
    RequestStatus.new.value: "Ontvangen",
    RequestStatus.assigned.value: "Een CLB-medewerker is aangeduid",
    RequestStatus.contacted.value: "Het CLB heeft contact opgenomen",
    RequestStatus.scheduled.value: "Er is een afspraak",
    RequestStatus.closed.value: "Afgesloten",
}

STATUS_EXPLANATIONS = {
    RequestStatus.new.value: "We hebben je aanvraag goed ontvangen. Het CLB kijkt wie je "
    "verder helpt en neemt binnen enkele werkdagen contact op.",
    RequestStatus.assigned.value: "Een CLB-medewerker volgt je aanvraag op en neemt "
    "binnenkort contact op.",
    RequestStatus.contacted.value: "De CLB-medewerker heeft contact opgenomen. Samen "
    "zoeken jullie een moment om af te spreken.",
    RequestStatus.scheduled.value: "Er is een afspraak gemaakt. Je vindt ze hieronder.",
    RequestStatus.closed.value: "Het CLB heeft deze aanvraag afgesloten.",
}

# The console's words for the same statuses (staff read them differently).
CONSOLE_STATUS_LABELS = {
    RequestStatus.new.value: "Nieuw",
    RequestStatus.assigned.value: "Toegewezen",
    RequestStatus.contacted.value: "Contact gehad",
    RequestStatus.scheduled.value: "Ingepland",
    RequestStatus.closed.value: "Afgesloten",
}

CONTACT_WAY_LABELS = {
    "phone": "Telefoon of gsm",
    "email": "E-mail",
    "via_school": "Via de school",
    "via_bridge": "Via de brugfiguur of wie deze aanvraag doet",
}

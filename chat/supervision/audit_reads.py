"""Audit entries for staff who read a chat that is not their own: who, what, when — never
what was written (R17).

Use these instead of calling ``record_audit`` with a hand-typed action, so the audit page
(``/console/audit``) can name every action in Dutch:

* ``record_transcript_read`` — a staff member sees the messages of a conversation they do
  not hold (a colleague receiving a transfer, a coordinator opening a transcript);
* ``record_read_along`` — a coordinator reads along with a running chat;
* ``record_whisper`` — a coordinator whispers to the counsellor of a chat;
* ``record_read_along_refused`` — a coordinator tried to read along (or whisper) where the
  rule forbids it: no read happened, so it is not one of the ``READ_ACTIONS``;
* ``record_export`` — someone downloads an export (statistics CSV …).

A counsellor reading back their own chat is not audited: it is their own conversation.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clb.audit import AuditEvent, record_audit

TRANSCRIPT_READ = "conversation.transcript_read"
READ_ALONG = "conversation.read_along"
WHISPER = "conversation.whisper"
READ_ALONG_REFUSED = "conversation.read_along_refused"
EXPORT = "export"

# Dutch names of audit actions on the audit page; an action missing here is shown by its
# code. Other domains' actions are listed too, so the page reads as one log.
ACTION_LABELS: dict[str, str] = {
    TRANSCRIPT_READ: "Gesprek ingekeken",
    READ_ALONG: "Meegelezen met een gesprek",
    WHISPER: "Gefluisterd aan de hulpverlener",
    READ_ALONG_REFUSED: "Meelezen geweigerd (niet toegelaten)",
    EXPORT: "Gegevens geëxporteerd",
    "statistics.export": "Statistieken geëxporteerd",
    "conversation.notes_read": "Notities bij een gesprek ingekeken",
    "chat.transferred": "Gesprek overgedragen aan een collega",
    "chat.requeued": "Gesprek teruggezet in de wachtrij",
    "chat.languages_set": "Talen van een chatbegeleider gewijzigd",
    "chat.flag_dismissed": "Signaal afgewezen",
    "chat.triage_term_added": "Signaalwoord toegevoegd",
    "chat.triage_term_removed": "Signaalwoord verwijderd",
    "login": "Aangemeld",
    "logout": "Afgemeld",
    "login_sso": "Aangemeld via het account van het CLB",
    "privacy.search": "Gegevens van één persoon gezocht",
    "privacy.export": "Gegevens van één persoon opgevraagd (inzage)",
    "privacy.erase": "Gegevens van één persoon gewist",
    "account.invited": "Uitgenodigd",
    "account.invite_accepted": "Uitnodiging aanvaard",
    "account.roles_set": "Rollen gewijzigd",
    "account.reset_sent": "Link voor een nieuw wachtwoord verstuurd",
    "account.password_reset": "Nieuw wachtwoord gekozen via een link",
    "account.password_changed": "Wachtwoord gewijzigd",
    "account.sessions_ended": "Sessies beëindigd",
    "account.deactivated": "Account uitgeschakeld",
    "account.reactivated": "Account weer ingeschakeld",
    "account.second_factor_added": "Tweede stap ingesteld",
    "account.second_factor_removed": "Tweede stap verwijderd",
    "account.recovery_code_used": "Herstelcode gebruikt",
    "account.recovery_codes_renewed": "Nieuwe herstelcodes gemaakt",
    "centre.second_factor_on": "Tweede stap verplicht gemaakt voor het centrum",
    "centre.second_factor_off": "Tweede stap niet meer verplicht voor het centrum",
    "chat.opening_hours.weekday_set": "Openingsuren van de chat gewijzigd",
    "chat.opening_hours.closed_day_added": "Gesloten dag voor de chat toegevoegd",
    "chat.opening_hours.extra_opening_added": "Extra opening van de chat toegevoegd",
    "chat.opening_hours.exception_deleted": "Uitzondering op de openingsuren verwijderd",
    "scheduling.appointment.contact_read": "Contactgegevens van een afspraak ingekeken",
    "scheduling.appointment.note_saved": "Notitie bij een afspraak bewaard",
    "scheduling.appointment.cancelled": "Afspraak geannuleerd",
    "scheduling.appointment.no_show": "Afspraak: niet gekomen",
    "scheduling.appointment.rescheduled": "Afspraak verplaatst",
    "scheduling.appointment.video_opened": "Videoruimte van een afspraak geopend",
    "scheduling.closed_period.added": "Sluitingsdagen toegevoegd",
    "scheduling.closed_period.removed": "Sluitingsdagen verwijderd",
    "scheduling.feed.renewed": "Agendafeed vernieuwd",
    "toolbox.tool.published": "Tool gepubliceerd",
    "toolbox.tool.archived": "Tool gearchiveerd",
    "toolbox.theme_word.added": "Woord toegevoegd aan een thema",
    "toolbox.theme_word.removed": "Woord verwijderd uit een thema",
    "chat.rota.shift_added": "Chatbeurt ingepland",
    "chat.rota.shift_removed": "Chatbeurt geschrapt",
    "chat.rota.swap_requested": "Ruil van een chatbeurt gevraagd",
    "chat.rota.swap_accepted": "Ruil van een chatbeurt aanvaard",
    "chat.rota.swap_declined": "Ruil van een chatbeurt geweigerd",
    "chat.rota.swap_cancelled": "Vraag om een chatbeurt te ruilen ingetrokken",
    "chat.rota.swap_void": "Ruil van een chatbeurt vervallen",
    "centre.read_along_on": "Meelezen met chats aangezet voor het centrum",
    "centre.read_along_off": "Meelezen met chats uitgezet voor het centrum",
}

# What kind of thing an audit entry is about, in Dutch.
OBJECT_LABELS: dict[str, str] = {
    "conversation": "Gesprek",
    "appointment": "Afspraak",
    "closed_period": "Sluitingsdagen",
    "chat_weekday": "Weekdag",
    "chat_opening_exception": "Uitzondering",
    "toolbox_tool": "Tool",
    "toolbox_theme_word": "Woord van een thema",
    "chat_rota_shift": "Chatbeurt",
    "chat_rota_swap": "Vraag om een chatbeurt te ruilen",
    "staff_account": "Account",
    "export": "Export",
    "statistics": "Statistieken",
    "triage_term": "Signaalwoord",
    "totp": "Code-app",
    "privacy": "Zoekopdracht (aantal gevonden)",
    "meeting_request": "Aanvraag om iemand te zien",
    "passkey": "Passkey",
    "centre": "Centrum",
}

# The actions that are reads of something personal: the audit page can show only these.
READ_ACTIONS = (
    TRANSCRIPT_READ,
    READ_ALONG,
    WHISPER,
    EXPORT,
    "statistics.export",
    "conversation.notes_read",
    "scheduling.appointment.contact_read",
)


def _conversation(
    session: AsyncSession, action: str, actor_id: uuid.UUID, conversation_id: uuid.UUID
) -> AuditEvent:
    return record_audit(
        session,
        action,
        actor_id=actor_id,
        object_type="conversation",
        object_id=str(conversation_id),
    )


def record_transcript_read(
    session: AsyncSession, actor_id: uuid.UUID, conversation_id: uuid.UUID
) -> AuditEvent:
    return _conversation(session, TRANSCRIPT_READ, actor_id, conversation_id)


def record_read_along(
    session: AsyncSession, actor_id: uuid.UUID, conversation_id: uuid.UUID
) -> AuditEvent:
    return _conversation(session, READ_ALONG, actor_id, conversation_id)


def record_whisper(
    session: AsyncSession, actor_id: uuid.UUID, conversation_id: uuid.UUID
) -> AuditEvent:
    return _conversation(session, WHISPER, actor_id, conversation_id)


def record_read_along_refused(
    session: AsyncSession, actor_id: uuid.UUID, conversation_id: uuid.UUID
) -> AuditEvent:
    return _conversation(session, READ_ALONG_REFUSED, actor_id, conversation_id)


def record_export(
    session: AsyncSession, actor_id: uuid.UUID, what: str, action: str = EXPORT
) -> AuditEvent:
    """``what`` names the export (e.g. "chat-statistics-2026-W12"), never its rows."""
    return record_audit(session, action, actor_id=actor_id, object_type="export", object_id=what)

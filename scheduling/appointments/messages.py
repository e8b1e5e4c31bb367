"""The mails and text messages about an appointment, in the person's language.

Every mail carries the manage link (its token is derived again, never stored) and a
calendar file: an invitation (METHOD:REQUEST, SEQUENCE bumped on each reschedule) or, on
cancellation, METHOD:CANCEL with the same UID.
"""

from __future__ import annotations

from clb import i18n
from clb.config import Settings
from clb.db import utcnow
from clb.i18n import gettext as _
from clb.mail import Attachment, OutgoingMail
from clb.sms import OutgoingSms
from scheduling import labels
from scheduling.appointments import ics, video_room
from scheduling.appointments.models import Appointment, Mode, NotificationKind
from scheduling.appointments.repository import Details

HELP_LINES = "Dringend hulp nodig? Bel Awel (102), de Zelfmoordlijn (1813) of 112."


def use_language(language: str) -> None:
    """Write the following messages in ``language`` (Dutch when we have no catalogue)."""
    translators = i18n.translators()
    i18n.use_translator(translators.get(language, translators[i18n.SOURCE_LANGUAGE]))


def place(appointment: Appointment, details: Details, manage_url: str, settings: Settings) -> str:
    mode = Mode(appointment.mode)
    if mode is Mode.office:
        return f"{details.location_name} – {details.location_address}"
    if mode is Mode.school:
        return _("Op school: {school}").format(school=details.school_name)
    if mode is Mode.phone:
        return _("Telefonisch: {name} belt je op het afgesproken uur.").format(
            name=details.counsellor_name
        )
    if mode is Mode.video:
        return video_room.mail_text(settings, appointment, details.counsellor_name, manage_url)
    return _("Chat: open op het afgesproken uur je afsprakenpagina: {url}").format(url=manage_url)


def _calendar_location(
    appointment: Appointment, details: Details, manage_url: str, settings: Settings
) -> str | None:
    """Where the calendar shows the appointment: the address, the school, or the platform's
    page in front of the video room (a link calendar apps open with one tap)."""
    mode = Mode(appointment.mode)
    if mode is Mode.office:
        return details.location_address
    if mode is Mode.school:
        return details.school_name
    if mode is Mode.video and video_room.has_server(settings) and appointment.video_room:
        return f"{manage_url}/video"
    return None


def calendar_event(
    appointment: Appointment, details: Details, manage_url: str, settings: Settings
) -> ics.CalendarEvent:
    summary = _("Afspraak met {centre} ({kind})").format(
        centre=details.centre_name, kind=_(details.type_name)
    )
    description = "\n".join(
        [
            _("Met: {name}").format(name=details.counsellor_name),
            place(appointment, details, manage_url, settings),
            _("Wijzigen of annuleren: {url}").format(url=manage_url),
        ]
    )
    location = _calendar_location(appointment, details, manage_url, settings)
    return ics.CalendarEvent(
        uid=appointment.uid,
        sequence=appointment.sequence,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        summary=summary,
        description=description,
        location=location,
        url=manage_url,
        organizer_name=details.centre_name,
        organizer_email=details.centre_email,
        attendee_email=appointment.email,
        stamp=utcnow(),
        cancelled=not appointment.is_active,
    )


def _subject(kind: NotificationKind, when: str) -> str:
    subjects = {
        NotificationKind.confirmation: _("Je afspraak met het CLB: {when}"),
        NotificationKind.reminder: _("Herinnering: je afspraak met het CLB, {when}"),
        NotificationKind.rescheduled: _("Je afspraak met het CLB is verplaatst: {when}"),
        NotificationKind.cancelled: _("Je afspraak met het CLB is geannuleerd: {when}"),
    }
    return subjects[kind].format(when=when)


def _opening(kind: NotificationKind, appointment: Appointment, details: Details) -> list[str]:
    if kind is NotificationKind.confirmation:
        return [_("Je afspraak met {centre} staat vast.").format(centre=details.centre_name)]
    if kind is NotificationKind.reminder:
        return [
            _("We herinneren je graag aan je afspraak met {centre}.").format(
                centre=details.centre_name
            )
        ]
    if kind is NotificationKind.rescheduled:
        lines = [_("Je afspraak met {centre} is verplaatst.").format(centre=details.centre_name)]
        if appointment.cancel_reason:
            lines.append(_("Reden: {reason}").format(reason=appointment.cancel_reason))
        return lines
    lines = [_("Je afspraak met {centre} gaat niet door.").format(centre=details.centre_name)]
    if appointment.cancel_reason and appointment.cancelled_by == "staff":
        lines.append(_("Reden: {reason}").format(reason=appointment.cancel_reason))
    return lines


def mail(
    kind: NotificationKind,
    appointment: Appointment,
    details: Details,
    *,
    manage_url: str,
    settings: Settings,
) -> OutgoingMail:
    """The mail about ``appointment`` (the caller has chosen the language)."""
    if appointment.email is None:
        raise ValueError("appointment has no e-mail address")
    when = labels.when(appointment.starts_at, appointment.ends_at)
    book_url, cutoff_hours = f"{settings.public_url}/afspraak", settings.booking_change_cutoff_hours
    lines = [_("Dag {name},").format(name=appointment.first_name), ""]
    lines += _opening(kind, appointment, details)
    lines += [
        "",
        _("Wanneer: {when}").format(when=when),
        _("Hoe: {mode}").format(mode=labels.mode_label(appointment.mode)),
        _("Waar: {place}").format(place=place(appointment, details, manage_url, settings)),
        _("Met: {name}").format(name=details.counsellor_name),
        _("Waarover: {kind}").format(kind=_(details.type_name)),
        "",
    ]
    if kind is NotificationKind.cancelled:
        lines.append(_("Een nieuwe afspraak maken kan hier: {url}").format(url=book_url))
    else:
        lines.append(
            _("Wijzigen of annuleren kan tot {hours} uur vooraf via deze link:").format(
                hours=cutoff_hours
            )
        )
        lines.append(manage_url)
        lines.append(_("Het agendabestand in de bijlage zet de afspraak in je agenda."))
    if details.centre_phone:
        lines.append(
            _("Vragen? Bel {centre}: {phone}.").format(
                centre=details.centre_name, phone=details.centre_phone
            )
        )
    lines += ["", _(HELP_LINES)]
    event = calendar_event(appointment, details, manage_url, settings)
    if kind is NotificationKind.cancelled:
        attachment = Attachment(
            "afspraak.ics", "text/calendar; method=CANCEL; charset=utf-8", ics.cancellation(event)
        )
    else:
        attachment = Attachment(
            "afspraak.ics", "text/calendar; method=REQUEST; charset=utf-8", ics.invitation(event)
        )
    return OutgoingMail(
        to=appointment.email,
        subject=_subject(kind, when),
        text="\n".join(lines) + "\n",
        attachments=(attachment,),
    )


def sms(
    kind: NotificationKind, appointment: Appointment, details: Details, *, manage_url: str
) -> OutgoingSms:
    if appointment.phone is None:
        raise ValueError("appointment has no phone number")
    when = f"{labels.long_date(appointment.starts_at)} {labels.clock(appointment.starts_at)}"
    texts = {
        NotificationKind.confirmation: _("CLB: je afspraak staat vast op {when}. {url}"),
        NotificationKind.reminder: _("CLB: herinnering aan je afspraak op {when}. {url}"),
        NotificationKind.rescheduled: _("CLB: je afspraak is verplaatst naar {when}. {url}"),
        NotificationKind.cancelled: _("CLB: je afspraak op {when} is geannuleerd."),
    }
    return OutgoingSms(to=appointment.phone, text=texts[kind].format(when=when, url=manage_url))

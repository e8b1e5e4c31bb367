"""Notifications for staff: what happened that concerns you, in the console and by mail.

A domain calls :func:`clb.notifications.service.notify` with the accounts to tell, the kind
and the console link; each person's settings decide whether it shows in the console, is
mailed, or both. Nothing of a pupil's message and no contact details are stored: only the
few parameters a line needs (a time, a reference).
"""

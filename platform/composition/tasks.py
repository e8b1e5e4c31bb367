"""Every domain's deferred work: importing a task module registers its outbox job handlers
(``@clb.jobs.job_handler``); the periodic jobs are handed to the worker."""

from __future__ import annotations

from chat.conversations import tasks as chat_tasks
from chat.counsellor_tools.tasks import HANDOVER_CODE_EXPIRY
from clb.staff import tasks as staff_tasks
from clb.worker import PeriodicJob
from development.mailbox import DEV_MAILBOX_RETENTION
from scheduling.appointments import tasks as appointment_tasks
from scheduling.meetings import tasks as meeting_tasks
from toolbox.tasks import NIGHTLY_LINK_CHECK

TASK_MODULES = (chat_tasks, appointment_tasks, meeting_tasks, staff_tasks)
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    chat_tasks.AWAY_SWEEP,
    NIGHTLY_LINK_CHECK,
    # Retention (docs/privacy.md); the audit log's is the kernel's (clb.worker).
    HANDOVER_CODE_EXPIRY,
    appointment_tasks.APPOINTMENT_RETENTION,
    meeting_tasks.REQUEST_RETENTION,
    DEV_MAILBOX_RETENTION,
)

"""Every domain's deferred work: importing a task module registers its outbox job handlers
(``@clb.jobs.job_handler``); the periodic jobs are handed to the worker."""

from __future__ import annotations

from chat.conversations import tasks as chat_tasks
from chat.counsellor_tools.tasks import HANDOVER_CODE_EXPIRY
from chat.questions import tasks as question_tasks
from clb.notifications import tasks as notification_tasks
from clb.staff import tasks as staff_tasks
from clb.worker import PeriodicJob
from composition.question_notices import QUESTIONS_PAST_TARGET
from development.mailbox import DEV_MAILBOX_RETENTION
from scheduling.appointments import tasks as appointment_tasks
from scheduling.meetings import tasks as meeting_tasks
from toolbox.search_insights import tasks as search_log_tasks
from toolbox.tasks import NIGHTLY_LINK_CHECK

TASK_MODULES = (
    chat_tasks,
    question_tasks,
    appointment_tasks,
    meeting_tasks,
    staff_tasks,
    notification_tasks,
)
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    chat_tasks.AWAY_SWEEP,
    NIGHTLY_LINK_CHECK,
    search_log_tasks.SEARCH_COUNT_FLUSH,
    QUESTIONS_PAST_TARGET,
    # Retention (docs/privacy.md); the audit log's is the kernel's (clb.worker).
    HANDOVER_CODE_EXPIRY,
    question_tasks.QUESTION_RETENTION,
    appointment_tasks.APPOINTMENT_RETENTION,
    meeting_tasks.REQUEST_RETENTION,
    notification_tasks.NOTIFICATION_RETENTION,
    search_log_tasks.SEARCH_LOG_RETENTION,
    DEV_MAILBOX_RETENTION,
)

"""Imports every model module so ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from chat.console import models as chat_console_models
from chat.conversations import models as chat_models
from chat.counsellor_tools import models as chat_tools_models
from chat.opening_hours import models as opening_hours
from chat.questions import models as chat_question_models
from chat.rota import models as chat_rota_models
from chat.triage import models as chat_triage_models
from clb import audit, jobs
from clb.auth import models as auth_models
from clb.db import Base
from clb.notifications import models as notification_models
from clb.org import models as org_models
from scheduling.appointments import models as appointment_models
from scheduling.availability import models as availability_models
from scheduling.meetings import models as meeting_models
from toolbox.catalogue import models as toolbox_models
from toolbox.search import models as toolbox_search_models
from toolbox.search_insights import models as toolbox_search_log_models

__all__ = [
    "Base",
    "appointment_models",
    "audit",
    "auth_models",
    "availability_models",
    "chat_console_models",
    "chat_models",
    "chat_question_models",
    "chat_rota_models",
    "chat_tools_models",
    "chat_triage_models",
    "jobs",
    "meeting_models",
    "notification_models",
    "opening_hours",
    "org_models",
    "toolbox_models",
    "toolbox_search_log_models",
    "toolbox_search_models",
]

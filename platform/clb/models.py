"""Imports every model module so ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from chat import console_models as chat_console_models
from chat import models as chat_models
from chat import opening_hours
from clb import audit, jobs
from clb.auth import models as auth_models
from clb.db import Base
from clb.org import models as org_models
from scheduling import meeting_models
from scheduling import models as scheduling_models
from toolbox import models as toolbox_models

__all__ = [
    "Base",
    "audit",
    "auth_models",
    "chat_console_models",
    "chat_models",
    "jobs",
    "meeting_models",
    "opening_hours",
    "org_models",
    "scheduling_models",
    "toolbox_models",
]

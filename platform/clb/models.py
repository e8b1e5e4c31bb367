"""Imports every model module so ``Base.metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from clb import audit, jobs
from clb.auth import models as auth_models
from clb.db import Base
from clb.org import models as org_models

__all__ = ["Base", "audit", "auth_models", "jobs", "org_models"]

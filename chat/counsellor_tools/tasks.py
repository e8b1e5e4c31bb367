"""The counsellor's tools' periodic work, run by the worker: handover codes expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chat.counsellor_tools import repository
from clb.db import transaction, utcnow
from clb.services import Services
from clb.worker import PeriodicJob


async def expire_handover_codes(ctx: dict[str, Any]) -> int:
    """Retention: ``retention_handover_days`` after its chat ended, a handover code no
    longer opens the chat's outcome."""
    services: Services = ctx["services"]
    cutoff = utcnow() - timedelta(days=services.settings.retention_handover_days)
    async with transaction(services.sessionmaker) as session:
        return await repository.clear_handover_codes_before(session, cutoff)


HANDOVER_CODE_EXPIRY = PeriodicJob(expire_handover_codes, hour={3}, minute=37, timeout=600)

"""A console form as a page shows it: the errors next to their fields, what was typed, and
the status code (422 or the refusal's own) when a step was refused.

The console pages of the agenda, the availability and the meeting requests take one of these
instead of three loose arguments, so showing a page again after a refusal reads the same
everywhere and the templates always get ``form_errors`` and ``form_values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FormState:
    errors: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    status_code: int = 200

    def context(self) -> dict[str, Any]:
        """The template's ``form_errors`` and ``form_values``."""
        return {"form_errors": dict(self.errors), "form_values": dict(self.values)}


# The page as first opened: nothing typed, nothing refused.
BLANK = FormState()


def refused(
    errors: Mapping[str, str], values: Mapping[str, Any] | None = None, status_code: int = 422
) -> FormState:
    """The form shown again after a refusal, with what was typed."""
    return FormState(errors, values or {}, status_code)

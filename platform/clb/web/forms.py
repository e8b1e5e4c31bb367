"""Reading what people typed into a form: one way for every page.

Pages that declare their fields take them as ``Annotated[str, Form(max_length=…)]``; pages
with a variable set of fields (steps, check boxes, rows) read the submitted form with the
helpers below. A missing field, or a file where text was expected, reads as "" rather than
failing: the page then says which field needs attention.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from clb.i18n import gettext as _


def form_text(form: Mapping[str, object], name: str, limit: int | None = None) -> str:
    """The first value typed for ``name`` ("" when absent or not text), cut to ``limit``."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value if limit is None else value[:limit]


def form_texts(
    form: Mapping[str, object], names: Iterable[str], limit: int | None = None
) -> dict[str, str]:
    return {name: form_text(form, name, limit) for name in names}


# The example a date field shows when what was typed is not a date: a day in the school
# year for a closure or an exception, a Monday for statistics (which count per ISO week).
INVALID_DAY = "Vul een geldige datum in, bijvoorbeeld 2026-12-24."
INVALID_MONDAY = "Vul een geldige datum in, bijvoorbeeld 2026-03-02."


def parse_day(
    value: str, field: str, errors: dict[str, str], *, invalid: str = INVALID_DAY
) -> date | None:
    """A date typed as YYYY-MM-DD; None with a Dutch message in ``errors[field]`` otherwise
    (``invalid`` is translated when it is shown)."""
    if not value.strip():
        errors[field] = _("Vul een datum in.")
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = _(invalid)
        return None

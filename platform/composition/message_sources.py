"""Every Dutch string people can see, gathered for the translation catalogues.

Two gettext domains: ``messages`` for what pupils, parents, bridge figures and schools see
(translated into every interface language) and ``console`` for staff pages only (Dutch and
English). Strings come from the templates (``_()``/``ngettext``), from ``_()`` calls and
error messages in the code, and from the label constants that are translated when shown.

``python -m composition.message_sources DIR`` writes ``messages.pot`` and ``console.pot``
into DIR; ``make translations`` then runs ``pybabel update`` and ``pybabel compile``.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from chat.conversations.intake import TOO_MANY_STARTS
from chat.counsellor_tools import taxonomy
from chat.counsellor_tools.notes import NOTE_KIND_LABELS
from chat.labels import AGE_BAND_LABELS, DUTY_LABELS, SYSTEM_NOTICES, TOPIC_LABELS, WHO_LABELS
from chat.realtime.sockets import RATE_LIMITED
from chat.statistics import service as chat_statistics
from chat.supervision.audit_reads import ACTION_LABELS, OBJECT_LABELS
from chat.supervision.router import SOURCE_LABELS, STATE_LABELS, STATUS_LABELS
from chat.triage.service import TERM_PROBLEMS
from clb.auth import passkeys, password_policy, second_step_router, security_router
from clb.auth.models import ROLE_LABELS
from clb.auth.service import THROTTLED_LOGIN
from clb.errors import ClbError
from clb.staff import router as staff_router
from clb.web.error_pages import HTTP_MESSAGES
from clb.web.forms import INVALID_DAY, INVALID_MONDAY
from clb.web.pages import ENTRY_POINTS
from clb.web.templating import FRONTEND_DIR
from composition import privacy_requests
from scheduling.appointments.api import BOOKING_LIMITED
from scheduling.appointments.messages import HELP_LINES
from scheduling.labels import (
    MODE_HINTS,
    MODE_LABELS,
    SEEDED_TYPE_TEXTS,
    VIDEO_HINT_WITHOUT_SERVER,
)
from scheduling.meetings import labels as meeting_labels
from toolbox.catalogue.router import AUDIENCE_PAGES, CATALOGUE_LEAD
from toolbox.labels import AUDIENCE_LABELS, KIND_LABELS, LEVEL_LABELS, SORT_LABELS, THEME_LABELS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = FRONTEND_DIR / "templates"
STAFF_TEMPLATES = re.compile(r"^(console_|dev_mailbox|login)")
PROJECT_PACKAGES = ("clb", "chat", "scheduling", "toolbox")
# Modules whose texts only staff see: account management, the login's second step and the
# security page (their strings go to the ``console`` domain).
STAFF_CODE = (
    "platform/clb/staff/",
    "platform/clb/notifications/",
    "platform/clb/auth/security_router.py",
    "platform/clb/auth/second_step_router.py",
    "platform/clb/auth/second_factor.py",
    "platform/clb/auth/passkeys.py",
    "platform/clb/auth/password_policy.py",
    "platform/clb/auth/sso.py",
    "platform/clb/auth/sso_router.py",
    "chat/rota/",
    "toolbox/search_insights/router.py",
    "toolbox/search_insights/service.py",
    "chat/questions/console_router.py",
)
PYTHON_SOURCES = ("platform/clb", "chat", "scheduling", "toolbox")
# Calls whose first argument is a Dutch literal shown to people.
TRANSLATING_CALLS = {"gettext", "_", "raise_if_denied"}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}

PUBLIC_LABELS: tuple[Mapping[Any, str], ...] = (
    WHO_LABELS, AGE_BAND_LABELS, TOPIC_LABELS, SYSTEM_NOTICES, THEME_LABELS, AUDIENCE_LABELS,
    LEVEL_LABELS, KIND_LABELS, SORT_LABELS, MODE_LABELS, MODE_HINTS, VIDEO_HINT_WITHOUT_SERVER,
    meeting_labels.FOR_WHOM_LABELS, meeting_labels.FOR_WHOM_HINTS,
    meeting_labels.RELATION_LABELS, meeting_labels.DAY_LABELS, meeting_labels.TIME_LABELS,
    meeting_labels.PLACE_LABELS, meeting_labels.STATUS_LABELS,
    meeting_labels.STATUS_EXPLANATIONS, meeting_labels.CONTACT_WAY_LABELS, HTTP_MESSAGES,
)  # fmt: skip
STAFF_LABELS: tuple[Mapping[Any, str], ...] = (
    taxonomy.DOMAIN_LABELS, taxonomy.TOPIC_LABELS, taxonomy.REFERRAL_LABELS,
    chat_statistics.LABELS, NOTE_KIND_LABELS, STATE_LABELS, STATUS_LABELS, SOURCE_LABELS,
    ACTION_LABELS, OBJECT_LABELS, DUTY_LABELS, TERM_PROBLEMS, ROLE_LABELS,
    meeting_labels.CONSOLE_STATUS_LABELS,
    privacy_requests.MESSAGES, privacy_requests.KIND_LABELS, privacy_requests.RELATED_LABELS,
)  # fmt: skip


# Staff texts kept in constants and translated where shown.
STAFF_TEXTS = (
    *password_policy.PROBLEMS,
    *staff_router.DONE.values(),
    *security_router.DONE.values(),
    second_step_router.WRONG_CODE,
    passkeys.FAILED,
)

Message = str | tuple[str, str]  # a plural entry: (singular, plural)


@cache
def template_messages(staff: bool) -> frozenset[Message]:
    """The strings of the staff templates, or of all the others."""
    found = extract_from_dir(
        str(TEMPLATES),
        method_map=[("**.html", "jinja2.ext:babel_extract")],
        options_map={"**.html": JINJA_OPTIONS},
    )
    messages: set[Message] = set()
    for filename, _lineno, message, _comments, _context in found:
        if bool(STAFF_TEMPLATES.match(Path(filename).name)) == staff:
            messages.add(message if isinstance(message, str) else (message[0], message[1]))
    return frozenset(messages)


def _error_classes(cls: type[ClbError] = ClbError) -> Iterator[type[ClbError]]:
    """The project's own errors (tests define throw-away subclasses of their own)."""
    if cls.__module__.partition(".")[0] in PROJECT_PACKAGES:
        yield cls
    for subclass in cls.__subclasses__():
        yield from _error_classes(subclass)


def _staff_module(name: str) -> bool:
    """Whether the module ``name`` is one of ``STAFF_CODE`` (its errors only staff see);
    whether it is loaded here or not."""
    file = getattr(sys.modules.get(name), "__file__", None)
    return file is not None and Path(file).resolve().relative_to(ROOT).as_posix().startswith(
        STAFF_CODE
    )


def _python_trees(*, staff: bool = False) -> Iterator[ast.Module]:
    """The project's modules: those only staff see (``STAFF_CODE``), or all the others."""
    for folder in PYTHON_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.relative_to(ROOT).as_posix().startswith(STAFF_CODE) == staff:
                yield ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _literal(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _error_messages(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(class name, message) for each class body that sets ``message = "..."``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                    if isinstance(statement, ast.AnnAssign)
                    else []
                )
                message = _literal(getattr(statement, "value", None))
                if message and any(isinstance(t, ast.Name) and t.id == "message" for t in targets):
                    yield node.name, message


def messages_in_code(*, staff: bool = False) -> Iterator[str]:
    """Dutch literals in the source: a ``message`` on any error class (also in modules not
    imported here) and literals passed to ``_()`` or straight to an error."""
    trees = list(_python_trees(staff=staff))
    error_names = {cls.__name__ for cls in _error_classes()}
    for tree in trees:
        for error_name, error_message in _error_messages(tree):
            error_names.add(error_name)
            yield error_message
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                message = _literal(node.args[0])
                if message is not None and (name in error_names or name in TRANSLATING_CALLS):
                    yield message


def _values(label_sets: Iterable[Mapping[Any, str]]) -> set[str]:
    return {value for labels in label_sets for value in labels.values()}


@cache
def staff_only_messages() -> frozenset[Message]:
    """The ``console`` domain: strings only staff see."""
    staff = set(template_messages(staff=True)) | _values(STAFF_LABELS) | {THROTTLED_LOGIN}
    staff |= set(messages_in_code(staff=True)) | set(STAFF_TEXTS)
    return frozenset(staff - public_messages())


@cache
def public_messages() -> frozenset[Message]:
    """The ``messages`` domain: everything else people can see."""
    messages: set[Message] = set(template_messages(staff=False)) | _values(PUBLIC_LABELS)
    messages.update(SEEDED_TYPE_TEXTS)
    messages.update({BOOKING_LIMITED, HELP_LINES, RATE_LIMITED, TOO_MANY_STARTS})
    messages.update({INVALID_DAY, INVALID_MONDAY, CATALOGUE_LEAD})
    messages.update(lead for _audience, lead in AUDIENCE_PAGES.values())
    for entry in ENTRY_POINTS:
        messages.update({entry.title, entry.lead})
    messages.update(cls.message for cls in _error_classes() if not _staff_module(cls.__module__))
    # A literal in the code may reach anyone, unless it is one of the staff's labels.
    messages.update(set(messages_in_code()) - _values(STAFF_LABELS) - {THROTTLED_LOGIN})
    plural_parts = {part for m in messages if isinstance(m, tuple) for part in m}
    return frozenset(m for m in messages if m not in plural_parts)


def template(messages: Iterable[Message], domain: str) -> Catalog:
    catalog = Catalog(project="clb-platform", version="1", domain=domain, fuzzy=False)
    for message in sorted(messages, key=lambda m: m if isinstance(m, str) else m[0]):
        catalog.add(message)
    return catalog


def write_templates(folder: Path) -> None:
    for domain, messages in (("messages", public_messages()), ("console", staff_only_messages())):
        with (folder / f"{domain}.pot").open("wb") as handle:
            write_po(handle, template(messages, domain), width=100, omit_header=False)


if __name__ == "__main__":
    write_templates(Path(sys.argv[1]) if len(sys.argv) > 1 else FRONTEND_DIR / "locales")

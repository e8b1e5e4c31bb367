"""Console pages for the toolbox's editorial work: editors create, edit, publish, archive,
import and export; counsellors suggest new tools."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from clb.auth.models import Role, StaffAccount
from clb.errors import Forbidden
from clb.web.deps import CurrentEditor, CurrentStaff, SessionDep
from clb.web.forms import form_texts
from clb.web.security import CsrfProtected
from clb.web.templating import render
from toolbox.catalogue.models import Tool, ToolStatus
from toolbox.editorial import import_export as bulk
from toolbox.editorial import service as editorial
from toolbox.editorial.fields import InvalidTool, Problem, parse_fields
from toolbox.editorial.service import ACTION_LABELS, STATUS_LABELS
from toolbox.labels import AUDIENCE_LABELS, KIND_LABELS, LEVEL_LABELS, THEME_LABELS

router = APIRouter(include_in_schema=False)

PAGE = "/console/toolbox"
TEXT_FIELDS = (
    "title",
    "summary",
    "description",
    "kind",
    "languages",
    "url",
    "provider",
    "phone",
    "hours",
    "note",
)
CHOICE_FIELDS = ("themes", "audiences", "levels")
NoteField = Annotated[str, Form(max_length=500)]


async def current_contributor(staff: CurrentStaff) -> StaffAccount:
    """Editors, and counsellors (who may only suggest)."""
    if not (staff.has_role(Role.editor) or staff.has_role(Role.counsellor)):
        raise Forbidden()
    return staff


CurrentContributor = Annotated[StaffAccount, Depends(current_contributor)]


async def _tool(session: SessionDep, tool_id: uuid.UUID) -> Tool:
    return await editorial.get_tool(session, tool_id)


async def _tool_for_update(session: SessionDep, tool_id: uuid.UUID) -> Tool:
    return await editorial.get_tool(session, tool_id, for_update=True)


# The tool in the path; the locked one for a change (its versions are numbered in turn).
PathTool = Annotated[Tool, Depends(_tool)]
LockedTool = Annotated[Tool, Depends(_tool_for_update)]


def _when(moment: datetime | None) -> str:
    return moment.astimezone(editorial.BRUSSELS).strftime("%d-%m-%Y %H:%M") if moment else ""


def _edit_url(tool_id: uuid.UUID, flag: str = "") -> str:
    return f"{PAGE}/{tool_id}/bewerken" + (f"?{flag}=1#main" if flag else "")


def _status_filter(value: str | None) -> str:
    return value if value in STATUS_LABELS else ""


# --- The list ------------------------------------------------------------------------------


@router.get(PAGE, response_class=HTMLResponse)
async def toolbox_console(
    request: Request,
    staff: CurrentContributor,
    session: SessionDep,
    status: str | None = None,
    q: str = "",
) -> HTMLResponse:
    request.state.staff = staff
    chosen = _status_filter(status)
    query = q.strip()[:200]
    tools = await editorial.list_tools(session, status=chosen or None, query=query)
    today = editorial.today_in_brussels()
    due = await editorial.review_due(session, today)
    flags = ("voorgesteld", "nagekeken")
    context = {
        "tools": [_row(tool) for tool in tools],
        "due": [_row(tool) for tool in due],
        "chosen_status": chosen,
        "query": query,
        "status_labels": STATUS_LABELS,
        "is_editor": staff.has_role(Role.editor),
        "review_interval_days": editorial.REVIEW_INTERVAL_DAYS,
        "flash": next((f for f in flags if request.query_params.get(f) == "1"), ""),
    }
    return render(request, "console_toolbox_list.html", context)


def _row(tool: Tool) -> dict[str, Any]:
    return {
        "id": tool.id,
        "title": tool.title,
        "kind": KIND_LABELS.get(tool.kind, tool.kind),
        "status": tool.status,
        "updated": _when(tool.updated_at),
        "reviewed_on": tool.reviewed_on.strftime("%d-%m-%Y") if tool.reviewed_on else "",
    }


# --- Create and edit -----------------------------------------------------------------------


def _values_from_tool(tool: Tool) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(tool, name) or "" for name in TEXT_FIELDS[:-1]}
    values["languages"] = ", ".join(tool.languages or [])
    values.update({name: list(getattr(tool, name) or []) for name in CHOICE_FIELDS})
    return values


def _values_from_form(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = form_texts(form, TEXT_FIELDS)
    for name in CHOICE_FIELDS:
        values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
    return values


def _form_page(
    request: Request,
    staff: StaffAccount,
    values: dict[str, Any],
    *,
    tool: Tool | None = None,
    problems: Sequence[Problem] = (),
    status_code: int = 200,
) -> HTMLResponse:
    request.state.staff = staff
    flags = ("aangemaakt", "bewaard", "status", "nagekeken", "ongewijzigd")
    context = {
        "tool": (
            {
                "id": tool.id,
                "slug": tool.slug,
                "status": tool.status,
                "reviewed_on": tool.reviewed_on.strftime("%d-%m-%Y") if tool.reviewed_on else "",
                "transitions": [t.value for t in editorial.allowed_transitions(tool.status)],
            }
            if tool
            else None
        ),
        "values": values,
        "problems": {p.field: p for p in problems},
        "is_editor": staff.has_role(Role.editor),
        "status_labels": STATUS_LABELS,
        "kinds": KIND_LABELS,
        "choices": {
            "themes": THEME_LABELS,
            "audiences": AUDIENCE_LABELS,
            "levels": LEVEL_LABELS,
        },
        "flash": next((f for f in flags if request.query_params.get(f) == "1"), ""),
    }
    return render(request, "console_toolbox_form.html", context, status_code=status_code)


@router.get(f"{PAGE}/nieuw", response_class=HTMLResponse)
async def new_tool_page(request: Request, staff: CurrentContributor) -> HTMLResponse:
    return _form_page(request, staff, {name: [] for name in CHOICE_FIELDS})


@router.post(f"{PAGE}/nieuw")
async def create_tool(
    request: Request, staff: CurrentContributor, _csrf: CsrfProtected, session: SessionDep
) -> Response:
    values = _values_from_form(await request.form())
    try:
        fields = parse_fields(values)
    except InvalidTool as exc:
        return _form_page(request, staff, values, problems=exc.problems, status_code=422)
    tool = await editorial.create_tool(session, fields, staff, note=values["note"])
    if not staff.has_role(Role.editor):
        return RedirectResponse(f"{PAGE}?voorgesteld=1#main", status_code=303)
    return RedirectResponse(_edit_url(tool.id, "aangemaakt"), status_code=303)


@router.get(f"{PAGE}/{{tool_id}}/bewerken", response_class=HTMLResponse)
async def edit_tool_page(request: Request, staff: CurrentEditor, tool: PathTool) -> HTMLResponse:
    return _form_page(request, staff, _values_from_tool(tool), tool=tool)


@router.post(f"{PAGE}/{{tool_id}}/bewerken")
async def edit_tool(
    request: Request,
    staff: CurrentEditor,
    _csrf: CsrfProtected,
    session: SessionDep,
    tool: LockedTool,
) -> Response:
    values = _values_from_form(await request.form())
    try:
        fields = parse_fields(values)
    except InvalidTool as exc:
        return _form_page(request, staff, values, tool=tool, problems=exc.problems, status_code=422)
    changed = await editorial.update_tool(session, tool, fields, staff, note=values["note"])
    return RedirectResponse(_edit_url(tool.id, "bewaard" if changed else "ongewijzigd"), 303)


@router.post(f"{PAGE}/{{tool_id}}/status")
async def change_status(
    staff: CurrentEditor,
    _csrf: CsrfProtected,
    session: SessionDep,
    tool: LockedTool,
    to: Annotated[ToolStatus, Form()],
    note: NoteField = "",
) -> Response:
    await editorial.change_status(session, tool, to, staff, note=note)
    return RedirectResponse(_edit_url(tool.id, "status"), status_code=303)


@router.post(f"{PAGE}/{{tool_id}}/nagekeken")
async def mark_reviewed(
    staff: CurrentEditor,
    _csrf: CsrfProtected,
    session: SessionDep,
    tool: LockedTool,
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    await editorial.mark_reviewed(session, tool, staff, editorial.today_in_brussels())
    if back == "lijst":
        return RedirectResponse(f"{PAGE}?nagekeken=1#main", status_code=303)
    return RedirectResponse(_edit_url(tool.id, "nagekeken"), status_code=303)


@router.get(f"{PAGE}/{{tool_id}}/versies", response_class=HTMLResponse)
async def tool_versions(
    request: Request, staff: CurrentEditor, session: SessionDep, tool: PathTool
) -> HTMLResponse:
    request.state.staff = staff
    versions = [
        {
            "number": v.number,
            "action": ACTION_LABELS.get(v.action, v.action),
            "when": _when(v.changed_at),
            "who": v.changed_by,
            "note": v.note or "",
        }
        for v in await editorial.list_versions(session, tool.id)
    ]
    context = {"tool": {"id": tool.id, "title": tool.title}, "versions": versions}
    return render(request, "console_toolbox_versions.html", context)


# --- Export and import ---------------------------------------------------------------------


async def _export(session: SessionDep, status: str | None, q: str, extension: str) -> Response:
    tools = await editorial.list_tools(session, status=_status_filter(status) or None, query=q)
    body, media = (
        (bulk.export_csv(tools), "text/csv")
        if extension == "csv"
        else (bulk.export_json(tools), "application/json")
    )
    name = f"toolbox-{editorial.today_in_brussels().isoformat()}.{extension}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(body, media_type=f"{media}; charset=utf-8", headers=headers)


@router.get(f"{PAGE}/export.csv")
async def export_csv(
    _staff: CurrentEditor, session: SessionDep, status: str | None = None, q: str = ""
) -> Response:
    return await _export(session, status, q[:200], "csv")


@router.get(f"{PAGE}/export.json")
async def export_json(
    _staff: CurrentEditor, session: SessionDep, status: str | None = None, q: str = ""
) -> Response:
    return await _export(session, status, q[:200], "json")


@router.get(f"{PAGE}/import", response_class=HTMLResponse)
async def import_page(request: Request, staff: CurrentEditor) -> HTMLResponse:
    request.state.staff = staff
    return render(request, "console_toolbox_import.html", {})


@router.post(f"{PAGE}/import", response_class=HTMLResponse)
async def import_tools(
    request: Request, staff: CurrentEditor, _csrf: CsrfProtected, session: SessionDep
) -> HTMLResponse:
    request.state.staff = staff
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise bulk.InvalidImportFile("Kies een CSV- of JSON-bestand om te importeren.")
        content = await upload.read(bulk.MAX_IMPORT_BYTES + 1)
        report = await bulk.import_file(session, upload.filename, content, staff)
    except bulk.InvalidImportFile as exc:
        context: dict[str, Any] = {"error": exc.detail_message, "error_line": exc.line}
        return render(request, "console_toolbox_import.html", context, status_code=422)
    finally:
        await form.close()
    context = {"report": report, "file_name": upload.filename}
    return render(request, "console_toolbox_import.html", context)

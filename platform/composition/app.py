"""The app with every router, in the order requests are matched against them."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from chat.console.router import router as team_router
from chat.conversations.router import router as chat_router
from chat.counsellor_tools.canned_router import router as canned_admin_router
from chat.counsellor_tools.router import router as chat_tools_router
from chat.opening_hours.router import router as opening_hours_router
from chat.questions.console_router import router as question_console_router
from chat.questions.router import router as question_router
from chat.realtime.queue import refresh_queue_metrics
from chat.rota.my_router import router as my_rota_router
from chat.rota.router import router as rota_router
from chat.statistics.router import router as chat_statistics_router
from chat.supervision.read_along_setting import router as read_along_setting_router
from chat.supervision.router import router as supervision_router
from chat.triage.router import router as triage_router
from clb.auth.router import router as auth_router
from clb.auth.second_step_router import router as second_step_router
from clb.auth.security_router import router as security_router
from clb.auth.sso_router import router as sso_router
from clb.config import Settings
from clb.notifications.router import router as notifications_router
from clb.staff.link_router import router as account_link_router
from clb.staff.router import router as accounts_router
from clb.web import app as kernel_app
from clb.web.api_docs import router as api_docs_router
from clb.web.ops import router as ops_router
from clb.web.pages import router as pages_router
from composition import tasks  # noqa: F401 - registers the job handlers the app schedules
from composition.privacy_router import router as privacy_router
from development.mailbox_pages import router as dev_mailbox_router
from scheduling.agenda.appointment_router import router as appointment_console_router
from scheduling.agenda.router import router as agenda_router
from scheduling.appointments.api import router as scheduling_api_router
from scheduling.availability.closed_periods_router import router as closed_periods_router
from scheduling.availability.router import router as availability_router
from scheduling.booking_pages.manage_router import router as scheduling_manage_router
from scheduling.booking_pages.router import router as scheduling_router
from scheduling.booking_pages.video_pages import router as scheduling_video_router
from scheduling.meetings.console_router import router as meeting_console_router
from scheduling.meetings.router import router as meeting_router
from scheduling.my_centre.router import router as my_centre_router
from toolbox.catalogue.router import router as toolbox_router
from toolbox.editorial.router import router as toolbox_editorial_router
from toolbox.schools.api import api_router as toolbox_api_router
from toolbox.schools.router import router as toolbox_schools_router
from toolbox.search_insights.click_router import router as toolbox_click_router
from toolbox.search_insights.router import router as toolbox_insights_router

ROUTERS: tuple[APIRouter, ...] = (
    ops_router,
    # Early: requests are matched against routes in order, and booking is the hot path.
    scheduling_api_router,
    api_docs_router,
    pages_router,
    auth_router,
    sso_router,
    second_step_router,
    security_router,
    accounts_router,
    notifications_router,
    account_link_router,
    team_router,
    chat_router,
    triage_router,
    question_router,
    question_console_router,
    opening_hours_router,
    # Before rota_router: /console/rooster/mijn is a page of its own.
    my_rota_router,
    rota_router,
    chat_statistics_router,
    supervision_router,
    read_along_setting_router,
    privacy_router,
    chat_tools_router,
    canned_admin_router,
    scheduling_router,
    # Before the manage router, whose /afspraak/beheer/{token} would take "video".
    scheduling_video_router,
    scheduling_manage_router,
    meeting_router,
    meeting_console_router,
    my_centre_router,
    agenda_router,
    appointment_console_router,
    availability_router,
    closed_periods_router,
    # Before toolbox_router, whose /toolbox/{page} would catch /toolbox/embed etc.
    toolbox_schools_router,
    toolbox_api_router,
    toolbox_click_router,
    toolbox_router,
    toolbox_editorial_router,
    toolbox_insights_router,
    dev_mailbox_router,
)


def create_app(settings: Settings) -> FastAPI:
    app = kernel_app.create_app(settings, ROUTERS)
    app.state.metrics.refreshers.append(refresh_queue_metrics)
    return app

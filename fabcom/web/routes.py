"""The staff web UI's routes (named ``web:<name>``) and its static files."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from fabcom.module_system.views import org_modules
from fabcom.web import (
    admin,
    auth_views,
    community,
    dashboard,
    imports,
    inventory,
    invitations,
    job_views,
    notification_views,
    webhook_views,
)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def web_routes() -> list[BaseRoute]:
    get_post = ["GET", "POST"]
    return [
        Route("/", auth_views.home, name="web:home"),
        Route("/login", auth_views.login, methods=get_post, name="web:login"),
        Route("/logout", auth_views.logout, methods=["POST"], name="web:logout"),
        Route("/language", auth_views.language, methods=["POST"], name="web:language"),
        Route("/go", auth_views.go, name="web:go"),
        Route("/password/forgot", auth_views.password_forgot, methods=get_post, name="web:password_forgot"),
        Route("/password/reset/{token}", auth_views.password_reset, methods=get_post, name="web:password_reset"),
        Route("/account", auth_views.account, methods=get_post, name="web:account"),
        Route(
            "/notifications/preferences",
            notification_views.preferences,
            methods=get_post,
            name="web:notification_preferences",
        ),
        Route("/photos/{attachment_id:int}", inventory.photo, name="web:photo"),
        Route("/o/{slug}/", dashboard.dashboard, name="web:dashboard"),
        Route(
            "/o/{slug}/notifications/{notification_id:int}/read",
            notification_views.read_one,
            methods=["POST"],
            name="web:notification_read",
        ),
        Route(
            "/o/{slug}/notifications/read",
            notification_views.read_all,
            methods=["POST"],
            name="web:notification_read_all",
        ),
        Route("/o/{slug}/items", inventory.item_list, name="web:item_list"),
        Route("/o/{slug}/items/new", inventory.item_create, methods=get_post, name="web:item_create"),
        Route("/o/{slug}/items/import", imports.item_import, methods=get_post, name="web:item_import"),
        Route("/o/{slug}/items/labels", inventory.item_labels, name="web:item_labels"),
        Route("/o/{slug}/items/export.{fmt}", inventory.item_export, name="web:item_export"),
        Route("/o/{slug}/items/{item_id:int}", inventory.item_detail, name="web:item_detail"),
        Route("/o/{slug}/items/{item_id:int}/edit", inventory.item_edit, methods=get_post, name="web:item_edit"),
        Route(
            "/o/{slug}/items/{item_id:int}/movements",
            inventory.item_movement,
            methods=["POST"],
            name="web:item_movement",
        ),
        Route("/admin", admin.admin, methods=get_post, name="web:admin"),
        Route("/o/{slug}/settings", admin.org_settings, methods=get_post, name="web:org_settings"),
        Route("/o/{slug}/settings/modules", org_modules, methods=get_post, name="web:org_modules"),
        Route("/account/tokens", community.tokens, methods=get_post, name="web:tokens"),
        Route("/o/{slug}/projects", community.project_list, name="web:project_list"),
        Route("/o/{slug}/projects/{project_id:int}", community.project_detail, name="web:project_detail"),
        Route("/o/{slug}/tasks/{task_id:int}/status", community.task_status, methods=["POST"], name="web:task_status"),
        Route("/o/{slug}/members", community.member_list, methods=get_post, name="web:member_list"),
        Route(
            "/o/{slug}/members/{membership_id:int}/role",
            community.member_role,
            methods=["POST"],
            name="web:member_role",
        ),
        Route(
            "/o/{slug}/items/{item_id:int}/archive", inventory.item_archive, methods=["POST"], name="web:item_archive"
        ),
        Route("/o/{slug}/members/export.csv", community.member_export, name="web:member_export"),
        Route("/o/{slug}/partners", community.partners, name="web:partners"),
        Route("/o/{slug}/partnerships/new", community.partnership_new, methods=["POST"], name="web:partnership_new"),
        Route(
            "/o/{slug}/partnerships/{partnership_id:int}/{action}",
            community.partnership_action,
            methods=["POST"],
            name="web:partnership_action",
        ),
        Route("/o/{slug}/exchanges/new", community.exchange_new, methods=["POST"], name="web:exchange_new"),
        Route(
            "/o/{slug}/exchanges/{exchange_id:int}/{action}",
            community.exchange_action,
            methods=["POST"],
            name="web:exchange_action",
        ),
        Route("/invitations/{token}", invitations.invitation_accept, methods=get_post, name="web:invitation_accept"),
        Route(
            "/o/{slug}/invitations/{invitation_id:int}/{action}",
            invitations.invitation_action,
            methods=["POST"],
            name="web:invitation_action",
        ),
        Route("/o/{slug}/settings/webhooks", webhook_views.webhooks, methods=get_post, name="web:webhooks"),
        Route(
            "/o/{slug}/settings/webhooks/{endpoint_id:int}/{action}",
            webhook_views.webhook_action,
            methods=["POST"],
            name="web:webhook_action",
        ),
        Route("/admin/jobs", job_views.job_list, name="web:job_list"),
        Route("/admin/jobs/{job_id:int}", job_views.job_detail, name="web:job_detail"),
        Route("/admin/jobs/{job_id:int}/retry", job_views.job_retry, methods=["POST"], name="web:job_retry"),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]

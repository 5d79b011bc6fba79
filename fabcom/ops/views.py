"""The organization's archive, downloaded by its owner from the settings page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fabcom import clock
from fabcom.ops.orgarchive import export_organization
from fabcom.web.pages import current_org, page


@page()
async def org_export(request: Request) -> Response:
    """Everything of the organization in one zip (JSON-LD and attachments); owners only."""
    org = await current_org(request)
    data = await export_organization(request.state.principal, org.slug, request.app.state.settings.uploads_dir)
    filename = f"{org.slug}-{clock.today().isoformat()}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def ops_routes() -> list[BaseRoute]:
    return [Route("/o/{slug}/export.zip", org_export, name="web:org_export")]

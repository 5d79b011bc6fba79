"""The ressourcerie's periodic job: its figures go to partner sites when they change."""

from __future__ import annotations

import logging

from tortoise.expressions import Q

from fabcom.api import JobContext, cron, in_transaction, job
from modules.ressourcerie.figures import publish_figures
from modules.ressourcerie.models import SiteSettings

log = logging.getLogger("modules.ressourcerie.jobs")


@job()
async def publish_ressourcerie_figures(ctx: JobContext) -> None:
    """Publish to partners the figures of every site that shares them and whose figures
    changed since the last run; withdraw those of sites that stopped sharing."""
    sites = await SiteSettings.filter(Q(share_figures=True) | ~Q(figures_digest="")).values_list(
        "organization_id", flat=True
    )
    for organization_id in sites:
        async with in_transaction():
            kind = await publish_figures(organization_id)
        if kind:
            log.info("published %s of the figures of organization %s", kind, organization_id)


cron("publish_ressourcerie_figures", hour=3, minute=30)

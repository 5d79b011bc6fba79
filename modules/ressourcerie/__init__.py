"""Ressourcerie: weighed flows in and out, the shop till, and the reports funders and
eco-organismes ask for. Glossary in README.md (collecte → intake, sortie → outflow)."""

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings

from fabcom.module_system.manifest import N_, Module  # light: discovery loads no ORM


class RessourcerieSettings(BaseSettings):
    """``FABCOM_RESSOURCERIE_*`` variables."""

    # A line heavier than this is almost surely a typing mistake (a missing decimal point).
    max_line_kg: Decimal = Field(default=Decimal(2000), gt=0)
    # How long the person who weighed a line may still take it back.
    undo_seconds: int = Field(default=60, ge=0, le=3600)


module = Module(
    slug="ressourcerie",
    name="Ressourcerie",
    version="0.3.0",
    description=N_("Weigh intakes and outflows, run the shop till, report re-use and recovery rates."),
    requires=">=0.1.0.dev0,<0.2",
    permissions=("ressourcerie.weigh", "ressourcerie.sell", "ressourcerie.report"),
    settings=RessourcerieSettings,
    per_organization=True,
)

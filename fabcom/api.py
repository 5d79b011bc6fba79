"""The one import surface for module authors. Everything else in fabcom is internal and
may change between versions; what is here follows semantic versioning.

    from fabcom.api import Module, Principal, Action, ValidationFailed, N_, parse, Input

See docs/modules.md for the guide and the reference of every hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import User
from fabcom.db import TimestampedModel
from fabcom.errors import ErrorCode, FieldError, NotFound, PermissionDenied, ServiceError, ValidationFailed
from fabcom.federation.handlers import Activity, Sender, handles, handles_batch
from fabcom.federation.members import LocalMember, accepted_partners, local_members, recognised_members
from fabcom.federation.mirror_models import MirrorMember, SharedProfile
from fabcom.federation.models import Audience
from fabcom.federation.publish import publish
from fabcom.gql.search import item_number, matching_items, rank_by_title
from fabcom.i18n import N_, fold, gettext
from fabcom.inventory.models import Category, Item, ItemStatus
from fabcom.inventory.services import archived_refusal, create_item, get_item_for, record_movement
from fabcom.jobs.execution import JobContext
from fabcom.jobs.registry import cron, job
from fabcom.members.models import Role
from fabcom.module_system.contributions import static_url
from fabcom.module_system.hooks import call_async, hookimpl, hookspec, plugin_manager
from fabcom.module_system.manifest import Module, Permission
from fabcom.module_system.registry import active_registry, build_registry
from fabcom.module_system.services import (
    call_for_organization,
    disabled_organizations,
    module_enabled,
    set_module_enabled,
)
from fabcom.notifications.messages import KINDS, Kind
from fabcom.notifications.services import notify
from fabcom.orgs.models import Organization
from fabcom.orgs.services import find_organization
from fabcom.permissions import ANONYMOUS, Action, Principal, Scope, system_principal
from fabcom.validation import YEARS, Input, InputError, parse, plain_number

if TYPE_CHECKING:
    from fabcom.gql.context import PublicError
    from fabcom.gql.ids import global_id
    from fabcom.gql.lookahead import reads
    from fabcom.gql.mutations import MutationError, gql_pk, run_mutation
    from fabcom.gql.pagination import Order
    from fabcom.gql.scopes import RequiresScope
    from fabcom.gql.types import Connection, connect, item_loader

# The GraphQL helpers are imported on first use (PEP 562): a module's manifest, models and
# views import this file at start-up, and building the GraphQL types is most of the
# application's import time, which ``/healthz`` should not wait for (the schema itself is
# built on the first ``/graphql`` request or just after start-up).
_LAZY = {
    "PublicError": "fabcom.gql.context",
    "global_id": "fabcom.gql.ids",
    "reads": "fabcom.gql.lookahead",
    "item_loader": "fabcom.gql.types",
    "MutationError": "fabcom.gql.mutations",
    "gql_pk": "fabcom.gql.mutations",
    "run_mutation": "fabcom.gql.mutations",
    "Order": "fabcom.gql.pagination",
    "RequiresScope": "fabcom.gql.scopes",
    "Connection": "fabcom.gql.types",
    "connect": "fabcom.gql.types",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def module_settings(slug: str) -> Any:
    """The settings of module ``slug`` (its ``FABCOM_<SLUG>_*`` variables), read once at
    start-up from the active registry. Outside a started instance (a script), the module
    alone is checked and its settings read."""
    registry = active_registry()
    if registry is not None and slug in registry:
        return registry.settings_for(slug)
    return build_registry([slug]).settings_for(slug)


__all__ = [
    "ANONYMOUS",
    "KINDS",
    "N_",
    "YEARS",
    "Action",
    "Activity",
    "Audience",
    "Category",
    "Connection",
    "ErrorCode",
    "FieldError",
    "Input",
    "InputError",
    "Item",
    "ItemStatus",
    "JobContext",
    "Kind",
    "LocalMember",
    "MirrorMember",
    "Module",
    "MutationError",
    "NotFound",
    "Order",
    "Organization",
    "Permission",
    "PermissionDenied",
    "Principal",
    "PublicError",
    "RequiresScope",
    "Role",
    "Scope",
    "Sender",
    "ServiceError",
    "SharedProfile",
    "TimestampedModel",
    "User",
    "ValidationFailed",
    "accepted_partners",
    "archived_refusal",
    "call_async",
    "call_for_organization",
    "clock",
    "connect",
    "create_item",
    "cron",
    "disabled_organizations",
    "find_organization",
    "fold",
    "get_item_for",
    "gettext",
    "global_id",
    "gql_pk",
    "handles",
    "handles_batch",
    "hookimpl",
    "hookspec",
    "in_transaction",
    "item_loader",
    "item_number",
    "job",
    "local_members",
    "matching_items",
    "module_enabled",
    "module_settings",
    "notify",
    "parse",
    "plain_number",
    "plugin_manager",
    "publish",
    "rank_by_title",
    "reads",
    "recognised_members",
    "record",
    "record_movement",
    "run_mutation",
    "set_module_enabled",
    "snapshot",
    "static_url",
    "system_principal",
]

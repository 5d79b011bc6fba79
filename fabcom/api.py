"""The one import surface for module authors. Everything else in fabcom is internal and
may change between versions; what is here follows semantic versioning.

    from fabcom.api import Module, Principal, Action, ValidationFailed, N_, parse, Input

See docs/modules.md for the guide and the reference of every hook.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from fabcom import clock
from fabcom.audit.services import record, snapshot
from fabcom.auth.models import User
from fabcom.db import TimestampedModel
from fabcom.errors import ErrorCode, FieldError, NotFound, PermissionDenied, ServiceError, ValidationFailed
from fabcom.i18n import N_, gettext
from fabcom.inventory.models import Item
from fabcom.inventory.services import get_item_for
from fabcom.members.models import Role
from fabcom.module_system.hooks import call_async, hookimpl, hookspec, plugin_manager
from fabcom.module_system.manifest import Module
from fabcom.orgs.models import Organization
from fabcom.permissions import ANONYMOUS, Action, Principal, system_principal
from fabcom.validation import Input, InputError, parse

__all__ = [
    "ANONYMOUS",
    "N_",
    "Action",
    "ErrorCode",
    "FieldError",
    "Input",
    "InputError",
    "Item",
    "Module",
    "NotFound",
    "Organization",
    "PermissionDenied",
    "Principal",
    "Role",
    "ServiceError",
    "TimestampedModel",
    "User",
    "ValidationFailed",
    "call_async",
    "clock",
    "get_item_for",
    "gettext",
    "hookimpl",
    "hookspec",
    "in_transaction",
    "parse",
    "plugin_manager",
    "record",
    "snapshot",
    "system_principal",
]

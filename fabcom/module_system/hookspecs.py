"""The core's hooks. Each is documented in docs/modules.md (a test checks it)."""

from __future__ import annotations

from typing import Any

from fabcom.module_system.hooks import hookspec


@hookspec
def fabcom_load_demo_data(context: dict[str, Any]) -> Any:
    """Add the module's demo data after the core's (``fabcom demo``).

    ``context`` holds the demo organizations by slug (``context["organizations"]``) and
    users by e-mail (``context["users"]``). May be a coroutine.
    """


@hookspec
def fabcom_menu_items(organization: Any, principal: Any) -> Any:
    """Entries the module adds to an organization's menu in the web UI.

    Return a list of ``{"label": N_("Bookings"), "url": "/m/bookings/o/<slug>/"}``
    for what ``principal`` may use in ``organization`` (an empty list otherwise).
    Labels are English message ids, translated when the menu is shown. May be a coroutine.
    """


@hookspec
def fabcom_member_data(user_id: int) -> Any:
    """The module's part of a person's data download (``fabcom user export``, "Download
    my data" on the account page).

    Return ``{"<module slug>": <JSON-safe data>}`` with what the module stores about
    ``user_id`` (its bookings, the intakes they donated…), or None; it lands under
    ``modules`` in the file. May be a coroutine.
    """


@hookspec
def fabcom_erase_member(user_id: int, identity: dict[str, str]) -> Any:
    """Erase or anonymise what the module stores about a person being erased.

    Called inside the erasure's transaction, before the account itself is anonymised;
    ``identity`` holds the person's ``email`` and ``display_name`` as they were, to find
    them in free text the module keeps (a donor's name, a note). Delete what only made
    sense for the person (future bookings, waiting lists) and blank the personal fields
    of records the structure must keep (a past booking's note, an intake's donor name),
    so counts, weights and amounts stay right. Raising aborts the whole erasure. May be
    a coroutine.
    """


@hookspec
def fabcom_member_erased(user_id: int) -> Any:
    """A person's account was just erased (it is now an anonymous placeholder).

    Called in the erasure's transaction, after everything local is anonymised: enqueue
    here the jobs that tell others, such as federation's ``Delete`` of the person's actor
    and shared objects to partner sites (the job row commits with the erasure, or not at
    all). Return None. May be a coroutine.
    """


@hookspec
def fabcom_org_export(context: Any) -> Any:
    """Add the module's tables to an organization's export (``fabcom org export``).

    Call ``await context.export_models("modules/<slug>/", [ModelA, ModelB])`` with the
    module's models in load order (a table only points at tables before it): each
    table's rows of the organization — through its ``organization`` field or its first
    link to a table already exported — become one JSON-LD document; links to items,
    people, categories and the module's own rows become archive references. May be a
    coroutine.
    """


@hookspec
def fabcom_org_import(context: Any) -> Any:
    """Load the module's tables from an organization's archive (``fabcom org import``).

    Call ``await context.import_models("modules/<slug>/", [ModelA, ModelB])`` with the
    same models in the same order as for the export. Runs in the import's transaction;
    raising ``fabcom.ops.orgarchive.ArchiveError`` refuses the archive. May be a coroutine.
    """


@hookspec
def fabcom_exchange_handed_over(actor: Any, request: Any, item: Any, quantity: Any, weight_kg: Any) -> Any:
    """An item has just been handed over to a partner (an exchange request's ``hand_over``).

    Called inside the hand-over's transaction, after the stock movements: ``item`` left
    the owner's stock (``quantity`` of it, ``weight_kg`` when known) towards
    ``request.requester_organization_id``. Write what the module records about it (the
    ressourcerie records an outflow "gift to partner"); raising refuses the whole
    hand-over. May be a coroutine.
    """


@hookspec
def fabcom_exchange_received(organization_id: int, exchange: Any, item: Any, weight_kg: Any) -> Any:
    """A partner on another server handed over an item this organization asked for (its
    "handed over" notice just arrived).

    Called inside the transaction that records it, after the item entered the
    organization's inventory: ``exchange`` is the ``FederatedExchange`` (``kind``,
    ``item_title``, ``item_uri``, ``quantity``, ``unit``, ``remote_organization_id``: the
    giver), ``item`` the new local item (None for a loan), ``weight_kg`` the weight when
    known (the quantity of an item counted in kg), else None. Record what your module
    keeps about it (the ressourcerie records an intake from the partner); raising aborts
    the notice, which is then retried, so log and skip what you cannot record. May be a
    coroutine.
    """

"""The mutation root: noun-then-verb mutations, each a thin call to a service. Refusals
(``ServiceError``) come back in the payload's ``errors``, translated per request."""

# No ``from __future__ import annotations``: Strawberry would parse each string
# annotation at start-up (see fabcom/gql/types.py).

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from fabcom.errors import ErrorCode as ErrorCodeEnum
from fabcom.errors import NotFound, ServiceError, ValidationFailed
from fabcom.gql.context import Context, PublicError
from fabcom.gql.ids import decode_global_id, possible_slug
from fabcom.gql.loaders import load_node
from fabcom.gql.scopes import RequiresScope
from fabcom.gql.types import (
    Condition,
    ErrorCode,
    ExchangeKind,
    ExchangeRequest,
    Item,
    ItemStatus,
    Member,
    MovementKind,
    Partnership,
    Project,
    ProjectStatus,
    Role,
    SharingMode,
    StockMovement,
    Task,
    TaskStatus,
    Unit,
    Visibility,
    described_enum,
)
from fabcom.i18n import N_
from fabcom.inventory import services as inventory
from fabcom.members import services as members
from fabcom.network import services as network
from fabcom.orgs.models import Organization
from fabcom.projects import services as projects

T = TypeVar("T")


@strawberry.type(description="Why a mutation was refused: which input field, a message in your language, a code.")
class MutationError:
    field: str | None = strawberry.field(description="The input field at fault (camelCase), or null.")
    message: str = strawberry.field(description="What is wrong, in the language of the request.")
    code: ErrorCode = strawberry.field(description="A stable code to branch on.")


def _camel(path: str | None) -> str | None:
    if path is None:
        return None
    parts = []
    for part in path.split("."):
        head, *rest = part.split("_")
        parts.append(head + "".join(word.capitalize() for word in rest))
    return ".".join(parts)


def _errors(exc: ServiceError, locale: str, renames: dict[str, str] | None = None) -> list[MutationError]:
    renames = renames or {}
    return [
        MutationError(field=_camel(renames.get(e.field or "", e.field)), message=e.text(locale), code=e.code)
        for e in exc.errors
    ]


async def _run(info: Info, work: Callable[[], Awaitable[T]], **renames: str) -> tuple[T | None, list[MutationError]]:
    ctx: Context = info.context
    try:
        return await work(), []
    except ServiceError as exc:
        return None, _errors(exc, ctx.locale, renames)


def _given(data: Any, *skip: str) -> dict[str, Any]:
    """The input fields the client actually sent (left-out fields are not changed)."""
    return {
        name: value
        for name, value in vars(data).items()
        if value is not strawberry.UNSET and name not in skip and not name.startswith("_")
    }


def _pk(value: strawberry.ID, type_name: str, field: str) -> int:
    try:
        found, pk = decode_global_id(value)
    except PublicError:
        raise ValidationFailed.single(ErrorCodeEnum.INVALID, N_("This value is not valid."), field) from None
    if found != type_name:
        raise NotFound(type_name)
    return pk


# For modules (through fabcom.api): a mutation's work with refusals in ``errors``, and a
# global id decoded to a primary key.
run_mutation = _run
gql_pk = _pk


async def _org_id(slug: str, field: str = "organization_slug") -> int:
    org = await Organization.get_or_none(slug=slug) if possible_slug(slug) else None
    if org is None:
        raise ValidationFailed.single(ErrorCodeEnum.INVALID, N_("Unknown organization."), field)
    return org.id


def _principal(info: Info) -> Any:
    return info.context.principal


# --- items -------------------------------------------------------------------------------


@strawberry.input(description="A new item.")
class ItemCreateInput:
    organization_slug: str = strawberry.field(description="The organization that will hold it.")
    title: str = strawberry.field(description="Short title.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Longer description.")
    category_code: str | None = strawberry.field(default=strawberry.UNSET, description="Taxonomy code.")
    unit: Unit | None = strawberry.field(default=strawberry.UNSET, description="Unit (default PIECE).")
    unit_weight_kg: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Weight of one unit.")
    unit_value: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Value of one unit (€).")
    condition: Condition | None = strawberry.field(default=strawberry.UNSET, description="State (default GOOD).")
    status: ItemStatus | None = strawberry.field(default=strawberry.UNSET, description="Default AVAILABLE.")
    visibility: Visibility | None = strawberry.field(default=strawberry.UNSET, description="Default PRIVATE.")
    sharing_modes: list[SharingMode] | None = strawberry.field(default=strawberry.UNSET, description="Sharing.")
    attributes: JSON | None = strawberry.field(default=strawberry.UNSET, description="Free attributes.")
    initial_quantity: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Opening stock.")
    initial_kind: MovementKind | None = strawberry.field(
        default=strawberry.UNSET, description="Why the opening stock came in (default DONATION)."
    )
    counterparty: str | None = strawberry.field(default=strawberry.UNSET, description="Who gave it.")


@strawberry.input(description="Changes to an item; fields left out stay as they are.")
class ItemUpdateInput:
    id: strawberry.ID = strawberry.field(description="The item.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Short title.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Longer description.")
    category_code: str | None = strawberry.field(default=strawberry.UNSET, description="Taxonomy code.")
    unit: Unit | None = strawberry.field(default=strawberry.UNSET, description="Unit.")
    unit_weight_kg: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Weight of one unit.")
    unit_value: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Value of one unit (€).")
    condition: Condition | None = strawberry.field(default=strawberry.UNSET, description="State.")
    status: ItemStatus | None = strawberry.field(default=strawberry.UNSET, description="Status.")
    visibility: Visibility | None = strawberry.field(default=strawberry.UNSET, description="Visibility.")
    sharing_modes: list[SharingMode] | None = strawberry.field(default=strawberry.UNSET, description="Sharing.")
    attributes: JSON | None = strawberry.field(default=strawberry.UNSET, description="Free attributes.")


@strawberry.input(description="The item to delete (it is archived: its ledger stays).")
class ItemDeleteInput:
    id: strawberry.ID = strawberry.field(description="The item.")


@strawberry.type(description="The result of itemCreate or itemUpdate.")
class ItemPayload:
    item: Item | None = strawberry.field(description="The item, when it was saved.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.type(description="The result of itemDelete.")
class ItemDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="The deleted item's ID, on success.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.input(description="Stock coming in or going out.")
class StockMovementRecordInput:
    item_id: strawberry.ID = strawberry.field(description="The item.")
    kind: MovementKind = strawberry.field(description="Why stock moves (gives the direction).")
    quantity: Decimal = strawberry.field(description="How much, as a positive number.")
    decrease: bool | None = strawberry.field(default=strawberry.UNSET, description="ADJUSTMENT only: remove stock.")
    weight_kg: Decimal | None = strawberry.field(default=strawberry.UNSET, description="Weight moved, in kg.")
    occurred_at: dt.datetime | None = strawberry.field(default=strawberry.UNSET, description="When (default now).")
    counterparty: str | None = strawberry.field(default=strawberry.UNSET, description="Who.")
    note: str | None = strawberry.field(default=strawberry.UNSET, description="Free note.")


@strawberry.type(description="The result of stockMovementRecord.")
class StockMovementRecordPayload:
    stock_movement: StockMovement | None = strawberry.field(description="The ledger line, on success.")
    item: Item | None = strawberry.field(description="The item with its new quantity, on success.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


# --- projects ----------------------------------------------------------------------------


@strawberry.input(description="A new project.")
class ProjectCreateInput:
    organization_slug: str = strawberry.field(description="The organization leading it.")
    title: str = strawberry.field(description="Title.")
    summary: str | None = strawberry.field(default=strawberry.UNSET, description="Summary.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Markdown documentation.")
    status: ProjectStatus | None = strawberry.field(default=strawberry.UNSET, description="Default IDEA.")
    visibility: Visibility | None = strawberry.field(default=strawberry.UNSET, description="Default PRIVATE.")
    licence: str | None = strawberry.field(default=strawberry.UNSET, description="SPDX identifier.")
    starts_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Start date.")
    ends_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="End date.")


@strawberry.input(description="Changes to a project; fields left out stay as they are.")
class ProjectUpdateInput:
    id: strawberry.ID = strawberry.field(description="The project.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Title.")
    summary: str | None = strawberry.field(default=strawberry.UNSET, description="Summary.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Markdown documentation.")
    status: ProjectStatus | None = strawberry.field(default=strawberry.UNSET, description="Status.")
    visibility: Visibility | None = strawberry.field(default=strawberry.UNSET, description="Visibility.")
    licence: str | None = strawberry.field(default=strawberry.UNSET, description="SPDX identifier.")
    starts_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Start date.")
    ends_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="End date.")


@strawberry.type(description="The result of projectCreate or projectUpdate.")
class ProjectPayload:
    project: Project | None = strawberry.field(description="The project, when it was saved.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.input(description="A new task in a project.")
class TaskCreateInput:
    project_id: strawberry.ID = strawberry.field(description="The project.")
    title: str = strawberry.field(description="What is to be done.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Details.")
    status: TaskStatus | None = strawberry.field(default=strawberry.UNSET, description="Default TODO.")
    due_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Due date.")
    position: int | None = strawberry.field(default=strawberry.UNSET, description="Order in the project.")


@strawberry.input(description="Changes to a task; fields left out stay as they are.")
class TaskUpdateInput:
    id: strawberry.ID = strawberry.field(description="The task.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="What is to be done.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Details.")
    status: TaskStatus | None = strawberry.field(default=strawberry.UNSET, description="Status.")
    due_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Due date.")
    position: int | None = strawberry.field(default=strawberry.UNSET, description="Order in the project.")


@strawberry.type(description="The result of taskCreate or taskUpdate.")
class TaskPayload:
    task: Task | None = strawberry.field(description="The task, when it was saved.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


# --- members and network -----------------------------------------------------------------


@strawberry.input(
    description="Give a role in your organization to the account with this e-mail address, "
    "or invite the address by e-mail when it has no account."
)
class MembershipInviteInput:
    organization_slug: str = strawberry.field(description="Your organization.")
    email: str = strawberry.field(description="E-mail address of the person.")
    role: Role = strawberry.field(default=members.Role.MEMBER, description="The role to give (default MEMBER).")


@strawberry.type(description="An invitation e-mailed to an address, pending until the person accepts it.")
class Invitation:
    email: str = strawberry.field(description="The invited address.")
    role: Role = strawberry.field(description="The role given on acceptance.")
    expires_at: dt.datetime = strawberry.field(description="The link stops working at this time.")


@strawberry.type(description="The result of membershipInvite: the invitation e-mailed, or errors.")
class MembershipInvitePayload:
    member: Member | None = strawberry.field(
        default=None,
        description="Always null: the person becomes a member when they accept the invitation.",
        deprecation_reason="Always null; the person joins when accepting the invitation. Read `invitation`.",
    )
    invitation: Invitation | None = strawberry.field(
        default=None, description="The invitation e-mailed, whether or not the address has an account; null on error."
    )
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.input(description="Ask a partner organization for one of its items.")
class ExchangeRequestCreateInput:
    item_id: strawberry.ID = strawberry.field(description="The item wanted.")
    requester_organization_slug: str = strawberry.field(description="Your organization, which asks.")
    kind: ExchangeKind = strawberry.field(description="Borrow, receive or buy.")
    quantity: Decimal | None = strawberry.field(default=strawberry.UNSET, description="How many (default 1).")
    message: str | None = strawberry.field(default=strawberry.UNSET, description="A message to the owner.")
    due_back_on: dt.date | None = strawberry.field(default=strawberry.UNSET, description="Return date of a loan.")


class ExchangeAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    HAND_OVER = "hand_over"
    RETURN = "return"


described_enum(
    ExchangeAction,
    "How to move an exchange request on.",
    {
        "ACCEPT": "Owner: agree to a PENDING request.",
        "DECLINE": "Owner: refuse a PENDING or ACCEPTED request.",
        "CANCEL": "Requester: withdraw a PENDING or ACCEPTED request.",
        "HAND_OVER": "Owner: the item went to the requester (moves both stocks).",
        "RETURN": "Owner: a lent item came back (BORROW only).",
    },
)


@strawberry.input(description="Answer or move on an exchange request.")
class ExchangeRequestRespondInput:
    id: strawberry.ID = strawberry.field(description="The exchange request.")
    action: ExchangeAction = strawberry.field(
        description="Owner: accept, decline, hand over, return; requester: cancel."
    )
    message: str | None = strawberry.field(default=strawberry.UNSET, description="A message to the other side.")


@strawberry.type(description="The result of exchangeRequestCreate or exchangeRequestRespond.")
class ExchangeRequestPayload:
    exchange_request: ExchangeRequest | None = strawberry.field(description="The request, on success.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


@strawberry.input(description="Ask another organization to become partners.")
class PartnershipRequestInput:
    organization_slug: str = strawberry.field(description="Your organization.")
    partner_slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="The organization asked, on this instance."
    )
    partner_address: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The organization asked, on another server: name@server (WebFinger) or its actor URL.",
    )
    message: str | None = strawberry.field(default=strawberry.UNSET, description="A message.")


@strawberry.enum(description="The answer to a partnership request.")
class PartnershipResponse(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    BLOCK = "block"


@strawberry.input(description="Answer a partnership request (or block a partnership).")
class PartnershipRespondInput:
    id: strawberry.ID = strawberry.field(description="The partnership.")
    response: PartnershipResponse = strawberry.field(description="Accept, refuse or block.")


@strawberry.type(description="The result of partnershipRequest or partnershipRespond.")
class PartnershipPayload:
    partnership: Partnership | None = strawberry.field(description="The partnership, on success.")
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty on success.")


async def _reload(info: Info, type_name: str, pk: int) -> Any:
    """The saved object as the API shows it, with its relations."""
    return await load_node(_principal(info), type_name, pk)


@strawberry.type(description="Change inventories, projects, members and partnerships.")
class Mutation:
    @strawberry.mutation(
        description="Create an item, with its opening stock as a first movement.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def item_create(self, info: Info, input: ItemCreateInput) -> ItemPayload:
        async def work() -> Any:
            org_id = await _org_id(input.organization_slug)
            item = await inventory.create_item(_principal(info), org_id, _given(input, "organization_slug"))
            return await _reload(info, "Item", item.id)

        item, errors = await _run(info, work)
        return ItemPayload(item=item, errors=errors)

    @strawberry.mutation(
        description="Change an item (quantities change through stock movements).",
        extensions=[RequiresScope("inventory:write")],
    )
    async def item_update(self, info: Info, input: ItemUpdateInput) -> ItemPayload:
        async def work() -> Any:
            pk = _pk(input.id, "Item", "id")
            await inventory.update_item(_principal(info), pk, _given(input, "id"))
            return await _reload(info, "Item", pk)

        item, errors = await _run(info, work)
        return ItemPayload(item=item, errors=errors)

    @strawberry.mutation(
        description="Delete an item (archived and hidden; its ledger stays).",
        extensions=[RequiresScope("inventory:write")],
    )
    async def item_delete(self, info: Info, input: ItemDeleteInput) -> ItemDeletePayload:
        async def work() -> Any:
            await inventory.delete_item(_principal(info), _pk(input.id, "Item", "id"))
            return input.id

        deleted, errors = await _run(info, work)
        return ItemDeletePayload(deleted_id=deleted, errors=errors)

    @strawberry.mutation(
        description="Record stock coming in or going out; refused when stock would go negative.",
        extensions=[RequiresScope("inventory:write")],
    )
    async def stock_movement_record(self, info: Info, input: StockMovementRecordInput) -> StockMovementRecordPayload:
        async def work() -> Any:
            pk = _pk(input.item_id, "Item", "item_id")
            movement = await inventory.record_movement(_principal(info), pk, _given(input, "item_id"))
            return movement, await _reload(info, "Item", pk)

        result, errors = await _run(info, work)
        movement, item = result if result else (None, None)
        return StockMovementRecordPayload(stock_movement=movement, item=item, errors=errors)

    @strawberry.mutation(
        description="Start a project led by one of your organizations.", extensions=[RequiresScope("projects:write")]
    )
    async def project_create(self, info: Info, input: ProjectCreateInput) -> ProjectPayload:
        async def work() -> Any:
            org_id = await _org_id(input.organization_slug)
            project = await projects.create_project(_principal(info), org_id, _given(input, "organization_slug"))
            return await _reload(info, "Project", project.id)

        project, errors = await _run(info, work)
        return ProjectPayload(project=project, errors=errors)

    @strawberry.mutation(description="Change a project.", extensions=[RequiresScope("projects:write")])
    async def project_update(self, info: Info, input: ProjectUpdateInput) -> ProjectPayload:
        async def work() -> Any:
            pk = _pk(input.id, "Project", "id")
            await projects.update_project(_principal(info), pk, _given(input, "id"))
            return await _reload(info, "Project", pk)

        project, errors = await _run(info, work)
        return ProjectPayload(project=project, errors=errors)

    @strawberry.mutation(description="Add a task to a project.", extensions=[RequiresScope("projects:write")])
    async def task_create(self, info: Info, input: TaskCreateInput) -> TaskPayload:
        async def work() -> Any:
            pk = _pk(input.project_id, "Project", "project_id")
            return await projects.create_task(_principal(info), pk, _given(input, "project_id"))

        task, errors = await _run(info, work)
        return TaskPayload(task=task, errors=errors)

    @strawberry.mutation(description="Change a task.", extensions=[RequiresScope("projects:write")])
    async def task_update(self, info: Info, input: TaskUpdateInput) -> TaskPayload:
        async def work() -> Any:
            return await projects.update_task(_principal(info), _pk(input.id, "Task", "id"), _given(input, "id"))

        task, errors = await _run(info, work)
        return TaskPayload(task=task, errors=errors)

    @strawberry.mutation(
        description="E-mail an invitation valid 7 days to join your organization with a role "
        "(`invitation`). The person becomes a member only when they accept it, with the account "
        "they have or one they create; the answer is the same whether or not the address has an account.",
        extensions=[RequiresScope("members:write")],
    )
    async def membership_invite(self, info: Info, input: MembershipInviteInput) -> MembershipInvitePayload:
        async def work() -> Any:
            org_id = await _org_id(input.organization_slug)
            sent = await members.invite_member(_principal(info), org_id, {"email": input.email, "role": input.role})
            return Invitation(email=sent.email, role=sent.role, expires_at=sent.expires_at)

        invitation, errors = await _run(info, work)
        return MembershipInvitePayload(invitation=invitation, errors=errors)

    @strawberry.mutation(
        description="Ask a partner organization for one of its items.", extensions=[RequiresScope("network:write")]
    )
    async def exchange_request_create(
        self,
        info: Info,
        input: ExchangeRequestCreateInput,
    ) -> ExchangeRequestPayload:
        async def work() -> Any:
            org_id = await _org_id(input.requester_organization_slug, "requester_organization_slug")
            data = _given(input, "requester_organization_slug")
            data["item_id"] = _pk(input.item_id, "Item", "item_id")
            request = await network.create_exchange_request(_principal(info), org_id, data)
            return await _reload(info, "ExchangeRequest", request.id)

        request, errors = await _run(info, work)
        return ExchangeRequestPayload(exchange_request=request, errors=errors)

    @strawberry.mutation(
        description="Accept, decline, hand over, take back or cancel an exchange request.",
        extensions=[RequiresScope("network:write")],
    )
    async def exchange_request_respond(
        self,
        info: Info,
        input: ExchangeRequestRespondInput,
    ) -> ExchangeRequestPayload:
        async def work() -> Any:
            pk = _pk(input.id, "ExchangeRequest", "id")
            message = input.message if isinstance(input.message, str) else ""
            await network.respond_exchange_request(_principal(info), pk, input.action.value, message)
            return await _reload(info, "ExchangeRequest", pk)

        request, errors = await _run(info, work)
        return ExchangeRequestPayload(exchange_request=request, errors=errors)

    @strawberry.mutation(
        description="Ask another organization to become partners.", extensions=[RequiresScope("network:write")]
    )
    async def partnership_request(self, info: Info, input: PartnershipRequestInput) -> PartnershipPayload:
        async def work() -> Any:
            org_id = await _org_id(input.organization_slug)
            link = await network.request_partnership(_principal(info), org_id, _given(input, "organization_slug"))
            return await _reload(info, "Partnership", link.id)

        link, errors = await _run(info, work)
        return PartnershipPayload(partnership=link, errors=errors)

    @strawberry.mutation(
        description="Accept, refuse or block a partnership.", extensions=[RequiresScope("network:write")]
    )
    async def partnership_respond(self, info: Info, input: PartnershipRespondInput) -> PartnershipPayload:
        async def work() -> Any:
            pk = _pk(input.id, "Partnership", "id")
            await network.respond_partnership(_principal(info), pk, input.response.value)
            return await _reload(info, "Partnership", pk)

        link, errors = await _run(info, work)
        return PartnershipPayload(partnership=link, errors=errors)

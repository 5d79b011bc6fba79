"""The GraphQL object types. Their roots are Tortoise rows loaded by ``loaders`` with
their relations already fetched, so most fields are plain attribute reads."""

# No ``from __future__ import annotations`` here: Strawberry parses and unparses every
# string annotation with ``ast`` when it decorates the types, ~40 ms of CPU for the
# schema's modules before the first GraphQL answer. A class used before it is defined is
# quoted (``"Connection[Item]"``).

import datetime as dt
import functools
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, cast

import strawberry
from graphql import GraphQLObjectType
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.relay.types import NodeType as NodeT  # relay.Edge is generic over this very TypeVar
from strawberry.scalars import JSON
from strawberry.types import Info

from fabcom.errors import ErrorCode as ErrorCodeEnum
from fabcom.gql import loaders
from fabcom.gql.context import Context
from fabcom.gql.lookahead import Reads, node_reads, reads, reads_of
from fabcom.gql.pagination import Order, Page, Window, page_of_rows, paginate
from fabcom.inventory import models as inventory
from fabcom.members import models as members
from fabcom.network import models as network
from fabcom.orgs import models as orgs
from fabcom.projects import models as projects


def described_enum(cls: type[StrEnum], description: str, values: dict[str, str] | None = None) -> Any:
    """The model's enum as a GraphQL enum; ``values`` describes its values by name, for
    those whose meaning is not in their name (which add stock, who may take an action)."""
    wrapped = strawberry.enum(cls, name=cls.__name__, description=description)
    for value in wrapped.__strawberry_definition__.values:  # type: ignore[attr-defined]  # set by strawberry.enum
        value.description = (values or {}).get(value.name)
    return wrapped


ADDS_STOCK = "Adds stock."
REMOVES_STOCK = "Removes stock."
VALUE_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "ErrorCode": {
        "REQUIRED": "The field must be given.",
        "INVALID": "The value is not one fabcom accepts here (format, unknown name, a rule of the object).",
        "TOO_SHORT": "The text is shorter than allowed.",
        "TOO_LONG": "The text is longer than allowed.",
        "OUT_OF_RANGE": "The number or date is outside the allowed range.",
        "NOT_FOUND": "No such object, or one you may not see (answered alike).",
        "PERMISSION_DENIED": "You may see the object but not do this to it (your role, or your side of a request).",
        "ALREADY_EXISTS": "Such an object exists already (a partnership, a membership).",
        "INSUFFICIENT_STOCK": "Not that many left: the message says how many.",
        "INVALID_STATE": "The object's state does not allow this any more (a request already answered).",
        "CONFLICT": "It clashes with another object (a booking over the same time).",
        "NOT_PARTNER": "Only accepted partner organizations may do this.",
        "RATE_LIMITED": "Too many attempts: wait and retry.",
        "INSUFFICIENT_SCOPE": "The token lacks the scope this needs: the message names it.",
    },
    "MovementKind": {
        "DONATION": ADDS_STOCK + " Given to the organization.",
        "PURCHASE": ADDS_STOCK + " Bought.",
        "COLLECTION": ADDS_STOCK + " Collected (a pick-up, a drop-off point).",
        "PRODUCTION": ADDS_STOCK + " Made or repaired on site.",
        "TRANSFER_IN": ADDS_STOCK + " Received from another organization (an exchange handed over).",
        "RETURN": ADDS_STOCK + " A loan came back.",
        "SALE": REMOVES_STOCK + " Sold.",
        "GIFT": REMOVES_STOCK + " Given away.",
        "LOAN": REMOVES_STOCK + " Lent; a RETURN brings it back.",
        "RECYCLING": REMOVES_STOCK + " Sent to recycling.",
        "DISPOSAL": REMOVES_STOCK + " Thrown away.",
        "TRANSFER_OUT": REMOVES_STOCK + " Handed over to another organization.",
        "ADJUSTMENT": "Adds stock, or removes it with `decrease: true`: an inventory count that corrects the ledger.",
    },
    "ItemStatus": {
        "AVAILABLE": "Offered, while there is stock (`inStock` tells whether any is left).",
        "RESERVED": "Kept for someone: not offered to others.",
        "UNAVAILABLE": "Not offered for now (under repair, in use).",
        "ARCHIVED": "No longer in the inventory; no stock may leave it.",
    },
    "Visibility": {
        "PRIVATE": "Only the organization's own members.",
        "PARTNERS": "The organization's members and its accepted partners (here and on other servers).",
        "PUBLIC": "Anyone, without logging in.",
    },
    "SharingMode": {
        "GIVE": "Partners may ask to receive it (ExchangeKind RECEIVE).",
        "LEND": "Partners may ask to borrow it (BORROW), and bring it back.",
        "SELL": "Partners may ask to buy it (BUY).",
        "USE_ON_SITE": "It is used where it is (a machine, a room): it is not handed over.",
    },
    "Unit": {
        "PIECE": "Counted in whole pieces.",
        "KG": "Weighed, in kilograms (decimals allowed).",
        "M": "Measured in metres (decimals allowed).",
        "M2": "Measured in square metres (decimals allowed).",
        "L": "Measured in litres (decimals allowed).",
        "SET": "Counted in whole sets (a tea set, a box of tools).",
    },
    "Role": {
        "OWNER": "Everything an admin does; only owners make someone an owner.",
        "ADMIN": "Everything but making owners: members and their roles, fees, settings, tokens, webhooks.",
        "STAFF": "The daily work: inventory (deleting included), projects, partners and their requests.",
        "VOLUNTEER": "Helps: reads and updates the inventory and projects, reads the network; no members.",
        "MEMBER": "A member of the association: reads projects, manages nothing.",
    },
    "PartnershipStatus": {
        "REQUESTED": "Asked, waiting for the other organization's answer.",
        "ACCEPTED": "Both organizations share what they show partners.",
        "REFUSED": "The other organization said no.",
        "BLOCKED": "Ended: nothing is shared any more.",
    },
    "ExchangeKind": {
        "BORROW": "To borrow the item and bring it back (a LEND item); `dueBackOn` is the return date.",
        "RECEIVE": "To receive it for good (a GIVE item).",
        "BUY": "To buy it (a SELL item).",
    },
    "ExchangeStatus": {
        "PENDING": "Asked; the owner may ACCEPT or DECLINE, the requester may CANCEL.",
        "ACCEPTED": "The owner agreed; the owner HAND_OVERs the item, either side may still DECLINE or CANCEL.",
        "DECLINED": "The owner said no. Final.",
        "HANDED_OVER": "The item left the owner's stock for the requester's. A loan then waits for its RETURN.",
        "RETURNED": "A lent item came back to its owner. Final.",
        "CANCELLED": "The requester withdrew. Final.",
    },
}


if TYPE_CHECKING:  # at run time each is the model's enum itself, decorated by Strawberry
    ErrorCode = ErrorCodeEnum
    Unit = inventory.Unit
    Condition = inventory.Condition
    ItemStatus = inventory.ItemStatus
    Visibility = inventory.Visibility
    SharingMode = inventory.SharingMode
    MovementKind = inventory.MovementKind
    OrganizationKind = orgs.OrganizationKind
    ProjectStatus = projects.ProjectStatus
    TaskStatus = projects.TaskStatus
    NeedKind = projects.NeedKind
    Role = members.Role
    PartnershipStatus = network.PartnershipStatus
    ExchangeKind = network.ExchangeKind
    ExchangeStatus = network.ExchangeStatus
else:
    ErrorCode = described_enum(
        ErrorCodeEnum, "Stable codes of mutation errors, to branch on.", VALUE_DESCRIPTIONS["ErrorCode"]
    )
    Unit = described_enum(inventory.Unit, "The unit an item's quantity is counted in.", VALUE_DESCRIPTIONS["Unit"])
    Condition = described_enum(inventory.Condition, "The state of an item.")
    ItemStatus = described_enum(
        inventory.ItemStatus,
        "Whether staff offer an item, as they set it; whether any is left is its quantity.",
        VALUE_DESCRIPTIONS["ItemStatus"],
    )
    Visibility = described_enum(
        inventory.Visibility,
        "Who sees an object: its organization, its partners too, or anyone.",
        VALUE_DESCRIPTIONS["Visibility"],
    )
    SharingMode = described_enum(
        inventory.SharingMode, "How an item may be shared with others.", VALUE_DESCRIPTIONS["SharingMode"]
    )
    MovementKind = described_enum(
        inventory.MovementKind, "Why stock came in or went out.", VALUE_DESCRIPTIONS["MovementKind"]
    )
    OrganizationKind = described_enum(orgs.OrganizationKind, "The kind of structure.")
    ProjectStatus = described_enum(projects.ProjectStatus, "Where a project stands.")
    TaskStatus = described_enum(projects.TaskStatus, "Where a task stands.")
    NeedKind = described_enum(projects.NeedKind, "What a project needs: items or a skill.")
    Role = described_enum(members.Role, "A member's role in an organization.", VALUE_DESCRIPTIONS["Role"])
    PartnershipStatus = described_enum(
        network.PartnershipStatus, "Where a partnership request stands.", VALUE_DESCRIPTIONS["PartnershipStatus"]
    )
    ExchangeKind = described_enum(
        network.ExchangeKind, "What a partner asks to do with an item.", VALUE_DESCRIPTIONS["ExchangeKind"]
    )
    ExchangeStatus = described_enum(
        network.ExchangeStatus, "Where an exchange request stands.", VALUE_DESCRIPTIONS["ExchangeStatus"]
    )


@strawberry.type(description="A page of a list, Relay-style, with the size of the whole list.")
class Connection(Generic[NodeT]):
    edges: list[relay.Edge[NodeT]] = strawberry.field(description="The objects of this page, each with its cursor.")
    page_info: relay.PageInfo = strawberry.field(description="Where this page stands in the list.")
    total_count: int = strawberry.field(description="How many objects the whole list holds.")


def connection(page: Page, node: Any = None) -> Any:
    """A page as a connection; ``node`` turns each row into the GraphQL object when the
    type is not read from the row directly (modules' plain types)."""
    rows = page.rows if node is None else [node(row) for row in page.rows]
    return Connection(
        edges=[relay.Edge(cursor=c, node=row) for c, row in zip(page.cursors, rows, strict=True)],
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total_count,
    )


def wants_total(info: Info, selected: list[Any] | None = None) -> bool:
    """Did the client select ``totalCount`` on this connection (through fragments too)?
    Counting is the dearest part of a page on a large table: skipped when not asked.
    ``selected`` is ``info.selected_fields`` when the caller already has it (Strawberry
    converts the whole selection each time it is read)."""

    def walk(selections: list[Any]) -> bool:
        for selection in selections:
            if getattr(selection, "name", None) == "totalCount":
                return True
            if not hasattr(selection, "arguments") and walk(getattr(selection, "selections", [])):
                return True  # a fragment spread or an inline fragment
        return False

    return any(walk(field.selections) for field in (info.selected_fields if selected is None else selected))


async def connect(
    info: Info,
    queryset: Any,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    *,
    order: Order | None = None,
    prepare: Any = None,
    load: Any = None,
    node: Any = None,
    selected: list[Any] | None = None,
) -> Any:
    """The shape every list resolver shares: a keyset page of ``queryset`` (already
    filtered for visibility) as a connection, counted only when ``totalCount`` is asked.
    ``selected``: ``info.selected_fields``, when the caller read it already."""
    page = await paginate(
        queryset,
        first=first,
        after=after,
        last=last,
        before=before,
        order=order or Order(),
        prepare=prepare,
        load=load,
        count=wants_total(info, selected),
    )
    return connection(page, node)


async def connect_items(
    info: Info,
    queryset: Any,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: Order | None = None,
) -> Any:
    """A page of items, read as rows with only the columns and relations the query asks
    for (``fabcom.gql.lookahead``)."""
    order = order or Order()
    selected = info.selected_fields
    node_type = cast(GraphQLObjectType, info._raw_info.schema.type_map["Item"])
    load = functools.partial(
        loaders.item_rows, reads=node_reads(selected, node_type), sort=order.field, base_url=_ctx(info).base_url
    )
    return await connect(info, queryset, first, after, last, before, order=order, load=load, selected=selected)


def _place(info: Info) -> tuple[str, ...]:
    """Where the field is in the answer, list indexes left out: a request-scoped loader is
    kept per place, since every object of a list asks the same there (the same arguments,
    the same fields), and each field of a mutation has its own places (what a loader read
    before a later field's write is not answered again)."""
    return tuple(key for key in info.path.as_list() if isinstance(key, str))


def _item_reads(info: Info) -> Reads:
    """What the selection of a field answering an ``Item`` reads of it."""
    item_type = cast(GraphQLObjectType, info._raw_info.schema.type_map["Item"])
    return reads_of([selection for field in info.selected_fields for selection in field.selections], item_type)


def item_loader(info: Info) -> DataLoader[int, loaders.ItemRow | None]:
    """The loader of the items named by the objects of a list (an exchange request's or a
    booking's ``item``): one batch per place in the answer, reading what the field's
    selection asks of an ``Item``, by the rules of ``items`` (None where it may not be seen)."""
    return loaders.item_by_id_loader(_ctx(info), _place(info), lambda: _item_reads(info))


def connect_rows(rows: Any, first: int | None, after: str | None, last: int | None, before: str | None) -> Any:
    """A connection over a short relation loaded in bulk with its parents (no query)."""
    return connection(page_of_rows(list(rows), first=first, after=after, last=last, before=before))


# What each type accepts besides its own instances, asked once per object of a page: tuples
# built once (``A | B | cls`` built a new union at every call).
_ORGANIZATION_ROWS = (orgs.Organization, loaders.OrganizationRow)
_CATEGORY_ROWS = (inventory.Category, loaders.CategoryRow)
_ITEM_ROWS = (inventory.Item, loaders.ItemRow)


def _ctx(info: Info) -> Context:
    return info.context


def _related(root: Any, name: str) -> Any:
    """A to-one relation: the fetched row, or an awaitable when it was not prefetched."""
    return getattr(root, name)


async def _reverse_rows(root: Any, name: str) -> list[Any]:
    """A to-many relation's rows: prefetched with the page (no query), or loaded now."""
    relation = getattr(root, name)
    return list(relation) if relation._fetched else list(await relation.all())


# --- organizations ---------------------------------------------------------------------


@strawberry.type(description="A structure (ressourcerie, fablab, coworking…), local or a partner site's mirror.")
class Organization(relay.Node):
    id: relay.NodeID[int]
    slug: str = strawberry.field(description="Stable identifier used in URLs and filters.")
    name: str = strawberry.field(description="Display name.")
    kind: OrganizationKind = strawberry.field(description="The kind of structure.")
    description: str = strawberry.field(description="Presentation text.")
    address: str = strawberry.field(description="Street address.")
    postal_code: str = strawberry.field(description="Postal code.")
    city: str = strawberry.field(description="City.")
    country: str = strawberry.field(description="ISO 3166 country code.")
    latitude: Decimal | None = strawberry.field(description="Latitude (WGS 84).")
    longitude: Decimal | None = strawberry.field(description="Longitude (WGS 84).")
    email: str = strawberry.field(description="Public contact address.")
    website: str = strawberry.field(description="Website.")
    is_local: bool = strawberry.field(description="False for a read-only mirror of a remote partner.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, (*_ORGANIZATION_ROWS, cls))

    @strawberry.field(description="Canonical URI (its federation identity).", metadata=reads("remote_uri", "slug"))
    def uri(self, info: Info) -> str:
        return organization_uri(_ctx(info), self)  # type: ignore[arg-type]

    @strawberry.field(description="The organization's items visible to you.", metadata=reads("id"))
    async def items(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> "Connection[Item]":
        queryset = loaders.items_queryset(_ctx(info).principal).filter(organization_id=self.id)
        return await connect_items(info, queryset, first, after, last, before)


def organization_uri(ctx: Context, org: orgs.Organization) -> str:
    return org.remote_uri or f"{ctx.base_url}/o/{org.slug}"


def _item_uri(root: Any, info: Info) -> str:
    return f"{organization_uri(_ctx(info), root.organization)}/items/{root.id}"


# --- inventory ---------------------------------------------------------------------------


@strawberry.type(description="A node of the shared category taxonomy; codes are the same on every site.")
class Category(relay.Node):
    id: relay.NodeID[int]
    code: str = strawberry.field(description="Stable code shared by every site, e.g. C_15.")
    label_fr: str = strawberry.field(description="French label.")
    label_en: str = strawberry.field(description="English label.")
    rep_channel: str | None = strawberry.field(description="French end-of-life REP channel (filière), if any.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, (*_CATEGORY_ROWS, cls))

    @strawberry.field(description="The label in the language of the request.", metadata=reads("label_en", "label_fr"))
    def label(self, info: Info) -> str:
        return self.label_en if _ctx(info).locale == "en" else self.label_fr

    @strawberry.field(description="The parent category.", metadata=reads("parent_id"))
    def parent(self) -> "Category | None":
        return _related(self, "parent")


@strawberry.type(description="A place inside an organization where things are kept.")
class Location:
    name: str = strawberry.field(description="Name of the place.")


@strawberry.type(description="A photo of an item.")
class Photo:
    content_type: str = strawberry.field(description="image/jpeg, image/png, image/webp or image/gif.")
    size: int = strawberry.field(description="Size in bytes.")
    position: int = strawberry.field(description="Order among the item's photos.")

    # A page's rows carry their url (``loaders.item_rows``): read as a plain field.
    @strawberry.field(description="Where to download the photo.", metadata=reads("stored_name", row_attribute="url"))
    def url(self, info: Info) -> str:
        return loaders.photo_url(_ctx(info).base_url, self.stored_name)  # type: ignore[attr-defined]


@strawberry.type(description="One thing or a bulk stock in an organization's inventory.")
class Item(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="Short title.")
    description: str = strawberry.field(description="Longer description.")
    unit: Unit = strawberry.field(description="Unit of the quantity.")
    quantity: Decimal = strawberry.field(description="Quantity in stock: the sum of the item's stock movements.")
    unit_weight_kg: Decimal | None = strawberry.field(description="Weight of one unit, in kg.")
    unit_value: Decimal | None = strawberry.field(description="Value of one unit, in euros.")
    condition: Condition = strawberry.field(description="State of the item.")
    status: ItemStatus = strawberry.field(
        description="Whether staff offer it; it stays AVAILABLE when the stock runs out (read quantity, or filter with inStock)."
    )
    visibility: Visibility = strawberry.field(description="Who sees it.")
    sharing_modes: list[SharingMode] = strawberry.field(description="How it may be shared.")
    attributes: JSON = strawberry.field(description="Free attributes added by modules.")
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    updated_at: dt.datetime = strawberry.field(description="When it last changed.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, (*_ITEM_ROWS, cls))

    # The relations are plain fields: graphql-core reads the row's attribute, with no
    # resolver call per item. A page's rows carry them (``loaders.item_rows``), as do
    # ``prepare_items``'s models; a model's unfetched relation is Tortoise's awaitable,
    # which the executor awaits. ``uri`` is declared the same way, its resolver given to
    # ``strawberry.field``, because Strawberry lists such fields before the methods: the
    # schema keeps its order.
    uri: str = strawberry.field(
        resolver=_item_uri,
        description="Canonical URI of the item.",
        metadata=reads("id", "organization.remote_uri", "organization.slug"),
    )
    organization: Organization = strawberry.field(description="The organization that holds it.")
    category: Category | None = strawberry.field(description="Its category in the shared taxonomy.")
    location: Location | None = strawberry.field(description="Where it is kept.")
    # A page's rows carry a list; a model, its reverse relation: a list once prefetched,
    # else Tortoise's awaitable, which the executor awaits.
    photos: list[Photo] = strawberry.field(description="Its photos, in order (a few at most, so a plain list).")


@strawberry.type(description="One line of an item's append-only stock ledger.")
class StockMovement(relay.Node):
    id: relay.NodeID[int]
    kind: MovementKind = strawberry.field(description="Why stock moved.")
    quantity: Decimal = strawberry.field(description="Signed quantity: positive in, negative out.")
    weight_kg: Decimal | None = strawberry.field(description="Weight moved, in kg.")
    occurred_at: dt.datetime = strawberry.field(description="When it happened.")
    counterparty: str = strawberry.field(description="Who gave, bought or received it.")
    note: str = strawberry.field(description="Free note.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, inventory.StockMovement | cls)


# --- projects ----------------------------------------------------------------------------


@strawberry.type(description="A task of a project.")
class Task(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="What is to be done.")
    description: str = strawberry.field(description="Details.")
    status: TaskStatus = strawberry.field(description="Where it stands.")
    due_on: dt.date | None = strawberry.field(description="When it is due.")
    position: int = strawberry.field(description="Order in the project.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, projects.Task | cls)

    # Never null: a task is read only through its project, which the actor may see.
    @strawberry.field(description="The project it belongs to.")
    async def project(self, info: Info) -> "Project":
        return await loaders.project_by_id_loader(_ctx(info)).load(self.project_id)  # type: ignore[attr-defined,return-value]


@strawberry.type(description="Something a project needs: items of a category or a skill.")
class ProjectNeed:
    kind: NeedKind = strawberry.field(description="Items or a skill.")
    skill: str = strawberry.field(description="The skill wanted (skill needs).")
    description: str = strawberry.field(description="Details.")
    quantity: Decimal = strawberry.field(description="How many (item needs).")
    unit: Unit = strawberry.field(description="Unit of the quantity.")
    fulfilled: bool = strawberry.field(description="Whether the need is met.")


@strawberry.type(description="A commons project led by an organization, possibly with partners.")
class Project(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="Title.")
    summary: str = strawberry.field(description="One-paragraph summary.")
    description: str = strawberry.field(description="Documentation, in Markdown.")
    status: ProjectStatus = strawberry.field(description="Where it stands.")
    visibility: Visibility = strawberry.field(description="Who sees it.")
    licence: str = strawberry.field(description="SPDX identifier of its documentation's licence.")
    starts_on: dt.date | None = strawberry.field(description="Start date.")
    ends_on: dt.date | None = strawberry.field(description="End date.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, projects.Project | cls)

    @strawberry.field(description="Canonical URI of the project.")
    def uri(self, info: Info) -> str:
        return f"{organization_uri(_ctx(info), self.lead_organization)}/projects/{self.id}"

    @strawberry.field(description="The organization leading it.")
    def lead_organization(self) -> Organization:
        return _related(self, "lead_organization")

    @strawberry.field(description="Partner organizations of the project, by id.")
    async def partner_organizations(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Organization]:
        return connect_rows(await _reverse_rows(self, "partner_organizations"), first, after, last, before)

    @strawberry.field(description="What the project needs, by id.")
    async def needs(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ProjectNeed]:  # type: ignore[type-var]  # a need is no Node; its edges work all the same
        return connect_rows(await _reverse_rows(self, "needs"), first, after, last, before)

    @strawberry.field(description="The project's tasks, in order.")
    async def tasks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task]:
        ctx = _ctx(info)
        loaders.project_by_id_loader(ctx).prime(self.id, self)  # type: ignore[arg-type]  # its tasks' project
        window = Window(first, after, last, before, wants_total(info))
        return connection(await loaders.tasks_by_project_loader(ctx, _place(info), window).load(self.id))


# --- members and network -----------------------------------------------------------------


@strawberry.type(description="A person's membership of an organization (visible to its staff).")
class Member(relay.Node):
    id: relay.NodeID[int]
    role: Role = strawberry.field(description="Role in the organization.")
    valid_from: dt.date = strawberry.field(description="Start of the membership.")
    valid_until: dt.date | None = strawberry.field(description="End of the membership, if any.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, members.Membership | cls)

    @strawberry.field(description="The member's name.")
    def display_name(self) -> str:
        return self.user.display_name  # type: ignore[attr-defined]

    @strawberry.field(description="The member's e-mail address.")
    def email(self) -> str:
        return self.user.email  # type: ignore[attr-defined]

    @strawberry.field(description="The organization.")
    def organization(self) -> Organization:
        return _related(self, "organization")


@strawberry.type(description="A partnership between two organizations.")
class Partnership(relay.Node):
    id: relay.NodeID[int]
    status: PartnershipStatus = strawberry.field(description="Where the request stands.")
    message: str = strawberry.field(description="The requester's message.")
    created_at: dt.datetime = strawberry.field(description="When it was requested.")
    responded_at: dt.datetime | None = strawberry.field(description="When it was answered.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, network.Partnership | cls)

    organization: Organization = strawberry.field(description="The organization that asked.")
    partner: Organization = strawberry.field(description="The organization asked.")


@strawberry.type(description="A partner organization's request for an item.")
class ExchangeRequest(relay.Node):
    id: relay.NodeID[int]
    kind: ExchangeKind = strawberry.field(description="Borrow, receive or buy.")
    quantity: Decimal = strawberry.field(description="Quantity asked for.")
    message: str = strawberry.field(description="The requester's message.")
    status: ExchangeStatus = strawberry.field(description="Where it stands.")
    response_message: str = strawberry.field(description="The owner's answer.")
    due_back_on: dt.date | None = strawberry.field(description="Return date of a loan.")
    created_at: dt.datetime = strawberry.field(description="When it was made.")

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, network.ExchangeRequest | cls)

    @strawberry.field(description="Canonical URI of the request.")
    def uri(self, info: Info) -> str:
        return f"{organization_uri(_ctx(info), self.owner_organization)}/exchanges/{self.id}"

    @strawberry.field(description="The item asked for, when you may still see it.")
    async def item(self, info: Info) -> Item | None:
        return await item_loader(info).load(self.item_id)  # type: ignore[attr-defined,return-value]

    @strawberry.field(description="The organization that owns the item.")
    def owner_organization(self) -> Organization:
        return _related(self, "owner_organization")

    @strawberry.field(description="The organization asking.")
    def requester_organization(self) -> Organization:
        return _related(self, "requester_organization")


# --- the viewer --------------------------------------------------------------------------


@strawberry.type(description="A role you hold in an organization.")
class Membership:
    role: Role = strawberry.field(description="Your role there.")
    organization: Organization = strawberry.field(description="The organization.")


@strawberry.type(description="You: the account behind the session or token.")
class Me:
    display_name: str = strawberry.field(description="Your name.")
    email: str = strawberry.field(description="Your e-mail address.")
    locale: str = strawberry.field(description="Your language (fr or en).")
    memberships: list[Membership] = strawberry.field(description="Your roles today.")
    scopes: list[str] | None = strawberry.field(description="The token's scopes; null for a browser session.")


ITEM_ORDER = {
    "ID": ("id", "int"),
    "TITLE": ("title", "str"),
    "CREATED_AT": ("created_at", "datetime"),
    "UPDATED_AT": ("updated_at", "datetime"),
}


@strawberry.enum(description="Fields items can be sorted by (then by id).")
class ItemOrderField(StrEnum):
    ID = "ID"
    TITLE = "TITLE"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@strawberry.enum(description="Sort direction.")
class OrderDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="How to sort items.")
class ItemOrder:
    field: ItemOrderField = strawberry.field(default=ItemOrderField.ID, description="Sort key.")
    direction: OrderDirection = strawberry.field(default=OrderDirection.ASC, description="Direction.")

    def as_order(self) -> Order:
        name, kind = ITEM_ORDER[self.field.value]
        return Order(field=name, descending=self.direction == OrderDirection.DESC, kind=kind)

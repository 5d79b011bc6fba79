"""What fabcom says over ActivityPub: the JSON-LD of the objects and activities it
emits, and the parsing of the ones it receives.

Every shared object has two readings. Any fediverse software sees a plain
ActivityStreams ``Page`` (a titled thing with a text, a link and an author: Mastodon,
Lemmy or Mobilizon show it as a titled link card; a ``Note`` would be shown as a short
message without its title). fabcom instances read the economic meaning beside it, in
the ValueFlows vocabulary: an item carries its ``resource`` (``vf:EconomicResource``
with its quantity and category) and, when it is offered, its ``proposal`` (FEP-0837
``Proposal`` with ``purpose: offer`` publishing one ``Intent`` per way it is shared);
a project carries its ``plan`` (``vf:Plan``) and its needs as a ``Proposal`` with
``purpose: request``. A member who consented to be recognised is a ``Profile``. An
exchange is an FEP-0837 ``Agreement`` offered with ``Offer`` and answered with
``Accept`` / ``Reject``; "handed over" and "returned" are ``Update`` of the agreement.

Everything received is untrusted: parsed by pydantic models that ignore unknown
fields and bound every size, HTML sanitised by nh3, ids on the sender's host and
objects attributed to the sender. A refused object raises ``Refused`` (the caller logs
it and moves on: no 500, nothing written).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from decimal import Decimal, InvalidOperation
from html import unescape
from typing import Annotated, Any
from urllib.parse import urlsplit

import nh3
import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from fabcom.federation.models import Audience

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CATEGORY_URN = "urn:fabcom:category:"
_TAG = re.compile(r"<[^>]*>")

# The largest object fabcom accepts (serialised), and the bounds of its fields.
MAX_OBJECT_BYTES = 64 * 1024
MAX_CONTENT_CHARS = 20_000

# fabcom's units as om2 unit names (what FEP-0837 and ValueFlows use), and back.
UNIT_TO_OM2 = {"piece": "one", "kg": "kilogram", "m": "metre", "m2": "squareMetre", "l": "litre", "set": "set"}
OM2_TO_UNIT = {v: k for k, v in UNIT_TO_OM2.items()}

# How an item is shared, as the ValueFlows action of the Intent that offers it.
MODE_ACTIONS = {"give": "transfer", "sell": "transfer", "lend": "transferCustody", "use_on_site": "use"}

CONTEXT_DOCUMENT: dict[str, Any] = {
    "@context": {
        "vf": "https://w3id.org/valueflows/ont/vf#",
        "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
        "fabcom": "urn:fabcom:",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        # FEP-0837 (federated marketplace) and ValueFlows terms.
        "Proposal": "vf:Proposal",
        "Intent": "vf:Intent",
        "Agreement": "vf:Agreement",
        "Commitment": "vf:Commitment",
        "EconomicResource": "vf:EconomicResource",
        "Plan": "vf:Plan",
        "purpose": "vf:purpose",
        "unitBased": {"@id": "vf:unitBased", "@type": "xsd:boolean"},
        "publishes": {"@id": "vf:publishes", "@type": "@id"},
        "action": "vf:action",
        "satisfies": {"@id": "vf:satisfies", "@type": "@id"},
        "stipulates": {"@id": "vf:stipulates", "@type": "@id"},
        "resourceInventoriedAs": {"@id": "vf:resourceInventoriedAs", "@type": "@id"},
        "resourceQuantity": "vf:resourceQuantity",
        "availableQuantity": "vf:availableQuantity",
        "accountingQuantity": "vf:accountingQuantity",
        "classifiedAs": {"@id": "vf:classifiedAs", "@type": "@id"},
        "due": {"@id": "vf:due", "@type": "xsd:date"},
        "hasUnit": "om2:hasUnit",
        "hasNumericalValue": "om2:hasNumericalValue",
        # fabcom's own terms (the namespace is a name, never fetched).
        "resource": {"@id": "fabcom:resource", "@type": "@id"},
        "proposal": {"@id": "fabcom:proposal", "@type": "@id"},
        "plan": {"@id": "fabcom:plan", "@type": "@id"},
        "sharingMode": "fabcom:sharingMode",
        "itemStatus": "fabcom:itemStatus",
        "condition": "fabcom:condition",
        "projectStatus": "fabcom:projectStatus",
        "licence": "fabcom:licence",
        "exchangeKind": "fabcom:exchangeKind",
        "exchangeStatus": "fabcom:exchangeStatus",
        "memberOf": {"@id": "fabcom:memberOf", "@type": "@id"},
        "validFrom": {"@id": "fabcom:validFrom", "@type": "xsd:date"},
        "validUntil": {"@id": "fabcom:validUntil", "@type": "xsd:date"},
    }
}


class Refused(Exception):
    """A received object fabcom will not store; the message says why (for the log)."""


# --- ids --------------------------------------------------------------------------------------------


def base_url() -> str:
    """This instance's public URL, the root of every id it mints."""
    from fabcom.settings import load_settings

    return load_settings().public_url


def context_url(base: str | None = None) -> str:
    return f"{base or base_url()}/ap/context.jsonld"


def context(base: str | None = None) -> list[str]:
    """The ``@context`` of every document fabcom emits."""
    return [AS_CONTEXT, context_url(base)]


def actor_id(slug: str, base: str | None = None) -> str:
    return f"{base or base_url()}/ap/o/{slug}"


def followers_id(actor: str) -> str:
    return f"{actor}/followers"


def item_id(pk: int, base: str | None = None) -> str:
    return f"{base or base_url()}/ap/items/{pk}"


def project_id(pk: int, base: str | None = None) -> str:
    return f"{base or base_url()}/ap/projects/{pk}"


def member_id(token: str, base: str | None = None) -> str:
    return f"{base or base_url()}/ap/members/{token}"


def new_activity_id(base: str | None = None) -> str:
    return f"{base or base_url()}/ap/activities/{uuid.uuid4()}"


def new_agreement_id(base: str | None = None) -> str:
    return f"{base or base_url()}/ap/agreements/{uuid.uuid4()}"


def local_pk(uri: str, kind: str, base: str | None = None) -> int | None:
    """The primary key in a local id such as ``<base>/ap/items/12``, or None when ``uri``
    is not one of ours."""
    prefix = f"{base or base_url()}/ap/{kind}/"
    tail = uri.removeprefix(prefix) if uri.startswith(prefix) else ""
    return int(tail) if tail.isdigit() and len(tail) < 12 else None


def host_of(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme in ("http", "https") and parts.netloc else ""


# --- what fabcom emits ------------------------------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _iso_precise(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def quantity(value: Decimal, unit: str) -> dict[str, str]:
    return {"hasNumericalValue": _decimal_text(value), "hasUnit": UNIT_TO_OM2.get(unit, unit)}


def _decimal_text(value: Decimal) -> str:
    text = format(Decimal(value).normalize(), "f")
    return text


def addressing(audience: Audience, actor: str, recipients: list[str] | tuple[str, ...] = ()) -> dict[str, list[str]]:
    """``to`` / ``cc`` for an audience: public (anyone, copied to the followers), partners
    (the followers, who are the accepted partners) or direct (the named actors)."""
    if audience == Audience.PUBLIC:
        return {"to": [AS_PUBLIC], "cc": [followers_id(actor)]}
    if audience == Audience.PARTNERS:
        return {"to": [followers_id(actor)], "cc": []}
    return {"to": list(recipients), "cc": []}


def item_object(
    *,
    pk: int,
    actor: str,
    title: str,
    description: str,
    category_code: str | None,
    quantity_value: Decimal,
    unit: str,
    condition: str,
    status: str,
    sharing_modes: list[str],
    audience: Audience,
    published: dt.datetime,
    updated: dt.datetime,
    image_url: str | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """An item as a ``Page`` any fediverse software can show, with its ValueFlows
    ``EconomicResource`` and, when it is offered, its FEP-0837 ``Proposal``."""
    uri = item_id(pk, base)
    amount = quantity(quantity_value, unit)
    resource: dict[str, Any] = {
        "id": f"{uri}#resource",
        "type": "EconomicResource",
        "name": title,
        "accountingQuantity": amount,
        "classifiedAs": [f"{CATEGORY_URN}{category_code}"] if category_code else [],
        "condition": condition,
        "itemStatus": status,
    }
    obj: dict[str, Any] = {
        "id": uri,
        "type": "Page",
        "name": title,
        "summary": f"{amount['hasNumericalValue']} {unit}",
        "content": _paragraphs(description),
        "mediaType": "text/html",
        "url": uri,
        "attributedTo": actor,
        "published": _iso(published),
        "updated": _iso_precise(updated),
        **addressing(audience, actor),
        "resource": resource,
    }
    if image_url:
        obj["image"] = {"type": "Image", "url": image_url}
    if sharing_modes:
        obj["proposal"] = {
            "id": f"{uri}#proposal",
            "type": "Proposal",
            "purpose": "offer",
            "name": title,
            "unitBased": False,
            "publishes": [
                {
                    "id": f"{uri}#{mode}",
                    "type": "Intent",
                    "action": MODE_ACTIONS.get(mode, "transfer"),
                    "sharingMode": mode,
                    "resourceInventoriedAs": f"{uri}#resource",
                    "availableQuantity": amount,
                }
                for mode in sorted(sharing_modes)
            ],
        }
    return obj


def project_object(
    *,
    pk: int,
    actor: str,
    title: str,
    summary: str,
    description: str,
    status: str,
    licence: str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    needs: list[dict[str, Any]],
    audience: Audience,
    published: dt.datetime,
    updated: dt.datetime,
    base: str | None = None,
) -> dict[str, Any]:
    """A project as a ``Page`` with its ValueFlows ``Plan``; its needs (items of a
    category or skills) as a ``Proposal`` with ``purpose: request``.

    ``needs``: dicts with ``id``, ``category_code`` or ``skill``, ``quantity``, ``unit``.
    """
    uri = project_id(pk, base)
    plan: dict[str, Any] = {"id": f"{uri}#plan", "type": "Plan", "name": title, "projectStatus": status}
    if ends_on:
        plan["due"] = ends_on.isoformat()
    if starts_on:
        plan["startTime"] = starts_on.isoformat()
    obj: dict[str, Any] = {
        "id": uri,
        "type": "Page",
        "name": title,
        "summary": summary,
        "content": _paragraphs(description),
        "mediaType": "text/html",
        "url": uri,
        "attributedTo": actor,
        "published": _iso(published),
        "updated": _iso_precise(updated),
        **addressing(audience, actor),
        "licence": licence,
        "plan": plan,
    }
    if needs:
        obj["proposal"] = {
            "id": f"{uri}#needs",
            "type": "Proposal",
            "purpose": "request",
            "name": title,
            "unitBased": False,
            "publishes": [
                {
                    "id": f"{uri}#need-{need['id']}",
                    "type": "Intent",
                    "action": "transfer" if need.get("category_code") else "work",
                    **(
                        {"classifiedAs": [f"{CATEGORY_URN}{need['category_code']}"]}
                        if need.get("category_code")
                        else {"name": need.get("skill", "")}
                    ),
                    "resourceQuantity": quantity(need["quantity"], need["unit"]),
                }
                for need in needs
            ],
        }
    return obj


def member_profile(
    *,
    token: str,
    actor: str,
    display_name: str,
    organization_name: str,
    valid_from: dt.date,
    valid_until: dt.date | None,
    updated: dt.datetime,
    base: str | None = None,
) -> dict[str, Any]:
    """The minimal profile of a member who consented to be recognised by the partners:
    display name, organization, validity of the membership. Nothing else (no e-mail)."""
    obj: dict[str, Any] = {
        "id": member_id(token, base),
        "type": "Profile",
        "name": display_name,
        "summary": organization_name,
        "attributedTo": actor,
        "memberOf": actor,
        "describes": {"type": "Person", "name": display_name},
        "validFrom": valid_from.isoformat(),
        "updated": _iso_precise(updated),
        **addressing(Audience.PARTNERS, actor),
    }
    if valid_until:
        obj["validUntil"] = valid_until.isoformat()
    return obj


def agreement_object(
    *,
    uri: str,
    actor: str,
    item_uri: str,
    kind: str,
    quantity_value: Decimal,
    unit: str,
    message: str,
    due_back_on: dt.date | None,
) -> dict[str, Any]:
    """An exchange proposed by ``actor`` for a partner's item: an FEP-0837 ``Agreement``
    whose ``Commitment`` satisfies the item's ``Intent`` for that way of sharing."""
    mode = {"borrow": "lend", "receive": "give", "buy": "sell"}[kind]
    commitment: dict[str, Any] = {
        "id": f"{uri}#primary",
        "type": "Commitment",
        "satisfies": f"{item_uri}#{mode}",
        "resourceInventoriedAs": f"{item_uri}#resource",
        "resourceQuantity": quantity(quantity_value, unit),
    }
    if due_back_on:
        commitment["due"] = due_back_on.isoformat()
    return {
        "id": uri,
        "type": "Agreement",
        "attributedTo": actor,
        "content": _paragraphs(message),
        "exchangeKind": kind,
        "stipulates": commitment,
    }


def activity(
    kind: str,
    *,
    actor: str,
    obj: dict[str, Any] | str,
    audience: Audience,
    recipients: list[str] | tuple[str, ...] = (),
    published: dt.datetime,
    activity_uri: str | None = None,
    extra: dict[str, Any] | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """A complete activity document (with its ``@context``) ready for ``publish``."""
    return {
        "@context": context(base),
        "id": activity_uri or new_activity_id(base),
        "type": kind,
        "actor": actor,
        "published": _iso_precise(published),
        **addressing(audience, actor, recipients),
        "object": obj,
        **(extra or {}),
    }


def tombstone(uri: str, former_type: str, deleted: dt.datetime) -> dict[str, Any]:
    return {"id": uri, "type": "Tombstone", "formerType": former_type, "deleted": _iso_precise(deleted)}


def _paragraphs(text: str) -> str:
    """Plain text as escaped HTML paragraphs (what ``content`` carries)."""
    from markupsafe import escape

    blocks = [b.strip() for b in (text or "").replace("\r\n", "\n").split("\n\n") if b.strip()]
    return "".join(f"<p>{escape(b)}</p>".replace("\n", "<br>") for b in blocks)


# --- what fabcom accepts ----------------------------------------------------------------------------


# HTML that is already safe as it is: plain text without markup, or paragraphs and line
# breaks without attributes (what fabcom's own ``_paragraphs`` emits) whose text has no
# ``<``, ``>`` or bare ``&`` (only the entities ``_paragraphs`` writes). Anything else,
# however small the difference (an attribute, another tag, upper case), goes through nh3.
_SAFE_TEXT = r"(?:[^<>&\x00-\x08\x0b-\x1f\x7f\xa0]|&(?:amp|lt|gt|#39|#34);)"
_SAFE_HTML = re.compile(rf"(?:{_SAFE_TEXT}*|(?:<p>(?:{_SAFE_TEXT}|<br>)*</p>\n?)+)")


def clean_html(html: str) -> str:
    """Received HTML, sanitised (no script, style, event handler or foreign tag) and bounded.
    HTML that is safe as it is (``_SAFE_HTML``: no tag but ``<p>`` and ``<br>``, no
    attribute) skips nh3, the largest cost of mirroring a catch-up page."""
    html = html[: MAX_CONTENT_CHARS * 2]
    if _SAFE_HTML.fullmatch(html) and len(html) <= MAX_CONTENT_CHARS:
        return html
    return nh3.clean(html, link_rel="noopener noreferrer nofollow")[:MAX_CONTENT_CHARS]


def text_of(html: str) -> str:
    """The plain text of received HTML (tags dropped, entities decoded), for search and
    plain displays; templates escape it again when they show it."""
    if "<" not in html and "&" not in html:
        return html[:MAX_CONTENT_CHARS]
    return unescape(nh3.clean(html[: MAX_CONTENT_CHARS * 2], tags=set()))[:MAX_CONTENT_CHARS]


def text_of_clean(html: str) -> str:
    """The text of HTML already cleaned by ``clean_html`` (cheaper than ``text_of``)."""
    return " ".join(unescape(_TAG.sub(" ", html)).split())


class _Received(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ReceivedQuantity(_Received):
    hasNumericalValue: Decimal = Field(ge=0, le=Decimal("99999999999"), max_digits=14, decimal_places=3)
    hasUnit: str = Field(default="one", max_length=40)

    @field_validator("hasNumericalValue", mode="before")
    @classmethod
    def _number_text(cls, value: Any) -> Any:
        try:
            return Decimal(str(value)).quantize(Decimal("0.001"))
        except (InvalidOperation, ValueError):
            return value

    @property
    def unit(self) -> str:
        return OM2_TO_UNIT.get(self.hasUnit, "piece")


class ReceivedIntent(_Received):
    id: str = Field(default="", max_length=600)
    sharingMode: str = Field(default="", max_length=20)


class ReceivedProposal(_Received):
    purpose: str = Field(default="offer", max_length=20)
    publishes: list[ReceivedIntent] = Field(default_factory=list, max_length=20)

    @field_validator("publishes", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class ReceivedResource(_Received):
    accountingQuantity: ReceivedQuantity | None = None
    classifiedAs: list[str] = Field(default_factory=list, max_length=10)
    itemStatus: str = Field(default="available", max_length=20)
    condition: str = Field(default="", max_length=20)

    @field_validator("classifiedAs", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ReceivedPlan(_Received):
    projectStatus: str = Field(default="", max_length=20)


class ReceivedObject(_Received):
    """The fields fabcom reads from a shared object; the rest is ignored."""

    id: str = Field(max_length=500)
    type: (
        Annotated[str, Field(max_length=60)]
        | Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=5)]
    )
    name: str = Field(default="", max_length=500)
    summary: str = Field(default="", max_length=2_000)
    content: str = Field(default="", max_length=MAX_CONTENT_CHARS * 2)
    url: str | None = None
    image: Any = None
    attributedTo: Annotated[str, Field(max_length=500)] | Annotated[list[Any], Field(max_length=5)] = ""
    # Aware datetimes only (checked by pydantic itself: no Python call per object).
    published: AwareDatetime | None = None
    updated: AwareDatetime | None = None
    to: Annotated[list[str], Field(max_length=200)] | str = Field(default_factory=list)
    cc: Annotated[list[str], Field(max_length=200)] | str = Field(default_factory=list)
    resource: ReceivedResource | None = None
    proposal: ReceivedProposal | None = None
    plan: ReceivedPlan | None = None
    memberOf: str = Field(default="", max_length=500)
    validFrom: dt.date | None = None
    validUntil: dt.date | None = None

    @property
    def types(self) -> list[str]:
        return [self.type] if isinstance(self.type, str) else list(self.type)

    @property
    def author(self) -> str:
        if isinstance(self.attributedTo, str):
            return self.attributedTo
        for entry in self.attributedTo:
            if isinstance(entry, str):
                return entry
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                return entry["id"]
        return ""

    @property
    def audience(self) -> str:
        addressed = [self.to] if isinstance(self.to, str) else self.to
        copied = [self.cc] if isinstance(self.cc, str) else self.cc
        public = {AS_PUBLIC, "Public", "as:Public"}
        return "public" if public & set(addressed + copied) else "partners"

    @property
    def image_url(self) -> str:
        image = self.image[0] if isinstance(self.image, list) and self.image else self.image
        url = image.get("url") if isinstance(image, dict) else image
        if isinstance(url, list) and url:
            url = url[0]
        if isinstance(url, dict):
            url = url.get("href")
        return url if isinstance(url, str) and host_of(url) and len(url) <= 500 else ""


class ObjectKind:
    ITEM = "item"
    PROJECT = "project"
    MEMBER = "member"


def kind_of(obj: ReceivedObject) -> str | None:
    """What a shared object is to fabcom: an item (a ``Page`` with its resource), a
    project (with its plan), a member profile; None for anything else."""
    if "Profile" in obj.types:
        return ObjectKind.MEMBER
    if obj.resource is not None:
        return ObjectKind.ITEM
    if obj.plan is not None:
        return ObjectKind.PROJECT
    return None


# ``\u0000`` in JSON text, unless its backslash is itself escaped (the text ``\\u0000``).
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def parse_object(raw: Any, sender_actor: str, encoded: bytes | None = None) -> ReceivedObject:
    """Parse a shared object sent by ``sender_actor``; raise ``Refused`` when it is too
    big, malformed, not on the sender's host or not attributed to the sender.
    ``encoded``: the object's JSON when the caller has it already."""
    if not isinstance(raw, dict):
        raise Refused("the object is not embedded")
    encoded = encoded if encoded is not None else orjson.dumps(raw)
    if len(encoded) > MAX_OBJECT_BYTES:
        raise Refused(f"the object is larger than {MAX_OBJECT_BYTES} bytes")
    if b"\\u0000" in encoded and _NUL_ESCAPE.search(encoded):
        # PostgreSQL stores no NUL in text or jsonb: one would fail the whole page's statement.
        raise Refused("the object contains a NUL character")
    try:
        obj = ReceivedObject.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Refused(f"malformed object: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    check_origin(obj.id, sender_actor)
    if obj.author != sender_actor:
        raise Refused(f"{obj.id} is attributed to {obj.author or 'nobody'}, not to the sender {sender_actor}")
    return obj


def check_origin(uri: str, sender_actor: str) -> None:
    """An id must live on the host of the actor that sends it (same scheme, host and
    port: ``https://b.example/…`` for ``https://b.example/ap/o/b``)."""
    host = _host_cached(sender_actor)
    if not host or not uri[: len(host) + 1].lower() == host + "/":
        raise Refused(f"{uri!r} is not on the sender's host {host}")


@functools.lru_cache(maxsize=1024)
def _host_cached(actor: str) -> str:
    return host_of(actor)


def object_uri(activity: dict[str, Any]) -> str:
    """The id of an activity's object, embedded or by reference ('' when missing)."""
    obj = activity.get("object")
    if isinstance(obj, dict):
        obj = obj.get("id")
    return obj if isinstance(obj, str) and len(obj) <= 500 else ""


def category_code(obj: ReceivedObject) -> str | None:
    for entry in obj.resource.classifiedAs if obj.resource else []:
        if entry.startswith(CATEGORY_URN):
            code = entry.removeprefix(CATEGORY_URN)
            return code[:40] or None
    return None


def sharing_modes(obj: ReceivedObject) -> list[str]:
    known = {"give", "lend", "sell", "use_on_site"}
    if obj.proposal is None or obj.proposal.purpose != "offer":
        return []
    return sorted({i.sharingMode for i in obj.proposal.publishes if i.sharingMode in known})

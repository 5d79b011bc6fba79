"""Leave with your data: one organization as a zip of JSON-LD documents plus its photos
(``fabcom org export``), loaded into another instance by ``fabcom org import``.

Archive layout (format version 1)::

    manifest.json            format, version, fabcom version, export time, the documents
                             in load order and each attachment's SHA-256
    organization.jsonld      the organization (ActivityStreams ``Organization``)
    members.jsonld           people with a membership (``Person``: name, e-mail, language)
    <table>.jsonld           one ``OrderedCollection`` per table: locations, items
                             (``vf:EconomicResource``), stock movements (``vf:EconomicEvent``),
                             attachments, memberships and fees, projects (``vf:Plan``),
                             tasks, needs (``vf:Intent``), participants
    modules/<slug>/<table>.jsonld   each enabled module's tables (``fabcom_org_export``)
    categories.jsonld        the taxonomy categories used (code and labels), for readers
    attachments/<n><ext>     the photos and documents

References between documents are archive-local ids (``fabcom_item/3``: the third item
in id order), ``organization`` for the exported organization, ``members/2`` for a
person, ``category:<code>`` for the shared taxonomy. Links to other organizations
(partners, counterparties) are not exported. Instance-specific values — database ids,
``created_at``/``updated_at``, stored file names, the export time, the token of a
member's shared profile — are left out or change; everything else survives an export →
import → export round trip unchanged.

The vocabulary is federation's (``fabcom.federation.vocab``): every document's
``@context`` is ActivityStreams plus the context federation publishes at
``/ap/context.jsonld`` (inlined, so the archive does not depend on the old instance's
address), and the properties federation names are written under its names (an item's
``name``, ``itemStatus``, ``sharingMode``; a project's ``name``, ``projectStatus``,
``startTime``, ``due``). Other columns keep their own names, in federation's ``fabcom:``
namespace (``@vocab``). A person's ``recognisedByPartners`` is their consent to be
recognised by the organization's partners (``fabcom.federation.members``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from tortoise import fields as tfields
from tortoise.models import Model
from tortoise.transactions import in_transaction

from fabcom import __version__, clock
from fabcom.audit.services import record
from fabcom.auth.models import User
from fabcom.federation.vocab import AS_CONTEXT, CONTEXT_DOCUMENT
from fabcom.inventory.models import Attachment, Category, Item, Location, StockMovement
from fabcom.members.models import Membership, MembershipFee
from fabcom.module_system.hooks import call_async, plugin_manager
from fabcom.orgs.models import Organization
from fabcom.permissions import Principal, system_principal
from fabcom.projects.models import Participant, Project, ProjectNeed, Task

FORMAT = "fabcom-organization-export"
VERSION = 1
# Federation's context (the document served at /ap/context.jsonld), inlined; the columns
# federation has no term for are in its ``fabcom:`` namespace.
CONTEXT: list[Any] = [AS_CONTEXT, CONTEXT_DOCUMENT["@context"], {"@vocab": "urn:fabcom:"}]
# Columns written under federation's term for the same thing (vocab.item_object,
# vocab.project_object); an import also accepts the column's own name.
TERMS: dict[str, dict[str, str]] = {
    "fabcom_item": {"title": "name", "status": "itemStatus", "sharing_modes": "sharingMode"},
    "fabcom_project": {"title": "name", "status": "projectStatus", "starts_on": "startTime", "ends_on": "due"},
    "fabcom_project_need": {"skill": "name"},
}
# Core tables in load order (a table only points at tables before it).
CORE_MODELS: list[type[Model]] = [
    Location,
    Item,
    StockMovement,
    Membership,
    MembershipFee,
    Project,
    Task,
    ProjectNeed,
    Participant,
    Attachment,  # photos of items, documents of projects
]
TYPES = {
    "fabcom_location": "Place",
    "fabcom_item": "vf:EconomicResource",
    "fabcom_stock_movement": "vf:EconomicEvent",
    "fabcom_attachment": "Document",
    "fabcom_membership": "fabcom:Membership",
    "fabcom_membership_fee": "fabcom:MembershipFee",
    "fabcom_project": "vf:Plan",
    "fabcom_task": "vf:Commitment",
    "fabcom_project_need": "vf:Intent",
    "fabcom_participant": "fabcom:Participant",
}
INSTANCE_FIELDS = {"created_at", "updated_at", "stored_name", "remote_uri", "is_local"}
ORG_FIELDS: tuple[str, ...] = ("name", "kind", "description", "address", "postal_code", "city", "country")
ORG_FIELDS += ("latitude", "longitude", "email", "website")
# Refusals of a bad archive.
MAX_ENTRIES = 100_000
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_RATIO = 200  # uncompressed / compressed, per file: beyond, a zip bomb
SAFE_NAME = re.compile(
    r"^(manifest\.json|[a-z_]+\.jsonld|modules/[a-z][a-z0-9_]*/[a-z_]+\.jsonld|attachments/[0-9]+(\.[a-z0-9]{1,8})?)$"
)


class ArchiveError(Exception):
    """The archive cannot be imported (or the export cannot be written); nothing was written."""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, dict | list | str | int | float | bool):
        return value.value
    return value


def _fk_fields(model: type[Model]) -> dict[str, tfields.relational.ForeignKeyFieldInstance]:
    return {
        name: f
        for name, f in model._meta.fields_map.items()
        if isinstance(f, tfields.relational.ForeignKeyFieldInstance | tfields.relational.OneToOneFieldInstance)
    }


def _data_fields(model: type[Model]) -> list[str]:
    fks = _fk_fields(model)
    sources = {f.source_field for f in fks.values()}
    names = []
    for name, f in model._meta.fields_map.items():
        if name == model._meta.pk_attr or name in fks or name in sources or name in INSTANCE_FIELDS:
            continue
        if isinstance(f, tfields.relational.RelationalField):  # reverse relations, many-to-many
            continue
        names.append(name)
    return names


@dataclass
class ExportContext:
    """What an export is writing; modules add their tables with ``export_models``."""

    organization: Organization
    refs: dict[str, dict[int, str]] = field(default_factory=dict)
    user_refs: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)
    categories_used: set[int] = field(default_factory=set)
    documents: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    uploads_dir: Path | None = None

    def ref(self, model: type[Model], value: int | None) -> str | None:
        if value is None:
            return None
        if model is Organization:
            return "organization" if value == self.organization.id else None
        if model is User:
            return self.user_refs.get(value)
        if model is Category:
            if value not in self.categories:
                return None
            self.categories_used.add(value)
            return f"category:{self.categories[value]}"
        return self.refs.get(model._meta.db_table, {}).get(value)

    async def rows(self, model: type[Model]) -> list[Model]:
        """The organization's rows of ``model``: through a required link to a table
        already exported (a movement's item, a task's project), else through its
        ``organization`` field."""
        fks = _fk_fields(model)
        order = model._meta.pk_attr
        for _name, f in fks.items():
            table = f.related_model._meta.db_table
            if table in self.refs and not f.null:
                ids = list(self.refs[table])
                return await model.filter(**{f"{f.source_field}__in": ids}).order_by(order) if ids else []
        for name, f in fks.items():
            if f.related_model is Organization and name in ("organization", "lead_organization"):
                return await model.filter(**{str(f.source_field): self.organization.id}).order_by(order)
        raise ArchiveError(f"table {model._meta.db_table}: no link to the organization")

    async def export_models(self, prefix: str, models: list[type[Model]]) -> None:
        """Write one document per table of ``models`` (in load order)."""
        for model in models:
            table = model._meta.db_table
            rows = await self.rows(model)
            self.refs[table] = {getattr(r, model._meta.pk_attr): f"{table}/{n}" for n, r in enumerate(rows, 1)}
            docs = []
            for row in rows:
                doc: dict[str, Any] = {"id": self.refs[table][getattr(row, model._meta.pk_attr)]}
                if table in TYPES:
                    doc["type"] = TYPES[table]
                for name, f in _fk_fields(model).items():
                    doc[name] = self.ref(f.related_model, getattr(row, str(f.source_field)))
                terms = TERMS.get(table, {})
                for name in _data_fields(model):
                    doc[terms.get(name, name)] = _plain(getattr(row, name))
                if model is Attachment:
                    doc["url"] = await self._attach(row)  # type: ignore[arg-type]
                docs.append(doc)
            self.documents[f"{prefix}{table}.jsonld"] = {
                "@context": CONTEXT,
                "type": "OrderedCollection",
                "totalItems": len(docs),
                "orderedItems": docs,
            }

    async def _attach(self, attachment: Attachment) -> str:
        if self.uploads_dir is None:
            raise ArchiveError("no uploads folder to read attachments from")
        path = self.uploads_dir / attachment.stored_name
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"attachment {attachment.original_name!r} is missing from the uploads: {exc}") from None
        suffix = PurePosixPath(attachment.stored_name).suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
            suffix = ""
        name = f"attachments/{len(self.files) + 1}{suffix}"
        self.files[name] = content
        return name


async def export_organization(
    actor: Principal, slug: str, uploads_dir: Path | None, exported_at: dt.datetime | None = None
) -> bytes:
    """The organization as a zip archive (bytes). Only its owners (or the instance)."""
    from fabcom.errors import PermissionDenied
    from fabcom.members.models import Role

    org = await Organization.get_or_none(slug=slug, is_local=True)
    if org is None:
        raise ArchiveError(f"no local organization {slug!r}")
    if not actor.is_system and actor.roles.get(org.id) != Role.OWNER:
        raise PermissionDenied()
    ctx = ExportContext(org, uploads_dir=uploads_dir)
    ctx.categories = {int(pk): str(code) for pk, code in await Category.all().values_list("id", "code")}
    memberships = await Membership.filter(organization_id=org.id).prefetch_related("user").order_by("id")
    from fabcom.federation.mirror_models import SharedProfile

    consenting = set(await SharedProfile.filter(organization_id=org.id).values_list("user_id", flat=True))
    people = []
    for n, membership in enumerate(memberships, 1):
        user = membership.user
        ctx.user_refs[user.id] = f"members/{n}"
        people.append(
            {
                "id": f"members/{n}",
                "type": "Person",
                "name": user.display_name,
                "email": user.email,
                "locale": user.locale,
                "recognisedByPartners": user.id in consenting,
            }
        )
    ctx.documents["organization.jsonld"] = {
        "@context": CONTEXT,
        "id": "organization",
        "type": "Organization",
        "preferredUsername": org.slug,
        **{name: _plain(getattr(org, name)) for name in ORG_FIELDS},
    }
    ctx.documents["members.jsonld"] = {
        "@context": CONTEXT,
        "type": "OrderedCollection",
        "totalItems": len(people),
        "orderedItems": people,
    }
    await ctx.export_models("", CORE_MODELS)
    await call_async(plugin_manager().hook.fabcom_org_export, context=ctx)
    used = await Category.filter(id__in=sorted(ctx.categories_used)).order_by("code")
    ctx.documents["categories.jsonld"] = {  # for readers: an import uses its own taxonomy, matched by code
        "@context": CONTEXT,
        "type": "OrderedCollection",
        "totalItems": len(used),
        "orderedItems": [
            {
                "id": f"category:{c.code}",
                "type": "Concept",
                "code": c.code,
                "label_fr": c.label_fr,
                "label_en": c.label_en,
            }
            for c in used
        ],
    }
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "fabcom_version": __version__,
        "exported_at": (exported_at or clock.now()).isoformat(),
        "organization": org.slug,
        "documents": list(ctx.documents),
        "attachments": {name: hashlib.sha256(content).hexdigest() for name, content in ctx.files.items()},
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for name, document in ctx.documents.items():
            archive.writestr(name, json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True))
        for name, content in ctx.files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- import


@dataclass
class ImportContext:
    """What an import is loading; modules load their tables with ``import_models``."""

    organization: Organization
    documents: dict[str, Any]
    files: dict[str, bytes]
    uploads_dir: Path
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)
    written_files: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def resolve(self, model: type[Model], ref: Any) -> int | None:
        if ref is None:
            return None
        if not isinstance(ref, str):
            raise ArchiveError(f"bad reference {ref!r}")
        if model is Organization:
            return self.organization.id if ref == "organization" else None
        if model is User:
            return self.users.get(ref)
        if model is Category:
            code = ref.removeprefix("category:")
            if code not in self.categories:
                raise ArchiveError(f"unknown category {code!r}")
            return self.categories[code]
        found = self.ids.get(model._meta.db_table, {}).get(ref)
        if found is None:
            raise ArchiveError(f"reference {ref!r} points at nothing in the archive")
        return found

    async def import_models(self, prefix: str, models: list[type[Model]]) -> None:
        for model in models:
            table = model._meta.db_table
            document = self.documents.get(f"{prefix}{table}.jsonld")
            if document is None:
                continue
            self.ids[table] = {}
            for doc in _ordered_items(document, f"{prefix}{table}.jsonld"):
                kwargs: dict[str, Any] = {}
                for name, f in _fk_fields(model).items():
                    kwargs[str(f.source_field)] = self.resolve(f.related_model, doc.get(name))
                terms = TERMS.get(table, {})
                for name in _data_fields(model):
                    key = terms.get(name, name)
                    if key not in doc and name in doc:
                        key = name  # written with the column's own name
                    if key in doc:
                        kwargs[name] = _value(model._meta.fields_map[name], doc[key], f"{table}.{key}")
                if model is Attachment:
                    kwargs["stored_name"] = self._write_file(doc.get("url"))
                try:
                    row = await model.create(**kwargs)
                except ArchiveError:
                    raise
                except Exception as exc:
                    raise ArchiveError(f"{doc.get('id')}: {type(exc).__name__}: {str(exc)[:200]}") from None
                self.ids[table][str(doc.get("id"))] = getattr(row, model._meta.pk_attr)

    def _write_file(self, name: Any) -> str:
        if not isinstance(name, str) or name not in self.files:
            raise ArchiveError(f"attachment {name!r} is missing from the archive")
        suffix = PurePosixPath(name).suffix
        stored = f"{uuid.uuid4().hex}{suffix}"
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        path = self.uploads_dir / stored
        path.write_bytes(self.files[name])
        self.written_files.append(path)
        return stored


async def _import_consents(ctx: ImportContext) -> None:
    """The members who consented to be recognised by the partners still do in the new
    organization (given through federation's own service, as the member would)."""
    from fabcom.federation.members import set_partner_recognition
    from fabcom.permissions import load_principal

    for person in _ordered_items(ctx.documents["members.jsonld"], "members.jsonld"):
        consent = person.get("recognisedByPartners", False)
        if not isinstance(consent, bool):
            raise ArchiveError(f"{person.get('id')}: recognisedByPartners must be true or false")
        if consent:
            user_id = ctx.users[str(person["id"])]
            await set_partner_recognition(await load_principal(user_id), ctx.organization.id, True)


def _ordered_items(document: Any, name: str) -> list[dict[str, Any]]:
    items = document.get("orderedItems") if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ArchiveError(f"{name}: not an OrderedCollection of objects")
    return items


def _value(f: tfields.Field, value: Any, where: str) -> Any:
    if value is None:
        return None
    try:
        if isinstance(f, tfields.DecimalField):
            return Decimal(str(value))
        if isinstance(f, tfields.DatetimeField):
            return dt.datetime.fromisoformat(value)
        if isinstance(f, tfields.DateField):
            return dt.date.fromisoformat(value)
        enum_type = getattr(f, "enum_type", None)
        if enum_type is not None:
            return enum_type(value)
    except (ValueError, TypeError, ArithmeticError):
        raise ArchiveError(f"{where}: bad value {value!r}") from None
    return value


def read_archive(data: bytes) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """Check and read an archive: (manifest, documents, attachments). Refuses zip bombs,
    unexpected or traversing paths, another format or version, missing or altered files."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ArchiveError("not a zip archive") from None
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveError(f"too many files ({len(infos)})")
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise ArchiveError("the archive expands to more than 4 GB")
    names = set()
    for info in infos:
        if not SAFE_NAME.match(info.filename) or ".." in info.filename:
            raise ArchiveError(f"unexpected file name in the archive: {info.filename!r}")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveError(f"{info.filename}: compressed more than {MAX_RATIO}:1 (a zip bomb?)")
        names.add(info.filename)

    def read(name: str, limit: int = MAX_TOTAL_BYTES) -> bytes:
        with archive.open(name) as handle:
            content = handle.read(limit + 1)
        if len(content) > limit:
            raise ArchiveError(f"{name}: larger than it claims")
        return content

    if "manifest.json" not in names:
        raise ArchiveError("manifest.json is missing: not a fabcom organization export")
    try:
        manifest = json.loads(read("manifest.json", 10 * 1024 * 1024))
    except ValueError:
        raise ArchiveError("manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("manifest.json: not a fabcom organization export")
    if manifest.get("version") != VERSION:
        raise ArchiveError(f"archive format version {manifest.get('version')!r}; this fabcom reads version {VERSION}")
    documents: dict[str, Any] = {}
    for name in manifest.get("documents") or []:
        if name not in names:
            raise ArchiveError(f"{name} is listed in the manifest but missing")
        try:
            documents[name] = json.loads(read(name))
        except ValueError:
            raise ArchiveError(f"{name} is not valid JSON") from None
    for required in ("organization.jsonld", "members.jsonld"):
        if required not in documents:
            raise ArchiveError(f"{required} is missing")
    files: dict[str, bytes] = {}
    for name, digest in (manifest.get("attachments") or {}).items():
        if name not in names:
            raise ArchiveError(f"{name} is listed in the manifest but missing")
        content = read(name, infos[[i.filename for i in infos].index(name)].file_size)
        if hashlib.sha256(content).hexdigest() != digest:
            raise ArchiveError(f"{name}: checksum mismatch")
        files[name] = content
    return manifest, documents, files


async def import_organization(data: bytes, uploads_dir: Path, slug: str | None = None) -> ImportContext:
    """Load an archive as a new local organization, in one transaction. People are
    matched by e-mail with existing accounts, or get an account without a password
    (they choose one with "forgot password")."""
    manifest, documents, files = read_archive(data)
    org_doc = documents["organization.jsonld"]
    slug = slug or str(org_doc.get("preferredUsername") or manifest.get("organization") or "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", slug):
        raise ArchiveError(f"bad organization slug {slug!r}")
    if await Organization.exists(slug=slug):
        raise ArchiveError(f"an organization {slug!r} already exists here (choose another with --slug)")
    from fabcom.inventory.services import seed_categories

    await seed_categories()  # the shared taxonomy the archive's categories refer to
    ctx: ImportContext | None = None
    try:
        async with in_transaction():
            org = await Organization.create(
                slug=slug,
                is_local=True,
                **{
                    name: _value(Organization._meta.fields_map[name], org_doc.get(name), f"organization.{name}")
                    for name in ORG_FIELDS
                    if org_doc.get(name) is not None
                },
            )
            ctx = ImportContext(org, documents, files, uploads_dir)
            ctx.categories = {str(code): int(pk) for pk, code in await Category.all().values_list("id", "code")}
            for person in _ordered_items(documents["members.jsonld"], "members.jsonld"):
                email = str(person.get("email", "")).strip().lower()
                if "@" not in email:
                    raise ArchiveError(f"{person.get('id')}: no e-mail")
                user = await User.get_or_none(email=email)
                if user is None:
                    user = await User.create(
                        email=email,
                        display_name=str(person.get("name") or email.split("@")[0])[:120],
                        locale=person.get("locale") if person.get("locale") in ("fr", "en") else "fr",
                    )
                ctx.users[str(person["id"])] = user.id
            await ctx.import_models("", CORE_MODELS)
            await _import_consents(ctx)
            await call_async(plugin_manager().hook.fabcom_org_import, context=ctx)
            for name in documents:
                if name.startswith("modules/") and name.split("/")[2].removesuffix(".jsonld") not in ctx.ids:
                    ctx.skipped.append(name)
            await record(system_principal(), "organization.import", org, organization_id=org.id, after={"slug": slug})
    except Exception:
        for path in ctx.written_files if ctx else []:
            path.unlink(missing_ok=True)
        raise
    return ctx

"""Personal data: a person downloads everything stored about them; erasure leaves no
trace of their name or e-mail in any text column of any table nor in their personal
files, keeps the stock ledger balanced and the structure's figures right, and only the
person (with their password) or the instance's administrator may do it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tortoise import connections

from fabcom.auth.models import ApiToken, Session, User
from fabcom.auth.services import create_api_token, create_user, open_session
from fabcom.errors import PermissionDenied, ValidationFailed
from fabcom.federation.members import set_partner_recognition
from fabcom.federation.mirror_models import SharedProfile
from fabcom.federation.models import OutboxActivity
from fabcom.inventory.models import Attachment, Item, StockMovement
from fabcom.inventory.services import create_item, record_movement
from fabcom.members.models import Membership, MembershipFee, Role
from fabcom.members.services import add_member, record_fee
from fabcom.module_system.hooks import hookimpl, plugin_manager
from fabcom.notifications.models import Notification
from fabcom.notifications.services import notify
from fabcom.permissions import load_principal, system_principal
from fabcom.privacy.services import erase_member, member_data
from fabcom.projects.models import Participant, Task
from fabcom.projects.services import add_participant, create_project, create_task
from modules.bookings.models import Booking
from modules.bookings.services import create_booking, make_bookable
from modules.ressourcerie.models import Intake
from modules.ressourcerie.services import record_intake

NAME = "Jeanne Dupont-Lefèvre"
EMAIL = "jeanne.dupont@example.org"
PASSWORD = "a long passphrase 2026"
PARIS = ZoneInfo("Europe/Paris")
WEEK = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def at(days: int, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.datetime.now(PARIS).date() + dt.timedelta(days=days), dt.time(hour), PARIS)


@pytest.fixture
async def jeanne(db, org_a, staff_a):
    """A staff member with a trace in every corner of the instance."""
    system = system_principal()
    user = await create_user(system, {"email": EMAIL, "display_name": NAME, "password": PASSWORD})
    membership = await add_member(system, org_a.id, {"user_id": user.id, "role": Role.STAFF})
    me = await load_principal(user.id)
    await record_fee(
        system,
        membership.id,
        {
            "amount": "20",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "method": "cash",
            "note": f"{NAME}, espèces",
        },
    )
    chair = await create_item(staff_a, org_a.id, {"title": "Chaise", "initial_quantity": "5", "counterparty": NAME})
    await record_movement(me, chair.id, {"kind": "sale", "quantity": "2", "counterparty": f"vendu par {EMAIL}"})
    await record_movement(staff_a, chair.id, {"kind": "gift", "quantity": "1", "note": f"remis à {NAME.upper()}"})
    project = await create_project(staff_a, org_a.id, {"title": "Atelier vélo", "description": f"Animé par {NAME}."})
    await add_participant(staff_a, project.id, {"user_id": user.id, "display_name": NAME, "role": "animatrice"})
    task = await create_task(staff_a, project.id, {"title": "Réparer", "assignee_id": user.id})
    await notify([user.id], "project.updated", {"project": "Atelier vélo", "by": NAME}, organization_id=org_a.id)
    await create_api_token(system, user.id, {"name": "script", "scopes": ["inventory:read"]})
    await open_session(user, user_agent="Firefox", ip_address="192.0.2.44")
    laser = await create_item(staff_a, org_a.id, {"title": "Découpeuse laser"})
    await make_bookable(staff_a, laser.id, {"slot_minutes": 30, "max_duration_minutes": 240, "opening_hours": WEEK})
    await create_booking(
        me,
        {"item_id": laser.id, "starts_at": at(2).isoformat(), "ends_at": at(2, 11).isoformat(), "note": f"pour {NAME}"},
    )
    past = await create_booking(
        me, {"item_id": laser.id, "starts_at": at(3).isoformat(), "ends_at": at(3, 11).isoformat()}
    )
    await Booking.filter(id=past.id).update(
        starts_at=at(-3), ends_at=at(-3, 11), note="prototype de Jeanne Dupont-Lefèvre"
    )
    await record_intake(
        staff_a,
        org_a.id,
        {
            "mode_code": "apport_volontaire",
            "donor_kind": "person",
            "donor_name": NAME,
            "lines": [{"category_code": "C_15", "gross_kg": "12.5"}],
        },
    )
    await Attachment.create(
        organization_id=org_a.id,
        original_name=f"{NAME} carte adhérent.pdf",
        stored_name="personal-card.pdf",
        content_type="application/pdf",
        size=3,
        sha256="0" * 64,
        created_by_id=user.id,
    )
    db.uploads_dir.mkdir(parents=True, exist_ok=True)
    (db.uploads_dir / "personal-card.pdf").write_bytes(b"pdf")
    return {"user": user, "me": me, "membership": membership, "chair": chair, "task": task, "laser": laser}


async def text_values() -> list[tuple[str, str, str]]:
    """(table, column, value) of every text or JSON value of every table, read from the
    database's own catalogue (not from fabcom's models)."""
    connection = connections.get("default")
    found = []
    if connection.capabilities.dialect == "postgres":
        _, cols = await connection.execute_query(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'character')"
        )
        pairs = [(c["table_name"], c["column_name"]) for c in cols]
    else:
        _, tables = await connection.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        pairs = []
        for t in tables:
            _, cols = await connection.execute_query(f'PRAGMA table_info("{t["name"]}")')
            pairs += [
                (t["name"], c["name"])
                for c in cols
                if str(c["type"]).upper().startswith(("VARCHAR", "TEXT", "JSON", "CHAR"))
            ]
    assert len(pairs) > 100
    for table, column in pairs:
        _, rows = await connection.execute_query(f'SELECT "{column}" AS v FROM "{table}"')
        found += [(table, column, str(r["v"])) for r in rows if r["v"] is not None]
    return found


def traces(values: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    needles = [EMAIL.lower(), NAME.lower(), "jeanne", "dupont"]
    return [(t, c, v) for t, c, v in values if any(n in v.lower() for n in needles)]


async def ledger_balanced() -> bool:
    for item in await Item.all():
        total = sum((m.quantity for m in await StockMovement.filter(item_id=item.id)), Decimal(0))
        if total != item.quantity:
            return False
    return True


async def test_erasure_leaves_no_trace_in_any_table_and_keeps_the_ledger_and_figures(jeanne, db):
    assert len(traces(await text_values())) >= 10  # the fixture did spread the person around
    quantity_before = (await Item.get(id=jeanne["chair"].id)).quantity
    movements_before = await StockMovement.all().count()
    fees_before = [f.amount for f in await MembershipFee.all()]
    kg_before = [str(i.id) for i in await Intake.all()]

    await erase_member(system_principal(), jeanne["user"].id, db.uploads_dir)

    assert traces(await text_values()) == []
    assert not (db.uploads_dir / "personal-card.pdf").exists()
    assert await ledger_balanced()
    assert (await Item.get(id=jeanne["chair"].id)).quantity == quantity_before == Decimal(2)
    assert await StockMovement.all().count() == movements_before
    assert [f.amount for f in await MembershipFee.all()] == fees_before
    assert [str(i.id) for i in await Intake.all()] == kg_before
    placeholder = await User.get(id=jeanne["user"].id)
    assert (placeholder.email, placeholder.display_name, placeholder.is_active, placeholder.password_hash) == (
        f"erased-{placeholder.id}@erased.invalid",
        "[erased]",
        False,
        "",
    )
    assert await Session.filter(user_id=placeholder.id).count() == 0
    assert await ApiToken.filter(user_id=placeholder.id).count() == 0
    assert await Notification.filter(user_id=placeholder.id).count() == 0
    assert await Participant.filter(user_id=placeholder.id).count() == 0
    assert (await Task.get(id=jeanne["task"].id)).assignee_id == placeholder.id
    membership = await Membership.get(id=jeanne["membership"].id)
    assert membership.valid_until == dt.date.today()
    bookings = await Booking.filter(user_id=placeholder.id)
    assert [(b.starts_at < dt.datetime.now(dt.UTC), b.note) for b in bookings] == [(True, "")]  # the future one is gone
    intake = await Intake.get()
    assert (intake.donor_kind.value, intake.donor_name) == ("anonymous", "")
    assert await StockMovement.filter(author_id=placeholder.id).count() == 1  # the sale she recorded stays


async def test_erasure_tells_the_modules_and_federation_in_the_same_transaction(jeanne, db):
    seen: list[tuple[str, int]] = []

    class Listener:
        @hookimpl
        def fabcom_member_erased(self, user_id: int) -> None:
            seen.append(("erased", user_id))

    listener = Listener()
    plugin_manager().register(listener)
    try:
        await erase_member(system_principal(), jeanne["user"].id, db.uploads_dir)
    finally:
        plugin_manager().unregister(listener)
    assert seen == [("erased", jeanne["user"].id)]


async def test_erasure_withdraws_the_persons_profile_from_partner_sites(jeanne, db, org_a):
    await set_partner_recognition(jeanne["me"], org_a.id, True)

    await erase_member(system_principal(), jeanne["user"].id, db.uploads_dir)

    assert await SharedProfile.filter(user_id=jeanne["user"].id).count() == 0
    published = await OutboxActivity.filter(organization_id=org_a.id).order_by("id").values_list("type", "object_uri")
    profile_uri = published[-1][1]
    assert [kind for kind, uri in published if uri == profile_uri] == ["Create", "Delete"]
    assert traces(await text_values()) == []  # the profile once sent is scrubbed from the outbox too


async def test_a_failing_module_aborts_the_whole_erasure(jeanne, db):
    class Broken:
        @hookimpl
        def fabcom_member_erased(self, user_id: int) -> None:
            raise RuntimeError("partner unreachable")

    broken = Broken()
    plugin_manager().register(broken)
    try:
        with pytest.raises(RuntimeError):
            await erase_member(system_principal(), jeanne["user"].id, db.uploads_dir)
    finally:
        plugin_manager().unregister(broken)
    user = await User.get(id=jeanne["user"].id)
    assert (user.email, user.display_name, user.is_active) == (EMAIL, NAME, True)
    assert await Session.filter(user_id=user.id).count() == 1
    assert (db.uploads_dir / "personal-card.pdf").exists()


async def test_the_download_holds_account_memberships_fees_notifications_bookings_and_audit(jeanne):
    data = await member_data(jeanne["me"], jeanne["user"].id)
    json.dumps(data)  # JSON-safe
    assert data["account"]["email"] == EMAIL
    assert data["account"]["display_name"] == NAME
    assert [m["role"] for m in data["memberships"]] == ["staff"]
    assert data["memberships"][0]["fees"][0]["amount"] == "20.00"
    assert data["notifications"][0]["kind"] == "project.updated"
    assert [t["name"] for t in data["api_tokens"]] == ["script"]
    assert data["sessions"][0]["ip_address"] == "192.0.2.44"
    assert data["project_participations"][0]["project"] == "Atelier vélo"
    assert data["assigned_tasks"][0]["title"] == "Réparer"
    assert len(data["modules"]["bookings"]["bookings"]) == 2
    assert data["modules"]["ressourcerie"]["donations"][0]["donor_name"] == NAME
    assert any(a["action"].startswith("user.") for a in data["audit"]["about_me"])
    assert any(a["object_type"] == "StockMovement" for a in data["audit"]["by_me"])


async def test_no_one_else_may_download_or_erase_a_person(jeanne, staff_a, make_member, org_a):
    admin_of_org = await make_member(org_a, role=Role.OWNER)
    token, _secret = await create_api_token(
        system_principal(), jeanne["user"].id, {"name": "x", "scopes": ["inventory:read"]}
    )
    as_token = await load_principal(jeanne["user"].id)
    as_token = type(as_token)(**{**as_token.__dict__, "scopes": frozenset({"inventory:read"}), "token_id": token.id})
    for actor in (staff_a, admin_of_org, as_token):
        with pytest.raises(PermissionDenied):
            await member_data(actor, jeanne["user"].id)
        with pytest.raises(PermissionDenied):
            await erase_member(actor, jeanne["user"].id)
    assert (await User.get(id=jeanne["user"].id)).email == EMAIL


async def test_the_only_owner_of_an_organization_cannot_erase_themself(db, org_b):
    system = system_principal()
    user = await create_user(system, {"email": "owner@example.org", "display_name": "Owner", "password": PASSWORD})
    await add_member(system, org_b.id, {"user_id": user.id, "role": Role.OWNER})
    with pytest.raises(ValidationFailed) as refused:
        await erase_member(await load_principal(user.id), user.id)
    assert refused.value.errors[0].message == "You are the only owner of {names}: make someone else owner first."
    assert (await User.get(id=user.id)).email == "owner@example.org"

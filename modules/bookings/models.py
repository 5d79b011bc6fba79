"""Booking rules (what makes an item bookable), bookings and the waiting list."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class BookingState(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    CHECKED_OUT = "checked_out"
    RETURNED = "returned"
    OVERDUE = "overdue"


# States that hold the resource: a new booking may not overlap them.
HOLDING_STATES = (BookingState.REQUESTED, BookingState.CONFIRMED, BookingState.CHECKED_OUT, BookingState.OVERDUE)


class BookingRule(Model):
    """Makes an item bookable, with its rules. ``opening_hours`` maps a weekday
    (``mon`` … ``sun``) to a list of ``["09:00", "18:00"]`` ranges in ``timezone``."""

    id = fields.IntField(primary_key=True)
    item = fields.OneToOneField("fabcom.Item", related_name="booking_rule", on_delete=fields.CASCADE)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    slot_minutes = fields.IntField(default=60)
    buffer_minutes = fields.IntField(default=0)
    max_duration_minutes = fields.IntField(default=480)
    opening_hours = fields.JSONField(default=dict)
    timezone = fields.CharField(max_length=64, default="Europe/Paris")
    allowed_roles = fields.JSONField(default=list)
    partner_members_allowed = fields.BooleanField(default=False)
    requires_approval = fields.BooleanField(default=False)
    # A loan: the item leaves the premises, comes back by the end of the booking.
    is_loan = fields.BooleanField(default=False)
    deposit = fields.DecimalField(max_digits=10, decimal_places=2, default=0)
    # Written at the start of every booking transaction: a lock on the resource that
    # works on SQLite and PostgreSQL alike, so two bookings of one slot serialise.
    version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bookings_rule"
        indexes = (("organization_id",),)


class Booking(Model):
    """An item booked (or lent) for a period: by a local account (``user``), or by the
    staff for a recognised member of a partner organization: ``partner_member`` for a
    partner on another server, ``partner_profile`` for one on this server.

    A partner member's booking points at their mirrored profile and keeps no copy of
    it: when the partner withdraws the profile (``Delete``: the member withdrew their
    consent or was erased) or the partnership ends, the mirror row is purged, the
    database sets ``partner_member`` to NULL and the booking shows "a partner's member
    (withdrawn)" — ``for_partner_member`` stays true so it is still told apart. A local
    partner's member's booking points the same way at their consent (``SharedProfile``),
    deleted when they withdraw it or their account is erased; while the partnership is
    not accepted, the pages and the API show it as withdrawn too."""

    id = fields.IntField(primary_key=True)
    rule = fields.ForeignKeyField("bookings.BookingRule", related_name="bookings", on_delete=fields.CASCADE)
    item = fields.ForeignKeyField("fabcom.Item", related_name="bookings", on_delete=fields.CASCADE)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("fabcom.User", related_name="bookings", null=True, on_delete=fields.SET_NULL)
    partner_member = fields.ForeignKeyField(
        "fabcom.MirrorMember", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    partner_profile = fields.ForeignKeyField(
        "fabcom.SharedProfile", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # db_default: the column is added to tables that already hold bookings.
    for_partner_member = fields.BooleanField(default=False, db_default=False)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    state = fields.CharEnumField(BookingState, max_length=12)
    note = fields.CharField(max_length=500, default="")
    deposit = fields.DecimalField(max_digits=10, decimal_places=2, default=0)
    reminded_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "bookings_booking"
        ordering = ["starts_at", "id"]
        # partner_profile_id: a withdrawn consent (its SharedProfile deleted) sets it to NULL.
        indexes = (("item_id", "starts_at"), ("user_id",), ("rule_id",), ("partner_profile_id",))


class WaitingListEntry(Model):
    """Someone who wanted a slot that was taken, told when it frees up."""

    id = fields.IntField(primary_key=True)
    item = fields.ForeignKeyField("fabcom.Item", related_name=False, on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("fabcom.User", related_name=False, on_delete=fields.CASCADE)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    notified_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "bookings_waiting_list_entry"
        indexes = (("item_id",), ("user_id",))
        ordering = ["created_at", "id"]

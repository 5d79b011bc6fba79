"""Bookings: one booking engine for everything bookable — fablab machines, lendable
items (library of things), desks and rooms. The worked example of docs/modules.md."""

from fabcom.api import Module

module = Module(
    slug="bookings",
    name="Réservations / Bookings",
    version="0.1.0",
    description="Book machines, desks and rooms; lend items with due dates, deposits and a waiting list.",
    requires=">=0.1.0.dev0,<0.2",
    permissions=("bookings.manage",),
    per_organization=True,
)

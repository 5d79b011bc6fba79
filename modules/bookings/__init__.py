"""Bookings: one booking engine for everything bookable — fablab machines, lendable
items (library of things), desks and rooms. The worked example of docs/modules.md."""

from pydantic_settings import BaseSettings

from fabcom.api import N_, Module, Scope


class BookingsSettings(BaseSettings):
    """``FABCOM_BOOKINGS_*`` variables."""

    reminder_hours_before: int = 24
    max_waiting_list: int = 20


module = Module(
    slug="bookings",
    name=N_("Bookings"),
    version="0.3.0",
    description=N_("Book machines, desks and rooms; lend items with due dates, deposits and a waiting list."),
    requires=">=0.1.0.dev0,<0.2",
    permissions=("bookings.manage",),
    scopes=(
        Scope(
            "bookings:read",
            N_("Read the bookings"),
            N_("See your bookings and, for your organizations' staff, the bookings of their resources."),
        ),
        Scope(
            "bookings:write",
            N_("Book"),
            N_("Book resources and cancel bookings; for the staff, book for partners' members too."),
        ),
    ),
    per_organization=True,
    settings=BookingsSettings,
    # Root fields named as the API issue asks: bookings, bookingCreate, bookingCancel.
    graphql_field_prefixes=("booking",),
)

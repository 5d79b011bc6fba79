"""Bookings: one booking engine for everything bookable — fablab machines, lendable
items (library of things), desks and rooms. The worked example of docs/modules.md."""

from pydantic_settings import BaseSettings

# From the manifest's own module rather than fabcom.api: discovery imports this file, and
# fabcom.api would load the ORM and every model with it.
from fabcom.module_system.manifest import N_, Module, Permission, Scope

# Who manages an organization's bookings (approves, hands over, takes back, cancels anyone's,
# makes items bookable): the bookings module's one rule, for the pages and the API alike.
# The roles that run the desk — volunteers included, members not. Through an API token it
# asks ``bookings:write`` (``bookings:read`` to see every booking: ``manages_bookings``),
# never an inventory scope: a booking tool needs no right on the items themselves.
MANAGE = Permission("bookings.manage", roles=("owner", "admin", "staff", "volunteer"), scope="bookings:write")


class BookingsSettings(BaseSettings):
    """``FABCOM_BOOKINGS_*`` variables."""

    reminder_hours_before: int = 24
    max_waiting_list: int = 20


module = Module(
    slug="bookings",
    name=N_("Bookings"),
    version="0.5.0",
    description=N_("Book machines, desks and rooms; lend items with due dates, deposits and a waiting list."),
    requires=">=0.1.0.dev0,<0.2",
    permissions=(MANAGE,),
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

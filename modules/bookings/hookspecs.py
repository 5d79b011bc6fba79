"""Hooks that the bookings module offers to other modules."""

from __future__ import annotations

from typing import Any

from fabcom.api import hookspec


@hookspec
def bookings_check_booking(request: Any) -> Any:
    """Refuse a booking for a reason of your own module (a fablab's "must hold the
    training for this machine"). ``request`` is a ``BookingRequest`` (rule, item,
    principal, user id, start, end). Return ``None`` to allow it, or a message id
    (marked with ``N_``) to refuse it. May be a coroutine.
    """

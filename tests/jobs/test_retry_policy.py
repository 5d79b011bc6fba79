"""Which failures are retried, and when."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from fabcom.errors import ValidationFailed
from fabcom.jobs.execution import HTTPStatusFailure, PermanentError, RetryPolicy, TransientError, is_transient


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (HTTPStatusFailure(500), True),
        (HTTPStatusFailure(503), True),
        (HTTPStatusFailure(408), True),
        (HTTPStatusFailure(429), True),
        (HTTPStatusFailure(400), False),
        (HTTPStatusFailure(404), False),
        (HTTPStatusFailure(410), False),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
        (TransientError("busy"), True),
        (PermanentError("refused"), False),
        (ValidationFailed([]), False),
    ],
)
def test_transient_and_permanent_failures(error, transient):
    assert is_transient(error) is transient


def test_delays_double_from_30_seconds_up_to_6_hours():
    policy = RetryPolicy(rand=lambda: 0.5)  # jitter factor exactly 1

    delays = [policy.delay(n).total_seconds() for n in range(1, 13)]

    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]


@pytest.mark.parametrize(("draw", "seconds"), [(0.0, 24.0), (1.0, 36.0)])
def test_jitter_spreads_each_delay_by_20_percent(draw, seconds):
    policy = RetryPolicy(rand=lambda: draw)

    assert policy.delay(1) == dt.timedelta(seconds=seconds)

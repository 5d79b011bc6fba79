"""``collector_paused`` pauses the cyclic garbage collector for a block and always gives it back."""

from __future__ import annotations

import gc

import pytest

from fabcom.collector import collector_paused


def test_the_collector_is_paused_inside_and_running_after():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failure_inside_gives_the_collector_back():
    with pytest.raises(ValueError, match="bad page"), collector_paused():
        raise ValueError("bad page")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off_and_nested_blocks_leave_it_to_the_outer_one():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()  # the inner block found it paused and left it so
    assert gc.isenabled()

"""Awaiting the modules' async hook implementations."""

from __future__ import annotations

import gc
import warnings

import pytest

from fabcom.module_system.hooks import call_async


async def test_a_refusing_implementation_leaves_no_coroutine_unawaited_behind_it():
    """pluggy calls every implementation before any is awaited: when one refuses (the
    ressourcerie refusing an archive), the coroutines after it are closed, and the refusal
    is what the caller sees."""
    ran: list[str] = []

    async def refuses() -> None:
        raise ValueError("archive refused")

    async def after() -> None:
        ran.append("after")

    def hook() -> list[object]:
        return [refuses(), after()]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="archive refused"):
            await call_async(hook)
        gc.collect()
    assert ran == []
    assert not [w for w in caught if "never awaited" in str(w.message)]


async def test_every_implementation_is_awaited_in_order():
    async def first() -> int:
        return 1

    def hook() -> list[object]:
        return [first(), 2]

    assert await call_async(hook) == [1, 2]

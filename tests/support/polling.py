"""Waiting for something to happen: poll a condition until a deadline, never a bare sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE = 20.0  # seconds any single wait may take before the test fails


def wait_until(
    condition: Callable[[], T], timeout: float = DEADLINE, what: str = "", interval: float = 0.02
) -> T:
    """Poll `condition` until it returns something truthy, and return that; fail at the
    deadline, naming `what` was waited for."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        time.sleep(interval)


async def eventually(
    condition: Callable[[], object], timeout: float = DEADLINE, what: str = ""
) -> None:
    """`wait_until` for a test running in the event loop: the loop goes on meanwhile."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= end:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        await asyncio.sleep(0.01)

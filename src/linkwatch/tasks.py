"""Running a group of coroutines so that none outlives the run that started it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import Any


async def run_together(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run each coroutine as a task until all finish.

    If one fails, or the caller is cancelled (Ctrl-C, SIGTERM), the others are
    cancelled and awaited before this returns or raises: a worker left running
    would write to a store the caller is about to close.
    """
    tasks = [asyncio.create_task(coroutine) for coroutine in coroutines]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

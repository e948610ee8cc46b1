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
        await cancel_all(tasks)


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the tasks not yet done and wait until each has ended."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)

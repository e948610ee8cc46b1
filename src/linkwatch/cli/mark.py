"""The `mark` command: a human's verdict, pinned."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from linkwatch.cli.common import (
    open_store,
    settings_from,
    url_key,
)
from linkwatch.model import State

if TYPE_CHECKING:
    pass


PINNABLE = (State.ALIVE.value, State.DEAD.value, State.BLOCKED.value)


@click.command("mark")
@click.argument("url")
@click.argument("state", required=False, type=click.Choice(PINNABLE))
@click.option("--unpin", is_flag=True, help="Remove the pin; the evidence decides again.")
@click.pass_context
def mark_command(ctx: click.Context, url: str, state: str | None, unpin: bool) -> None:
    """Pin a URL's state (a human's verdict that checks never change), or unpin it.

    Example: linkwatch mark http://example.org/page alive
    """
    if (state is None) == (not unpin):
        raise click.UsageError("give a STATE to pin, or --unpin")
    settings = settings_from(ctx)
    with open_store(settings) as store:
        status = store.url_status(url_key(store, url))
        assert status is not None
        store.set_pin(status.id, None if unpin else State(str(state)))
    click.echo(f"{status.url}: " + ("unpinned" if unpin else f"pinned {state}"))

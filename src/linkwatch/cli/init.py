"""The `init` command: a commented starter configuration."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from linkwatch.config.starter import write_starter_config

if TYPE_CHECKING:
    pass


@click.command("init")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def init_command(ctx: click.Context, path: Path | None, force: bool) -> None:
    """Write a commented starter configuration.

    PATH defaults to the --config path (./config.toml).

    Example: linkwatch init config.toml
    """
    target = path or ctx.obj["config_path"]
    write_starter_config(target, force=force)
    click.echo(f"wrote {target}")

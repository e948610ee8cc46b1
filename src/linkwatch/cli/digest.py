"""The `digest` command."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from linkwatch.cli.common import clock_from, open_store, run_until_signal, settings_from
from linkwatch.digest.render import write_preview
from linkwatch.digest.send import (
    DigestOutcome,
    DigestStatus,
    preview_digest,
    send_due_digest,
)
from linkwatch.errors import ConfigError
from linkwatch.store.writer import AsyncStore


@click.command("digest")
@click.option(
    "--preview", is_flag=True, help="Render the digest a send would deliver; send nothing."
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --preview: write digest.txt and digest.html into this folder.",
)
@click.option("--send", is_flag=True, help="Send this week's digest unless it went out already.")
@click.option(
    "--force", is_flag=True, help="With --send: send again although this week's went out."
)
@click.pass_context
def digest_command(
    ctx: click.Context, preview: bool, output: Path | None, send: bool, force: bool
) -> None:
    """Preview or send the weekly e-mail digest: what changed, what needs a person.

    At most one digest goes out per ISO week (in digest.timezone); a failed send
    is recorded and the next --send retries it. Exits 1 when sending failed.

    Example: linkwatch digest --preview --output preview/
    """
    if preview == send:
        raise click.UsageError("give either --preview or --send")
    if force and not send:
        raise click.UsageError("--force goes with --send")
    if output is not None and not preview:
        raise click.UsageError("--output goes with --preview")
    settings = settings_from(ctx)
    now = clock_from(ctx)()
    if preview:
        with open_store(settings, writing=False) as store:
            rendered = preview_digest(settings, store, now)
        if output is None:
            click.echo(f"Subject: {rendered.subject}\n\n{rendered.text}", nl=False)
            return
        for path in write_preview(rendered, output):
            click.echo(f"wrote {path}")
        return
    with AsyncStore.open(settings.state.dir) as db:
        try:
            outcome = run_until_signal(
                send_due_digest(settings, db, now, force=force, on_schedule=False)
            )
        except asyncio.CancelledError:
            click.echo(
                "interrupted: the digest is recorded as failed and will be retried", err=True
            )
            sys.exit(130)
    _report(outcome)


def _report(outcome: DigestOutcome) -> None:
    if outcome.status is DigestStatus.UNCONFIGURED:
        raise ConfigError(outcome.error or "the digest is not configured")
    if outcome.status is DigestStatus.SENT:
        click.echo(f"sent: {outcome.subject}")
    elif outcome.status is DigestStatus.ALREADY_SENT:
        click.echo(f"week {outcome.week}'s digest went out already (use --force to send again)")
    elif outcome.status is DigestStatus.IN_PROGRESS:
        click.echo(f"week {outcome.week}'s digest is being sent by another linkwatch right now")
    elif outcome.status is DigestStatus.SKIPPED:
        click.echo(f"nothing changed in week {outcome.week}: no digest (digest.skip_empty)")
    elif outcome.status is DigestStatus.FAILED:
        click.echo(f"not sent, will be retried: {outcome.error}", err=True)
        sys.exit(1)

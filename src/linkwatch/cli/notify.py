"""The `notify` command: what was told to whom, and a test message to each URL."""

from __future__ import annotations

import sys

import click

from linkwatch.cli.common import open_store, settings_from
from linkwatch.errors import ConfigError
from linkwatch.text import printable

TEST_TITLE = "linkwatch: test message"
TEST_BODY = (
    "This is a test from linkwatch: notifications of dead citations, refused saves and "
    "rewrites will arrive here.\n"
)


@click.command("notify")
@click.option("--test", "send_test", is_flag=True, help="Send a test message to each URL.")
@click.option("--status", is_flag=True, help="Show the latest deliveries (the default).")
@click.pass_context
def notify_command(ctx: click.Context, send_test: bool, status: bool) -> None:
    """Show the latest notifications and their delivery to each URL, or send a test.

    Notifications go out when check, archive and rewrite (and the daemon's jobs)
    find something new; URLs are shown with their secrets masked. With --test,
    says per URL whether the test message was sent, and exits 1 if any was not.

    Example: linkwatch notify --test
    """
    settings = settings_from(ctx)
    if not settings.notify.urls:
        raise ConfigError("notify.urls is empty: no one to notify")
    if send_test and status:
        raise click.UsageError("--test and --status do not go together")
    if send_test:
        from linkwatch.notify.send import send

        failed = False
        for target in settings.notify.urls:
            result = send(target.url, TEST_TITLE, TEST_BODY)
            if result.ok:
                click.echo(f"sent: {result.shown}")
            else:
                failed = True
                click.echo(printable(f"failed: {result.shown}: {result.error}"))
        if failed:
            sys.exit(1)
        return
    with open_store(settings, writing=False) as store:
        records = store.delivery_records(50)
    if not records:
        click.echo("no notification sent yet")
    for record in records:
        when = record.sent_at or record.created_at
        line = f"#{record.message_id} {when} {record.status.value} {record.shown}: {record.title}"
        if record.next_attempt_at is not None and not record.status.is_done:
            line += f" (attempt {record.attempts}, next {record.next_attempt_at.isoformat()})"
        if record.error:
            line += f" [{record.error}]"
        click.echo(printable(line))

"""The `run` command: the daemon, or one full cycle with `--once`."""

from __future__ import annotations

import asyncio
import signal
import sys

import click

from linkwatch.cli.common import (
    clock_from,
    run_until_signal,
    settings_from,
)
from linkwatch.daemon.logs import configure_logging
from linkwatch.store.lock import hold_state_lock


def _stop_while_starting(signum: int, frame: object) -> None:
    """SIGTERM before the daemon's own handler is in place: nothing runs yet, so stop
    cleanly (exit 0, as a stop later would) instead of dying of the signal."""
    raise SystemExit(0)


@click.command("run")
@click.option(
    "--once",
    is_flag=True,
    help="Run one full cycle (scan, check due URLs, then the other jobs) and exit.",
)
@click.pass_context
def run_command(ctx: click.Context, once: bool) -> None:
    """Run the daemon: rescan, check, archive, rewrite and send the digest on schedule.

    Serves /healthz, /metrics and the HTML report on run.listen. Only one
    linkwatch may use a state directory at a time: a second one exits 2 at
    once, naming the pid of the first. SIGTERM or Ctrl-C stop it gracefully
    within run.grace (exit 0). Logs go to stderr, one line per event
    (run.log_format). With --once: exit 0 when the cycle succeeded, 1 when a
    job failed or a release could not be read, 130 when interrupted.

    Example: linkwatch run --once
    """
    signal.signal(signal.SIGTERM, _stop_while_starting)
    # Imported here: the scheduler, the web server and the metrics are the daemon's
    # alone, and every other command starts faster without them.
    from linkwatch.daemon.service import Daemon

    settings = settings_from(ctx)
    configure_logging(settings.run.log_format)
    with hold_state_lock(settings.state.dir):
        daemon = Daemon(settings, clock=clock_from(ctx))
        if once:
            outcome = run_until_signal(daemon.run_cycle())
        else:
            asyncio.run(daemon.serve())
            return
    if outcome.interrupted:
        sys.exit(130)
    if not outcome.ok:
        sys.exit(1)

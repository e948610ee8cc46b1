"""Schedules: crontab weekdays, and missed runs after a clock jump or a pause coalesced to one."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from linkwatch.config.loading import load_settings
from linkwatch.daemon.jobs import CHECK, JobReport
from linkwatch.daemon.schedule import add_cron_job, add_interval_job
from linkwatch.daemon.service import Daemon
from linkwatch.digest.schedule import cron_trigger, crontab_weekdays
from linkwatch.errors import DaemonError
from support.polling import eventually


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("mon", "mon"),
        ("mon-fri", "mon-fri"),
        ("*", "*"),
        ("0", "sun"),
        ("7", "sun"),
        ("1", "mon"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("5-7", "fri,sat,sun"),
        ("*/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
        ("0,6", "sun,sat"),
        ("SAT,1", "sat,mon"),
    ],
)
def test_crontab_weekday_numbers_mean_what_standard_cron_means(field: str, expected: str) -> None:
    assert crontab_weekdays(field) == expected


@pytest.mark.parametrize("field", ["8", "3-1", "*/0"])
def test_impossible_weekdays_are_refused(field: str) -> None:
    with pytest.raises(ValueError):
        crontab_weekdays(field)


def test_default_digest_schedule_fires_monday_0800_in_its_time_zone() -> None:
    trigger = cron_trigger("0 8 * * mon", "Europe/Warsaw")
    sunday_noon = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    fire = trigger.get_next_fire_time(None, sunday_noon)
    assert fire.isoformat() == "2026-11-23T08:00:00+01:00"


def test_numeric_weekday_1_is_monday_as_in_crontab() -> None:
    trigger = cron_trigger("30 6 * * 1", "UTC")
    fire = trigger.get_next_fire_time(None, dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC))
    assert fire.weekday() == 0 and (fire.hour, fire.minute) == (6, 30)


def test_a_bad_cron_field_is_refused() -> None:
    with pytest.raises(ValueError):
        cron_trigger("61 8 * * mon", "UTC")


class RunLog:
    """Counts submissions (with how many run times each carried) and finished runs."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self.submitted: list[int] = []
        self.executed = asyncio.Event()
        self.runs = 0
        scheduler.add_listener(self.on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED)

    def on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            self.submitted.append(len(event.scheduled_run_times))
        else:
            self.executed.set()

    async def job(self) -> None:
        self.runs += 1


async def test_a_clock_jump_gives_one_catch_up_run_not_a_storm() -> None:
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    runs = RunLog(scheduler)
    scheduler.start(paused=True)
    now = dt.datetime.now(dt.UTC)
    job = add_interval_job(scheduler, "check", runs.job, dt.timedelta(minutes=1))
    job.modify(next_run_time=now - dt.timedelta(hours=3))  # 180 runs missed, as after a jump
    scheduler.resume()
    await asyncio.wait_for(runs.executed.wait(), 10)
    assert runs.runs == 1 and runs.submitted == [1]
    assert scheduler.get_job("check").next_run_time > dt.datetime.now(dt.UTC)
    scheduler.shutdown(wait=False)


async def test_a_long_pause_gives_one_catch_up_run_per_job() -> None:
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    check, digest = RunLog(scheduler), RunLog(scheduler)
    scheduler.start()
    add_interval_job(scheduler, "check", check.job, dt.timedelta(seconds=5))
    add_cron_job(scheduler, "digest", digest.job, cron_trigger("* * * * *", "UTC"))
    scheduler.pause()  # the process stopped (SIGSTOP, a suspended laptop, a frozen VM)
    paused_since = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    for job_id in ("check", "digest"):
        scheduler.modify_job(job_id, next_run_time=paused_since)
    scheduler.resume()
    await asyncio.wait_for(check.executed.wait(), 10)
    await asyncio.wait_for(digest.executed.wait(), 10)
    assert (check.runs, digest.runs) == (1, 1)  # a digest two days late still goes out, once
    scheduler.shutdown(wait=False)


async def test_interval_jobs_never_overlap_coalesce_and_replace_their_namesake() -> None:
    scheduler = AsyncIOScheduler(timezone=dt.UTC)
    runs = RunLog(scheduler)
    scheduler.start(paused=True)
    job = add_interval_job(scheduler, "check", runs.job, dt.timedelta(seconds=30))
    assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 30)
    add_interval_job(scheduler, "check", runs.job, dt.timedelta(seconds=30))
    assert [j.id for j in scheduler.get_jobs()] == ["check"]
    scheduler.shutdown(wait=False)


def settings_for(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        '[sources]\npaths = ["releases/*.md"]\n[run]\nlisten = "127.0.0.1:0"\n' + extra,
        encoding="utf-8",
    )
    return config


async def test_a_kick_during_a_run_runs_the_job_once_more_right_after(tmp_path: Path) -> None:
    daemon = Daemon(load_settings(settings_for(tmp_path)))
    release, finished = asyncio.Event(), asyncio.Event()
    starts: list[int] = []

    async def body() -> JobReport:
        starts.append(len(starts))
        if len(starts) == 1:
            await release.wait()
        else:
            finished.set()
        return JobReport("done")

    daemon._bodies[CHECK] = body  # a job whose first run we control
    serving = asyncio.create_task(daemon.serve())
    await eventually(lambda: starts, 10, what="the rerun")
    daemon.kick(CHECK)
    daemon.kick(CHECK)  # twice while running: still one more run, not two
    assert len(starts) == 1
    release.set()
    await asyncio.wait_for(finished.wait(), 10)
    daemon.request_stop()
    await asyncio.wait_for(serving, 10)
    assert len(starts) == 2


def test_health_is_503_before_the_scheduler_runs(tmp_path: Path) -> None:
    daemon = Daemon(load_settings(settings_for(tmp_path)))
    health = daemon.health()
    assert not health.ok
    assert health.detail["scheduler"] == "starting"
    assert health.detail["database"].startswith("error")


async def test_a_bad_digest_schedule_stops_the_daemon_before_any_job(tmp_path: Path) -> None:
    config = settings_for(tmp_path, '[digest]\nschedule = "0 25 * * *"\n')
    daemon = Daemon(load_settings(config))
    with pytest.raises(DaemonError, match=r"digest\.schedule"):
        await daemon.serve()
    assert all(state.runs == 0 for state in daemon.jobs.values())

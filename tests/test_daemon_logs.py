"""The daemon's log lines: one per event, text or JSON, never a secret or a page body."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from linkwatch.config.settings import LogFormat
from linkwatch.daemon.logs import MAX_FIELD, configure_logging, event
from linkwatch.redact import secret_values

log = logging.getLogger("linkwatch.test")


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def capture(log_format: LogFormat, environ: dict[str, str] | None = None) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(log_format, stream=stream, environ=environ or {})
    return stream


def test_text_lines_carry_level_logger_message_and_fields(restore_root_logger: None) -> None:
    stream = capture(LogFormat.TEXT)
    event(log, logging.INFO, "check: checked 2 URLs", job="check", checked=2, note="two words")
    [line] = stream.getvalue().splitlines()
    assert " INFO  test: check: checked 2 URLs job=check checked=2 " in line
    assert line.endswith('note="two words"')


def test_json_lines_are_one_object_with_the_fields_as_keys(restore_root_logger: None) -> None:
    stream = capture(LogFormat.JSON)
    event(log, logging.WARNING, "scan: cannot read x.md", job="scan", errors=1)
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "linkwatch.test"
    assert (entry["message"], entry["job"], entry["errors"]) == (
        "scan: cannot read x.md",
        "scan",
        1,
    )


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_an_exception_stays_on_one_line(restore_root_logger: None, log_format: LogFormat) -> None:
    stream = capture(log_format)
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        log.error("check: failed", exc_info=True)
    [line] = stream.getvalue().splitlines()
    assert "ValueError: boom second line" in line and "test_daemon_logs.py" in line


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_credentials_in_urls_are_masked(restore_root_logger: None, log_format: LogFormat) -> None:
    stream = capture(log_format)
    event(log, logging.INFO, "checked https://ann:hunter2@example.org/x", url="ftp://u:p@h/")
    output = stream.getvalue()
    assert "hunter2" not in output and "u:p@" not in output
    assert "https://***@example.org/x" in output


def test_secret_environment_values_are_masked(restore_root_logger: None) -> None:
    environ = {"LINKWATCH_SMTP_PASSWORD": "s3cret-pw", "LINKWATCH_WAYBACK_SECRET_KEY": "abcd1234"}
    stream = capture(LogFormat.TEXT, environ)
    log.error("smtp login refused for s3cret-pw, key abcd1234")
    assert "s3cret-pw" not in stream.getvalue() and "abcd1234" not in stream.getvalue()


def test_only_secret_looking_linkwatch_variables_count_as_secrets() -> None:
    environ = {
        "LINKWATCH_SMTP_PASSWORD": "pw-value",
        "LINKWATCH_CONFIG": "/config/config.toml",
        "AWS_SECRET_KEY": "not-ours",
        "LINKWATCH_API_TOKEN": "ab",  # too short to mask without mangling ordinary text
    }
    assert secret_values(environ) == ("pw-value",)


def test_long_fields_are_cut_so_no_page_body_gets_in(restore_root_logger: None) -> None:
    stream = capture(LogFormat.JSON)
    event(log, logging.INFO, "page", title="x" * 10_000)
    entry = json.loads(stream.getvalue())
    assert len(entry["title"]) == MAX_FIELD


def test_configuring_twice_does_not_double_lines(restore_root_logger: None) -> None:
    capture(LogFormat.TEXT)
    stream = capture(LogFormat.TEXT)
    log.info("once")
    assert len(stream.getvalue().splitlines()) == 1


def test_library_chatter_below_warning_is_dropped(restore_root_logger: None) -> None:
    stream = capture(LogFormat.TEXT)
    logging.getLogger("apscheduler.executors.default").info('Running job "check"')
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    assert stream.getvalue().count("\n") == 1 and "missed" in stream.getvalue()

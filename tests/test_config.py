from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from linkwatch import __version__
from linkwatch.check.run import net_options
from linkwatch.config.keys import KEYS
from linkwatch.config.loading import default_settings, load_settings
from linkwatch.config.settings import (
    LogFormat,
    OnRecovery,
    RewriteMode,
    SaveTarget,
    Settings,
    SmtpTls,
)
from linkwatch.config.starter import STARTER_CONFIG, write_starter_config
from linkwatch.config.values import parse_duration, parse_size
from linkwatch.errors import ConfigError

WriteConfig = Callable[[str], Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


def without_path(settings: Settings) -> Settings:
    return dataclasses.replace(settings, config_path=None)


# --------------------------------------------------------------------------- defaults


def test_defaults_have_documented_values(tmp_path: Path) -> None:
    settings = default_settings(tmp_path)
    assert settings.config_path is None
    assert settings.base_dir == tmp_path.resolve()
    assert settings.sources.paths == (
        "releases/**/*.md",
        "releases/**/*.html",
        "releases/**/*.htm",
        "releases/**/*.txt",
        "releases/**/*.docx",
        "releases/**/*.pdf",
    )
    assert settings.sources.max_size == 5_000_000
    assert settings.state.dir == tmp_path.resolve() / "state"
    assert settings.state.database == tmp_path.resolve() / "state" / "linkwatch.db"
    assert settings.check.timeout == dt.timedelta(seconds=20)
    assert settings.check.max_body == 262_144
    assert settings.check.every == dt.timedelta(days=1)
    assert settings.archive.wayback_url == "https://web.archive.org"
    assert settings.rewrite.mode is RewriteMode.DEAD
    assert settings.digest.to == ()
    assert settings.digest.from_ == "linkwatch@localhost"
    assert settings.digest.tls is SmtpTls.STARTTLS
    assert settings.run.log_format is LogFormat.TEXT


def test_default_user_agent_names_version_and_contact_url(tmp_path: Path) -> None:
    user_agent = default_settings(tmp_path).check.user_agent
    assert user_agent == f"linkwatch/{__version__} (+https://github.com/linkwatch/linkwatch)"


def test_empty_file_gives_defaults(write_config: WriteConfig, tmp_path: Path) -> None:
    path = write_config("")
    settings = load_settings(path)
    assert settings.config_path == path.resolve()
    assert without_path(settings) == default_settings(tmp_path)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = default_settings(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.check.per_host = 5  # type: ignore[misc]


def test_settings_are_hashable(tmp_path: Path) -> None:
    assert hash(default_settings(tmp_path)) == hash(default_settings(tmp_path))


# --------------------------------------------------------------------------- KEYS


def test_keys_match_settings_fields(tmp_path: Path) -> None:
    settings = default_settings(tmp_path)
    fields = {
        f"{section.name}.{item.name.rstrip('_')}"
        for section in dataclasses.fields(settings)
        if section.name not in ("config_path", "base_dir", "rules")
        for item in dataclasses.fields(getattr(settings, section.name))
    }
    assert fields == {spec.name for spec in KEYS}


def test_every_key_has_a_one_line_doc_and_type() -> None:
    for spec in KEYS:
        assert spec.doc and "\n" not in spec.doc, spec.name
        assert spec.type, spec.name


def test_key_names_are_unique() -> None:
    names = [spec.name for spec in KEYS]
    assert len(names) == len(set(names))


# --------------------------------------------------------------------------- starter config


def test_starter_config_loads_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    write_starter_config(path)
    assert without_path(load_settings(path)) == default_settings(tmp_path)


def test_starter_config_mentions_every_key() -> None:
    sections = re.split(r"^\[(\w+)\]$", STARTER_CONFIG, flags=re.MULTILINE)
    body_of = dict(zip(sections[1::2], sections[2::2], strict=True))
    for spec in KEYS:
        assert f"\n# {spec.leaf} = {spec.default}\n" in body_of[spec.section], spec.name


def test_starter_config_uncommented_loads_to_defaults(tmp_path: Path) -> None:
    uncommented = re.sub(r"^# (\w+ = )", r"\1", STARTER_CONFIG, flags=re.MULTILINE)
    assert uncommented.count("\nper_host = 2\n") == 1
    path = tmp_path / "config.toml"
    path.write_text(uncommented, encoding="utf-8")
    assert without_path(load_settings(path)) == default_settings(tmp_path)


def test_write_starter_config_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists"):
        write_starter_config(path)
    assert path.read_text(encoding="utf-8") == "# mine\n"


def test_write_starter_config_force_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n", encoding="utf-8")
    write_starter_config(path, force=True)
    assert path.read_text(encoding="utf-8") == STARTER_CONFIG


def test_write_starter_config_into_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write"):
        write_starter_config(tmp_path / "nowhere" / "config.toml")


# --------------------------------------------------------------------------- typed values


def test_values_from_file_are_typed(write_config: WriteConfig) -> None:
    settings = load_settings(
        write_config(
            "[sources]\n"
            'paths = ["a/*.md"]\n'
            'max_size = "1 MiB"\n'
            "[check]\n"
            'timeout = "1h30m"\n'
            "max_body = 1000\n"
            "[archive]\n"
            "saves_per_minute = 3\n"
            "[rewrite]\n"
            'mode = "all"\n'
        )
    )
    assert settings.sources.paths == ("a/*.md",)
    assert settings.sources.max_size == 1_048_576
    assert settings.check.timeout == dt.timedelta(hours=1, minutes=30)
    assert settings.check.max_body == 1000
    assert settings.archive.saves_per_minute == 3.0
    assert isinstance(settings.archive.saves_per_minute, float)
    assert settings.rewrite.mode is RewriteMode.ALL


def test_relative_state_dir_resolves_against_config_directory(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    path = tmp_path / "conf" / "config.toml"
    path.write_text('[state]\ndir = "../data"\n', encoding="utf-8")
    assert load_settings(path).state.dir == (tmp_path / "data").resolve()


def test_absolute_state_dir_is_kept(write_config: WriteConfig, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    settings = load_settings(write_config(f"[state]\ndir = {str(target)!r}\n"))
    assert settings.state.dir == target.resolve()


def test_base_dir_is_config_file_directory(write_config: WriteConfig, tmp_path: Path) -> None:
    assert load_settings(write_config("")).base_dir == tmp_path.resolve()


def test_sources_dates_accept_toml_dates_and_strings(write_config: WriteConfig) -> None:
    settings = load_settings(
        write_config(
            '[sources.dates]\n"releases/a.md" = 2016-04-07\n"releases/old/*.html" = "2012-05-01"\n'
        )
    )
    assert settings.sources.dates == (
        ("releases/a.md", dt.date(2016, 4, 7)),
        ("releases/old/*.html", dt.date(2012, 5, 1)),
    )


def test_digest_to_accepts_a_single_string(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[digest]\nto = "ops@example.org"\n'))
    assert settings.digest.to == ("ops@example.org",)


def test_digest_addresses_may_carry_a_display_name(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[digest]\nfrom = "Linkwatch <lw@example.org>"\n'))
    assert settings.digest.from_ == "Linkwatch <lw@example.org>"


def test_wayback_url_trailing_slash_is_stripped(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[archive]\nwayback_url = "http://pywb:8080/web/"\n'))
    assert settings.archive.wayback_url == "http://pywb:8080/web"


def test_zero_host_delay_is_allowed(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[check]\nhost_delay = "0s"\n'))
    assert settings.check.host_delay == dt.timedelta(0)


def test_host_delay_may_be_less_than_a_second(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[check]\nhost_delay = "250ms"\n'))
    assert net_options(settings).host_delay == 0.25


def test_listen_splits_into_host_and_port(write_config: WriteConfig) -> None:
    run = load_settings(write_config('[run]\nlisten = "[::1]:9000"\n')).run
    assert (run.listen_host, run.listen_port) == ("::1", 9000)


def test_timezone_accepts_iana_name(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[digest]\ntimezone = "Europe/Brussels"\n'))
    assert settings.digest.timezone == "Europe/Brussels"


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[check]\nper_host = 4\n")
    assert load_settings(path).check.per_host == 4


# --------------------------------------------------------------------------- errors


def test_unknown_key_names_file_line_and_nearest_key(write_config: WriteConfig) -> None:
    path = write_config("[check]\nconcurrency = 8\nper_hots = 2\n")
    assert error_of(path) == (
        f"{path}:3: unknown key 'check.per_hots' (did you mean check.per_host?)"
    )


def test_unknown_key_without_close_match_has_no_hint(write_config: WriteConfig) -> None:
    path = write_config("[check]\nzzzzzz = 1\n")
    assert error_of(path) == f"{path}:2: unknown key 'check.zzzzzz'"


def test_unknown_table_is_named_with_nearest_table(write_config: WriteConfig) -> None:
    path = write_config("[state]\n\n[chek]\nper_host = 2\n")
    assert error_of(path) == f"{path}:3: unknown table 'chek' (did you mean check?)"


def test_unknown_top_level_key_suggests_dotted_key(write_config: WriteConfig) -> None:
    path = write_config('timeout = "5s"\n')
    assert error_of(path) == f"{path}:1: unknown key 'timeout' (did you mean check.timeout?)"


def test_unknown_dotted_key_at_top_level_finds_its_line(write_config: WriteConfig) -> None:
    path = write_config("# comment\n\ncheck.per_hots = 2\n")
    assert error_of(path).startswith(f"{path}:3: unknown key 'check.per_hots'")


def test_unknown_key_in_inline_table_points_at_its_line(write_config: WriteConfig) -> None:
    path = write_config("\ncheck = { per_hots = 2 }\n")
    assert error_of(path).startswith(f"{path}:2: unknown key 'check.per_hots'")


def test_wrong_type_names_expected_type_and_got_value(write_config: WriteConfig) -> None:
    path = write_config('[check]\nper_host = "two"\n')
    assert error_of(path) == (
        f"{path}:2: check.per_host: expected an integer >= 1, got 'two' (string)"
    )


def test_boolean_is_not_an_integer(write_config: WriteConfig) -> None:
    path = write_config("[check]\nconcurrency = true\n")
    assert error_of(path).endswith(
        "check.concurrency: expected an integer >= 1, got true (boolean)"
    )


def test_integer_below_minimum_is_refused(write_config: WriteConfig) -> None:
    path = write_config("[policy]\ndead_after_failures = 1\n")
    assert (
        error_of(path) == f"{path}:2: policy.dead_after_failures: expected an integer >= 2, got 1"
    )


def test_smtp_port_out_of_range_is_refused(write_config: WriteConfig) -> None:
    path = write_config("[digest]\nsmtp_port = 70000\n")
    assert "digest.smtp_port: expected an integer 1..65535, got 70000" in error_of(path)


def test_bad_duration_is_refused(write_config: WriteConfig) -> None:
    path = write_config('[check]\n\n\n\n\n\n\n\ntimeout = "soon"\n')
    assert error_of(path) == (
        f"{path}:9: check.timeout: expected a duration like '500ms', '30s', '6h', '3d', got 'soon'"
    )


def test_duration_as_bare_number_is_refused(write_config: WriteConfig) -> None:
    path = write_config("[check]\ntimeout = 20\n")
    assert error_of(path).endswith("got 20 (integer)")


def test_zero_duration_is_refused_where_it_would_stall(write_config: WriteConfig) -> None:
    path = write_config('[run]\ncheck_every = "0m"\n')
    assert (
        "run.check_every: expected a duration like '500ms', '30s', '6h', '3d' longer than zero"
        in (error_of(path))
    )


def test_bad_choice_lists_the_choices(write_config: WriteConfig) -> None:
    path = write_config('[rewrite]\nmode = "sometimes"\n')
    assert error_of(path) == (
        f"{path}:2: rewrite.mode: expected one of dead, drifted, all, off, got 'sometimes'"
    )


def test_string_where_array_expected_is_refused(write_config: WriteConfig) -> None:
    path = write_config('[sources]\npaths = "releases/*.md"\n')
    assert error_of(path) == (
        f"{path}:2: sources.paths: expected an array of glob strings, got 'releases/*.md' (string)"
    )


def test_bad_size_is_refused(write_config: WriteConfig) -> None:
    path = write_config('[check]\nmax_body = "lots"\n')
    assert "check.max_body: expected a size like '5MB', '256KiB'" in error_of(path)


def test_bad_date_override_names_the_entry_and_its_line(write_config: WriteConfig) -> None:
    path = write_config('[sources.dates]\n"a.md" = 2016-04-07\n"b.md" = "yesterday"\n')
    assert error_of(path) == (
        f"{path}:3: sources.dates.\"b.md\": expected a date like 2016-04-07, got 'yesterday'"
    )


def test_datetime_date_override_is_refused(write_config: WriteConfig) -> None:
    path = write_config("[sources.dates]\nx = 2016-04-07T10:00:00\n")
    assert "sources.dates.x: expected a date like 2016-04-07" in error_of(path)


def test_digest_password_is_refused_pointing_to_environment(write_config: WriteConfig) -> None:
    path = write_config('[digest]\nusername = "lw"\npassword = "hunter2"\n')
    message = error_of(path)
    assert message.startswith(f"{path}:3: digest.password:")
    assert "LINKWATCH_SMTP_PASSWORD" in message
    assert "hunter2" not in message


def test_bad_email_address_is_refused(write_config: WriteConfig) -> None:
    path = write_config('[digest]\nto = ["ops@example.org", "not an address"]\n')
    assert "digest.to: expected an e-mail address like 'ops@example.org'" in error_of(path)


def test_wayback_url_must_be_http(write_config: WriteConfig) -> None:
    path = write_config('[archive]\nwayback_url = "ftp://archive.example"\n')
    assert "archive.wayback_url: expected an http(s) URL" in error_of(path)


def test_unknown_timezone_is_refused(write_config: WriteConfig) -> None:
    path = write_config('[digest]\ntimezone = "Mars/Olympus"\n')
    assert "digest.timezone: expected an IANA time zone" in error_of(path)


def test_schedule_needs_five_fields(write_config: WriteConfig) -> None:
    path = write_config('[digest]\nschedule = "0 8 * *"\n')
    assert "digest.schedule: expected a 5-field cron expression" in error_of(path)


def test_listen_needs_a_valid_port(write_config: WriteConfig) -> None:
    path = write_config('[run]\nlisten = "127.0.0.1:99999"\n')
    assert "run.listen: expected host:port" in error_of(path)


def test_user_agent_with_line_break_is_refused(write_config: WriteConfig) -> None:
    path = write_config('[check]\nuser_agent = "lw\\r\\nX-Evil: 1"\n')
    assert "check.user_agent: expected a non-empty string on one line" in error_of(path)


def test_section_that_is_not_a_table_is_refused(write_config: WriteConfig) -> None:
    path = write_config("check = 5\n")
    assert error_of(path) == f"{path}:1: check: expected a table, got 5 (integer)"


def test_only_the_first_error_is_reported(write_config: WriteConfig) -> None:
    path = write_config('[check]\nper_host = "two"\nconcurrency = "many"\n')
    message = error_of(path)
    assert "check.per_host" in message
    assert "check.concurrency" not in message
    assert "\n" not in message


def test_toml_syntax_error_names_line(write_config: WriteConfig) -> None:
    path = write_config("[check]\nper_host = = 2\n")
    message = error_of(path)
    assert message.startswith(f"{path}:2: invalid TOML: ")
    assert "\n" not in message


def test_missing_file_suggests_init(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert error_of(path) == f"{path}: no such config file (run `linkwatch init` to write one)"


def test_file_not_in_utf8_is_refused_with_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[check]\n# caf\xe9\n")
    assert error_of(path) == f"{path}:2: invalid TOML: not UTF-8"


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", dt.timedelta(seconds=30)),
        ("10m", dt.timedelta(minutes=10)),
        ("6h", dt.timedelta(hours=6)),
        ("3d", dt.timedelta(days=3)),
        ("2w", dt.timedelta(weeks=2)),
        ("1h30m", dt.timedelta(hours=1, minutes=30)),
        ("1h 30m", dt.timedelta(hours=1, minutes=30)),
        ("0s", dt.timedelta(0)),
        ("500ms", dt.timedelta(milliseconds=500)),
        ("1s 250ms", dt.timedelta(seconds=1, milliseconds=250)),
        ("1m", dt.timedelta(minutes=1)),
    ],
)
def test_parse_duration_accepts_units(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "soon", "30", "30x", "-5s", "1.5h", "h", "5 s x", "5ms2", "5m s", "1.5ms", "\u0665s"],
)
def test_parse_duration_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (262144, 262144),
        ("262144", 262144),
        ("256KiB", 262144),
        ("5MB", 5_000_000),
        ("5 MiB", 5 * 1024 * 1024),
        ("1KB", 1000),
        ("1.5KiB", 1536),
        ("2gb", 2_000_000_000),
    ],
)
def test_parse_size_accepts_decimal_and_binary_units(value: str | int, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["", "lots", "5 XB", "-1", "MB", -1, True])
def test_parse_size_refuses_garbage(value: str | int) -> None:
    with pytest.raises(ValueError):
        parse_size(value)


# ------------------------------------------------------------------ saves to several archives


def test_save_to_lists_archives_in_the_order_written(write_config: WriteConfig) -> None:
    settings = load_settings(write_config('[archive]\nsave_to = ["perma", "wayback"]\n'))
    assert settings.archive.save_to == (SaveTarget.PERMA, SaveTarget.WAYBACK)
    assert default_settings(Path(".")).archive.save_to == (SaveTarget.WAYBACK,)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('["wayback", "wayback"]', "'wayback' is twice"),
        ('["arquivo"]', '"wayback", "pywb", "perma"'),
        ("[]", "at least one"),
        ('"wayback"', "an array of"),
    ],
)
def test_a_bad_save_to_names_the_key_and_what_was_expected(
    write_config: WriteConfig, value: str, said: str
) -> None:
    message = error_of(write_config(f"[archive]\nsave_to = {value}\n"))
    assert "archive.save_to" in message and said in message


def test_on_recovery_and_recovered_after_have_their_defaults(tmp_path: Path) -> None:
    settings = default_settings(tmp_path)
    assert settings.rewrite.on_recovery is OnRecovery.KEEP
    assert settings.policy.recovered_after == dt.timedelta(days=7)
    assert settings.policy.recovered_after_checks == 3
    assert settings.archive.saves_per_minute == 3
    assert settings.archive.if_not_archived_within == dt.timedelta(days=30)

"""The container files, checked for structure (no Docker engine runs in the test suite).

`.ci/run` also lints the Dockerfile with hadolint; these tests check what the
image promises: a multi-stage build on a slim Python >= 3.11, a non-root user,
/state as a volume, the config at /config/config.toml, port 8421, a health
check that really works against `linkwatch run`, SIGTERM, `linkwatch run`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from linkwatch.archive.backends.wayback import ACCESS_KEY_ENV, SECRET_KEY_ENV
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import SMTP_PASSWORD_ENV
from support.daemon import DaemonProcess, LoopbackWeb, write_project

ROOT = Path(__file__).parents[1]
DOCKERFILE = ROOT / "Dockerfile"
CONTAINER_CONFIG = ROOT / "examples" / "container" / "config.toml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def final(name: str) -> list[str]:
    return [args for word, args in stages()[-1] if word == name]


def test_the_build_is_multi_stage_on_a_slim_python_of_at_least_3_11() -> None:
    bases = [args.split()[0] for word, args in instructions() if word == "FROM"]
    assert len(bases) >= 2
    for base in bases:
        match = re.fullmatch(r"python:3\.(\d+)-slim(-\w+)?", base)
        assert match and int(match[1]) >= 11, base
    assert any("--from=build" in args for args in final("COPY"))


def test_the_image_runs_as_a_non_root_user() -> None:
    [user] = final("USER")
    assert user.split(":")[0] not in ("root", "0")


def test_state_is_a_volume_and_the_port_is_exposed() -> None:
    assert json.loads(final("VOLUME")[0]) == ["/state"]
    assert final("EXPOSE") == ["8421"]


def test_entrypoint_is_linkwatch_run_stopped_by_sigterm() -> None:
    assert json.loads(final("ENTRYPOINT")[0]) == ["linkwatch"]
    assert json.loads(final("CMD")[0]) == ["run"]
    assert final("STOPSIGNAL") == ["SIGTERM"]


def test_config_comes_from_config_toml_or_linkwatch_config() -> None:
    env = " ".join(final("ENV"))
    assert "LINKWATCH_CONFIG=/config/config.toml" in env
    assert any(args.endswith(" /config/config.toml") for args in final("COPY"))


def test_the_container_config_puts_state_in_the_volume_and_listens_on_all_interfaces() -> None:
    settings = load_settings(CONTAINER_CONFIG)
    assert settings.state.dir == Path("/state")
    assert settings.run.listen == "0.0.0.0:8421"
    assert all(pattern.startswith("/releases/") for pattern in settings.sources.paths)


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    included = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore  # everything else (.venv, state/, .git) stays out
    for args in final("COPY") + [a for w, a in stages()[0] if w == "COPY"]:
        if args.startswith("--from"):
            continue
        *sources, _target = args.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert any(source == p or source.startswith(p + "/") for p in included), source


def healthcheck_command() -> list[str]:
    [args] = final("HEALTHCHECK")
    command: list[str] = json.loads(args[args.index("CMD") + 3 :].strip())
    return command


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    site = LoopbackWeb().start()
    config = write_project(tmp_path_factory.mktemp("health"), [f"{site.base}/page/1"])
    process = DaemonProcess(config)
    process.line(r"check: checked 1 URLs")
    yield process
    process.close()
    site.stop()


def run_healthcheck(url: str) -> subprocess.CompletedProcess[str]:
    command = healthcheck_command()
    assert command[0] == "python"
    env: dict[str, Any] = {**os.environ, "LINKWATCH_HEALTHZ": url}
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=30
    )


def test_the_healthcheck_passes_against_a_running_daemon(daemon: DaemonProcess) -> None:
    assert run_healthcheck(daemon.url + "/healthz").returncode == 0


def test_the_healthcheck_fails_when_healthz_does_not_answer_200(daemon: DaemonProcess) -> None:
    assert run_healthcheck(daemon.url + "/no-such-page").returncode != 0
    assert run_healthcheck("http://127.0.0.1:9/healthz").returncode != 0


def test_the_healthcheck_url_default_is_the_daemons_port() -> None:
    env = " ".join(final("ENV"))
    assert "LINKWATCH_HEALTHZ=http://127.0.0.1:8421/healthz" in env
    assert "curl" not in shlex.join(healthcheck_command())


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return data


def test_compose_keeps_state_in_a_volume_and_restarts_the_service() -> None:
    service = compose()["services"]["linkwatch"]
    assert service["restart"] in ("always", "unless-stopped", "on-failure")
    assert any(v.split(":")[1] == "/state" for v in service["volumes"])
    assert any(v.split(":")[1] == "/config/config.toml" for v in service["volumes"])
    assert service["environment"]["LINKWATCH_CONFIG"] == "/config/config.toml"


def test_compose_passes_the_secrets_by_the_names_linkwatch_reads() -> None:
    environment = compose()["services"]["linkwatch"]["environment"]
    for name in (SMTP_PASSWORD_ENV, ACCESS_KEY_ENV, SECRET_KEY_ENV):
        assert environment[name] == "${" + name + ":-}"  # from the host, never written here


def test_compose_gives_the_grace_period_time_to_end() -> None:
    grace = load_settings(CONTAINER_CONFIG).run.grace.total_seconds()
    stop = compose()["services"]["linkwatch"]["stop_grace_period"]
    assert int(stop.removesuffix("s")) > grace

"""The container files, checked for structure (no container engine runs in the test suite).

`.ci/run` also lints the Dockerfile with hadolint and ends with `.ci/container`, which
builds the image with buildah and runs it with podman; these tests check what the
image promises: a multi-stage build on a slim Python >= 3.11, dependencies from the
hashed lock file (which holds every dependency pyproject.toml names), a CA secret and
an index argument for the build, a non-root user, /state as a volume, the config at
/config/config.toml, port 8421, a health check that really works against `linkwatch
run`, SIGTERM, `linkwatch run`; and a compose file valid under the Compose
Specification's own schema (tests/fixtures/container/compose-spec.json, from
compose-spec/compose-spec, schema/compose-spec.json at 170098b, 2026-06-23).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from linkwatch.archive.backends.perma import PERMA_KEY_ENV
from linkwatch.archive.backends.wayback import ACCESS_KEY_ENV, SECRET_KEY_ENV
from linkwatch.config.loading import load_settings
from linkwatch.config.settings import SMTP_PASSWORD_ENV
from support.daemon import DaemonProcess, LoopbackWeb, write_project

ROOT = Path(__file__).parents[1]
DOCKERFILE = ROOT / "Dockerfile"
LOCK = ROOT / "requirements.lock"
COMPOSE_SPEC = Path(__file__).parent / "fixtures" / "container" / "compose-spec.json"
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


def test_temporary_files_go_to_the_state_volume() -> None:
    """The worker pool's socket folder and SQLite's spill files: nothing outside /state."""
    assert "TMPDIR=/state" in " ".join(final("ENV"))


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


def mounts() -> dict[str, dict[str, Any]]:
    """The service's volumes by target, short syntax read as the long one."""
    found: dict[str, dict[str, Any]] = {}
    for volume in compose()["services"]["linkwatch"]["volumes"]:
        if isinstance(volume, str):
            source, target, *options = volume.split(":")
            volume = {"source": source, "target": target, "read_only": "ro" in options}
        found[volume["target"]] = volume
    return found


def test_compose_keeps_state_in_a_volume_and_restarts_the_service() -> None:
    service = compose()["services"]["linkwatch"]
    assert service["restart"] in ("always", "unless-stopped", "on-failure")
    assert mounts()["/state"]["source"] in compose()["volumes"]
    assert mounts()["/config/config.toml"]["read_only"]
    assert service["environment"]["LINKWATCH_CONFIG"] == "/config/config.toml"


def test_compose_is_valid_under_the_compose_specification() -> None:
    # the schema says draft-07 by a URL jsonschema does not know (no trailing '#')
    validator = jsonschema.Draft7Validator(json.loads(COMPOSE_SPEC.read_text(encoding="utf-8")))
    validator.validate(compose())
    broken = compose()
    broken["services"]["linkwatch"]["volumes"][1]["bind"]["create_host_paths"] = False
    with pytest.raises(jsonschema.ValidationError):  # the schema does judge bind options
        validator.validate(broken)


def test_compose_never_creates_the_releases_folder_root_owned() -> None:
    """Short syntax creates a missing ./releases as root, which uid 10001 cannot write."""
    releases = mounts()["/releases"]
    assert releases["type"] == "bind" and releases["source"] == "./releases"
    assert releases["bind"]["create_host_path"] is False
    assert not releases.get("read_only", False)  # rewrite.mode is "dead" in the config


def test_compose_passes_the_secrets_by_the_names_linkwatch_reads() -> None:
    environment = compose()["services"]["linkwatch"]["environment"]
    for name in (SMTP_PASSWORD_ENV, ACCESS_KEY_ENV, SECRET_KEY_ENV, PERMA_KEY_ENV):
        assert environment[name] == "${" + name + ":-}"  # from the host, never written here


def test_compose_gives_the_grace_period_time_to_end() -> None:
    grace = load_settings(CONTAINER_CONFIG).run.grace.total_seconds()
    stop = compose()["services"]["linkwatch"]["stop_grace_period"]
    assert int(stop.removesuffix("s")) > grace


# --------------------------------------------------------------------------- the lock


def locked() -> dict[str, Requirement]:
    """requirements.lock's pins by canonical name (continuation lines joined, hashes kept)."""
    text = re.sub(r"\\\n\s*", " ", LOCK.read_text(encoding="utf-8"))
    pins = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", " ")):
            requirement = Requirement(re.sub(r"--hash=\S+", "", line).strip())
            assert "--hash=sha256:" in line, f"{requirement.name} has no hash"
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def pinned_version(requirement: Requirement) -> str:
    [spec] = requirement.specifier
    assert spec.operator == "==", f"{requirement.name} is not pinned: {requirement.specifier}"
    return spec.version


@pytest.mark.parametrize("section", ["project.dependencies", "build-system.requires"])
def test_every_dependency_of_pyproject_is_pinned_in_the_lock_within_its_bounds(
    section: str,
) -> None:
    """A dependency added to pyproject.toml, or a bound raised, without `bash .ci/lock`
    would be missing from the image (pip --require-hashes refuses what the lock lacks)."""
    table, key = section.split(".")
    wanted = [Requirement(text) for text in pyproject()[table][key]]
    pins = locked()
    assert wanted
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} of {section} is not in requirements.lock"
        version = pinned_version(pins[name])
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside {section}'s {requirement}"
        )


def test_every_pin_of_the_lock_is_exact_and_hashed() -> None:
    pins = locked()
    assert len(pins) >= len(pyproject()["project"]["dependencies"])
    for requirement in pins.values():
        pinned_version(requirement)


def run_steps() -> list[str]:
    return [args for word, args in stages()[0] if word == "RUN"]


def test_the_build_installs_the_lock_with_hashes_then_linkwatch_without_dependencies() -> None:
    steps = run_steps()
    [locked_step] = [step for step in steps if "-r requirements.lock" in step]
    assert "--require-hashes" in locked_step
    [project_step] = [step for step in steps if re.search(r"pip install [^&]*\.(\s|$)", step)]
    assert "--no-deps" in project_step and "--no-index" in project_step
    assert steps.index(locked_step) < steps.index(project_step)
    copies = [args for word, args in stages()[0] if word == "COPY"]
    assert "requirements.lock ./" in copies


def test_the_build_takes_a_ca_secret_and_an_index_argument() -> None:
    [locked_step] = [step for step in run_steps() if "-r requirements.lock" in step]
    assert locked_step.startswith("--mount=type=secret,id=ca ")
    assert "PIP_CERT=/run/secrets/ca" in locked_step
    assert "if [ -s /run/secrets/ca ]" in locked_step  # without the secret, the image's store
    assert "PIP_INDEX_URL=https://pypi.org/simple" in [
        args for word, args in stages()[0] if word == "ARG"
    ]


def test_the_base_image_digest_is_written_down() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"#\s+python:3\.12-slim-bookworm@sha256:[0-9a-f]{64}\n", text)
    assert "--format docker" in text  # why HEALTHCHECK needs it under podman and buildah


def test_ci_builds_and_runs_the_image_last() -> None:
    steps = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert steps[-1] == "bash .ci/container"
    script = (ROOT / ".ci" / "container").read_text(encoding="utf-8")
    assert "bud --format docker" in script

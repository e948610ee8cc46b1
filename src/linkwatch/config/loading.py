"""Loading: a config file -> validated values -> `Settings`, or one line saying what is wrong.

A bad file raises `ConfigError` with one line naming the file, the line and the
key, for the first problem only. tomllib reports no line numbers for values, so
lines are found by scanning the text for table headers and `key =` assignments:
good enough for ordinary files; when it fails the line is left out rather than
guessed.
"""

from __future__ import annotations

import difflib
import keyword
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from linkwatch.config.keys import (
    FORBIDDEN,
    KEY_BY_NAME,
    KEYS,
    RULE_KEY_BY_LEAF,
    SECTIONS,
    KeySpec,
    toml_string,
)
from linkwatch.config.settings import (
    ArchiveSettings,
    CheckSettings,
    DigestSettings,
    NotifySettings,
    PolicySettings,
    RewriteSettings,
    RunSettings,
    Settings,
    SourcesSettings,
    StateSettings,
)
from linkwatch.config.values import Invalid, describe
from linkwatch.errors import ConfigError
from linkwatch.rules import Rule, RuleSet

RULES = "rules"  # the one array of tables: [[rules]]


class _Problem(Exception):
    """The first thing wrong with a parsed file, with the TOML key path to find its line."""

    def __init__(self, key_path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.key_path = key_path
        self.message = message


def _hint(name: str, candidates: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _unknown_section(section: str, value: object) -> _Problem:
    array = isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    if isinstance(value, dict) or array:  # [name] or [[name]]
        tables = (*SECTIONS, RULES)
        return _Problem((section,), f"unknown table '{section}'" + _hint(section, tables))
    return _Problem((section,), f"unknown key '{section}'" + _hint(section, list(KEY_BY_NAME)))


def _unknown_key(section: str, leaf: str) -> _Problem:
    name = f"{section}.{leaf}"
    if name in FORBIDDEN:
        return _Problem((section, leaf), f"{name}: {FORBIDDEN[name]}")
    return _Problem((section, leaf), f"unknown key '{name}'" + _hint(name, list(KEY_BY_NAME)))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def _convert(spec: KeySpec, raw: object, base_dir: Path) -> Any:
    try:
        return spec.convert(raw, base_dir)
    except Invalid as invalid:
        key_path: tuple[str, ...] = (spec.section, spec.leaf)
        name = spec.name
        if invalid.subkey is not None:
            key_path += (invalid.subkey,)
            name += "." + _toml_key(invalid.subkey)
            raw = raw[invalid.subkey] if isinstance(raw, dict) else raw
        got = describe(raw, with_type=invalid.wrong_type)
        raise _Problem(key_path, f"{name}: expected {invalid.expected}, got {got}") from None


def _validate(document: Mapping[str, object], base_dir: Path) -> dict[str, Any]:
    """Typed values by dotted name, in file order, defaults filled in; the first problem raises."""
    values: dict[str, Any] = {}
    for section, table in document.items():
        if section == RULES:
            values[RULES] = _rules(table, base_dir)
            continue
        if section not in SECTIONS:
            raise _unknown_section(section, table)
        if not isinstance(table, dict):
            got = describe(table, with_type=True)
            raise _Problem((section,), f"{section}: expected a table, got {got}")
        for leaf, raw in table.items():
            spec = KEY_BY_NAME.get(f"{section}.{leaf}")
            if spec is None:
                raise _unknown_key(section, leaf)
            values[spec.name] = _convert(spec, raw, base_dir)
    for spec in KEYS:
        if spec.name not in values:
            values[spec.name] = _convert(spec, tomllib.loads(f"v = {spec.default}")["v"], base_dir)
    return values


def _rules(tables: object, base_dir: Path) -> RuleSet:
    """`[[rules]]` tables -> a RuleSet; a problem names `rules[N].key` (N from 1)."""
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        got = describe(tables, with_type=True)
        raise _Problem((RULES,), f"rules: expected [[rules]] tables, got {got}")
    return RuleSet(tuple(_rule(number, table, base_dir) for number, table in enumerate(tables, 1)))


def _rule(number: int, table: dict[str, Any], base_dir: Path) -> Rule:
    index = str(number - 1)
    name = f"rules[{number}]"
    values: dict[str, Any] = {}
    for leaf, raw in table.items():
        spec = RULE_KEY_BY_LEAF.get(leaf)
        if spec is None:
            hint = _hint(leaf, list(RULE_KEY_BY_LEAF))
            raise _Problem((RULES, index, leaf), f"unknown key '{name}.{leaf}'" + hint)
        try:
            values[leaf] = spec.convert(raw, base_dir)
        except Invalid as invalid:
            key_path: tuple[str, ...] = (RULES, index, leaf)
            where = f"{name}.{leaf}"
            if invalid.subkey is not None:
                key_path += (invalid.subkey,)
                where += "." + _toml_key(invalid.subkey)
                raw = raw[invalid.subkey] if isinstance(raw, dict) else raw
            # a header's value may be a secret: never repeated in a message
            got = (
                "" if leaf == "headers" else f", got {describe(raw, with_type=invalid.wrong_type)}"
            )
            raise _Problem(key_path, f"{where}: expected {invalid.expected}{got}") from None
    if ("host" in values) == ("url" in values):
        raise _Problem((RULES, index), f"{name}: give one of host or url")
    if "subdomains" in values and "host" not in values:
        raise _Problem((RULES, index, "subdomains"), f"{name}.subdomains: only goes with host")
    if not set(values) - {"host", "url", "subdomains"}:
        raise _Problem((RULES, index), f"{name}: says nothing to do (exclude, accept, ...)")
    return Rule(number=number, **values)


_T = TypeVar("_T")


def _field_name(leaf: str) -> str:
    """`digest.from` is a Python keyword, so its field is `from_`."""
    return leaf + "_" if keyword.iskeyword(leaf) else leaf


def _section(factory: Callable[..., _T], section: str, values: Mapping[str, Any]) -> _T:
    """One section's dataclass; a KEYS entry without a field fails here, on every load."""
    prefix = section + "."
    return factory(
        **{
            _field_name(name.removeprefix(prefix)): value
            for name, value in values.items()
            if name.startswith(prefix)
        }
    )


def _assemble(values: Mapping[str, Any], base_dir: Path, config_path: Path | None) -> Settings:
    return Settings(
        config_path=config_path,
        base_dir=base_dir,
        sources=_section(SourcesSettings, "sources", values),
        state=_section(StateSettings, "state", values),
        check=_section(CheckSettings, "check", values),
        policy=_section(PolicySettings, "policy", values),
        archive=_section(ArchiveSettings, "archive", values),
        rewrite=_section(RewriteSettings, "rewrite", values),
        digest=_section(DigestSettings, "digest", values),
        notify=_section(NotifySettings, "notify", values),
        run=_section(RunSettings, "run", values),
        rules=values.get(RULES, RuleSet()),
    )


def default_settings(base_dir: Path) -> Settings:
    base_dir = base_dir.resolve()
    return _assemble(_validate({}, base_dir), base_dir, None)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such config file (run `linkwatch init` to write one)"
        ) from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")  # tolerate the BOM some editors write
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: invalid TOML: not UTF-8") from None


_TOML_ERROR_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        match = _TOML_ERROR_LINE.search(message)
        where = f"{path}:{match[1]}" if match else str(path)
        raise ConfigError(f"{where}: invalid TOML: {message}") from None


def load_settings(path: Path) -> Settings:
    """Read, validate and type one config file; raises ConfigError naming the first problem."""
    text = _read_text(path)
    document = _parse(text, path)
    config_path = path.resolve()
    base_dir = config_path.parent
    lines = _KeyLines(text)
    try:
        values = _validate(document, base_dir)
    except _Problem as problem:
        line = lines.find(problem.key_path)
        where = f"{path}:{line}" if line is not None else str(path)
        raise ConfigError(f"{where}: {problem.message}") from None
    if RULES in values:
        values[RULES] = RuleSet(
            tuple(
                replace(rule, line=lines.find((RULES, str(rule.number - 1))))
                for rule in values[RULES].rules
            )
        )
    return _assemble(values, base_dir, config_path)


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""

_KEY_PATH = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"

_HEADER = re.compile(rf"\s*\[\[?\s*(?P<key>{_KEY_PATH})\s*\]")

_ASSIGNMENT = re.compile(rf"\s*(?P<key>{_KEY_PATH})\s*=")


def _parse_key_path(text: str) -> tuple[str, ...]:
    """Let tomllib itself unquote and split a dotted key: quoting rules are subtle."""
    node: object = tomllib.loads(f"{text} = 0")
    parts: list[str] = []
    while isinstance(node, dict):
        key, node = next(iter(node.items()))
        parts.append(key)
    return tuple(parts)


class _KeyLines:
    """Where each key path is first written: `[table]` headers and `key =` assignments.

    A line inside a multi-line string that looks like an assignment can mislead it;
    that is the accepted price of not writing a second TOML parser.
    """

    def __init__(self, text: str) -> None:
        self.headers: dict[tuple[str, ...], int] = {}
        self.assignments: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        arrays: dict[tuple[str, ...], int] = {}  # [[name]] tables seen so far, by name
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _HEADER.match(line):
                table = _parse_key_path(header["key"])
                self.headers.setdefault(table, number)
                if line.lstrip().startswith("[["):  # the Nth of an array of tables: name, N-1
                    count = arrays[table] = arrays.get(table, 0) + 1
                    table += (str(count - 1),)
                    self.headers.setdefault(table, number)
            elif assignment := _ASSIGNMENT.match(line):
                key_path = table + _parse_key_path(assignment["key"])
                for length in range(len(table) + 1, len(key_path) + 1):
                    self.assignments.setdefault(key_path[:length], number)

    def find(self, key_path: tuple[str, ...]) -> int | None:
        """The key's own line, else the line of an enclosing inline table or dotted key."""
        for candidate in (self.assignments, self.headers):
            if key_path in candidate:
                return candidate[key_path]
        for length in range(len(key_path) - 1, 0, -1):
            if key_path[:length] in self.assignments:
                return self.assignments[key_path[:length]]
        return None

"""The daemon's read-only API and the filter form of `/`, on the example store, through
the daemon's own endpoints (its store, its page cache, its Host check) over loopback."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from aiohttp.test_utils import TestClient
from click.testing import CliRunner
from referencing import Registry, Resource

from linkwatch.cli import main
from linkwatch.clock import fixed_clock
from linkwatch.config.loading import load_settings
from linkwatch.daemon.server import make_app
from linkwatch.daemon.service import Daemon
from linkwatch.store import Store
from support.report_example import NOW, build_example_store

Client = Callable[..., Awaitable[TestClient[Any, Any]]]
SCHEMAS = Path(__file__).parents[1] / "src" / "linkwatch" / "schema"


def validator(name: str) -> jsonschema.Draft202012Validator:
    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, registry=registry)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    with Store.open(tmp_path / "state") as store:
        build_example_store(store)
    path = tmp_path / "config.toml"
    path.write_text(
        '[state]\ndir = "state"\n\n[run]\npublic_url = "https://linkwatch.example.org/lw"\n'
        'allowed_hosts = ["reports.example.net"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def client(config: Path, aiohttp_client: Client) -> AsyncIterator[TestClient[Any, Any]]:
    daemon = Daemon(load_settings(config), clock=fixed_clock(NOW))
    with daemon.store_open():
        yield await aiohttp_client(make_app(daemon.endpoints()))


async def get_json(client: TestClient[Any, Any], path: str, status: int = 200) -> Any:
    answer = await client.get(path)
    assert answer.status == status, await answer.text()
    assert answer.headers["Content-Type"].startswith("application/json")
    return await answer.json()


async def test_releases_lists_each_release_with_its_states(
    client: TestClient[Any, Any],
) -> None:
    data = await get_json(client, "/api/v1/releases")
    validator("api-releases.schema.json").validate(data)
    paths = [release["path"] for release in data["releases"]]
    assert paths == sorted(paths) and len(paths) == 4
    juncker = next(r for r in data["releases"] if "juncker" in r["path"])
    assert juncker["citations"] == sum(juncker["states"].values()) == 11
    assert juncker["states"]["dead"] >= 1


async def test_citations_filter_by_state_host_and_release(client: TestClient[Any, Any]) -> None:
    every = await get_json(client, "/api/v1/citations")
    dead = await get_json(client, "/api/v1/citations?state=dead")
    for data in (every, dead):
        validator("api-citations.schema.json").validate(data)
    assert dead["count"] == len(dead["citations"]) > 0
    assert {c["state"] for c in dead["citations"]} == {"dead"}
    assert dead["count"] == sum(1 for c in every["citations"] if c["state"] == "dead")
    assert dead["filters"]["states"] == ["dead"]
    both = await get_json(client, "/api/v1/citations?state=dead&state=soft404")
    assert {c["state"] for c in both["citations"]} == {"dead", "soft404"}
    host = every["citations"][0]["host"]
    on_host = await get_json(client, f"/api/v1/citations?host={host}")
    assert on_host["citations"] and {c["host"] for c in on_host["citations"]} == {host}
    release = every["citations"][-1]["release"]
    in_release = await get_json(client, f"/api/v1/citations?release={release}")
    assert {c["release"] for c in in_release["citations"]} == {release}
    wrong = await get_json(client, "/api/v1/citations?state=gone", status=400)
    assert "state" in wrong["error"] and "gone" in wrong["error"]


async def test_a_urls_history_is_its_run_length_spans(client: TestClient[Any, Any]) -> None:
    dead = await get_json(client, "/api/v1/citations?state=dead")
    citation = dead["citations"][0]
    data = await get_json(client, f"/api/v1/urls/{citation['url_id']}/history")
    validator("api-url-history.schema.json").validate(data)
    assert data["url"] == citation["url"] and data["state"] == "dead"
    assert data["history"][-1]["state"] == "dead"
    assert all(span["count"] >= 1 for span in data["history"])
    assert (await get_json(client, "/api/v1/urls/999999/history", 404))["error"]
    assert (await client.get("/api/v1/urls/abc/history")).status == 404
    assert (await client.get("/api/v1/nothing")).status == 404


async def test_the_api_report_is_the_json_reports_bytes(
    client: TestClient[Any, Any], config: Path
) -> None:
    for query, options in (
        ("", []),
        ("?by=url&state=dead,soft404", ["--by", "url", "--state", "dead,soft404"]),
        ("?by=host", ["--by", "host"]),
    ):
        answer = await client.get(f"/api/v1/report{query}")
        assert answer.status == 200
        body = await answer.read()
        validator("report.schema.json").validate(json.loads(body))
        cli = CliRunner().invoke(
            main,
            ["--config", str(config), "report", "--format", "json", *options],
            obj={"clock": fixed_clock(NOW)},
        )
        assert cli.exit_code == 0, cli.output
        assert body == cli.stdout_bytes, query
    assert (await client.get("/api/v1/report?by=site")).status == 400


async def test_api_answers_carry_an_etag_and_a_client_that_has_it_gets_304(
    client: TestClient[Any, Any],
) -> None:
    for path in ("/api/v1/releases", "/api/v1/citations?state=dead", "/api/v1/report"):
        first = await client.get(path)
        etag = first.headers["ETag"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and again.headers["ETag"] == etag
        zipped = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers.get("Content-Encoding") == "gzip"


async def test_the_api_respects_the_host_check_and_public_url_names_are_allowed(
    client: TestClient[Any, Any],
) -> None:
    refused = await client.get("/api/v1/citations", headers={"Host": "attacker.test"})
    assert refused.status == 421 and "run.allowed_hosts" in await refused.text()
    for name in ("linkwatch.example.org", "reports.example.net:443", "localhost:8421"):
        allowed = await client.get("/api/v1/releases", headers={"Host": name})
        assert allowed.status == 200, name
    assert (await client.get("/", headers={"Host": "attacker.test"})).status == 421


async def test_the_report_page_has_a_get_form_that_filters_it(
    client: TestClient[Any, Any],
) -> None:
    whole = await (await client.get("/")).text()
    form = re.search(r'<form class="filters" method="get" action="">(.*?)</form>', whole, re.S)
    assert form is not None and "<script" not in whole
    fields = set(re.findall(r'name="(\w+)"', form[1]))
    assert fields == {"state", "host", "release"}
    filtered = await (await client.get("/?state=dead&host=")).text()
    assert 'value="dead" checked' in filtered
    assert len(filtered) < len(whole)
    dead_urls = await get_json(client, "/api/v1/citations?state=dead")
    alive_urls = await get_json(client, "/api/v1/citations?state=alive")
    for citation in dead_urls["citations"]:
        assert citation["url"].replace("&", "&amp;") in filtered
    for citation in alive_urls["citations"]:
        if citation["url"] not in {c["url"] for c in dead_urls["citations"]}:
            assert f'href="{citation["url"].replace("&", "&amp;")}"' not in filtered
    assert (await client.get("/?state=nonsense")).status == 400

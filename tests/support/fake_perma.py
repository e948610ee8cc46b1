"""A fake Perma.cc on 127.0.0.1 that speaks the shapes of its v1 REST API.

The shapes are those of Perma.cc's own serializers and views
(harvard-lil/perma, `perma_web/api/serializers.py`, `api/views/links.py`):

* `GET /v1/user/` -> the key owner (`id`, names, `top_level_folders`); 401
  `{"detail": ...}` without a valid `Authorization: ApiKey <key>`;
* `POST /v1/archives/` with JSON `{"url", "folder"}` -> 201 and the link
  (`guid` like `ABCD-1234`, `creation_timestamp`, `captures` with the
  `primary` one `pending`); 400 with errors by field: `{"url": ["Couldn't
  load URL."]}` for a page it cannot load (`unloadable.example`), and
  `{"error": ["Perma can't create this link. You've reached your usage
  limit. ..."]}` once `links_limit` links are made;
* `GET /v1/archives/<guid>/` -> the link; its primary capture turns
  `success` after `pending_polls` reads;
* `GET /v1/archives/?url=` -> `{"meta": {...}, "objects": [links]}`;
* `GET /<guid>` -> the Perma Link's page, for replays.

`mode` makes it misbehave for a whole run: `"503"` answers every request
with 503, `"silent"` accepts connections and never answers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

USED_UP = (
    "Perma can't create this link. You've reached your usage limit. "
    "Visit your Usage Plan page for information and plan options."
)
UNLOADABLE_HOSTS = ("unloadable.example",)


def _guid(n: int) -> str:
    letters = string.ascii_uppercase + string.digits
    digits = []
    for _ in range(8):
        n, rest = divmod(n, len(letters))
        digits.append(letters[rest])
    text = "".join(reversed(digits))
    return f"{text[:4]}-{text[4:]}"


@dataclass
class Link:
    guid: str
    url: str
    created: dt.datetime
    folder: int
    reads: int = 0
    fails: bool = False

    def as_json(self, pending_polls: int) -> dict[str, Any]:
        if self.fails and self.reads > pending_polls:
            status = "failed"
        else:
            status = "success" if self.reads > pending_polls else "pending"
        stamp = self.created.isoformat().replace("+00:00", "Z")
        return {
            "guid": self.guid,
            "creation_timestamp": stamp,
            "url": self.url,
            "title": "A page worth citing",
            "description": None,
            "warc_size": 12345 if status == "success" else None,
            "captures": [
                {
                    "role": "primary",
                    "status": status,
                    "url": self.url,
                    "record_type": "response",
                    "content_type": "text/html; charset=utf-8" if status == "success" else None,
                    "user_upload": False,
                },
                {
                    "role": "screenshot",
                    "status": status,
                    "url": f"file:///{self.guid}/cap.png",
                    "record_type": "resource",
                    "content_type": "image/png" if status == "success" else None,
                    "user_upload": False,
                },
            ],
            "queue_time": 1 if status != "pending" else None,
            "capture_time": 4 if status != "pending" else None,
            "notes": "",
            "created_by": {"id": 1, "first_name": "Press", "last_name": "Office"},
            "is_private": False,
            "private_reason": None,
            "archive_timestamp": (self.created + dt.timedelta(days=1)).isoformat(),
            "organization": None,
        }


@dataclass
class FakePerma:
    key: str = "perma-test-key-0123456789"
    links_limit: int | None = None
    pending_polls: int = 1
    mode: str = "ok"  # ok, 503, silent
    echo_headers: bool = False  # a refused key is quoted back with the request's headers
    folder: int = 27
    links: dict[str, Link] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    creates: list[dict[str, Any]] = field(default_factory=list)  # each POST's JSON body
    failing_urls: set[str] = field(default_factory=set)  # captures that end `failed`
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_000))

    def links_of(self, url: str) -> list[Link]:
        return [link for link in self.links.values() if link.url == url]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests["all"] += 1
        if self.mode == "silent":
            await asyncio.Event().wait()  # never answers
        if self.mode == "503":
            return web.Response(status=503, text="<h1>503 Service Unavailable</h1>")
        path = request.path
        if not path.startswith("/v1/"):
            return self._playback(path.strip("/"))
        if request.headers.get("Authorization") != f"ApiKey {self.key}":
            detail = "Invalid token."
            if self.echo_headers:
                detail += " You sent: " + "; ".join(f"{k}: {v}" for k, v in request.headers.items())
            return web.json_response({"detail": detail}, status=401)
        if path == "/v1/user/":
            self.requests["user"] += 1
            return web.json_response(
                {
                    "id": 1,
                    "first_name": "Press",
                    "last_name": "Office",
                    "full_name": "Press Office",
                    "short_name": "Press",
                    "top_level_folders": [
                        {
                            "id": self.folder,
                            "name": "Personal Links",
                            "parent": None,
                            "has_children": False,
                            "organization": None,
                        }
                    ],
                }
            )
        if path == "/v1/archives/" and request.method == "POST":
            return await self._create(request)
        if path == "/v1/archives/":
            self.requests["list"] += 1
            url = request.query.get("url", "")
            objects = [link.as_json(self.pending_polls) for link in self.links_of(url)]
            meta = {"limit": 100, "next": None, "offset": 0, "previous": None}
            return web.json_response(
                {"meta": {**meta, "total_count": len(objects)}, "objects": objects}
            )
        guid = path.removeprefix("/v1/archives/").strip("/")
        link = self.links.get(guid)
        if link is None:
            return web.json_response({"detail": "Not found."}, status=404)
        self.requests["detail"] += 1
        link.reads += 1
        return web.json_response(link.as_json(self.pending_polls))

    async def _create(self, request: web.Request) -> web.Response:
        self.requests["create"] += 1
        body = json.loads(await request.read())
        self.creates.append(body)
        url = str(body.get("url", ""))
        if self.links_limit is not None and len(self.links) >= self.links_limit:
            return web.json_response({"error": [USED_UP]}, status=400)
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if host in UNLOADABLE_HOSTS:
            return web.json_response({"url": ["Couldn't load URL."]}, status=400)
        guid = _guid(next(self._numbers))
        link = Link(
            guid,
            url,
            dt.datetime.now(dt.UTC).replace(microsecond=0),
            body.get("folder") or self.folder,
        )
        link.fails = url in self.failing_urls
        self.links[guid] = link
        return web.json_response(link.as_json(self.pending_polls), status=201)

    def _playback(self, guid: str) -> web.Response:
        self.requests["playback"] += 1
        link = self.links.get(guid)
        if link is None:
            return web.Response(status=404, text="<title>Perma.cc | Not Found</title>")
        page = (
            f"<html><head><title>Perma.cc | {link.url}</title></head>"
            f"<body><p>Captured {link.created:%d %B %Y}: a page worth citing.</p></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

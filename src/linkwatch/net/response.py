"""One HTTP answer as linkwatch keeps it: status, headers and at most the start of the body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from multidict import CIMultiDictProxy


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """One HTTP answer, with at most the start of its (decompressed) body."""

    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    truncated: bool  # the body went on past what was read
    elapsed: float

    @property
    def charset(self) -> str | None:
        for param in self.headers.get("Content-Type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


def media_type(headers: Mapping[str, str]) -> str:
    """The Content-Type's media type in lower case, '' when the server sent none."""
    return headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


# How many body bytes to read, decided once status and headers are known
# (a redirect or a PDF needs none, an HTML page needs its start).
BodyLimit = int | Callable[[int, CIMultiDictProxy[str]], int]

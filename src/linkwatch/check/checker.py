"""One cited URL -> one CheckResult describing exactly what the web answered.

Calling a live page dead is worse than saying nothing (a later step would swap
a good citation for an archive link), so this module reports, it does not judge:
the pure `verdict` turns a CheckResult plus history into a State.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from linkwatch.check.page import read_page
from linkwatch.check.parked import landing_signs
from linkwatch.check.redirects import fetch, invalid_url_reason, retry_after
from linkwatch.check.soft404 import SoftNotFoundProbe, judge_page
from linkwatch.check.walls import is_bot_wall
from linkwatch.drift.compare import LANDING_SHINGLES
from linkwatch.drift.prints import content_print
from linkwatch.model import CheckResult, ErrorKind
from linkwatch.net.polite import Net


async def check_url(
    net: Net,
    url: str,
    *,
    now: Callable[[], dt.datetime] | None = None,
    probe_cache: SoftNotFoundProbe | None = None,
    fingerprint: bool = False,
    content: bool = False,
) -> CheckResult:
    """Check one URL. Never raises for anything the web or the URL does.

    `fingerprint` asks for the page text's fingerprint in the result, for a
    caller that compares pages later (the archive's replays); a check only
    computes it to compare with the site's answer to a non-existent path.
    `content` asks for the page's content fingerprint (title and main text),
    made from the body already read, for the content-drift comparison, and for
    the page's parking or for-sale marks, weighed against the same archived copy.
    """
    checked_at = now() if now is not None else dt.datetime.now(dt.UTC)
    started = time.monotonic()
    problem = invalid_url_reason(url)
    if problem is not None:
        return CheckResult(
            url=url, checked_at=checked_at, error=ErrorKind.INVALID_URL, error_detail=problem
        )
    answer = await fetch(net, url)
    if answer.error is not None:
        return CheckResult(
            url=url,
            checked_at=checked_at,
            hops=tuple(answer.chain.hops),
            error=answer.error.kind,
            error_detail=answer.error.detail,
            elapsed=time.monotonic() - started,
        )
    response = answer.response
    assert response is not None
    page = read_page(response)
    probes = probe_cache or SoftNotFoundProbe()
    try:
        judged = await judge_page(net, url, answer, page, probes)
    finally:
        if probes is not probe_cache:
            await probes.close()
    printed = content_print(page.title, page.markup) if page is not None and content else None
    return CheckResult(
        url=url,
        checked_at=checked_at,
        status=response.status,
        final_url=response.url,
        hops=tuple(answer.chain.hops),
        elapsed=time.monotonic() - started,
        bytes_read=len(response.body),
        title=page.title if page else None,
        fingerprint=page.fingerprint if page is not None and fingerprint else None,
        soft404_reason=judged.soft404,
        usurped_reason=judged.usurped,
        refresh_to=judged.moved_to,
        bot_wall=is_bot_wall(response),
        retry_after=retry_after(response),
        content=printed,
        landing_signs=(
            landing_signs(page)
            if page is not None
            and printed is not None
            and printed.shingles <= LANDING_SHINGLES  # a lander is short: no search otherwise
            and judged.usurped is None
            and judged.soft404 is None
            else None
        ),
    )

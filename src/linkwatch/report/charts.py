"""The HTML report's charts, drawn from the history: timelines, rot over time, hosts."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkwatch.model import State
from linkwatch.store import HistorySpan, Store
from linkwatch.store.reports import Transition

if TYPE_CHECKING:
    pass
from linkwatch.report.rows import HostLine, Report, day
from linkwatch.report.states import STATE_COLOURS, STATE_ORDER
from linkwatch.text import plural


@dataclass(frozen=True, slots=True)
class Segment:
    """A coloured piece of a timeline strip (x and width in per cent of the strip)."""

    x: float
    width: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Bar:
    """A column of the rot-over-time chart: one rectangle per state, stacked."""

    x: float
    width: float
    rects: tuple[tuple[float, float, str, str], ...]  # y, height, colour, tooltip


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class RotChart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    y_max: int
    y_ticks: tuple[tuple[float, int], ...]  # y, value


@dataclass(frozen=True, slots=True)
class HostBar:
    host: str
    segments: tuple[tuple[float, float, str, str], ...]  # x, width, colour, tooltip
    label: str


@dataclass(frozen=True, slots=True)
class HtmlExtras:
    """What only the HTML report shows: timelines and charts from the status history."""

    timelines: Mapping[int, tuple[Segment, ...]]
    timeline_start: str | None
    timeline_end: str
    rot: RotChart | None
    hosts: tuple[HostBar, ...]


CHART_WIDTH, CHART_HEIGHT = 560, 180

MIN_SEGMENT = 4.0  # per cent of a timeline strip: even a one-day span shows

HOST_BARS = 12


def load_html_extras(store: Store, report: Report) -> HtmlExtras:
    """Read the history behind the HTML report's timelines and charts."""
    url_ids = {url.first.url_id for url in report.urls}
    histories = store.histories(url_ids)
    starts = [spans[0].first_at for spans in histories.values() if spans]
    end = report.generated_at
    start = min(starts) if starts else None
    timelines = {
        uid: _segments(spans, start, end) for uid, spans in histories.items() if start and spans
    }
    transitions = [t for t in store.transitions() if t.url_id in url_ids]
    return HtmlExtras(
        timelines=timelines,
        timeline_start=day(start),
        timeline_end=day(end),
        rot=_rot_chart(transitions, end),
        hosts=_host_bars(report.hosts),
    )


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _segments(
    spans: Sequence[HistorySpan], start_text: str, end: dt.datetime
) -> tuple[Segment, ...]:
    """Each span lasts until the next one starts (the last until now): no gaps, no overlap."""
    start = _moment(start_text)
    total = max((end - start).total_seconds(), 1.0)
    result = []
    for index, span in enumerate(spans):
        begin = _moment(span.first_at)
        until = _moment(spans[index + 1].first_at) if index + 1 < len(spans) else end
        x = max(0.0, (begin - start).total_seconds() / total * 100)
        width = max(MIN_SEGMENT, (until - begin).total_seconds() / total * 100)
        x = min(x, 100 - width)  # a change of last week stays visible at the right end
        detail = " ".join(part for part in (str(span.http_status or ""), span.error or "") if part)
        title = (
            f"{span.state} {span.first_at[:10]} → {span.last_at[:10]}, "
            f"{plural(span.count, 'check')}" + (f" ({detail})" if detail else "")
        )
        result.append(Segment(round(x, 2), round(width, 2), colour(span.state), title))
    return tuple(result)


def colour(state: str) -> str:
    return STATE_COLOURS.get(state, STATE_COLOURS[State.UNCHECKED])


_STEPS_DAYS = (1, 7, 14, 30, 91, 182, 365)


def _rot_chart(transitions: Sequence[Transition], end: dt.datetime) -> RotChart | None:
    """URLs per state over time, sampled at up to 60 evenly spaced moments."""
    if not transitions:
        return None
    start = _moment(transitions[0].at)
    span_days = max((end - start).total_seconds() / 86400, 1.0)
    step = next((s for s in _STEPS_DAYS if span_days / s <= 60), 365)
    moments = [
        start + dt.timedelta(days=step * (i + 1)) for i in range(math.ceil(span_days / step))
    ]
    moments[-1] = end
    samples = _sample_states(transitions, moments)
    y_max = max((sum(sample.values()) for sample in samples), default=0) or 1
    y_max = _nice_ceiling(y_max)
    left, bottom, top = 34, 22, 8
    plot_w, plot_h = CHART_WIDTH - left - 6, CHART_HEIGHT - bottom - top
    slot = plot_w / len(samples)
    bars = []
    for index, (moment, sample) in enumerate(zip(moments, samples, strict=True)):
        y = float(top + plot_h)
        rects = []
        for state in reversed(STATE_ORDER[:-1]):
            count = sample.get(state, 0)
            if not count:
                continue
            height = count / y_max * plot_h
            y -= height
            tip = f"{day(moment)}: {count} {state}"
            rects.append((round(y, 2), round(height, 2), colour(state), tip))
        bars.append(
            Bar(round(left + index * slot + slot * 0.12, 2), round(slot * 0.76, 2), tuple(rects))
        )
    ticks = _time_ticks(moments, left, slot)
    y_ticks = tuple(
        (round(top + plot_h - plot_h * f, 2), round(y_max * f)) for f in (0.0, 0.5, 1.0)
    )
    return RotChart(CHART_WIDTH, CHART_HEIGHT, tuple(bars), ticks, y_max, y_ticks)


def _sample_states(
    transitions: Sequence[Transition], moments: Sequence[dt.datetime]
) -> list[dict[str, int]]:
    current: dict[int, str] = {}
    counts: Counter[str] = Counter()
    samples = []
    index = 0
    for moment in moments:
        stamp = moment.astimezone(dt.UTC).isoformat(timespec="seconds")
        while index < len(transitions) and transitions[index].at <= stamp:
            change = transitions[index]
            previous = current.get(change.url_id)
            if previous is not None:
                counts[previous] -= 1
            counts[change.after] += 1
            current[change.url_id] = change.after
            index += 1
        samples.append({state: count for state, count in counts.items() if count})
    return samples


def _nice_ceiling(value: int) -> int:
    magnitude: int = 10 ** max(len(str(value)) - 1, 0)
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value


def _time_ticks(moments: Sequence[dt.datetime], left: float, slot: float) -> tuple[Tick, ...]:
    """A label at each new year (or month, for short histories), at most seven of them."""
    yearly = moments[-1] - moments[0] > dt.timedelta(days=400)
    ticks: list[Tick] = []
    previous = ""
    for index, moment in enumerate(moments):
        label = str(moment.year) if yearly else moment.strftime("%b %Y")
        if label != previous:
            ticks.append(Tick(round(left + index * slot + slot / 2, 2), label))
            previous = label
    keep = max(1, math.ceil(len(ticks) / 7))
    return tuple(ticks[::keep])


def _host_bars(hosts: Sequence[HostLine]) -> tuple[HostBar, ...]:
    """The hosts with most rotten URLs; bar length in per cent of the largest host shown."""
    shown = [h for h in hosts if h.checked][:HOST_BARS]
    widest = max((h.urls for h in shown), default=0)
    bars = []
    for host in shown:
        x = 0.0
        segments = []
        for state in STATE_ORDER:
            count = host.states.get(state, 0)
            if not count:
                continue
            width = count / widest * 100
            segments.append((round(x, 2), round(width, 2), colour(state), f"{count} {state}"))
            x += width
        label = f"{host.rotten}/{host.urls} rotten"
        bars.append(HostBar(host.host, tuple(segments), label))
    return tuple(bars)

"""The states as every report shows them: their order (worst first), styles and colours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linkwatch.model import ROTTEN_STATES, State

if TYPE_CHECKING:
    pass


STATE_STYLES: dict[str, str] = {
    State.UNCHECKED: "dim",
    State.ALIVE: "green",
    State.MOVED: "cyan",
    State.TRANSIENT: "yellow",
    State.BLOCKED: "magenta",
    State.SOFT404: "red",
    State.USURPED: "red",
    State.DEAD: "bold red",
}

# For HTML and SVG: readable on white, distinguishable for the common colour blindnesses
# (red/orange/amber differ in lightness as well as hue).
STATE_COLOURS: dict[str, str] = {
    State.UNCHECKED: "#9aa0a6",
    State.ALIVE: "#2e8b57",
    State.MOVED: "#2f72b8",
    State.TRANSIENT: "#d4a017",
    State.BLOCKED: "#8a5cb8",
    State.SOFT404: "#e8743b",
    State.USURPED: "#c2185b",
    State.DEAD: "#b3261e",
}

# Worst first: the order of summaries, charts and the per-URL view. Plain strings, as
# they key the JSON report's counts.
STATE_ORDER: tuple[str, ...] = tuple(
    state.value
    for state in (
        State.DEAD,
        State.USURPED,
        State.SOFT404,
        State.TRANSIENT,
        State.BLOCKED,
        State.MOVED,
        State.ALIVE,
        State.UNCHECKED,
    )
)

ROTTEN: frozenset[str] = ROTTEN_STATES

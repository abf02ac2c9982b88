"""What every plot shares: the lazy matplotlib import, figures, colours, number formats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MATPLOTLIB_HINT = 'plot() needs matplotlib: pip install "eigenlake[plot]"'
NOISE_COLOUR = "#bdbdbd"
ACCENT = "#c0392b"  # chosen values and thresholds
LINE = "#34609c"  # curves and inliers

# Distinct colours before any repeats: tab20 (dark shades first, so the first ten are
# tab10's), then tab20b and tab20c without tab20c's greys (grey is DBSCAN noise).
_TAB20 = [*range(0, 20, 2), *range(1, 20, 2)]
_TAB20BC = [g + s for s in range(4) for g in range(0, 20, 4)]  # shade-major: hues first
DISTINCT_COLOURS = 20 + 20 + 16


def new_figure(width: float, height: float) -> Figure:
    """A figure outside pyplot (no global state), laid out by constrained layout."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(MATPLOTLIB_HINT) from exc
    return Figure(figsize=(width, height), layout="constrained", dpi=110)


def root_figure(ax: Axes) -> Figure:
    """The figure ``ax`` draws on (the top one when it sits in a sub-figure)."""
    from matplotlib.figure import Figure

    fig: Any = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def palette(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours, as distinct as the count allows: qualitative maps up to
    ``DISTINCT_COLOURS``; beyond, the turbo map stepped by the golden ratio so clusters with
    neighbouring ids still differ (colours then repeat nearly: a plot labels ids instead)."""
    try:
        from matplotlib import colormaps
    except ImportError as exc:
        raise ImportError(MATPLOTLIB_HINT) from exc
    if n <= 10:
        return [colormaps["tab10"](i) for i in range(n)]
    tab = [colormaps["tab20"](i) for i in _TAB20]
    tab += [colormaps["tab20b"](i) for i in _TAB20BC]
    tab += [colormaps["tab20c"](i) for i in _TAB20BC if i < 16]
    if n <= len(tab):
        return tab[:n]
    turbo = colormaps["turbo"]
    return [turbo(0.05 + 0.9 * ((i * 0.6180339887) % 1.0)) for i in range(n)]


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"

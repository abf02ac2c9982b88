"""``TopicsResult.plot``: each topic's keywords and their c-TF-IDF weights."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .style import count, new_figure, palette, root_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLUMNS = 4  # small multiples per row


def plot_topics(answer: dict[str, Any], ax: Axes | None = None) -> Figure:
    """One horizontal bar chart per topic (its keywords, heaviest on top), in a grid of at
    most ``COLUMNS`` per row. With ``ax`` the grid takes that axes' place in its figure (``ax``
    must come from a grid, e.g. ``plt.subplots``)."""
    topics = answer.get("topics") or []
    params = answer.get("parameters") or {}
    n = max(len(topics), 1)
    nrows = math.ceil(n / COLUMNS)
    ncols = math.ceil(n / nrows)  # rows as full as they can be: 6 topics are 3 + 3, not 4 + 2
    words = max((len(t.get("keywords") or []) for t in topics), default=1)
    if ax is None:
        fig = new_figure(3.3 * ncols + 0.4, (0.22 * words + 0.85) * nrows + 0.5)
        grid = fig.subplots(nrows, ncols, squeeze=False)
        axes = [a for row in grid for a in row]
    else:
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError("ax must be part of a grid (plt.subplots) to hold the topic panels")
        fig = root_figure(ax)
        parent = ax.figure
        ax.remove()
        sub = spec.subgridspec(nrows, ncols)
        axes = [parent.add_subplot(sub[r, c]) for r in range(nrows) for c in range(ncols)]
    colours = palette(len(topics))
    for i, t in enumerate(topics):
        a = axes[i]
        kws = (t.get("keywords") or [])[::-1]  # barh draws bottom-up: heaviest last = on top
        a.barh(range(len(kws)), [k["weight"] for k in kws], color=colours[i], height=0.7,
               gid=f"topic-{t['topic_id']}")  # fmt: skip
        a.set_yticks(range(len(kws)), [k["word"] for k in kws], fontsize=8)
        a.set_title(f"topic {t['topic_id']}: {count(t['count'], 'record')}", loc="left",
                    fontsize=9)  # fmt: skip
        a.tick_params(axis="x", labelsize=7)
        a.margins(y=0.01)
        if not kws:
            a.text(0.5, 0.5, "no keywords", ha="center", va="center", transform=a.transAxes)
        if i >= len(topics) - ncols:  # the last panel of each column
            a.set_xlabel("c-TF-IDF weight", fontsize=8)
    for a in axes[len(topics) :]:
        a.remove()
    total = params.get("num_records", sum(t.get("count", 0) for t in topics))
    parent_title = f"Topics: {count(len(topics), 'topic')} over {count(total, 'record')}"
    if ax is None:
        fig.suptitle(parent_title, x=0.01, ha="left", fontsize=11)
    return fig

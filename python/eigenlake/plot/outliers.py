"""``OutliersResult.plot``: the LOF score distribution, the threshold, the top outliers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..api.answers import lof_threshold, record_label
from .style import ACCENT, LINE, count, new_figure, root_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TOP_LABELLED = 6  # the most outlying records named on the plot
MAX_BINS = 60


def plot_outliers(answer: dict[str, Any], ax: Axes | None = None) -> Figure:
    """Histogram of the listed LOF scores (inliers blue, flagged red, log counts), the
    threshold as a dashed line and the ``TOP_LABELLED`` most outlying records named.

    The answer lists every analysed record only with ``return_all=True``; otherwise the
    histogram shows the flagged ones and the title says so."""
    if ax is None:
        fig = new_figure(9.5, 5.2)
        ax = fig.subplots()
    else:
        fig = root_figure(ax)
    params = answer.get("parameters") or {}
    recs = answer.get("outliers") or []
    scores = np.array([r["score"] for r in recs], dtype=float)
    flagged = np.array([bool(r.get("is_outlier")) for r in recs], dtype=bool)
    threshold = lof_threshold(answer)
    n = int(params.get("num_records", len(recs)))
    title = (
        f"Outliers (LOF): {count(int(answer.get('outlier_count') or 0), 'record')} flagged of {n:,}"
    )
    if not params.get("return_all") and len(recs) < n:
        title += "\nlisted records only: pass return_all=True for every score"
    ax.set_title(title, loc="left", fontsize=10)
    if scores.size:
        edges = np.histogram_bin_edges(scores, bins="auto")
        if len(edges) > MAX_BINS + 1:
            edges = np.linspace(scores.min(), scores.max(), MAX_BINS + 1)
        ax.hist(scores[~flagged], bins=edges.tolist(), color=LINE, alpha=0.85, gid="inliers",
                label=f"not flagged ({int((~flagged).sum()):,})")  # fmt: skip
        ax.hist(scores[flagged], bins=edges.tolist(), color=ACCENT, alpha=0.85, gid="flagged",
                label=f"flagged ({int(flagged.sum()):,})")  # fmt: skip
        ax.set_yscale("log")
    if threshold is not None:
        how = params.get("contamination", "auto")
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1.2, gid="threshold",
                   label=f"threshold LOF {threshold:.2f} (contamination {how})")  # fmt: skip
    _label_top(ax, recs, scores)
    ax.set_xlabel("LOF score (about 1 = like its neighbours, larger = more outlying)")
    ax.set_ylabel("records (log scale)")
    ax.grid(True, axis="y", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right", frameon=False)
    return fig


def _label_top(ax: Axes, recs: list[dict[str, Any]], scores: np.ndarray) -> None:
    """Number the most outlying records at their scores (short numbers rarely collide;
    close ones are staggered in height) and name them in a box at the upper right."""
    if not scores.size:
        return
    top = np.argsort(-scores, kind="stable")[:TOP_LABELLED]
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    names = []
    for rank, i in enumerate(top):
        s = float(scores[i])
        ax.annotate(
            str(rank + 1), xy=(s, 0.0), xycoords=transform,
            xytext=(s, 0.16 + 0.07 * (rank % 3)), textcoords=transform,
            ha="center", va="bottom", fontsize=8, fontweight="bold", color="#222222",
            arrowprops={"arrowstyle": "-", "color": "#777777", "linewidth": 0.7},
            gid=f"top-{rank}",
        )  # fmt: skip
        names.append(f"{rank + 1}  {record_label(recs[i], 28)}  ({s:.2f})")
    ax.text(
        0.985, 0.72, "most outlying\n" + "\n".join(names), transform=ax.transAxes,
        ha="right", va="top", multialignment="left", fontsize=8, family="monospace",
        gid="top-names",
        bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "#cccccc"},
    )  # fmt: skip

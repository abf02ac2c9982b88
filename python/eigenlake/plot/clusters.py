"""``ClusterResult.plot``: the clusters in 2-D, and how k or eps was chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .style import (
    ACCENT,
    DISTINCT_COLOURS,
    LINE,
    NOISE_COLOUR,
    count,
    new_figure,
    palette,
    root_figure,
    short,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Up to this many clusters each has a legend entry (id, summary, size); above, the legend
# is summarised and each cluster's id is written at its centre instead.
LEGEND_MAX = 15
SUMMARY_CHARS = 28
# With more clusters than LEGEND_MAX: ids written for this many of the largest (more only
# pile up on each other), and one representative star per cluster.
IDS_MAX = 40


def plot_clusters(answer: dict[str, Any], ax: Axes | None = None) -> Figure:
    """Map of the clusters (PCA ``projection`` of the answer), representatives as stars,
    DBSCAN noise grey; with ``ax=None`` a second panel beside it shows silhouette by k
    (auto-tuned k-means) or the k-distance curve with the chosen eps (DBSCAN, auto eps)."""
    params = answer.get("parameters") or {}
    side = _side_panel(params)
    if ax is None:
        width = 8.6 if len(answer.get("clusters") or []) <= LEGEND_MAX else 8.0
        fig = new_figure(width + (4.6 if side else 0.0), 6.0)
        if side:
            map_ax, side_ax = fig.subplots(1, 2, width_ratios=[width, 4.6])
        else:
            map_ax, side_ax = fig.subplots(), None
    else:
        fig, map_ax, side_ax = root_figure(ax), ax, None
    if answer.get("projection"):
        _draw_map(map_ax, answer)
    else:
        _draw_sizes(map_ax, answer)
    if side_ax is not None and side == "silhouette":
        _draw_silhouette(side_ax, params)
    elif side_ax is not None and side == "k_distance":
        _draw_k_distance(side_ax, params)
    return fig


def _side_panel(params: dict[str, Any]) -> str | None:
    if params.get("algorithm") == "dbscan":
        return "k_distance" if params.get("k_distance") else None
    scores = params.get("scores") or []
    return "silhouette" if params.get("auto_tune") and len(scores) > 1 else None


def _title(answer: dict[str, Any]) -> str:
    p = answer.get("parameters") or {}
    n_clusters = len(answer.get("clusters") or [])
    n = p.get("num_records", 0)
    sil = answer.get("silhouette")
    sil_text = "n/a" if sil is None else f"{sil:.3f}"
    if p.get("algorithm") == "dbscan":
        eps = p.get("dbscan_eps")
        eps_text = "" if eps is None else f", eps {eps:.3g}"
        noise = int(answer.get("noise_count") or 0)
        head = f"DBSCAN: {count(n_clusters, 'cluster')} + {noise:,} noise{eps_text}"
    else:
        tuned = " (k auto-tuned)" if p.get("auto_tune") and p.get("scores") else ""
        head = f"k-means: {count(n_clusters, 'cluster')}{tuned}"
    return f"{head}\n{count(n, 'record')} ({p.get('distance_metric', 'cosine')}), silhouette {sil_text}"


def _draw_map(ax: Axes, answer: dict[str, Any]) -> None:
    proj = answer["projection"]
    clusters = answer.get("clusters") or []
    pts = proj["points"]
    x = np.asarray(pts["x"], dtype=float)
    y = np.asarray(pts["y"], dtype=float)
    ids = np.asarray(pts["cluster_id"], dtype=np.int64)
    colours = palette(len(clusters))
    size = float(np.clip(8000.0 / max(len(x), 1), 4.0, 28.0))
    many = len(clusters) > LEGEND_MAX

    noise = ids < 0
    if noise.any():
        n_noise = int(answer.get("noise_count") or noise.sum())
        ax.scatter(
            x[noise], y[noise], s=size * 0.8, color=NOISE_COLOUR, alpha=0.6, linewidths=0,
            label=f"noise ({n_noise:,})", gid="noise", zorder=1, rasterized=len(x) > 5000,
        )  # fmt: skip
    for i, c in enumerate(clusters):
        mine = ids == c["cluster_id"]
        summary = c.get("summary") or ""
        label = f"{c['cluster_id']} ({c['count']:,})" + (
            f" {short(summary, SUMMARY_CHARS)}" if summary else ""
        )
        ax.scatter(
            x[mine], y[mine], s=size, color=colours[i], alpha=0.75, linewidths=0,
            label="_nolegend_" if many else label, gid=f"cluster-{c['cluster_id']}", zorder=2,
        )  # fmt: skip
        if many and i < IDS_MAX and mine.any():  # the id at its centre, readable on any colour
            _id_label(ax, float(np.median(x[mine])), float(np.median(y[mine])), c["cluster_id"])

    reps = proj.get("representatives") or {}
    rid = np.asarray(reps.get("cluster_id") or [], dtype=np.int64)
    rx = np.asarray(reps.get("x") or [], dtype=float)
    ry = np.asarray(reps.get("y") or [], dtype=float)
    if many and rid.size:  # the first (nearest the centre) of each cluster only
        first = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]])
        rid, rx, ry = rid[first], rx[first], ry[first]
    if rid.size:
        index = {c["cluster_id"]: i for i, c in enumerate(clusters)}
        ax.scatter(
            rx, ry, s=size * 2 + (40 if many else 70), marker="*",
            color=[colours[index[int(r)]] for r in rid], edgecolors="black", linewidths=0.8,
            label="representative" + ("" if many else "s"), gid="representatives", zorder=3,
        )  # fmt: skip

    ratio = proj.get("explained_variance_ratio") or [0.0, 0.0]
    method = str(proj.get("method", "pca")).upper()
    if method == "PCA":
        ax.set_xlabel(f"PC1 ({ratio[0]:.1%} of variance)")
        ax.set_ylabel(f"PC2 ({ratio[1]:.1%} of variance)")
    else:
        ax.set_xlabel(f"{method} 1")
        ax.set_ylabel(f"{method} 2")
    title = _title(answer)
    if proj.get("sample_size"):
        title += f"; {proj['sample_size']:,} points shown"
    ax.set_title(title, loc="left", fontsize=10)
    ax.grid(True, color="#eeeeee", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if many:
        which = "ids" if len(clusters) <= IDS_MAX else f"ids of the {IDS_MAX} largest"
        title = f"{len(clusters)} clusters,\n{which} at their centres"
        if len(clusters) > DISTINCT_COLOURS:
            title += "\n(colours repeat)"
        labels = [lb.replace("representative", "representative\nof each cluster") for lb in labels]
    else:
        title = "cluster (size) summary"
    from matplotlib.collections import PathCollection

    legend = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                       title=title, title_fontsize=8, frameon=False, alignment="left")  # fmt: skip
    # one marker size in the legend, whatever the size of the points
    for h, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        if isinstance(h, PathCollection):
            rep = text.get_text().startswith("representative")
            h.set_sizes([70.0 if rep else 24.0])
            h.set_alpha(1.0)
            if rep:  # its colour varies with the cluster: the legend shows the shape only
                h.set_facecolor("white")


def _id_label(ax: Axes, x: float, y: float, cid: int) -> None:
    from matplotlib import patheffects

    ax.text(
        x, y, str(cid), fontsize=7, ha="center", va="center", zorder=4, fontweight="bold",
        path_effects=[patheffects.withStroke(linewidth=2.2, foreground="white")],
    )  # fmt: skip


def _draw_sizes(ax: Axes, answer: dict[str, Any]) -> None:
    """Without a projection (an answer from before it existed, or distributed k-means):
    the cluster sizes, so the figure still says something true."""
    clusters = answer.get("clusters") or []
    colours = palette(len(clusters))
    ids = [c["cluster_id"] for c in clusters]
    ax.bar([str(i) for i in ids], [c["count"] for c in clusters], color=colours)
    ax.set_xlabel("cluster")
    ax.set_ylabel("records")
    ax.set_title(_title(answer) + "\n(no 2-D projection in this answer: sizes)", loc="left",
                 fontsize=10)  # fmt: skip
    if len(ids) > 30:
        ax.tick_params(axis="x", labelsize=6, rotation=90)


def _draw_silhouette(ax: Axes, params: dict[str, Any]) -> None:
    from matplotlib.ticker import MaxNLocator

    scores = params.get("scores") or []
    ks = np.array([s["num_clusters"] for s in scores], dtype=float)
    sil = np.array([np.nan if s["silhouette"] is None else s["silhouette"] for s in scores])
    ax.plot(ks, sil, marker="o", markersize=4, color=LINE, linewidth=1.5, label="silhouette")
    if np.isfinite(sil).any():
        best = int(np.nanargmax(sil))  # the first maximum: ties go to the smaller k
        k, s = int(ks[best]), float(sil[best])
        ax.axvline(k, color=ACCENT, linestyle="--", linewidth=1, gid="chosen-k")
        ax.scatter([k], [s], s=140, facecolors="none", edgecolors=ACCENT, linewidths=2,
                   zorder=3, label=f"chosen k = {k} ({s:.3f})")  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("k (number of clusters)")
    ax.set_ylabel("mean silhouette (higher = better separated)")
    ax.set_title("Auto-tune: silhouette by k", loc="left", fontsize=10)
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    ax.margins(x=0.08, y=0.12)  # room for the chosen-k ring at either end
    ax.legend(fontsize=8, loc="best")


def _draw_k_distance(ax: Axes, params: dict[str, Any]) -> None:
    curve = params["k_distance"]
    ranks = np.asarray(curve["rank"], dtype=float)
    dist = np.asarray(curve["distance"], dtype=float)
    k = curve.get("k", params.get("dbscan_min_samples"))
    ax.plot(ranks, dist, color=LINE, linewidth=1.5, label="k-distance, sorted")
    cands = params.get("dbscan_eps_candidates") or []
    if cands:
        ce = np.array([c["eps"] for c in cands], dtype=float)
        cx = np.interp(ce, dist, ranks)  # where the sorted curve reaches each candidate
        ax.scatter(cx, ce, s=28, facecolors="white", edgecolors="#555555", zorder=3,
                   label="candidates tried")  # fmt: skip
    eps = params.get("dbscan_eps")
    if eps is not None:
        chosen = [c for c in cands if abs(c["eps"] - eps) <= 1e-6]
        detail = (
            f" ({chosen[0]['num_clusters']} clusters, {chosen[0]['noise_fraction']:.0%} noise)"
            if chosen
            else ""
        )
        ax.axhline(eps, color=ACCENT, linestyle="--", linewidth=1.2, gid="eps",
                   label=f"chosen eps = {eps:.3g}{detail}")  # fmt: skip
    n = curve.get("num_records", len(ranks))
    ax.set_xlabel(f"records, sorted by k-distance ({n:,})")
    ax.set_ylabel(f"distance to neighbour #{k} (itself = #1)")
    ax.set_title("DBSCAN: k-distance curve and eps", loc="left", fontsize=10)
    ax.grid(True, color="#eeeeee", linewidth=0.6)
    ax.legend(fontsize=8, loc="upper left")

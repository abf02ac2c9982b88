"""Plots of the analyses' answers: ``ClusterResult.plot()``, ``OutliersResult.plot()`` and
``TopicsResult.plot()`` call these (they take the plain answer dicts too).

Each returns a ``matplotlib.figure.Figure`` made without pyplot, so nothing is left open in
pyplot's global state and a notebook shows the returned figure once; ``fig.savefig(path)``
writes it. Pass ``ax=`` to draw into an axes of your own figure instead. Everything drawn
comes from the answer (``projection``, ``parameters``), so the same code works embedded,
remote and distributed. matplotlib is imported on first use (``pip install
"eigenlake[plot]"``).
"""

from __future__ import annotations

from .clusters import plot_clusters
from .outliers import plot_outliers
from .style import DISTINCT_COLOURS, MATPLOTLIB_HINT, palette
from .topics import plot_topics

__all__ = [
    "DISTINCT_COLOURS",
    "MATPLOTLIB_HINT",
    "palette",
    "plot_clusters",
    "plot_outliers",
    "plot_topics",
]

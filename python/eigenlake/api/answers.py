"""Answers people can look at: the dicts that ``nearest``, ``records.list``, ``cluster``,
``outliers``, ``topics`` and ``agent.query`` return.

Each class is a ``dict`` subclass holding exactly the JSON answer of the API contract: it is
``==`` to the plain dict, ``json.dumps`` and pickle take it as it is, and no private state
rides along (what a plot needs is in the answer: ``projection``, ``parameters["scores"]``,
``parameters["k_distance"]``). On top:

- ``to_pandas()``: one row per record (``nearest``, ``records.list``, ``outliers``) or per
  cluster / topic (``per="member"``: one row per member);
- ``_repr_html_()``: a compact table for notebooks (no pandas needed);
- the analyses: a one-line ``repr`` and ``plot(ax=None)`` (``eigenlake.plot``).

pandas and matplotlib are imported when first used, with a message naming the extra to
install when they are missing. The shapes themselves are described in ``api/shapes.py``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from typing import Literal

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from . import shapes

PANDAS_HINT = 'to_pandas() needs pandas: pip install "eigenlake[pandas]"'
HTML_ROWS = 20  # rows of an HTML table; the rest are counted in its last line
HTML_PROPERTIES = 6  # property columns of an HTML record table
CELL_CHARS = 60  # characters of an HTML cell (the whole value is in its tooltip)


class Answer(dict[str, Any]):
    """Base of the answer dicts: a plain ``dict`` with views on top (no instance state, so
    equality, JSON and pickling are the dict's)."""

    __slots__ = ()

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` of the answer (see the subclass).

        Returns
        -------
        pandas.DataFrame
            The subclass's table.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.search.nearest(vector=q, limit=5).to_pandas()  # doctest: +SKIP
        """
        raise NotImplementedError

    def _repr_html_(self) -> str:
        raise NotImplementedError


# ---- records: nearest, records.list --------------------------------------------------------


class NearestResult(Answer):
    """``search.nearest``: ``{"results": [hits], "next_after"}``, nearest first."""

    __slots__ = ()

    if TYPE_CHECKING:  # what an editor completes: res["results"][0]["distance"]

        @overload
        def __getitem__(self, key: Literal["results"]) -> list[shapes.Hit]: ...
        @overload
        def __getitem__(self, key: Literal["next_after"]) -> str | None: ...
        @overload
        def __getitem__(self, key: Literal["usage"]) -> shapes.Usage: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

    def to_pandas(self) -> Any:
        """The hits as a table, one row per hit, nearest first.

        Returns
        -------
        pandas.DataFrame
            ``uuid``, ``distance``, one column per property (a property named like a
            fixed column becomes ``metadata.<name>``), ``vector`` when asked for.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.search.nearest(vector=q, limit=5).to_pandas()  # doctest: +SKIP
        """
        return _records_frame(self.get("results") or [], ("distance",))

    def _repr_html_(self) -> str:
        hits = self.get("results") or []
        more = " (more: pass next_after as after)" if self.get("next_after") else ""
        return _records_html(f"{_count(len(hits), 'nearest hit')}{more}", hits, ("distance",))


class RecordPage(Answer):
    """``records.list``: ``{"objects": [records], "next_after"}``."""

    __slots__ = ()

    if TYPE_CHECKING:  # what an editor completes: res["objects"][0]["uuid"]

        @overload
        def __getitem__(self, key: Literal["objects"]) -> list[shapes.Record]: ...
        @overload
        def __getitem__(self, key: Literal["next_after"]) -> str | None: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

    def to_pandas(self) -> Any:
        """The page as a table, one row per record.

        Returns
        -------
        pandas.DataFrame
            ``uuid``, one column per property, ``vector`` when asked for.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.records.list(limit=100).to_pandas()  # doctest: +SKIP
        """
        return _records_frame(self.get("objects") or [], ())

    def _repr_html_(self) -> str:
        objs = self.get("objects") or []
        more = " (more: pass next_after as after)" if self.get("next_after") else " (last page)"
        return _records_html(f"{_count(len(objs), 'record')}{more}", objs, ())


@overload
def as_nearest(answer: dict[str, Any]) -> NearestResult: ...
@overload
def as_nearest(answer: list[dict[str, Any]]) -> list[NearestResult]: ...
def as_nearest(answer: Any) -> Any:
    """``nearest``'s answer wrapped: one ``NearestResult``, or a list of them for a batch
    of queries (a 2-D query array answers one per row)."""
    if isinstance(answer, list):
        return [NearestResult(a) for a in answer]
    return NearestResult(answer)


# ---- analyses ----------------------------------------------------------------------------


class ClusterResult(Answer):
    """``search.cluster``: ``{"clusters", "noise_count", "silhouette", "parameters",
    "projection"}`` (docs/ANALYSIS.md)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what an editor completes: res["clusters"][0]["summary"]

        @overload
        def __getitem__(self, key: Literal["clusters"]) -> list[shapes.Cluster]: ...
        @overload
        def __getitem__(self, key: Literal["parameters"]) -> shapes.ClusterParameters: ...
        @overload
        def __getitem__(self, key: Literal["noise_count"]) -> int: ...
        @overload
        def __getitem__(self, key: Literal["silhouette"]) -> float | None: ...
        @overload
        def __getitem__(self, key: Literal["usage"]) -> shapes.Usage: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

    def __repr__(self) -> str:
        p = self.get("parameters") or {}
        clusters = self.get("clusters") or []
        noise = int(self.get("noise_count") or 0)
        n = p.get("num_records", sum(c.get("count", 0) for c in clusters) + noise)
        dbscan = p.get("algorithm") == "dbscan"
        what = _count(len(clusters), "cluster")
        if dbscan:
            what = f"DBSCAN: {what} + {noise:,} noise"
        parts = [f"{what} over {_count(n, 'record')}"]
        if dbscan and p.get("dbscan_eps") is not None:
            parts.append(f"eps {p['dbscan_eps']:.3g}")
        if not dbscan and p.get("auto_tune") and p.get("scores"):
            ks = [s["num_clusters"] for s in p["scores"]]
            parts.append(f"k chosen from {min(ks)}-{max(ks)}")
        parts.append(f"silhouette {_num(self.get('silhouette'))}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def to_pandas(self, per: str = "cluster") -> Any:
        """The clusters as a table: one row per cluster, or per member.

        Parameters
        ----------
        per : {"cluster", "member"}, default "cluster"
            ``"cluster"``: one row per cluster; ``"member"``: one row per member (DBSCAN
            noise is not listed in the answer, so not here either).

        Returns
        -------
        pandas.DataFrame
            Per cluster: ``cluster_id``, ``count``, ``fraction`` of the analysed records,
            ``summary``, ``keywords`` (words, best first), ``representatives`` (uuids,
            nearest the centre first). Per member: ``cluster_id``, ``uuid``.

        Raises
        ------
        ValueError
            ``per`` is neither ``"cluster"`` nor ``"member"``.
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.search.cluster(num_clusters=4).to_pandas(per="member")  # doctest: +SKIP
        """
        return _groups_frame(self, "clusters", "cluster_id", per)

    def _repr_html_(self) -> str:
        return _groups_html(repr(self), self, "clusters", "cluster_id", "cluster")

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw the clusters in 2-D (the answer's PCA ``projection``).

        Representatives are marked and DBSCAN noise is grey; beside the map, silhouette
        by k (auto-tune) or the k-distance curve with the chosen eps (DBSCAN, auto eps).
        Needs matplotlib (``pip install "eigenlake[plot]"``).

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default None
            Draw only the map, into these axes; None: a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.

        Raises
        ------
        ImportError
            matplotlib is not installed.

        Examples
        --------
        >>> fig = index.search.cluster(auto_tune=True).plot()  # doctest: +SKIP
        """
        from ..plot import plot_clusters

        return plot_clusters(self, ax=ax)


class OutliersResult(Answer):
    """``search.outliers``: ``{"outliers", "outlier_count", "parameters"}``."""

    __slots__ = ()

    if TYPE_CHECKING:  # what an editor completes: res["outliers"][0]["score"]

        @overload
        def __getitem__(self, key: Literal["outliers"]) -> list[shapes.Outlier]: ...
        @overload
        def __getitem__(self, key: Literal["outlier_count"]) -> int: ...
        @overload
        def __getitem__(self, key: Literal["usage"]) -> shapes.Usage: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

    def __repr__(self) -> str:
        p = self.get("parameters") or {}
        listed = len(self.get("outliers") or [])
        flagged = int(self.get("outlier_count") or 0)
        parts = [f"{_count(flagged, 'outlier')} among {_count(p.get('num_records', 0), 'record')}"]
        threshold = lof_threshold(self)
        if threshold is not None:
            parts.append(f"LOF > {threshold:.2f}")
        if listed != flagged:
            parts.append(f"{listed:,} listed")
        return f"{type(self).__name__}({', '.join(parts)})"

    def to_pandas(self) -> Any:
        """The listed records as a table, most outlying first.

        Returns
        -------
        pandas.DataFrame
            One row per listed record: ``uuid``, ``score`` (LOF), ``is_outlier``, one
            column per property.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.search.outliers(return_all=True).to_pandas()  # doctest: +SKIP
        """
        return _records_frame(self.get("outliers") or [], ("score", "is_outlier"))

    def _repr_html_(self) -> str:
        return _records_html(repr(self), self.get("outliers") or [], ("score", "is_outlier"))

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw a histogram of the listed scores, the threshold and the top outliers named.

        ``return_all=True`` lists every score. Needs matplotlib
        (``pip install "eigenlake[plot]"``).

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default None
            Draw into these axes; None: a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.

        Raises
        ------
        ImportError
            matplotlib is not installed.

        Examples
        --------
        >>> fig = index.search.outliers(return_all=True).plot()  # doctest: +SKIP
        """
        from ..plot import plot_outliers

        return plot_outliers(self, ax=ax)


class TopicsResult(Answer):
    """``search.topics``: ``{"topics", "silhouette", "parameters"}``."""

    __slots__ = ()

    if TYPE_CHECKING:  # what an editor completes: res["topics"][0]["keywords"]

        @overload
        def __getitem__(self, key: Literal["topics"]) -> list[shapes.Topic]: ...
        @overload
        def __getitem__(self, key: Literal["usage"]) -> shapes.Usage: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

    def __repr__(self) -> str:
        p = self.get("parameters") or {}
        topics = self.get("topics") or []
        n = p.get("num_records", sum(t.get("count", 0) for t in topics))
        labels = [t.get("label") or str(t.get("topic_id")) for t in topics[:3]]
        more = ", ..." if len(topics) > 3 else ""
        head = f"{_count(len(topics), 'topic')} over {_count(n, 'record')}"
        return f"{type(self).__name__}({head}: {', '.join(labels)}{more})"

    def to_pandas(self, per: str = "topic") -> Any:
        """The topics as a table: one row per topic, or per member.

        Parameters
        ----------
        per : {"topic", "member"}, default "topic"
            ``"topic"``: one row per topic; ``"member"``: one row per member.

        Returns
        -------
        pandas.DataFrame
            Per topic: ``topic_id``, ``count``, ``fraction``, ``label``, ``summary``,
            ``keywords``, ``representatives``. Per member: ``topic_id``, ``uuid``.

        Raises
        ------
        ValueError
            ``per`` is neither ``"topic"`` nor ``"member"``.
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.search.topics(text_fields=["title"]).to_pandas()  # doctest: +SKIP
        """
        return _groups_frame(self, "topics", "topic_id", per)

    def _repr_html_(self) -> str:
        return _groups_html(repr(self), self, "topics", "topic_id", "topic")

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw the keyword weights per topic, one small bar chart each.

        Needs matplotlib (``pip install "eigenlake[plot]"``).

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default None
            Draw the charts in this axes' area (it must be part of a ``plt.subplots``
            grid); None: a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.

        Raises
        ------
        ValueError
            ``ax`` is not part of a grid.
        ImportError
            matplotlib is not installed.

        Examples
        --------
        >>> fig = index.search.topics(text_fields=["title"]).plot()  # doctest: +SKIP
        """
        from ..plot import plot_topics

        return plot_topics(self, ax=ax)


class AgentResult(Answer):
    """``agent.query``: ``{"query", "action", "filter", "explanation", ...}`` plus the
    answer of the action it ran (clusters, objects, outliers or topics)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what an editor completes: res["clusters"][0]["summary"]

        @overload
        def __getitem__(self, key: Literal["clusters"]) -> list[shapes.Cluster]: ...
        @overload
        def __getitem__(self, key: Literal["filter"]) -> dict[str, Any]: ...
        @overload
        def __getitem__(self, key: Literal["action", "explanation", "query"]) -> str: ...
        @overload
        def __getitem__(self, key: str) -> Any: ...
        def __getitem__(self, key: str) -> Any: ...

    def __repr__(self) -> str:
        flt = _short(json.dumps(self.get("filter") or {}, default=str), 80)
        view = self._view()
        ran = f", {view!r}" if view is not None else ""
        return f"{type(self).__name__}(action={self.get('action')!r}, filter={flt}{ran})"

    def _view(self) -> Answer | None:
        """The answer of the action, viewed as that action's answer class."""
        action = self.get("action")
        if action == "cluster" and "clusters" in self:
            return ClusterResult(self)
        if action == "topics" and "topics" in self:
            return TopicsResult(self)
        if action == "outliers" and "outliers" in self:
            return OutliersResult(self)
        if action == "filter":
            return RecordPage(objects=self.get("objects") or [], next_after=None)
        return None

    def to_pandas(self) -> Any:
        """The table of what ran: per cluster, per topic, per outlier or per record.

        Returns
        -------
        pandas.DataFrame
            The ``to_pandas()`` of the action's answer; an empty frame for action
            ``"none"``.

        Raises
        ------
        ImportError
            pandas is not installed (``pip install "eigenlake[pandas]"``).

        Examples
        --------
        >>> index.agent.query("cluster human proteins").to_pandas()  # doctest: +SKIP
        """
        view = self._view()
        return _pandas().DataFrame() if view is None else view.to_pandas()

    def _repr_html_(self) -> str:
        view = self._view()
        head = (
            f"<p><b>{_esc(self.get('action'))}</b>: {_esc(self.get('explanation', ''))}"
            f"<br><code>{_esc(json.dumps(self.get('filter') or {}, default=str))}</code></p>"
        )
        return head + (view._repr_html_() if view is not None else "")

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw the plot of the analysis that ran (cluster, outliers or topics).

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default None
            Passed to that answer's ``plot``; None: a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on.

        Raises
        ------
        ValueError
            The action was ``"filter"`` or ``"none"``: nothing to plot.
        ImportError
            matplotlib is not installed.

        Examples
        --------
        >>> fig = index.agent.query("find outliers among human proteins").plot()  # doctest: +SKIP
        """
        view = self._view()
        if not isinstance(view, ClusterResult | OutliersResult | TopicsResult):
            raise ValueError(f"nothing to plot for action {self.get('action')!r}")
        return view.plot(ax=ax)


def lof_threshold(answer: dict[str, Any]) -> float | None:
    """The LOF score above which a record is flagged (minus ``parameters["offset"]``)."""
    offset = (answer.get("parameters") or {}).get("offset")
    return None if offset is None else -float(offset)


# ---- tables --------------------------------------------------------------------------------


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(PANDAS_HINT) from exc
    return pandas


def _record_columns(records: Sequence[dict[str, Any]], fixed: Sequence[str]) -> list[str]:
    """``uuid``, the fixed columns, the properties in first-seen order, ``vector``."""
    taken = {"uuid", "vector", *fixed}
    props: dict[str, None] = {}
    for r in records:
        for k in r.get("metadata") or {}:
            props.setdefault(f"metadata.{k}" if k in taken else str(k))
    vec = ["vector"] if any("vector" in r for r in records) else []
    return ["uuid", *fixed, *props, *vec]


def _record_row(r: dict[str, Any], fixed: Sequence[str]) -> dict[str, Any]:
    taken = {"uuid", "vector", *fixed}
    row = {"uuid": r.get("uuid"), **{f: r.get(f) for f in fixed}}
    for k, v in (r.get("metadata") or {}).items():
        row[f"metadata.{k}" if k in taken else str(k)] = v
    if "vector" in r:
        row["vector"] = r["vector"]
    return row


def _records_frame(records: Sequence[dict[str, Any]], fixed: Sequence[str]) -> Any:
    pd = _pandas()
    cols = _record_columns(records, fixed)
    return pd.DataFrame([_record_row(r, fixed) for r in records], columns=cols)


def _groups_frame(answer: dict[str, Any], key: str, id_key: str, per: str) -> Any:
    pd = _pandas()
    groups = answer.get(key) or []
    unit = key[:-1]  # "cluster" / "topic"
    if per == "member":
        pairs = [(g[id_key], m["uuid"]) for g in groups for m in g.get("members") or []]
        return pd.DataFrame(pairs, columns=[id_key, "uuid"])
    if per != unit:
        raise ValueError(f'per must be "{unit}" or "member", got {per!r}')
    total = (answer.get("parameters") or {}).get("num_records") or sum(
        g.get("count", 0) for g in groups
    )
    cols = [id_key, "count", "fraction", *(["label"] if key == "topics" else [])]
    cols += ["summary", "keywords", "representatives"]
    rows = []
    for g in groups:
        row = {
            id_key: g.get(id_key),
            "count": g.get("count"),
            "fraction": g.get("count", 0) / total if total else None,
            "label": g.get("label"),
            "summary": g.get("summary"),
            "keywords": [k["word"] for k in g.get("keywords") or []],
            "representatives": [r["uuid"] for r in g.get("representatives") or []],
        }
        rows.append([row[c] for c in cols])
    return pd.DataFrame(rows, columns=cols)


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _short(text: str, limit: int = CELL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.3g}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _text(value: Any) -> str:
    """A cell's text: numbers to 4 significant digits, lists joined, the rest as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
        if len(value) > 8 and all(isinstance(v, float) for v in value):  # a vector
            return f"[{', '.join(f'{v:.3g}' for v in value[:4])}, … ({len(value)} values)]"
        return ", ".join(_text(v) for v in value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _cell(value: Any, tag: str = "td") -> str:
    full = _text(value)
    short = _short(full)
    tip = f' title="{_esc(_short(full, 500))}"' if short != full else ""
    return f"<{tag}{tip}>{_esc(short)}</{tag}>"


def _table(caption: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], total: int) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = [f"<tr>{''.join(_cell(v) for v in row)}</tr>" for row in rows]
    if total > len(body):
        rest = f"… {total - len(body):,} more"
        body.append(f'<tr><td colspan="{len(columns)}"><i>{_esc(rest)}</i></td></tr>')
    return (
        '<table class="eigenlake-answer">'
        f'<caption style="text-align:left">{_esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _records_html(caption: str, records: Sequence[dict[str, Any]], fixed: Sequence[str]) -> str:
    shown = records[:HTML_ROWS]
    cols = [c for c in _record_columns(shown, fixed) if c != "vector"]
    props = cols[1 + len(fixed) :]
    if len(props) > HTML_PROPERTIES:
        caption += f" ({len(props) - HTML_PROPERTIES} more properties in to_pandas())"
        cols = cols[: 1 + len(fixed) + HTML_PROPERTIES]
    rows = []
    for r in shown:
        row = _record_row(r, fixed)
        rows.append([row.get(c) for c in cols])
    return _table(caption, cols, rows, len(records))


def record_label(record: dict[str, Any], limit: int = 40) -> str:
    """A short name for a record: its first short string property, else the start of its
    first string property, else the start of its uuid."""
    meta = record.get("metadata") or {}
    strings = [v for v in meta.values() if isinstance(v, str) and v.strip()]
    for v in strings:
        if len(v) <= limit:
            return v
    if strings:
        return _short(strings[0], limit)
    return str(record.get("uuid", ""))[:8]


def _groups_html(caption: str, answer: dict[str, Any], key: str, id_key: str, noun: str) -> str:
    groups = answer.get(key) or []
    topics = key == "topics"
    cols = [noun, "count", *(["label"] if topics else []), "keywords", "representatives"]
    rows = []
    for g in groups[:HTML_ROWS]:
        words = g.get("summary") or ", ".join(k["word"] for k in g.get("keywords") or [])
        reps = "; ".join(
            f"{record_label(r)} ({r.get('distance', 0):.3f})"
            for r in g.get("representatives") or []
        )
        rows.append(
            [g.get(id_key), g.get("count"), *([g.get("label")] if topics else []), words, reps]
        )
    return _table(caption, cols, rows, len(groups))


__all__ = [
    "AgentResult",
    "Answer",
    "ClusterResult",
    "NearestResult",
    "OutliersResult",
    "RecordPage",
    "TopicsResult",
    "as_nearest",
    "lof_threshold",
    "record_label",
]

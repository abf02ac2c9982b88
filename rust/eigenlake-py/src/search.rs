//! Bindings for exact search and HNSW: read NumPy inputs (`arrays`: zero-copy when already
//! C-contiguous float32), release the GIL for the work, return owned arrays without copying.

use std::path::PathBuf;

use eigenlake_core::distance::Metric;
use eigenlake_core::flat::{
    flat_topk as core_flat_topk, flat_topk_rows as core_rows, flat_topk_serial as core_serial,
    TopKResult, GEMV_MAX_QUERIES, GEMV_MIN_ROWS,
};
use eigenlake_core::hnsw::Hnsw as CoreHnsw;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::arrays::{all_finite, mask as mask_arg, matrix, not_finite, same_len, Matrix, Values};
use crate::cursor;
use crate::hits;
use crate::ids::id_bytes;
use crate::props::PropTexts;
use crate::util::{arg, detach, detach_inline, guarded};

pub type Answer<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray2<f32>>);
type Page<'py> = (Bound<'py, PyList>, bool);
/// (hits, the cursor after them or None).
pub type FirstPage<'py> = (Bound<'py, PyList>, Option<String>);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(flat_topk, m)?)?;
    m.add_function(wrap_pyfunction!(flat_topk_rows, m)?)?;
    m.add_function(wrap_pyfunction!(page_hits, m)?)?;
    m.add_class::<Hnsw>()?;
    Ok(())
}

const METRICS: [(&str, Metric); 2] = [("ip", Metric::InnerProduct), ("l2", Metric::L2)];

pub fn metric_of(s: &str) -> PyResult<Metric> {
    crate::util::metric(s, &METRICS)
}

pub fn same_dim(name: &str, got: usize, want: usize) -> PyResult<()> {
    if got != want {
        return Err(PyValueError::new_err(format!(
            "`{name}` has {got} columns, expected {want}"
        )));
    }
    Ok(())
}

/// The search's `data` (never scanned for NaN: see `Values::Unchecked`) and `queries`.
pub fn inputs<'py>(
    data: &Bound<'py, PyAny>,
    queries: &Bound<'py, PyAny>,
) -> PyResult<(Matrix<'py>, Matrix<'py>)> {
    let d = matrix(data, "data", 0, Values::Unchecked)?;
    let q = matrix(queries, "queries", 0, Values::Finite)?;
    Ok((d, q))
}

pub fn mask_for<'py>(
    mask: Option<&Bound<'py, PyAny>>,
    rows: usize,
) -> PyResult<Option<PyReadonlyArray1<'py, bool>>> {
    let m = mask_arg(mask, "mask")?;
    if let Some(m) = &m {
        same_len("mask", m.as_slice()?.len(), rows, "data")?;
    }
    Ok(m)
}

/// `(nq, r.k)` arrays: the core clamps the width to the rows that exist.
pub fn answer(py: Python<'_>, r: TopKResult, nq: usize) -> PyResult<Answer<'_>> {
    let shape_err = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    let ids = Array2::from_shape_vec((nq, r.k), r.ids).map_err(shape_err)?;
    let scores = Array2::from_shape_vec((nq, r.k), r.scores).map_err(shape_err)?;
    Ok((ids.into_pyarray(py), scores.into_pyarray(py)))
}

/// Exact top-k of each query row: (ids (q, min(k, n)), scores), best first.
#[pyfunction]
#[pyo3(signature = (data, queries, k, metric = "ip", mask = None))]
fn flat_topk<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    queries: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    metric: &str,
    mask: Option<&Bound<'py, PyAny>>,
) -> PyResult<Answer<'py>> {
    let metric = metric_of(metric)?;
    let (d, q) = inputs(data, queries)?;
    let dim = d.cols();
    same_dim("queries", q.cols(), dim)?;
    let nq = q.rows();
    let mask = mask_for(mask, d.rows())?;
    let (ds, qs) = (d.slice(), q.slice());
    let ms = mask.as_ref().map(|m| m.as_slice()).transpose()?;
    // one pool worker would scan alone: scan on this thread instead (no hand-off)
    let r = if nq < GEMV_MAX_QUERIES && d.rows() < 2 * GEMV_MIN_ROWS {
        detach_inline(py, || core_serial(ds, qs, dim, k, metric, ms))?
    } else {
        detach(py, || core_flat_topk(ds, qs, dim, k, metric, ms))?
    };
    answer(py, r, nq)
}

/// `flat_topk` over the rows listed in `rows` (int64, strictly increasing, in `0..len(data)`):
/// the answer a mask keeping exactly those rows gives, without an O(len(data)) pass. A
/// scan one pool worker would run alone (a few queries, fewer rows than the pool splits)
/// runs on the calling thread instead: no hand-off to the pool and back.
#[pyfunction]
#[pyo3(signature = (data, queries, k, metric, rows))]
fn flat_topk_rows<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    queries: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    metric: &str,
    rows: PyReadonlyArray1<'py, i64>,
) -> PyResult<Answer<'py>> {
    let metric = metric_of(metric)?;
    let (d, q) = inputs(data, queries)?;
    let dim = d.cols();
    same_dim("queries", q.cols(), dim)?;
    let nq = q.rows();
    let n = d.rows();
    let ids = crate::kept::row_ids(rows.as_slice()?, n)?;
    let (ds, qs) = (d.slice(), q.slice());
    let r = if nq < GEMV_MAX_QUERIES && ids.len() < 2 * GEMV_MIN_ROWS {
        detach_inline(py, || core_rows(ds, qs, dim, k, metric, &ids, false))?
    } else {
        detach(py, || core_rows(ds, qs, dim, k, metric, &ids, true))?
    };
    answer(py, r, nq)
}

/// The first row of a (ids, scores) answer of `flat_topk` or `Hnsw.search` as a page of
/// hits (see `Hnsw.page`): (hits, whether more than `limit` followed); the metadata dicts are
/// made from `props`, a `PropTexts`, and are the caller's.
#[pyfunction]
#[pyo3(signature = (ids, scores, limit, uuids, props, cosine))]
fn page_hits<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'py, i64>,
    scores: PyReadonlyArray2<'py, f32>,
    #[pyo3(from_py_with = arg::k)] limit: usize,
    uuids: PyReadonlyArray2<'py, u8>,
    props: PyRef<'py, PropTexts>,
    cosine: bool,
) -> PyResult<Page<'py>> {
    let uuids = id_bytes(&uuids, "uuids")?;
    let (ids, scores) = (ids.as_array(), scores.as_array());
    if ids.shape() != scores.shape() {
        return Err(PyValueError::new_err("`ids` and `scores` differ in shape"));
    }
    if ids.shape()[0] == 0 {
        return hits::page(py, &[], &[], limit, uuids, &props, cosine);
    }
    let row_ids: Vec<i64> = ids.row(0).to_vec();
    let row_scores: Vec<f32> = scores.row(0).to_vec();
    hits::page(py, &row_ids, &row_scores, limit, uuids, &props, cosine)
}

/// HNSW graph over rows of a matrix the caller owns (only links are stored).
#[pyclass(name = "Hnsw", module = "eigenlake._core")]
pub struct Hnsw {
    inner: CoreHnsw,
}

#[pymethods]
impl Hnsw {
    #[new]
    #[pyo3(signature = (dim, metric = "ip", m = 16, ef_construction = 200, seed = 0))]
    fn new(
        #[pyo3(from_py_with = arg::dim)] dim: usize,
        metric: &str,
        #[pyo3(from_py_with = arg::m)] m: usize,
        #[pyo3(from_py_with = arg::ef_construction)] ef_construction: usize,
        #[pyo3(from_py_with = arg::seed)] seed: u64,
    ) -> PyResult<Self> {
        let metric = metric_of(metric)?;
        let inner = guarded(|| CoreHnsw::new(dim, metric, m, ef_construction, seed))?;
        Ok(Hnsw { inner })
    }

    /// Index rows `start..len(data)`; `start` must equal `len(self)`.
    fn add(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = arg::start)] start: usize,
    ) -> PyResult<()> {
        let d = matrix(data, "data", 0, Values::Unchecked)?;
        same_dim("data", d.cols(), self.inner.dim())?;
        let ds = d.slice();
        // only the rows to index (the ones before were checked when they were added), and
        // without the GIL: a compaction adds a whole matrix, whose scan would stall every
        // Python thread
        let new = ds.get(start.saturating_mul(d.cols())..).unwrap_or(&[]);
        if !py.detach(|| all_finite(new)) {
            return Err(not_finite("data"));
        }
        let inner = &mut self.inner;
        detach(py, || inner.add(ds, start))
    }

    fn mark_deleted(&mut self, #[pyo3(from_py_with = arg::row)] row: usize) -> PyResult<()> {
        let inner = &mut self.inner;
        guarded(|| inner.mark_deleted(row))
    }

    /// As `flat_topk`: (ids (q, min(k, len(self))), scores); k and ef are clamped to the
    /// graph.
    #[pyo3(signature = (data, queries, k, ef = 64, mask = None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        queries: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = arg::k)] k: usize,
        #[pyo3(from_py_with = arg::ef)] ef: usize,
        mask: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Answer<'py>> {
        if ef == 0 {
            return Err(PyValueError::new_err("`ef` must be positive"));
        }
        let (d, q) = inputs(data, queries)?;
        same_dim("data", d.cols(), self.inner.dim())?;
        same_dim("queries", q.cols(), self.inner.dim())?;
        let nq = q.rows();
        let mask = mask_for(mask, d.rows())?;
        let (ds, qs) = (d.slice(), q.slice());
        let ms = mask.as_ref().map(|m| m.as_slice()).transpose()?;
        let inner = &self.inner;
        // One unmasked query is a single walk (the core runs it on the calling thread).
        let r = if nq == 1 && ms.is_none() {
            detach_inline(py, || inner.search(ds, qs, k, ef, ms))?
        } else {
            detach(py, || inner.search(ds, qs, k, ef, ms))?
        };
        answer(py, r, nq)
    }

    /// One query's first page through the graph, as the answer's hits, for the query as
    /// the caller gave it: the row checked and made unit length (`cursor::query_row`'s
    /// rules), the walk for `limit + 1` rows (no mask), `hits::page` over `uuids` and
    /// `props` (the caller's id bytes, `(rows, 16)` uint8, and `PropTexts`, one row
    /// per row of `data`), and, when more follow,
    /// the cursor after the page (filter text `null`): (hits, cursor or None); the
    /// metadata dicts are new, the caller's. None when `vector` is not a 1-D float
    /// array of `dim` values that makes a valid query: the caller's general path then
    /// answers, or names the problem.
    #[pyo3(signature = (data, vector, limit, ef, uuids, props, cosine))]
    #[allow(clippy::too_many_arguments)]
    fn first_page<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        vector: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = arg::k)] limit: usize,
        #[pyo3(from_py_with = arg::ef)] ef: usize,
        uuids: PyReadonlyArray2<'py, u8>,
        props: PyRef<'py, PropTexts>,
        cosine: bool,
    ) -> PyResult<Option<FirstPage<'py>>> {
        if ef == 0 {
            return Err(PyValueError::new_err("`ef` must be positive"));
        }
        let dim = self.inner.dim();
        let Some(q) = cursor::query_vector(vector, dim, cosine) else {
            return Ok(None);
        };
        let d = matrix(data, "data", 0, Values::Unchecked)?;
        same_dim("data", d.cols(), dim)?;
        let ds = d.slice();
        let inner = &self.inner;
        let k = limit.saturating_add(1);
        let uuids = id_bytes(&uuids, "uuids")?;
        let r = detach_inline(py, || inner.search(ds, &q, k, ef, None))?;
        let (hits, more) = hits::page(py, &r.ids, &r.scores, limit, uuids, &props, cosine)?;
        let next = cursor::after_page(&hits, more, limit, &q, b"null")?;
        Ok(Some((hits, next)))
    }

    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let inner = &self.inner;
        detach(py, || inner.save(&path))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Hnsw> {
        let inner = detach(py, || CoreHnsw::load(&path))?;
        Ok(Hnsw { inner })
    }

    /// Whether queries walk codes of the rows where they pay (the default: 8-bit residual
    /// codes once the float rows reach 2 MiB; the answer is still measured and ranked on
    /// the float rows) or always the float rows themselves.
    #[getter]
    fn quantized_walk(&self) -> bool {
        self.inner.quantized_walk()
    }

    #[setter]
    fn set_quantized_walk(&mut self, on: bool) {
        self.inner.set_quantized_walk(on);
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Hnsw(dim={}, metric={:?}, m={}, len={})",
            c.dim,
            c.metric,
            c.m,
            self.inner.len()
        )
    }
}

//! Binding of the quantized exact scan: int8 codes of a matrix the caller keeps, searched
//! with an exact answer (`eigenlake_core::quant`).

use eigenlake_core::distance::Metric;
use eigenlake_core::flat::TopKResult;
use eigenlake_core::quant::{kernels_description, QuantFlat as CoreQuantFlat};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::arrays::{matrix, Values};
use crate::kept::row_ids;
use crate::search::{answer, inputs, mask_for, metric_of, same_dim, Answer};
use crate::util::{arg, detach, detach_inline};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<QuantizedFlat>()
}

/// int8 codes of the rows of a float32 matrix (built once, kept in step with `append` /
/// `set_rows`); `search` scans them and re-scores the few rows the error bound cannot rule
/// out on the float rows, so the answer equals an exact scan's.
#[pyclass(name = "QuantizedFlat", module = "eigenlake._core")]
pub struct QuantizedFlat {
    inner: CoreQuantFlat,
}

impl QuantizedFlat {
    /// `search_rows` over checked row ids: inline on the calling thread unless `pool`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn search_ids(
        &self,
        py: Python<'_>,
        data: &[f32],
        ids: Option<&[u32]>,
        queries: &[f32],
        k: usize,
        metric: Metric,
        pool: bool,
    ) -> PyResult<TopKResult> {
        let inner = &self.inner;
        if pool {
            detach(py, || {
                inner.search_rows(data, ids, queries, k, metric, false)
            })
        } else {
            detach_inline(py, || {
                inner.search_rows(data, ids, queries, k, metric, true)
            })
        }
    }
}

#[pymethods]
impl QuantizedFlat {
    /// Codes of `data` (2-D, any number of rows).
    #[new]
    fn new(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let d = matrix(data, "data", 0, Values::Unchecked)?;
        let (ds, dim) = (d.slice(), d.cols());
        let inner = detach(py, || CoreQuantFlat::from_rows(ds, dim))?;
        Ok(QuantizedFlat { inner })
    }

    /// Add rows at the end.
    fn append(&mut self, py: Python<'_>, rows: &Bound<'_, PyAny>) -> PyResult<()> {
        let r = matrix(rows, "rows", 0, Values::Unchecked)?;
        same_dim("rows", r.cols(), self.inner.dim())?;
        let (rs, inner) = (r.slice(), &mut self.inner);
        detach(py, || inner.append(rs))
    }

    /// Re-encode rows `start .. start + len(rows)` after they changed.
    fn set_rows(
        &mut self,
        py: Python<'_>,
        #[pyo3(from_py_with = arg::start)] start: usize,
        rows: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let r = matrix(rows, "rows", 0, Values::Unchecked)?;
        same_dim("rows", r.cols(), self.inner.dim())?;
        let (rs, inner) = (r.slice(), &mut self.inner);
        detach(py, || inner.set_rows(start, rs))
    }

    /// As `flat_topk(data, queries, k, metric, mask)`, `data` being the rows the codes were
    /// made of: (ids (q, min(k, len(self))), scores), best first, ties by smaller id.
    #[pyo3(signature = (data, queries, k, metric = "ip", mask = None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        queries: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = arg::k)] k: usize,
        metric: &str,
        mask: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Answer<'py>> {
        let metric = metric_of(metric)?;
        let (d, q) = inputs(data, queries)?;
        same_dim("data", d.cols(), self.inner.dim())?;
        same_dim("queries", q.cols(), self.inner.dim())?;
        let nq = q.rows();
        let mask = mask_for(mask, d.rows())?;
        let (ds, qs) = (d.slice(), q.slice());
        let ms = mask.as_ref().map(|m| m.as_slice()).transpose()?;
        let inner = &self.inner;
        let r = detach(py, || inner.search(ds, qs, k, metric, ms))?;
        answer(py, r, nq)
    }

    /// As `search`, the codes being those of rows `rows` of `data` (int64, strictly
    /// increasing; code row j is row `rows[j]`; None: every row), e.g. a filter's rows:
    /// ids are rows of `data`, the answer `flat_topk` gives with a mask keeping just these
    /// rows; coded from 257 rows. `pool` False scans on the calling thread.
    #[pyo3(signature = (data, rows, queries, k, metric = "ip", pool = true))]
    #[allow(clippy::too_many_arguments)]
    fn search_rows<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        rows: Option<PyReadonlyArray1<'py, i64>>,
        queries: &Bound<'py, PyAny>,
        #[pyo3(from_py_with = arg::k)] k: usize,
        metric: &str,
        pool: bool,
    ) -> PyResult<Answer<'py>> {
        let metric = metric_of(metric)?;
        let (d, q) = inputs(data, queries)?;
        same_dim("data", d.cols(), self.inner.dim())?;
        same_dim("queries", q.cols(), self.inner.dim())?;
        let ids = match rows {
            Some(r) => Some(row_ids(r.as_slice()?, d.rows())?),
            None => None,
        };
        let (ds, qs) = (d.slice(), q.slice());
        let r = self.search_ids(py, ds, ids.as_deref(), qs, k, metric, pool)?;
        answer(py, r, q.rows())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    #[getter]
    pub(crate) fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// Bytes of codes and per-row numbers held.
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }

    /// Rows the last `search` re-scored on the float rows (summed over its queries).
    #[getter]
    fn last_candidates(&self) -> usize {
        self.inner.last_candidates()
    }

    /// The integer kernels in use: "avx512_vnni+amx" (batches through AMX tiles),
    /// "avx512_vnni", "avx2" or "scalar".
    #[staticmethod]
    fn kernel() -> &'static str {
        kernels_description()
    }

    fn __repr__(&self) -> String {
        format!(
            "QuantizedFlat(dim={}, len={}, kernel={:?})",
            self.inner.dim(),
            self.inner.len(),
            kernels_description()
        )
    }
}

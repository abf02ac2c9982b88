//! Bindings for exact search and HNSW: check NumPy inputs (zero-copy, C-contiguous
//! float32), release the GIL for the work, return owned arrays without copying.

use std::path::PathBuf;

use eigenlake_core::distance::Metric;
use eigenlake_core::flat::{flat_topk as core_flat_topk, TopKResult};
use eigenlake_core::hnsw::Hnsw as CoreHnsw;
use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::util::{detach, detach_inline};

type Answer<'py> = (Bound<'py, PyArray2<i64>>, Bound<'py, PyArray2<f32>>);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(flat_topk, m)?)?;
    m.add_class::<Hnsw>()?;
    Ok(())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    match obj.getattr("dtype") {
        Ok(dt) => format!(
            "{} with dtype {}",
            obj.get_type().name().map_or("?".into(), |n| n.to_string()),
            dt
        ),
        Err(_) => obj.get_type().name().map_or("?".into(), |n| n.to_string()),
    }
}

/// A read-only view of a C-contiguous 2-D float32 array named `name`.
fn matrix<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<PyReadonlyArray2<'py, f32>> {
    let arr = obj.cast::<PyArray2<f32>>().map_err(|_| {
        PyValueError::new_err(format!(
            "`{name}` must be a 2-D float32 NumPy array, got {}",
            type_name(obj)
        ))
    })?;
    let view = arr
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("`{name}` cannot be borrowed: {e}")))?;
    if view.as_slice().is_err() {
        return Err(PyValueError::new_err(format!(
            "`{name}` must be C-contiguous (use numpy.ascontiguousarray)"
        )));
    }
    Ok(view)
}

fn mask_of<'py>(obj: Option<&Bound<'py, PyAny>>) -> PyResult<Option<PyReadonlyArray1<'py, bool>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let arr = obj.cast::<PyArray1<bool>>().map_err(|_| {
        PyValueError::new_err(format!(
            "`mask` must be a 1-D bool NumPy array, got {}",
            type_name(obj)
        ))
    })?;
    let view = arr
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("`mask` cannot be borrowed: {e}")))?;
    if view.as_slice().is_err() {
        return Err(PyValueError::new_err("`mask` must be contiguous"));
    }
    Ok(Some(view))
}

fn metric_of(s: &str) -> PyResult<Metric> {
    match s {
        "ip" => Ok(Metric::InnerProduct),
        "l2" => Ok(Metric::L2),
        _ => Err(PyValueError::new_err(format!(
            "`metric` must be \"ip\" or \"l2\", got {s:?}"
        ))),
    }
}

fn same_dim(name: &str, got: usize, want: usize) -> PyResult<()> {
    if got != want {
        return Err(PyValueError::new_err(format!(
            "`{name}` has {got} columns, expected {want}"
        )));
    }
    Ok(())
}

fn answer(py: Python<'_>, r: TopKResult, nq: usize, k: usize) -> PyResult<Answer<'_>> {
    let shape_err = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    let ids = Array2::from_shape_vec((nq, k), r.ids).map_err(shape_err)?;
    let scores = Array2::from_shape_vec((nq, k), r.scores).map_err(shape_err)?;
    Ok((ids.into_pyarray(py), scores.into_pyarray(py)))
}

/// Exact top-k of each query row: (ids (q, k), scores (q, k)), best first.
#[pyfunction]
#[pyo3(signature = (data, queries, k, metric = "ip", mask = None))]
fn flat_topk<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    queries: &Bound<'py, PyAny>,
    k: usize,
    metric: &str,
    mask: Option<&Bound<'py, PyAny>>,
) -> PyResult<Answer<'py>> {
    let metric = metric_of(metric)?;
    let (d, q) = (matrix(data, "data")?, matrix(queries, "queries")?);
    let dim = d.shape()[1];
    same_dim("queries", q.shape()[1], dim)?;
    let nq = q.shape()[0];
    let mask = mask_of(mask)?;
    if let Some(m) = &mask {
        if m.len() != d.shape()[0] {
            return Err(PyValueError::new_err(format!(
                "`mask` has length {} but `data` has {} rows",
                m.len(),
                d.shape()[0]
            )));
        }
    }
    if dim == 0 {
        return Err(PyValueError::new_err(
            "`data` must have at least one column",
        ));
    }
    let (ds, qs) = (d.as_slice()?, q.as_slice()?);
    let ms = mask.as_ref().map(|m| m.as_slice()).transpose()?;
    let r = detach(py, || core_flat_topk(ds, qs, dim, k, metric, ms))?;
    answer(py, r, nq, k)
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
        dim: usize,
        metric: &str,
        m: usize,
        ef_construction: usize,
        seed: u64,
    ) -> PyResult<Self> {
        let inner = CoreHnsw::new(dim, metric_of(metric)?, m, ef_construction, seed)
            .map_err(crate::errors::to_py)?;
        Ok(Hnsw { inner })
    }

    /// Index rows `start..len(data)`; `start` must equal `len(self)`.
    fn add(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>, start: usize) -> PyResult<()> {
        let d = matrix(data, "data")?;
        same_dim("data", d.shape()[1], self.inner.dim())?;
        let ds = d.as_slice()?;
        let inner = &mut self.inner;
        detach(py, || inner.add(ds, start))
    }

    fn mark_deleted(&mut self, row: usize) -> PyResult<()> {
        self.inner.mark_deleted(row).map_err(crate::errors::to_py)
    }

    #[pyo3(signature = (data, queries, k, ef = 64, mask = None))]
    fn search<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        queries: &Bound<'py, PyAny>,
        k: usize,
        ef: usize,
        mask: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Answer<'py>> {
        if ef == 0 {
            return Err(PyValueError::new_err("`ef` must be positive"));
        }
        let (d, q) = (matrix(data, "data")?, matrix(queries, "queries")?);
        same_dim("data", d.shape()[1], self.inner.dim())?;
        same_dim("queries", q.shape()[1], self.inner.dim())?;
        let nq = q.shape()[0];
        let mask = mask_of(mask)?;
        let (ds, qs) = (d.as_slice()?, q.as_slice()?);
        let ms = mask.as_ref().map(|m| m.as_slice()).transpose()?;
        let inner = &self.inner;
        // One unmasked query is a single walk (the core runs it on the calling thread).
        let r = if nq == 1 && ms.is_none() {
            detach_inline(py, || inner.search(ds, qs, k, ef, ms))?
        } else {
            detach(py, || inner.search(ds, qs, k, ef, ms))?
        };
        answer(py, r, nq, k)
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

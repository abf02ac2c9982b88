//! Bindings for clustering and outliers: check shapes, borrow NumPy buffers zero-copy,
//! release the GIL, hand owned results back without copying.

use eigenlake_core::cluster::kmeans::{kmeans as core_kmeans, KMeansParams, KMeansResult};
use eigenlake_core::cluster::minibatch::{minibatch_kmeans as core_minibatch, MiniBatchParams};
use eigenlake_core::cluster::{dbscan as db, knee as kn, neighbors, silhouette as sil, Metric};
use eigenlake_core::outlier::lof as core_lof;
use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::to_py;
use crate::util::detach;

type F32Matrix<'py> = Bound<'py, PyArray2<f32>>;
type Labels<'py> = Bound<'py, PyArray1<i64>>;
type KMeansOut<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<f32>>,
    f64,
    usize,
);

/// `(slice, n, dim)` of a C-contiguous 2-D float32 array.
fn matrix<'a>(name: &str, x: &'a PyReadonlyArray2<'_, f32>) -> PyResult<(&'a [f32], usize, usize)> {
    let (n, d) = (x.shape()[0], x.shape()[1]);
    // `as_slice` also accepts Fortran order, which would silently transpose the rows
    let s = x
        .as_slice()
        .ok()
        .filter(|_| x.is_c_contiguous())
        .ok_or_else(|| {
            PyValueError::new_err(format!("{name} must be a C-contiguous float32 array"))
        })?;
    if n == 0 || d == 0 {
        return Err(PyValueError::new_err(format!(
            "{name} must have at least one row and one column, got shape ({n}, {d})"
        )));
    }
    Ok((s, n, d))
}

fn vector<'a, T: numpy::Element>(
    name: &str,
    v: &'a PyReadonlyArray1<'_, T>,
    n: usize,
) -> PyResult<&'a [T]> {
    let s = v
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a contiguous array")))?;
    if s.len() != n {
        return Err(PyValueError::new_err(format!(
            "{name} has length {}, expected {n} (one per row of x)",
            s.len()
        )));
    }
    Ok(s)
}

fn metric(s: &str) -> PyResult<Metric> {
    Metric::parse(s).map_err(to_py)
}

fn labels_out(py: Python<'_>, l: Vec<u32>) -> Bound<'_, PyArray1<i64>> {
    l.into_iter()
        .map(i64::from)
        .collect::<Vec<_>>()
        .into_pyarray(py)
}

fn kmeans_out(py: Python<'_>, r: KMeansResult, k: usize, d: usize) -> PyResult<KMeansOut<'_>> {
    let c = Array2::from_shape_vec((k, d), r.centroids)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((
        labels_out(py, r.labels),
        c.into_pyarray(py),
        r.inertia,
        r.n_iter,
    ))
}

#[pyfunction]
#[pyo3(signature = (x, k, *, max_iter=50, tol=1e-4, n_init=1, seed=0, spherical=true, init=None))]
#[allow(clippy::too_many_arguments)]
fn kmeans<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    k: usize,
    max_iter: usize,
    tol: f64,
    n_init: usize,
    seed: u64,
    spherical: bool,
    init: Option<PyReadonlyArray2<'py, f32>>,
) -> PyResult<KMeansOut<'py>> {
    let (xs, _, d) = matrix("x", &x)?;
    let init_s = match &init {
        Some(c) => {
            let (s, ck, cd) = matrix("init", c)?;
            if ck != k || cd != d {
                return Err(PyValueError::new_err(format!(
                    "init must have shape ({k}, {d}), got ({ck}, {cd})"
                )));
            }
            Some(s)
        }
        None => None,
    };
    let p = KMeansParams {
        k,
        max_iter,
        tol,
        n_init,
        seed,
        spherical,
        init: init_s,
    };
    let r = detach(py, || core_kmeans(xs, d, &p))?;
    kmeans_out(py, r, k, d)
}

#[pyfunction]
#[pyo3(signature = (x, labels, metric="cosine", sample_size=None, seed=0))]
fn silhouette(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f32>,
    labels: PyReadonlyArray1<'_, i64>,
    metric: &str,
    sample_size: Option<usize>,
    seed: u64,
) -> PyResult<f64> {
    let (xs, n, d) = matrix("x", &x)?;
    let ls = vector("labels", &labels, n)?;
    let m = self::metric(metric)?;
    detach(py, || sil::silhouette(xs, d, ls, m, sample_size, seed))
}

#[pyfunction]
#[pyo3(signature = (x, labels, metric="cosine"))]
fn silhouette_samples<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    labels: PyReadonlyArray1<'py, i64>,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let (xs, n, d) = matrix("x", &x)?;
    let ls = vector("labels", &labels, n)?;
    let m = self::metric(metric)?;
    let s = detach(py, || sil::silhouette_samples(xs, d, ls, m))?;
    Ok(s.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (x, k, *, batch_size=4096, max_iter=100, seed=0, spherical=true))]
fn minibatch_kmeans<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    k: usize,
    batch_size: usize,
    max_iter: usize,
    seed: u64,
    spherical: bool,
) -> PyResult<KMeansOut<'py>> {
    let (xs, _, d) = matrix("x", &x)?;
    let p = MiniBatchParams {
        k,
        batch_size,
        max_iter,
        seed,
        spherical,
    };
    let r = detach(py, || core_minibatch(xs, d, &p))?;
    kmeans_out(py, r, k, d)
}

#[pyfunction]
#[pyo3(signature = (x, eps, min_samples, metric="cosine"))]
fn dbscan<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    eps: f32,
    min_samples: usize,
    metric: &str,
) -> PyResult<(Labels<'py>, Bound<'py, PyArray1<bool>>)> {
    let (xs, _, d) = matrix("x", &x)?;
    let m = self::metric(metric)?;
    let r = detach(py, || db::dbscan(xs, d, eps, min_samples, m))?;
    Ok((r.labels.into_pyarray(py), r.core.into_pyarray(py)))
}

#[pyfunction]
#[pyo3(signature = (x, k, metric="cosine"))]
fn kdist<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    k: usize,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let (xs, _, d) = matrix("x", &x)?;
    let m = self::metric(metric)?;
    Ok(detach(py, || neighbors::kdist(xs, d, k, m))?.into_pyarray(py))
}

#[pyfunction]
fn knee(values: PyReadonlyArray1<'_, f32>) -> PyResult<usize> {
    let v = values
        .as_slice()
        .map_err(|_| PyValueError::new_err("values must be a contiguous float32 array"))?;
    kn::knee(v).map_err(to_py)
}

#[pyfunction]
#[pyo3(signature = (x, k, metric="cosine"))]
fn knn<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    k: usize,
    metric: &str,
) -> PyResult<(Bound<'py, PyArray2<i64>>, F32Matrix<'py>)> {
    let (xs, n, d) = matrix("x", &x)?;
    let m = self::metric(metric)?;
    let r = detach(py, || neighbors::knn(xs, d, k, m))?;
    let ids: Vec<i64> = r.ids.into_iter().map(i64::from).collect();
    let shape_err = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    let ids = Array2::from_shape_vec((n, k), ids).map_err(shape_err)?;
    let dist = Array2::from_shape_vec((n, k), r.dist).map_err(shape_err)?;
    Ok((ids.into_pyarray(py), dist.into_pyarray(py)))
}

#[pyfunction]
#[pyo3(signature = (x, n_neighbors=20, metric="cosine"))]
fn lof<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f32>,
    n_neighbors: usize,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (xs, _, d) = matrix("x", &x)?;
    let m = self::metric(metric)?;
    Ok(detach(py, || core_lof::lof(xs, d, n_neighbors, m))?.into_pyarray(py))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kmeans, m)?)?;
    m.add_function(wrap_pyfunction!(minibatch_kmeans, m)?)?;
    m.add_function(wrap_pyfunction!(dbscan, m)?)?;
    m.add_function(wrap_pyfunction!(kdist, m)?)?;
    m.add_function(wrap_pyfunction!(knee, m)?)?;
    m.add_function(wrap_pyfunction!(knn, m)?)?;
    m.add_function(wrap_pyfunction!(lof, m)?)?;
    m.add_function(wrap_pyfunction!(silhouette, m)?)?;
    m.add_function(wrap_pyfunction!(silhouette_samples, m)?)?;
    Ok(())
}

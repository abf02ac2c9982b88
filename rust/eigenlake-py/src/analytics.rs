//! Bindings for clustering and outliers: check shapes, borrow NumPy buffers zero-copy,
//! release the GIL, hand owned results back without copying.

use eigenlake_core::cluster::kmeans::{kmeans as core_kmeans, KMeansParams, KMeansResult};
use eigenlake_core::cluster::minibatch::{minibatch_kmeans as core_minibatch, MiniBatchParams};
use eigenlake_core::cluster::plane::principal_plane as core_plane;
use eigenlake_core::cluster::{dbscan as db, knee as kn, neighbors, silhouette as sil, Metric};
use eigenlake_core::outlier::lof as core_lof;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::arrays::{float_vector, int_vector, matrix, same_len, Matrix, Values};
use crate::util::{arg, detach, detach_inline};

type F32Matrix<'py> = Bound<'py, PyArray2<f32>>;
type Labels<'py> = Bound<'py, PyArray1<i64>>;
type KMeansOut<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<f32>>,
    f64,
    usize,
);

/// The analysed matrix `x`: at least one row and one column, every value finite.
fn points<'py>(x: &Bound<'py, PyAny>) -> PyResult<Matrix<'py>> {
    matrix(x, "x", 1, Values::Finite)
}

const METRICS: [(&str, Metric); 2] = [("cosine", Metric::Cosine), ("euclidean", Metric::Euclidean)];

fn metric(s: &str) -> PyResult<Metric> {
    crate::util::metric(s, &METRICS)
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
    x: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    #[pyo3(from_py_with = arg::max_iter)] max_iter: usize,
    tol: f64,
    #[pyo3(from_py_with = arg::n_init)] n_init: usize,
    #[pyo3(from_py_with = arg::seed)] seed: u64,
    spherical: bool,
    init: Option<&Bound<'py, PyAny>>,
) -> PyResult<KMeansOut<'py>> {
    let x = points(x)?;
    let d = x.cols();
    let init = match init.filter(|c| !c.is_none()) {
        Some(c) => {
            let c = matrix(c, "init", 1, Values::Finite)?;
            if c.rows() != k || c.cols() != d {
                return Err(PyValueError::new_err(format!(
                    "`init` must have shape ({k}, {d}), got ({}, {})",
                    c.rows(),
                    c.cols()
                )));
            }
            Some(c)
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
        init: init.as_ref().map(|c| c.slice()),
    };
    let xs = x.slice();
    let r = detach(py, || core_kmeans(xs, d, &p))?;
    kmeans_out(py, r, k, d)
}

#[pyfunction]
#[pyo3(signature = (x, labels, metric="cosine", sample_size=None, seed=0))]
fn silhouette(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    labels: &Bound<'_, PyAny>,
    metric: &str,
    #[pyo3(from_py_with = arg::sample_size)] sample_size: Option<usize>,
    #[pyo3(from_py_with = arg::seed)] seed: u64,
) -> PyResult<f64> {
    let m = self::metric(metric)?;
    // scanned for NaN and infinity by the core, in a pass it makes anyway
    let x = matrix(x, "x", 1, Values::Unchecked)?;
    let labels = int_vector(labels, "labels")?;
    let ls = labels.as_slice()?;
    same_len("labels", ls.len(), x.rows(), "x")?;
    let (xs, d) = (x.slice(), x.cols());
    detach(py, || sil::silhouette(xs, d, ls, m, sample_size, seed))
}

#[pyfunction]
#[pyo3(signature = (x, labels, metric="cosine"))]
fn silhouette_samples<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let m = self::metric(metric)?;
    // scanned for NaN and infinity by the core, in a pass it makes anyway
    let x = matrix(x, "x", 1, Values::Unchecked)?;
    let labels = int_vector(labels, "labels")?;
    let ls = labels.as_slice()?;
    same_len("labels", ls.len(), x.rows(), "x")?;
    let (xs, d) = (x.slice(), x.cols());
    let s = detach(py, || sil::silhouette_samples(xs, d, ls, m))?;
    Ok(s.into_pyarray(py))
}

#[pyfunction]
#[pyo3(signature = (x, labels, metric="cosine"))]
fn centre_distances<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    labels: &Bound<'py, PyAny>,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let m = self::metric(metric)?;
    // not scanned here: the core's one pass over the rows refuses NaN and infinity itself
    let x = matrix(x, "x", 1, Values::Unchecked)?;
    let labels = int_vector(labels, "labels")?;
    let ls = labels.as_slice()?;
    same_len("labels", ls.len(), x.rows(), "x")?;
    let (xs, d) = (x.slice(), x.cols());
    Ok(detach(py, || sil::centre_distances(xs, d, ls, m))?.into_pyarray(py))
}

type PlaneOut<'py> = (
    Bound<'py, PyArray1<f32>>,
    Bound<'py, PyArray2<f64>>,
    (f64, f64),
    F32Matrix<'py>,
);

#[pyfunction]
#[pyo3(signature = (x, rows, seed=0))]
fn principal_plane<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::seed)] seed: u64,
) -> PyResult<PlaneOut<'py>> {
    // only the rows named are read: the core refuses NaN and infinity among them
    let x = matrix(x, "x", 1, Values::Unchecked)?;
    let rows = int_vector(rows, "rows")?;
    let rows: Vec<usize> = rows
        .as_slice()?
        .iter()
        .map(|&r| usize::try_from(r))
        .collect::<Result<_, _>>()
        .map_err(|_| PyValueError::new_err("`rows` must hold row numbers (>= 0)"))?;
    let (xs, d) = (x.slice(), x.cols());
    let p = detach(py, || core_plane(xs, d, &rows, seed))?;
    let shape_err = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
    let axes = Array2::from_shape_vec((2, d), p.axes).map_err(shape_err)?;
    let coords = Array2::from_shape_vec((rows.len(), 2), p.coords).map_err(shape_err)?;
    Ok((
        p.mean.into_pyarray(py),
        axes.into_pyarray(py),
        (p.ratio[0], p.ratio[1]),
        coords.into_pyarray(py),
    ))
}

#[pyfunction]
#[pyo3(signature = (x, k, *, batch_size=4096, max_iter=100, seed=0, spherical=true))]
fn minibatch_kmeans<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    #[pyo3(from_py_with = arg::batch_size)] batch_size: usize,
    #[pyo3(from_py_with = arg::max_iter)] max_iter: usize,
    #[pyo3(from_py_with = arg::seed)] seed: u64,
    spherical: bool,
) -> PyResult<KMeansOut<'py>> {
    let x = points(x)?;
    let (xs, d) = (x.slice(), x.cols());
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
    x: &Bound<'py, PyAny>,
    eps: f32,
    #[pyo3(from_py_with = arg::min_samples)] min_samples: usize,
    metric: &str,
) -> PyResult<(Labels<'py>, Bound<'py, PyArray1<bool>>)> {
    let m = self::metric(metric)?;
    let x = points(x)?;
    let (xs, d) = (x.slice(), x.cols());
    let r = detach(py, || db::dbscan(xs, d, eps, min_samples, m))?;
    Ok((r.labels.into_pyarray(py), r.core.into_pyarray(py)))
}

#[pyfunction]
#[pyo3(signature = (x, k, metric="cosine"))]
fn kdist<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let m = self::metric(metric)?;
    let x = points(x)?;
    let (xs, d) = (x.slice(), x.cols());
    Ok(detach(py, || neighbors::kdist(xs, d, k, m))?.into_pyarray(py))
}

#[pyfunction]
fn knee(py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<usize> {
    let v = float_vector(values, "values")?;
    let vs = v.as_slice()?;
    detach_inline(py, || kn::knee(vs))
}

#[pyfunction]
#[pyo3(signature = (x, k, metric="cosine"))]
fn knn<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    metric: &str,
) -> PyResult<(Bound<'py, PyArray2<i64>>, F32Matrix<'py>)> {
    let m = self::metric(metric)?;
    let x = points(x)?;
    let (xs, n, d) = (x.slice(), x.rows(), x.cols());
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
    x: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::n_neighbors)] n_neighbors: usize,
    metric: &str,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let m = self::metric(metric)?;
    let x = points(x)?;
    let (xs, d) = (x.slice(), x.cols());
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
    m.add_function(wrap_pyfunction!(centre_distances, m)?)?;
    m.add_function(wrap_pyfunction!(principal_plane, m)?)?;
    Ok(())
}

//! Helpers shared by the binding files: run core work without the GIL (a panic in it
//! becomes a Python exception), read integer and metric arguments.

use eigenlake_core::error::catch_panic;
use eigenlake_core::Result as CoreResult;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;

use crate::errors::to_py;

/// Release the GIL, run `f` on the compute pool, map its error. A panic anywhere in it
/// (pool workers included) becomes `InternalError`, never a `PanicException`.
pub fn detach<T: Send>(py: Python<'_>, f: impl FnOnce() -> CoreResult<T> + Send) -> PyResult<T> {
    py.detach(|| catch_panic(|| eigenlake_core::threads::install(f)))
        .map_err(to_py)
}

/// Release the GIL and run `f` on the calling thread: for calls too short to repay the
/// hand-off to the pool (one HNSW walk). `f` must not start parallel work. Panics are
/// mapped as in `detach`.
pub fn detach_inline<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> CoreResult<T> + Send,
) -> PyResult<T> {
    py.detach(|| catch_panic(f)).map_err(to_py)
}

/// Run short core work with the GIL held, panics mapped as in `detach`.
pub fn guarded<T>(f: impl FnOnce() -> CoreResult<T>) -> PyResult<T> {
    catch_panic(f).map_err(to_py)
}

/// A non-negative Python int (anything with `__index__`) as u64. Negative values and values
/// beyond 2**64 - 1 are a `ValueError` naming the argument (PyO3 would raise OverflowError).
pub fn uint(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
    obj.extract::<u64>().map_err(|e| {
        if e.is_instance_of::<PyOverflowError>(obj.py()) {
            PyValueError::new_err(format!(
                "`{name}` must be an integer in 0..=2**64-1, got {obj}"
            ))
        } else {
            e // not an integer at all: PyO3's TypeError
        }
    })
}

/// As `uint`, as a usize; on a 32-bit build a count beyond usize saturates (every count
/// the core takes is clamped or bounded by the rows, so usize::MAX means "all").
pub fn size(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<usize> {
    uint(obj, name).map(|v| usize::try_from(v).unwrap_or(usize::MAX))
}

/// Extractors for `#[pyo3(from_py_with = ...)]`: one per argument name, so the error names
/// the argument.
pub mod arg {
    use pyo3::prelude::*;

    macro_rules! sizes {
        ($($name:ident),*) => {$(
            pub fn $name(obj: &Bound<'_, PyAny>) -> PyResult<usize> {
                super::size(obj, stringify!($name))
            }
        )*};
    }
    sizes!(
        k,
        ef,
        m,
        ef_construction,
        dim,
        start,
        row,
        n,
        max_iter,
        n_init,
        batch_size,
        min_samples,
        n_neighbors
    );

    pub fn seed(obj: &Bound<'_, PyAny>) -> PyResult<u64> {
        super::uint(obj, "seed")
    }

    pub fn sample_size(obj: &Bound<'_, PyAny>) -> PyResult<Option<usize>> {
        if obj.is_none() {
            return Ok(None);
        }
        super::size(obj, "sample_size").map(Some)
    }
}

/// The metric named `s` among `choices`, or a `ValueError` listing them: the one parser
/// for the search metrics ("ip", "l2") and the analytics metrics ("cosine", "euclidean").
pub fn metric<M: Copy>(s: &str, choices: &[(&str, M)]) -> PyResult<M> {
    choices
        .iter()
        .find(|(name, _)| *name == s)
        .map(|&(_, m)| m)
        .ok_or_else(|| {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("{n:?}")).collect();
            PyValueError::new_err(format!(
                "`metric` must be one of {}, got {s:?}",
                names.join(", ")
            ))
        })
}

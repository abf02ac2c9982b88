//! Helpers shared by the binding files: run heavy work without the GIL on the pool.

use eigenlake_core::Result as CoreResult;
use pyo3::prelude::*;

use crate::errors::to_py;

/// Release the GIL, run `f` on the compute pool, map its error.
#[allow(dead_code)]
pub fn detach<T: Send>(py: Python<'_>, f: impl FnOnce() -> CoreResult<T> + Send) -> PyResult<T> {
    py.detach(|| eigenlake_core::threads::install(f))
        .map_err(to_py)
}

/// Release the GIL and run `f` on the calling thread: for calls too short to repay the
/// hand-off to the pool (one HNSW walk). `f` must not start parallel work.
pub fn detach_inline<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> CoreResult<T> + Send,
) -> PyResult<T> {
    py.detach(f).map_err(to_py)
}

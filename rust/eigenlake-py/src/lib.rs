//! `eigenlake._core`: a translation layer between NumPy and `eigenlake-core`.
//! No logic lives here: convert inputs, release the GIL, map errors.

use pyo3::prelude::*;

mod analytics;
mod errors;
mod search;
mod util;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    search::register(m)?;
    analytics::register(m)?;
    Ok(())
}

/// What this build runs on: version, active SIMD kernel set, thread count, whether the
/// workers are pinned to CPUs.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("version", env!("CARGO_PKG_VERSION"))?;
    d.set_item("simd", eigenlake_core::distance::active_isa())?;
    d.set_item("num_threads", eigenlake_core::threads::num_threads())?;
    d.set_item("pinned_threads", eigenlake_core::threads::pinned())?;
    d.set_item("arch", std::env::consts::ARCH)?;
    d.set_item("debug", cfg!(debug_assertions))?;
    Ok(d)
}

/// Resize the compute thread pool (`0` = default: `EIGENLAKE_NUM_THREADS` or CPU count).
#[pyfunction]
fn set_num_threads(n: usize) {
    eigenlake_core::threads::set_num_threads(n);
}

#[pyfunction]
fn num_threads() -> usize {
    eigenlake_core::threads::num_threads()
}

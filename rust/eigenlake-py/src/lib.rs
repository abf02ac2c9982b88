//! `eigenlake._core`: a translation layer between NumPy and `eigenlake-core`.
//! No logic lives here: convert inputs, release the GIL, map errors.

use pyo3::prelude::*;

mod analytics;
mod arrays;
mod cursor;
mod errors;
mod hits;
mod ids;
mod json_py;
mod kept;
mod members;
mod props;
mod quantized;
mod rows;
mod search;
mod util;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("InternalError", m.py().get_type::<errors::InternalError>())?;
    search::register(m)?;
    cursor::register(m)?;
    ids::register(m)?;
    kept::register(m)?;
    analytics::register(m)?;
    rows::register(m)?;
    members::register(m)?;
    quantized::register(m)?;
    props::register(m)?;
    Ok(())
}

/// What this build runs on: version, active SIMD kernel set, thread count, whether the
/// workers are pinned to CPUs.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("version", env!("CARGO_PKG_VERSION"))?;
    d.set_item("simd", eigenlake_core::distance::active_isa())?;
    d.set_item("quant_simd", eigenlake_core::quant::kernels_description())?;
    d.set_item("num_threads", eigenlake_core::threads::num_threads())?;
    d.set_item("pinned_threads", eigenlake_core::threads::pinned())?;
    d.set_item("arch", std::env::consts::ARCH)?;
    d.set_item("debug", cfg!(debug_assertions))?;
    Ok(d)
}

/// Most pool threads one may ask for: far above any CPU count, far below what would exhaust
/// the process's threads while the pool spawns them.
const MAX_THREADS: usize = 4096;

/// Resize the compute thread pool (`0` = default: `EIGENLAKE_NUM_THREADS` or CPU count).
#[pyfunction]
fn set_num_threads(#[pyo3(from_py_with = util::arg::n)] n: usize) -> PyResult<()> {
    if n > MAX_THREADS {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "`n` must be in 0..={MAX_THREADS} (0 = the default), got {n}"
        )));
    }
    util::guarded(|| {
        eigenlake_core::threads::set_num_threads(n);
        Ok(())
    })
}

/// Test hook: panic with `message` inside core work run as every binding runs it (on the
/// pool, or inline), to check the panic reaches Python as `InternalError`.
#[pyfunction]
#[pyo3(signature = (message, inline = false))]
fn _panic_for_tests(py: Python<'_>, message: String, inline: bool) -> PyResult<()> {
    let boom = move || -> eigenlake_core::Result<()> { panic!("{message}") };
    if inline {
        util::detach_inline(py, boom)
    } else {
        util::detach(py, boom)
    }
}

#[pyfunction]
fn num_threads() -> usize {
    eigenlake_core::threads::num_threads()
}

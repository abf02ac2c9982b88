//! The one place core errors become Python exceptions.

use eigenlake_core::CoreError;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

// A fault in the compute core (a caught panic or a broken invariant), never a user mistake.
// A RuntimeError, so `except Exception` / `except RuntimeError` handle it.
pyo3::create_exception!(
    eigenlake._core,
    InternalError,
    PyRuntimeError,
    "A fault inside the compute core (a bug, not bad input)."
);

pub fn to_py(e: CoreError) -> PyErr {
    match e {
        CoreError::DimensionMismatch { .. } | CoreError::InvalidParameter { .. } => {
            PyValueError::new_err(e.to_string())
        }
        CoreError::Io(_) => PyOSError::new_err(e.to_string()),
        CoreError::Corrupt(_) => PyRuntimeError::new_err(e.to_string()),
        CoreError::Internal(_) | CoreError::Panic(_) => InternalError::new_err(e.to_string()),
    }
}

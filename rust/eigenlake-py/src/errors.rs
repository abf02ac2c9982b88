//! The one place core errors become Python exceptions.

use eigenlake_core::CoreError;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;

pub fn to_py(e: CoreError) -> PyErr {
    match e {
        CoreError::DimensionMismatch { .. } | CoreError::InvalidParameter { .. } => {
            PyValueError::new_err(e.to_string())
        }
        CoreError::Io(_) => PyOSError::new_err(e.to_string()),
        CoreError::Corrupt(_) | CoreError::Internal(_) => PyRuntimeError::new_err(e.to_string()),
    }
}

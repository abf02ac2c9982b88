//! Bindings for clustering and outliers. Owned by the analytics work.

use pyo3::prelude::*;

pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}

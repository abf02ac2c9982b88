//! The members of an analysis' groups as its answer lists them (`member_dicts`): one
//! `{key: values[row]}` dict per row, one list per group, built from the grouped row ids
//! and the value list the caller holds, in one pass. The rule is the Python comprehension
//! it replaces (`analysis/cluster.py`, `_describe`): the lists must be equal.
//! `id_member_dicts` is the same with the values made from record ids' bytes (the texts
//! `uuid_texts` makes), so no list of every row's text is made first.

use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use numpy::PyReadonlyArray2;

use crate::arrays::int_vector;
use crate::ids::{id_at, id_bytes, text};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(member_dicts, m)?)?;
    m.add_function(wrap_pyfunction!(id_member_dicts, m)?)?;
    Ok(())
}

/// How many rows ahead the value objects are asked for: the values (uuid strings) are
/// scattered over the heap and cold after the analysis streamed its matrix through the
/// caches; asking this far ahead lets the memory waits overlap instead of adding up.
const PREFETCH_AHEAD: usize = 16;

/// `[[{key: values[r]} for r in rows[bounds[g]:bounds[g + 1]]] for g in range(len(bounds) - 1)]`:
/// the dicts hold the objects of `values` themselves (no copy). `bounds` must rise from 0
/// or more to at most `len(rows)`, and every row index into `values`.
#[pyfunction]
#[pyo3(signature = (values, rows, bounds, key="uuid"))]
fn member_dicts<'py>(
    py: Python<'py>,
    values: &Bound<'py, PyList>,
    rows: &Bound<'py, PyAny>,
    bounds: &Bound<'py, PyAny>,
    key: &str,
) -> PyResult<Bound<'py, PyList>> {
    let rows = int_vector(rows, "rows")?;
    let rows = rows.as_slice()?;
    let bounds = int_vector(bounds, "bounds")?;
    let bounds = bounds.as_slice()?;
    let edges = check_bounds(bounds, rows.len())?;
    let n = values.len();
    let ids = rows
        .iter()
        .map(|&r| usize::try_from(r).ok().filter(|&r| r < n))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            PyIndexError::new_err(format!(
                "`rows` must index into `values` (0..{n}), got a row outside it"
            ))
        })?;
    let key = PyString::intern(py, key);
    let groups = PyList::empty(py);
    let _paused = GcPaused::new(py);
    for w in edges.windows(2) {
        let mut members = Vec::with_capacity(w[1] - w[0]);
        for i in w[0]..w[1] {
            if let Some(&ahead) = ids.get(i + PREFETCH_AHEAD) {
                prefetch(values, ahead);
            }
            let d = PyDict::new(py);
            d.set_item(&key, values.get_item(ids[i])?)?;
            members.push(d);
        }
        groups.append(PyList::new(py, members)?)?;
    }
    Ok(groups)
}

/// `member_dicts` with `values` the uuid texts of the rows of `ids` ((k, 16) uint8, as
/// `uuid_texts` makes them): each text is made from the bytes where its dict is, a new str
/// per member (the ids' 16 bytes a row sit together, where a list of texts would be read
/// scattered over the heap).
#[pyfunction]
#[pyo3(signature = (ids, rows, bounds, key="uuid"))]
fn id_member_dicts<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'py, u8>,
    rows: &Bound<'py, PyAny>,
    bounds: &Bound<'py, PyAny>,
    key: &str,
) -> PyResult<Bound<'py, PyList>> {
    let bytes = id_bytes(&ids, "ids")?;
    let rows = int_vector(rows, "rows")?;
    let rows = rows.as_slice()?;
    let bounds = int_vector(bounds, "bounds")?;
    let bounds = bounds.as_slice()?;
    let edges = check_bounds(bounds, rows.len())?;
    let n = bytes.len() / 16;
    let found = rows
        .iter()
        .map(|&r| usize::try_from(r).ok().and_then(|r| id_at(bytes, r)))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| {
            PyIndexError::new_err(format!(
                "`rows` must index into `ids` (0..{n}), got a row outside it"
            ))
        })?;
    let key = PyString::intern(py, key);
    let groups = PyList::empty(py);
    let _paused = GcPaused::new(py);
    for w in edges.windows(2) {
        let mut members = Vec::with_capacity(w[1] - w[0]);
        for id in &found[w[0]..w[1]] {
            let d = PyDict::new(py);
            d.set_item(&key, text(py, id))?;
            members.push(d);
        }
        groups.append(PyList::new(py, members)?)?;
    }
    Ok(groups)
}

/// The cyclic garbage collector held off while it lives (when it was on): each dict made
/// counts towards the next collection, so 50,000 of them ran ~70 young and ~6 middle
/// collections (~2.5 ms, and now and then a full one) that find nothing (a dict of a str
/// is not even tracked). The GIL is held throughout, so no
/// other thread sees the pause; the counts made meanwhile trigger one collection after.
struct GcPaused(bool);

impl GcPaused {
    fn new(_py: Python<'_>) -> Self {
        // SAFETY: called with the GIL held (the token); returns the previous state
        Self(unsafe { pyo3::ffi::PyGC_Disable() } == 1)
    }
}

impl Drop for GcPaused {
    fn drop(&mut self) {
        if self.0 {
            // SAFETY: dropped within the call that made it, the GIL still held
            unsafe { pyo3::ffi::PyGC_Enable() };
        }
    }
}

/// `bounds` as offsets into `rows`: rising, within `0..=rows`.
fn check_bounds(bounds: &[i64], rows: usize) -> PyResult<Vec<usize>> {
    let edges = bounds
        .iter()
        .map(|&b| usize::try_from(b).ok().filter(|&b| b <= rows))
        .collect::<Option<Vec<usize>>>();
    match edges {
        Some(e) if e.windows(2).all(|w| w[0] <= w[1]) => Ok(e),
        _ => Err(PyValueError::new_err(format!(
            "`bounds` must rise within 0..={rows} (the length of `rows`)"
        ))),
    }
}

/// Ask for the object at `row` of `list` (checked in range by the caller) before it is
/// read. A hint only: nothing is read or changed.
fn prefetch(list: &Bound<'_, PyList>, row: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `row` is within the list (checked by the caller), which the GIL keeps
        // alive and unchanged; the item is a borrowed pointer only handed to a prefetch,
        // which never faults
        unsafe {
            let obj = pyo3::ffi::PyList_GetItem(list.as_ptr(), row as pyo3::ffi::Py_ssize_t);
            _mm_prefetch::<_MM_HINT_T0>(obj.cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (list, row);
}

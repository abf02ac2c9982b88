//! One query's page of hits as the Python answer holds them (`Hnsw.page`): the
//! `{"uuid", "metadata", "distance"}` dicts built from the kernel's (row, score) pairs, the
//! ids' bytes (`uuids`, 16 a row: the uuid text is made here, for the hits only) and the property list
//! the caller already holds, in one pass, so a query does not
//! go through NumPy arrays, `tolist` and a Python loop per hit. The rules are the Python
//! path's (`eigenlake/embedded/search.py`, `_hits` and `_own`): the answer must be equal.

use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};

use crate::ids::{id_at, text};

/// A kernel score as the answer's distance: `1 - cos` for inner product on unit rows,
/// else the euclidean distance from the squared one, as Python computes it on the float
/// the score becomes (`math.sqrt(max(s, 0.0))`: `max` keeps its first argument unless the
/// second is larger, so -0.0 and NaN go through as they are).
fn distance(score: f32, cosine: bool) -> f64 {
    let s = f64::from(score);
    if cosine {
        1.0 - s
    } else {
        let v = if 0.0 > s { 0.0 } else { s };
        v.sqrt()
    }
}

/// Whether a property value is shared with the cache as it is in an answer: the types
/// `_SCALARS` names (immutable); anything else (a list, a dict) is copied deeply.
fn scalar(v: &Bound<'_, PyAny>) -> bool {
    v.is_none()
        || v.is_exact_instance_of::<PyString>()
        || v.is_exact_instance_of::<PyInt>()
        || v.is_exact_instance_of::<PyFloat>()
        || v.is_exact_instance_of::<PyBool>()
}

fn item<'py>(list: &Bound<'py, PyList>, row: usize, name: &str) -> PyResult<Bound<'py, PyAny>> {
    list.get_item(row).map_err(|_| {
        PyIndexError::new_err(format!(
            "row {row} is past the end of `{name}` ({})",
            list.len()
        ))
    })
}

/// Ask for the property dicts at rows `ids` before they are read: after a walk they are
/// cold, scattered over the heap, and read one by one each waits for memory; a tight pass
/// lets those waits overlap. Hints only: nothing is read or changed here.
fn prefetch_items(ids: &[i64], props: &Bound<'_, PyList>) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let np = props.len();
        for &id in ids {
            let Ok(row) = usize::try_from(id) else { break };
            if row < np {
                // SAFETY: the row is within the list (checked above), which the GIL keeps
                // alive and unchanged; the item is a borrowed pointer only handed to a
                // prefetch, which never faults
                unsafe {
                    let obj =
                        pyo3::ffi::PyList_GetItem(props.as_ptr(), row as pyo3::ffi::Py_ssize_t);
                    _mm_prefetch::<_MM_HINT_T0>(obj.cast::<i8>());
                }
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (ids, props);
}

/// The hits of rows `ids` (-1 padding allowed at the end) scored `scores`, nearest first
/// (ties by uuid, the cursor's order), the first `limit` of them: (hits, whether more
/// followed, whether a hit's metadata holds a list or a dict: the caller then copies those
/// values, since the metadata here is a shallow copy of the stored dict).
pub fn page<'py>(
    py: Python<'py>,
    ids: &[i64],
    scores: &[f32],
    limit: usize,
    uuids: &[u8],
    props: &Bound<'py, PyList>,
    cosine: bool,
) -> PyResult<(Bound<'py, PyList>, bool, bool)> {
    prefetch_items(ids, props);
    let mut found = Vec::with_capacity(ids.len());
    for (&id, &score) in ids.iter().zip(scores) {
        let Ok(row) = usize::try_from(id) else {
            break; // -1: fewer rows than asked, the padding is last
        };
        let uuid = id_at(uuids, row).ok_or_else(|| {
            PyIndexError::new_err(format!(
                "row {row} is past the end of `uuids` ({})",
                uuids.len() / 16
            ))
        })?;
        found.push((distance(score, cosine), row, uuid));
    }
    // Python sorts (distance, uuid, row) tuples: the kernel's order already is that order
    // when the distances strictly rise. uuids are unique among live rows: (distance, uuid)
    // orders them all; the bytes' order is the texts' order
    if !found.windows(2).all(|w| w[0].0 < w[1].0) {
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.2.cmp(&b.2)));
    }
    let more = found.len() > limit;
    found.truncate(limit);
    let (k_uuid, k_meta, k_dist) = (
        intern!(py, "uuid"),
        intern!(py, "metadata"),
        intern!(py, "distance"),
    );
    let hits = PyList::empty(py);
    let mut deep = false;
    for (d, row, uuid) in found {
        let stored = item(props, row, "props")?;
        let meta = match stored.cast_exact::<PyDict>() {
            Ok(p) if !p.is_empty() => {
                deep |= !p.iter().all(|(_, v)| scalar(&v));
                p.copy()?
            }
            Ok(_) => PyDict::new(py),
            Err(_) if stored.is_none() => PyDict::new(py),
            Err(_) => return Err(PyTypeError::new_err("`props` must hold dicts or None")),
        };
        let hit = PyDict::new(py);
        hit.set_item(k_uuid, text(py, &uuid))?;
        hit.set_item(k_meta, meta)?;
        hit.set_item(k_dist, d)?;
        hits.append(hit)?;
    }
    Ok((hits, more, deep))
}

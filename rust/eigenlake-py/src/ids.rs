//! Record ids as raw bytes (core `ids`): the cache keeps a `(rows, 16)` uint8 array of them
//! and an `IdMap` instead of a str per row and a dict. Texts are parsed and made here in
//! bulk, never per record in Python.

use eigenlake_core::ids::{self, Id, IdMap as CoreIdMap};
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(parse_uuids, m)?)?;
    m.add_function(wrap_pyfunction!(uuid_texts, m)?)?;
    m.add_class::<IdMap>()
}

/// The bytes of a C-contiguous `(rows, 16)` uint8 array, row after row.
pub fn id_bytes<'a>(arr: &'a PyReadonlyArray2<'_, u8>, name: &str) -> PyResult<&'a [u8]> {
    if arr.shape()[1] != 16 {
        return Err(PyValueError::new_err(format!(
            "`{name}` must have 16 columns (the bytes of a uuid), got {}",
            arr.shape()[1]
        )));
    }
    arr.as_slice()
        .map_err(|_| PyValueError::new_err(format!("`{name}` must be C-contiguous")))
}

/// Row `row`'s id of `bytes` (as `id_bytes` gives), None past the end.
pub fn id_at(bytes: &[u8], row: usize) -> Option<Id> {
    let at = row.checked_mul(16)?;
    bytes.get(at..at + 16)?.try_into().ok()
}

/// The canonical text of `id` as a Python str.
pub fn text<'py>(py: Python<'py>, id: &Id) -> Bound<'py, PyString> {
    let buf = ids::format(id);
    PyString::new(
        py,
        std::str::from_utf8(&buf).expect("hex digits and hyphens are ASCII"),
    )
}

/// The id of a str in canonical form, None for anything else (a text that names no id).
fn id_of(obj: &Bound<'_, PyAny>) -> Option<Id> {
    let s = obj.cast::<PyString>().ok()?;
    ids::parse(s.to_str().ok()?.as_bytes())
}

/// Call `f` with each item of a list (or any iterable) of texts.
fn each(texts: &Bound<'_, PyAny>, mut f: impl FnMut(&Bound<'_, PyAny>)) -> PyResult<()> {
    if let Ok(list) = texts.cast::<PyList>() {
        list.iter().for_each(|t| f(&t));
    } else {
        for t in texts.try_iter()? {
            f(&t?);
        }
    }
    Ok(())
}

/// The `(k, 16)` uint8 bytes of `k` canonical uuid texts; a ValueError names the first
/// text that is not one (a TypeError the first item that is no str).
#[pyfunction]
fn parse_uuids<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let mut out: Vec<u8> = Vec::new();
    let mut bad: Option<PyErr> = None;
    let mut i = 0usize;
    each(texts, |t| {
        if bad.is_some() {
            return;
        }
        match id_of(t) {
            Some(id) => out.extend_from_slice(&id),
            None if t.is_instance_of::<PyString>() => {
                bad = Some(PyValueError::new_err(format!(
                    "`texts[{i}]` is not a canonical uuid (lower-case, hyphenated): {}",
                    t.repr().map_or_else(|_| "?".into(), |r| r.to_string())
                )));
            }
            None => {
                bad = Some(PyTypeError::new_err(format!(
                    "`texts[{i}]` must be a str, got {}",
                    t.get_type()
                        .name()
                        .map_or_else(|_| "?".into(), |n| n.to_string())
                )));
            }
        }
        i += 1;
    })?;
    if let Some(e) = bad {
        return Err(e);
    }
    let k = out.len() / 16;
    PyArray1::from_vec(py, out).reshape([k, 16])
}

/// The canonical texts of the rows of a `(k, 16)` uint8 array, as a list of str.
#[pyfunction]
fn uuid_texts<'py>(
    py: Python<'py>,
    ids: PyReadonlyArray2<'py, u8>,
) -> PyResult<Bound<'py, PyList>> {
    let bytes = id_bytes(&ids, "ids")?;
    PyList::new(
        py,
        bytes.chunks_exact(16).map(|c| {
            let id: &Id = c.try_into().expect("chunks of 16");
            text(py, id)
        }),
    )
}

/// Live record ids to their rows (the cache's `row_of`), with no Python object per
/// record. Texts that are not canonical uuids are never found; rows fit in u32.
#[pyclass(name = "IdMap", module = "eigenlake._core")]
#[derive(Default)]
pub struct IdMap {
    inner: CoreIdMap,
}

#[pymethods]
impl IdMap {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Map each row of `ids` ((k, 16) uint8) to the row number at the same place of
    /// `rows`; an id already mapped moves to its new row (as a dict update).
    fn insert_many(
        &mut self,
        ids: PyReadonlyArray2<'_, u8>,
        rows: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<()> {
        let bytes = id_bytes(&ids, "ids")?;
        let rows = rows.as_array();
        if rows.len() * 16 != bytes.len() {
            return Err(PyValueError::new_err(format!(
                "`ids` has {} rows but `rows` {}",
                bytes.len() / 16,
                rows.len()
            )));
        }
        if let Some(bad) = rows.iter().find(|&&r| u32::try_from(r).is_err()) {
            return Err(PyValueError::new_err(format!(
                "`rows` must be in 0..=2**32-1, got {bad}"
            )));
        }
        self.inner.reserve(rows.len());
        for (c, &r) in bytes.chunks_exact(16).zip(rows.iter()) {
            let inserted = self
                .inner
                .insert(c.try_into().expect("chunks of 16"), r as u64);
            debug_assert!(inserted, "rows checked above");
        }
        Ok(())
    }

    /// The row of the id `text`, -1 if it has none (or is no canonical uuid text).
    fn get(&self, text: &Bound<'_, PyAny>) -> i64 {
        id_of(text)
            .and_then(|id| self.inner.get(&id))
            .map_or(-1, |r| r as i64)
    }

    /// `get` of each text, as an int64 array.
    fn get_many<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let mut out = Vec::new();
        each(texts, |t| out.push(self.get(t)))?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// Unmap each id; the rows they had (-1 where none), as an int64 array.
    fn remove_many<'py>(
        &mut self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let mut out = Vec::new();
        let inner = &mut self.inner;
        each(texts, |t| {
            let row = id_of(t).and_then(|id| inner.remove(&id));
            out.push(row.map_or(-1, |r| r as i64));
        })?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// `remove_many` of ids given as bytes ((k, 16) uint8, e.g. rows of the cache's ids).
    fn remove_ids<'py>(
        &mut self,
        py: Python<'py>,
        ids: PyReadonlyArray2<'py, u8>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let bytes = id_bytes(&ids, "ids")?;
        let out: Vec<i64> = bytes
            .chunks_exact(16)
            .map(|c| {
                let id: &Id = c.try_into().expect("chunks of 16");
                self.inner.remove(id).map_or(-1, |r| r as i64)
            })
            .collect();
        Ok(PyArray1::from_vec(py, out))
    }
}

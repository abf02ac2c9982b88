//! The `search.nearest` cursor, written here once for every path (`eigenlake/api/cursor.py`
//! reads it back): base64url, unpadded, of `{"o": offset, "d": distance, "u": uuid,
//! "h": query hash}`, where the hash is the 64-bit XXH3 of the query row's float32 bytes
//! and its filter's text, as 16 hex digits (a guard against paging with another query or
//! filter, not a secret: a fast, well-specified hash; SHA-1 took ~0.9 µs a page). Also the query row itself
//! (`eigenlake_core::distance::query::query_row`), since the hash covers its bytes.

use std::fmt::Write as _;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use eigenlake_core::distance::query::query_row as core_query_row;
use numpy::{IntoPyArray, PyArray2, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};
use xxhash_rust::xxh3::Xxh3;

use crate::arrays::vector as float_array;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(query_row, m)?)?;
    m.add_function(wrap_pyfunction!(query_hash, m)?)?;
    m.add_function(wrap_pyfunction!(nearest_cursor, m)?)?;
    Ok(())
}

/// The fingerprint of a query row and its filter's text that a cursor carries.
pub fn hash_of(q: &[f32], filter_text: &[u8]) -> String {
    let mut h = Xxh3::new();
    // SAFETY: f32 has no padding or invalid bit patterns; the bytes are the row's native
    // representation, as NumPy exposes it
    let bytes = unsafe { std::slice::from_raw_parts(q.as_ptr().cast::<u8>(), size_of_val(q)) };
    h.update(bytes);
    h.update(filter_text);
    format!("{:016x}", h.digest())
}

/// A distance as Python's `json` writes it (its `repr`): the shortest round-trip digits,
/// in exponent form below 1e-4 and from 1e16 (Rust's `Debug` has the same bounds but
/// writes `1e-5`, Python `1e-05`); non-finite values as `NaN`, `Infinity`, `-Infinity`.
fn json_float(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("NaN");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        let text = format!("{d:?}");
        match text.split_once('e') {
            None => out.push_str(&text),
            Some((mantissa, exp)) => {
                let (sign, digits) = match exp.strip_prefix('-') {
                    Some(rest) => ('-', rest),
                    None => ('+', exp),
                };
                let _ = write!(out, "{mantissa}e{sign}{digits:0>2}");
            }
        }
    }
}

/// The cursor after a page whose last hit is (`distance`, `uuid`), `offset` hits in.
pub fn cursor(offset: u64, distance: f64, uuid: &str, qhash: &str) -> String {
    let mut raw = String::with_capacity(96);
    let _ = write!(raw, "{{\"o\": {offset}, \"d\": ");
    json_float(&mut raw, distance);
    // uuids are canonical (hex and dashes) and the hash is hex: nothing to escape
    let _ = write!(raw, ", \"u\": \"{uuid}\", \"h\": \"{qhash}\"}}");
    URL_SAFE_NO_PAD.encode(raw)
}

/// The caller's query (a 1-D array of a float dtype) as searches take it, or None when it
/// is not `dim` floats that make a valid query (the caller's general path then answers,
/// or names the problem).
pub fn query_vector(vector: &Bound<'_, PyAny>, dim: usize, cosine: bool) -> Option<Vec<f32>> {
    let v = float_array::<f32>(vector, "vector", b"f", "floats").ok()?;
    let s = v.as_slice().ok().filter(|s| s.len() == dim)?;
    core_query_row(s, cosine)
}

/// The cursor after a first page of `limit` `hits` (`hits::page`'s dicts) of query row
/// `q` under a filter whose text is `filter_text`, when `more` hits follow.
pub fn after_page(
    hits: &Bound<'_, PyList>,
    more: bool,
    limit: usize,
    q: &[f32],
    filter_text: &[u8],
) -> PyResult<Option<String>> {
    if !more || hits.is_empty() {
        return Ok(None);
    }
    let py = hits.py();
    let last = hits.get_item(hits.len() - 1)?;
    let dist: f64 = last.get_item(intern!(py, "distance"))?.extract()?;
    let uuid = last.get_item(intern!(py, "uuid"))?;
    let uuid = uuid.cast::<PyString>()?.to_str()?;
    Ok(Some(cursor(
        limit as u64,
        dist,
        uuid,
        &hash_of(q, filter_text),
    )))
}

/// (1, d) float32: the query as searches take it (unit length when `cosine`), or None when
/// it holds a non-finite value or (cosine) only zeros.
#[pyfunction]
fn query_row<'py>(
    py: Python<'py>,
    q: PyReadonlyArray1<'py, f32>,
    cosine: bool,
) -> PyResult<Option<Bound<'py, PyArray2<f32>>>> {
    let d = q.len();
    let row = match q.as_slice() {
        Ok(s) => core_query_row(s, cosine),
        Err(_) => core_query_row(&q.as_array().to_vec(), cosine),
    };
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(r.into_pyarray(py).reshape([1, d])?)),
    }
}

/// `hash_of` a query row (any float32 array, read in C order) and its filter's text.
#[pyfunction]
fn query_hash(q: &Bound<'_, PyAny>, filter_text: &Bound<'_, PyBytes>) -> PyResult<String> {
    let arr = q.cast::<numpy::PyArrayDyn<f32>>()?.try_readonly()?;
    let text = filter_text.as_bytes();
    Ok(match arr.as_slice() {
        Ok(s) => hash_of(s, text),
        Err(_) => hash_of(&arr.as_array().iter().copied().collect::<Vec<_>>(), text),
    })
}

/// `cursor` from Python.
#[pyfunction]
fn nearest_cursor(offset: u64, distance: f64, uuid: &str, qhash: &str) -> String {
    cursor(offset, distance, uuid, qhash)
}

//! A filtered query's exact scan of the rows its filter keeps (the embedded search's
//! memo holds them: `eigenlake/embedded/kept_rows.py`): in place over the listed rows of
//! the cache's matrix, or over a copy of just those rows. `kept_topk` answers with arrays
//! (the general path), `kept_page` with the page of hits and its cursor built in the same
//! call (as `Hnsw.first_page` does), so a filtered first page is one core call.

use eigenlake_core::flat::{
    flat_topk as core_flat_topk, flat_topk_rows as core_rows, flat_topk_serial as core_serial,
    TopKResult, GEMV_MIN_ROWS,
};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::arrays::{matrix, Matrix, Values};
use crate::cursor;
use crate::hits;
use crate::ids::id_bytes;
use crate::props::PropTexts;
use crate::search::{answer, inputs, metric_of, same_dim, Answer, FirstPage};
use crate::util::{arg, detach, detach_inline};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kept_topk, m)?)?;
    m.add_function(wrap_pyfunction!(kept_page, m)?)?;
    Ok(())
}

/// `rows` as u32 ids, checked strictly increasing and below `n`.
pub(crate) fn row_ids(rows: &[i64], n: usize) -> PyResult<Vec<u32>> {
    let mut ids: Vec<u32> = Vec::with_capacity(rows.len());
    for &r in rows {
        match u32::try_from(r) {
            Ok(v) if (v as usize) < n && ids.last().is_none_or(|&p| p < v) => ids.push(v),
            Ok(v) if (v as usize) < n => {
                return Err(PyValueError::new_err(format!(
                    "`rows` must be strictly increasing, got {v} after {}",
                    ids.last().copied().unwrap_or(0)
                )))
            }
            _ => {
                return Err(PyValueError::new_err(format!(
                    "`rows` holds {r}, outside 0..{n}"
                )))
            }
        }
    }
    Ok(ids)
}

/// The top `k` of one query over the listed rows of `data` (or over `block`, their copy:
/// its row `j` is row `rows[j]` of `data`), ids in `data`'s rows. Split over the pool from
/// twice `GEMV_MIN_ROWS` rows when `pool` (as `flat_topk_rows` does), else on the calling
/// thread: on 2 vCPUs shared with other work, a split of 2,500-4,000 rows of 384-d took
/// as long as one thread or longer (a worker's wake-up, a busy CPU), one of 8,000+ less. The answer is the one
/// `flat_topk` with a mask keeping exactly those rows gives (same kernel, ties by row).
#[allow(clippy::too_many_arguments)]
fn scan<'py>(
    py: Python<'py>,
    d: &Matrix<'py>,
    qs: &[f32],
    k: usize,
    metric: &str,
    rows: &PyReadonlyArray1<'py, i64>,
    block: Option<&Bound<'py, PyAny>>,
    pool: bool,
) -> PyResult<TopKResult> {
    let metric = metric_of(metric)?;
    let dim = d.cols();
    same_dim("query", qs.len(), dim)?;
    let ids = row_ids(rows.as_slice()?, d.rows())?;
    let split = pool && ids.len() >= 2 * GEMV_MIN_ROWS;
    let Some(block) = block else {
        let ds = d.slice();
        return if split {
            detach(py, || core_rows(ds, qs, dim, k, metric, &ids, true))
        } else {
            detach_inline(py, || core_rows(ds, qs, dim, k, metric, &ids, false))
        };
    };
    let b = matrix(block, "block", 0, Values::Unchecked)?;
    same_dim("block", b.cols(), dim)?;
    if b.rows() != ids.len() {
        return Err(PyValueError::new_err(format!(
            "`block` has {} rows, `rows` lists {}",
            b.rows(),
            ids.len()
        )));
    }
    let bs = b.slice();
    let mut r = if split {
        detach(py, || core_flat_topk(bs, qs, dim, k, metric, None))?
    } else {
        detach_inline(py, || core_serial(bs, qs, dim, k, metric, None))?
    };
    for id in r.ids.iter_mut().filter(|id| **id >= 0) {
        *id = i64::from(ids[*id as usize]);
    }
    Ok(r)
}

/// Exact top `k` of one query (a row) over the rows listed in `rows` (int64, strictly
/// increasing, rows of `data`), scanned in `block` when given (a C-contiguous copy of
/// exactly those rows, in that order): (ids (1, min(k, rows)), scores), as `flat_topk_rows`.
/// `pool` False keeps the scan to the calling thread (a graph build holds the pool).
#[pyfunction]
#[pyo3(signature = (data, query, k, metric, rows, block = None, pool = true))]
#[allow(clippy::too_many_arguments)]
fn kept_topk<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    query: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] k: usize,
    metric: &str,
    rows: PyReadonlyArray1<'py, i64>,
    block: Option<&Bound<'py, PyAny>>,
    pool: bool,
) -> PyResult<Answer<'py>> {
    let (d, q) = inputs(data, query)?;
    if q.rows() != 1 {
        return Err(PyValueError::new_err("`query` must be one row"));
    }
    let r = scan(py, &d, q.slice(), k, metric, &rows, block, pool)?;
    answer(py, r, 1)
}

/// `kept_topk` for `limit + 1` rows of the caller's query `vector` (made the query row as
/// `Hnsw.first_page` makes it), then the page of hits over `uuids` (id bytes, `(rows, 16)`
/// uint8) and `props` (`PropTexts`, one row per row of `data`, `hits::page`) and the cursor
/// after it when more follow, for a filter whose cursor text is `filter_text`: (hits,
/// cursor or None; the metadata dicts are new, the caller's); None when
/// `vector` is not a valid float query.
#[pyfunction]
#[pyo3(signature = (data, vector, limit, metric, rows, block, pool, uuids, props, cosine, filter_text))]
#[allow(clippy::too_many_arguments)]
fn kept_page<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    vector: &Bound<'py, PyAny>,
    #[pyo3(from_py_with = arg::k)] limit: usize,
    metric: &str,
    rows: PyReadonlyArray1<'py, i64>,
    block: Option<&Bound<'py, PyAny>>,
    pool: bool,
    uuids: PyReadonlyArray2<'py, u8>,
    props: PyRef<'py, PropTexts>,
    cosine: bool,
    filter_text: &Bound<'py, PyBytes>,
) -> PyResult<Option<FirstPage<'py>>> {
    let d = matrix(data, "data", 0, Values::Unchecked)?;
    let Some(q) = cursor::query_vector(vector, d.cols(), cosine) else {
        return Ok(None);
    };
    let k = limit.saturating_add(1);
    let uuids = id_bytes(&uuids, "uuids")?;
    let r = scan(py, &d, &q, k, metric, &rows, block, pool)?;
    let (hits, more) = hits::page(py, &r.ids, &r.scores, limit, uuids, &props, cosine)?;
    let next = cursor::after_page(&hits, more, limit, &q, filter_text.as_bytes())?;
    Ok(Some((hits, next)))
}

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
use pyo3::types::{PyBytes, PyTuple};

use crate::arrays::{matrix, Matrix, Values};
use crate::cursor;
use crate::hits;
use crate::ids::id_bytes;
use crate::props::PropTexts;
use crate::quantized::QuantizedFlat;
use crate::search::{answer, inputs, metric_of, same_dim, Answer, FirstPage};
use crate::util::{arg, detach, detach_inline};

/// Coded rows scanned by one thread up to this many: a quarter of the bytes of float rows,
/// so a split pays from about four times as many.
const CODED_SPLIT_ROWS: usize = 8 * GEMV_MIN_ROWS;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(kept_topk, m)?)?;
    m.add_function(wrap_pyfunction!(kept_page, m)?)?;
    Ok(())
}

/// `rows` as u32 ids, checked strictly increasing and below `n`.
pub(crate) fn row_ids(rows: &[i64], n: usize) -> PyResult<Vec<u32>> {
    // the common case in two plain passes (the compiler vectorises them), the error's
    // text only when one fails
    let cap = (n as u64).min(1 << 32); // ids are u32
    let increasing = rows.windows(2).fold(true, |ok, w| ok & (w[0] < w[1]));
    let inside =
        rows.first().is_none_or(|&r| r >= 0) && rows.last().is_none_or(|&r| (r as u64) < cap);
    if increasing && inside {
        return Ok(rows.iter().map(|&r| r as u32).collect());
    }
    let mut last: Option<i64> = None;
    for &r in rows {
        if r < 0 || r as u64 >= cap {
            return Err(PyValueError::new_err(format!(
                "`rows` holds {r}, outside 0..{n}"
            )));
        }
        if let Some(p) = last.filter(|&p| p >= r) {
            return Err(PyValueError::new_err(format!(
                "`rows` must be strictly increasing, got {r} after {p}"
            )));
        }
        last = Some(r);
    }
    unreachable!("rows failed a check that no row fails")
}

/// The top `k` of one query over the listed rows of `data`, ids in `data`'s rows, read
/// from `block` when given: a copy of those rows (its row `j` is row `rows[j]` of `data`),
/// a `QuantizedFlat` of them (int8 codes in that order: a quarter of the bytes, the float
/// rows of `data` read only to re-score the few the error bound leaves in doubt), or a
/// tuple (codes, copy): the re-score reads the copy (contiguous, cache-warm), not rows
/// scattered over `data`. Split over the pool from twice `GEMV_MIN_ROWS` rows of floats
/// or `CODED_SPLIT_ROWS` of codes when `pool`, else on the calling thread: on 2 vCPUs
/// shared with other work, a split of 2,500-4,000 float rows of 384-d took as long as one
/// thread or longer (a worker's wake-up, a busy CPU), one of 8,000+ less. The answer is the one `flat_topk` with a
/// mask keeping exactly those rows gives (same f32 kernel, ties by row).
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
    let coded_split = pool && ids.len() >= CODED_SPLIT_ROWS;
    if let Ok(codes) = block.cast::<QuantizedFlat>() {
        let codes = codes.borrow();
        same_dim("block", codes.dim(), dim)?;
        return codes.search_ids(py, d.slice(), Some(&ids), qs, k, metric, coded_split);
    }
    // floats of the rows, or (codes, floats): the codes scanned, the copy re-scored
    let (codes, floats) = match block.cast::<PyTuple>() {
        Ok(pair) => {
            let (c, f) = pair.extract::<(Bound<'py, QuantizedFlat>, Bound<'py, PyAny>)>()?;
            (Some(c), f)
        }
        Err(_) => (None, block.clone()),
    };
    let b = matrix(&floats, "block", 0, Values::Unchecked)?;
    same_dim("block", b.cols(), dim)?;
    if b.rows() != ids.len() {
        return Err(PyValueError::new_err(format!(
            "`block` has {} rows, `rows` lists {}",
            b.rows(),
            ids.len()
        )));
    }
    let bs = b.slice();
    let mut r = match codes {
        Some(codes) => {
            let codes = codes.borrow();
            same_dim("block", codes.dim(), dim)?;
            codes.search_ids(py, bs, None, qs, k, metric, coded_split)?
        }
        None if split => detach(py, || core_flat_topk(bs, qs, dim, k, metric, None))?,
        None => detach_inline(py, || core_serial(bs, qs, dim, k, metric, None))?,
    };
    for id in r.ids.iter_mut().filter(|id| **id >= 0) {
        *id = i64::from(ids[*id as usize]);
    }
    Ok(r)
}

/// Exact top `k` of one query (a row) over the rows listed in `rows` (int64, strictly
/// increasing, rows of `data`), scanned in `block` when given (a C-contiguous copy of
/// exactly those rows, in that order, or a `QuantizedFlat` of them): (ids (1, min(k, rows)), scores), as `flat_topk_rows`.
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

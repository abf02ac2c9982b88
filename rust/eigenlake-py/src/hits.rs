//! One query's page of hits as the Python answer holds them (`Hnsw.page`): the
//! `{"uuid", "metadata", "distance"}` dicts built from the kernel's (row, score) pairs, the
//! ids' bytes (`uuids`, 16 a row: the uuid text is made here, for the hits only) and the
//! rows' property texts (`PropTexts`: each hit's dict is parsed here), in one pass, so a query does not
//! go through NumPy arrays, `tolist` and a Python loop per hit. The rules are the Python
//! path's (`eigenlake/embedded/search.py`, `_hits` and `_own`): the answer must be equal.

use pyo3::exceptions::PyIndexError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::ids::{id_at, text};
use crate::props::PropTexts;

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

/// The hits of rows `ids` (-1 padding allowed at the end) scored `scores`, nearest first
/// (ties by uuid, the cursor's order), the first `limit` of them: (hits, whether more
/// followed); each metadata dict is made here from the row's JSON text, the caller's
/// own, nothing of it shared with the cache.
pub fn page<'py>(
    py: Python<'py>,
    ids: &[i64],
    scores: &[f32],
    limit: usize,
    uuids: &[u8],
    props: &PropTexts,
    cosine: bool,
) -> PyResult<(Bound<'py, PyList>, bool)> {
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
    let mut keys = props.keys();
    for (d, row, uuid) in found {
        let meta = props.dict(py, row, &mut keys)?;
        let hit = PyDict::new(py);
        hit.set_item(k_uuid, text(py, &uuid))?;
        hit.set_item(k_meta, meta)?;
        hit.set_item(k_dist, d)?;
        hits.append(hit)?;
    }
    Ok((hits, more))
}

//! Exact (brute-force) top-k search.
//!
//! Many queries: the database is cut into chunks; each chunk is packed once and
//! multiplied with every (pre-packed) query block by the GEMM micro-kernel, and each
//! block of scores is streamed through a per-query `TopK`. Chunks run in parallel
//! (rayon fold over chunks, per-query heaps merged at the end). Few queries: one
//! kernel call per row (memory-bound GEMV). Call inside `threads::install`.
//!
//! Scores: inner product ("ip", best = largest) or squared distance ("l2", best =
//! smallest). For l2 the scan ranks by 2·q·x − ‖x‖² and the k winners are re-scored
//! with the exact `l2sq` kernel, so no cancellation error reaches the caller.

mod rows4;
mod topk;

use rayon::prelude::*;

pub use topk::TopK;

use crate::distance::{self, Metric};
use crate::gemm::{active_micro, gemm_packed, Packed};
use crate::{CoreError, Result};

/// Queries per packed block.
const QB: usize = 128;
/// Database rows per chunk (a multiple of every micro-kernel's NR).
const CHUNK: usize = 1024;
/// Below this many queries the GEMV path is used.
pub const GEMV_MAX_QUERIES: usize = 4;
/// Rows per piece of a parallel GEMV: fewer than twice this are scanned by one worker
/// anyway (so a caller may as well scan them on its own thread: `flat_topk_rows`).
pub const GEMV_MIN_ROWS: usize = 4096;

/// Row-major ids `(nq × k)`, -1 where fewer than k rows pass, and their scores. `k` is
/// the answer's width: the caller's k clamped to the rows that exist.
pub struct TopKResult {
    pub k: usize,
    pub ids: Vec<i64>,
    pub scores: Vec<f32>,
}

/// Check shapes and return `(n, nq)`.
pub fn check_shapes(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    mask: Option<&[bool]>,
) -> Result<(usize, usize)> {
    if dim == 0 {
        return Err(CoreError::invalid("dim", "must be positive"));
    }
    if !data.len().is_multiple_of(dim) || !queries.len().is_multiple_of(dim) {
        return Err(CoreError::invalid(
            "data",
            "length is not a multiple of dim",
        ));
    }
    let n = data.len() / dim;
    if let Some(m) = mask {
        if m.len() != n {
            return Err(CoreError::DimensionMismatch {
                expected: n,
                got: m.len(),
            });
        }
    }
    Ok((n, queries.len() / dim))
}

/// Reject a `k` whose (nq × k) answer could not be addressed. Callers clamp k to the rows
/// first, so this only trips on absurd query counts.
pub fn check_k(nq: usize, k: usize) -> Result<()> {
    match nq.checked_mul(k) {
        Some(t) if t <= isize::MAX as usize / 8 => Ok(()),
        _ => Err(CoreError::invalid(
            "k",
            format!("{k} is too large for {nq} queries"),
        )),
    }
}

/// `len` copies of `v`, or an error instead of the abort a failed allocation would be.
pub(crate) fn try_filled<T: Clone>(len: usize, v: T) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(len).map_err(|_| {
        CoreError::invalid(
            "k",
            format!("the answer ({len} entries) does not fit in memory"),
        )
    })?;
    out.resize(len, v);
    Ok(out)
}

pub fn flat_topk(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    mask: Option<&[bool]>,
) -> Result<TopKResult> {
    masked_topk(data, queries, dim, k, metric, mask, true)
}

/// `flat_topk` on the calling thread (no pool: for a few queries over fewer rows than
/// the pool would split, `GEMV_MIN_ROWS`); the same answer.
pub fn flat_topk_serial(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    mask: Option<&[bool]>,
) -> Result<TopKResult> {
    masked_topk(data, queries, dim, k, metric, mask, false)
}

fn masked_topk(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    mask: Option<&[bool]>,
    parallel: bool,
) -> Result<TopKResult> {
    let (n, nq) = check_shapes(data, queries, dim, mask)?;
    // Rows that may be returned: all, or the mask's (so a selective mask costs little).
    let allowed: Option<Vec<u32>> =
        mask.map(|m| (0..n as u32).filter(|&i| m[i as usize]).collect());
    topk_over(
        data,
        queries,
        dim,
        n,
        nq,
        k,
        metric,
        allowed.as_deref(),
        parallel,
    )
}

/// `flat_topk` over the rows listed in `rows` (each `< n`, strictly increasing): the
/// answer is the same as with a mask keeping exactly those rows. (Listed in another
/// order, rows tied at the k-th score would be kept first-come rather than by id.)
/// `parallel` false runs the scan on the calling thread (no pool hand-off: for scans too
/// short to repay it), else as `flat_topk` does.
pub fn flat_topk_rows(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    rows: &[u32],
    parallel: bool,
) -> Result<TopKResult> {
    let (n, nq) = check_shapes(data, queries, dim, None)?;
    if let Some(&bad) = rows.iter().find(|&&r| r as usize >= n) {
        return Err(CoreError::invalid(
            "rows",
            format!("row {bad} is out of range for {n} rows"),
        ));
    }
    topk_over(data, queries, dim, n, nq, k, metric, Some(rows), parallel)
}

/// The scan of `flat_topk` over `allowed` rows (None: all `n`), ascending: of rows tied
/// at the k-th key the first scanned (smaller id) is kept, by one thread or split.
#[allow(clippy::too_many_arguments)]
fn topk_over(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    n: usize,
    nq: usize,
    k: usize,
    metric: Metric,
    allowed: Option<&[u32]>,
    parallel: bool,
) -> Result<TopKResult> {
    // The answer is never wider than the rows, so no allocation follows the caller's k.
    let width = k.min(n);
    check_k(nq, width)?;
    let rows = allowed.map_or(n, |a| a.len());
    // the heaps hold no more than the rows that may be returned; the rest is padding
    let k = width.min(rows);
    let row_id = |j: usize| allowed.map_or(j, |a| a[j] as usize);
    let row = |j: usize| {
        let r = row_id(j);
        &data[r * dim..(r + 1) * dim]
    };
    let heaps = if parallel && nq >= GEMV_MAX_QUERIES {
        batched(queries, dim, nq, rows, k, metric, &row, &row_id)
    } else {
        (0..nq)
            .map(|q| {
                let q = &queries[q * dim..(q + 1) * dim];
                if parallel {
                    gemv(q, rows, k, metric, &row, &row_id)
                } else {
                    gemv_inline(q, rows, k, metric, &row, &row_id)
                }
            })
            .collect()
    };
    finish(heaps, queries, dim, width, metric, data)
}

pub(crate) fn gemv<'a>(
    q: &[f32],
    rows: usize,
    k: usize,
    metric: Metric,
    row: &(impl Fn(usize) -> &'a [f32] + Sync),
    row_id: &(impl Fn(usize) -> usize + Sync),
) -> TopK {
    (0..rows)
        .into_par_iter()
        .with_min_len(GEMV_MIN_ROWS)
        .fold(
            || TopK::new(k),
            |mut t, j| {
                let x = row(j);
                let key = match metric {
                    Metric::InnerProduct => distance::dot(q, x),
                    Metric::L2 => -distance::l2sq(q, x),
                };
                t.push(key, row_id(j) as i64);
                t
            },
        )
        .reduce(|| TopK::new(k), merge)
}

/// `gemv` on the calling thread, rows in order.
pub(crate) fn gemv_inline<'a>(
    q: &[f32],
    rows: usize,
    k: usize,
    metric: Metric,
    row: &impl Fn(usize) -> &'a [f32],
    row_id: &impl Fn(usize) -> usize,
) -> TopK {
    let mut t = TopK::new(k);
    scan_into(&mut t, q, 0..rows, metric, row, row_id);
    t
}

/// Push the keys of rows `span` (scanned as `row(j)`, pushed as `row_id(j)`) into `t`, in
/// order; inner products four rows at a time (`rows4::dot4`: the same scores as `dot`).
fn scan_into<'a>(
    t: &mut TopK,
    q: &[f32],
    span: std::ops::Range<usize>,
    metric: Metric,
    row: &impl Fn(usize) -> &'a [f32],
    row_id: &impl Fn(usize) -> usize,
) {
    let mut j = span.start;
    if metric == Metric::InnerProduct {
        while j + 4 <= span.end {
            let keys = rows4::dot4(q, [row(j), row(j + 1), row(j + 2), row(j + 3)]);
            for (o, key) in keys.into_iter().enumerate() {
                t.push(key, row_id(j + o) as i64);
            }
            j += 4;
        }
    }
    for j in j..span.end {
        let x = row(j);
        let key = match metric {
            Metric::InnerProduct => distance::dot(q, x),
            Metric::L2 => -distance::l2sq(q, x),
        };
        t.push(key, row_id(j) as i64);
    }
}

fn merge(mut a: TopK, b: TopK) -> TopK {
    a.merge(b);
    a
}

#[allow(clippy::too_many_arguments)]
fn batched<'a>(
    queries: &[f32],
    dim: usize,
    nq: usize,
    rows: usize,
    k: usize,
    metric: Metric,
    row: &(impl Fn(usize) -> &'a [f32] + Sync),
    row_id: &(impl Fn(usize) -> usize + Sync),
) -> Vec<TopK> {
    let m = active_micro();
    let qblocks: Vec<Packed> = (0..nq)
        .step_by(QB)
        .map(|q0| Packed::new(&queries[q0 * dim..(q0 + QB).min(nq) * dim], dim, m.mr))
        .collect();
    // Row stride of the score block, padded off a power of two (cache-set aliasing).
    let ldc = CHUNK + 16;
    let fresh = || State {
        heaps: vec![TopK::new(k); nq],
        pb: Packed::gather(0, dim, m.nr, |_| &[]),
        out: vec![0.0f32; QB * ldc],
        ids: Vec::with_capacity(CHUNK),
        norms: Vec::with_capacity(CHUNK),
    };
    (0..rows.div_ceil(CHUNK))
        .into_par_iter()
        .fold(fresh, |mut st, c| {
            let j0 = c * CHUNK;
            let len = CHUNK.min(rows - j0);
            st.pb.repack(len, dim, |j| row(j0 + j));
            st.norms.clear();
            if metric == Metric::L2 {
                st.norms
                    .extend((0..len).map(|j| distance::norm_sq(row(j0 + j))));
            }
            st.ids.clear();
            st.ids.extend((0..len).map(|j| row_id(j0 + j) as i64));
            for (b, pa) in qblocks.iter().enumerate() {
                gemm_packed(&m, pa, &st.pb, &mut st.out, ldc);
                for qi in 0..pa.rows() {
                    let s = &st.out[qi * ldc..qi * ldc + len];
                    scan(&mut st.heaps[b * QB + qi], s, &st.ids, &st.norms, metric);
                }
            }
            st
        })
        .map(|st| st.heaps)
        .reduce(
            || vec![TopK::new(k); nq],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| x.merge(y));
                a
            },
        )
}

/// Per-worker scratch of the batched scan.
struct State {
    heaps: Vec<TopK>,
    pb: Packed,
    out: Vec<f32>,
    ids: Vec<i64>,
    norms: Vec<f32>,
}

#[inline]
fn scan(t: &mut TopK, s: &[f32], ids: &[i64], norms: &[f32], metric: Metric) {
    match metric {
        Metric::InnerProduct => {
            // Most blocks hold no candidate once the heap has filled: test 16 scores with
            // a branch-free (vectorised) reduction, and only walk the rare hits.
            for (sb, ib) in s.chunks(16).zip(ids.chunks(16)) {
                let thr = t.threshold;
                if sb.iter().fold(false, |hit, &v| hit | (v > thr)) {
                    for (&v, &id) in sb.iter().zip(ib) {
                        t.push(v, id);
                    }
                }
            }
        }
        Metric::L2 => {
            for ((&v, &id), &nx) in s.iter().zip(ids).zip(norms) {
                t.push(2.0 * v - nx, id);
            }
        }
    }
}

/// The answer, `k` (the width, ≥ every heap's size) entries per query.
fn finish(
    heaps: Vec<TopK>,
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    data: &[f32],
) -> Result<TopKResult> {
    let nq = heaps.len();
    let mut ids = try_filled(nq * k, -1i64)?;
    // Padding sorts last: -inf for ip, +inf for l2.
    let pad = if metric == Metric::L2 {
        f32::INFINITY
    } else {
        f32::NEG_INFINITY
    };
    let mut scores = try_filled(nq * k, pad)?;
    for (q, h) in heaps.into_iter().enumerate() {
        let qv = &queries[q * dim..(q + 1) * dim];
        let mut best = h.into_sorted();
        // The winners' scores from the one-query kernels, whichever path picked them: a
        // batch then scores each row exactly as that row's query alone does (GEMM sums in
        // another order), and L2 gets its exact distance rather than the expanded form.
        for c in best.iter_mut() {
            let x = &data[c.1 as usize * dim..(c.1 as usize + 1) * dim];
            c.0 = match metric {
                Metric::InnerProduct => distance::dot(qv, x),
                Metric::L2 => -distance::l2sq(qv, x),
            };
        }
        best.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (i, (key, id)) in best.into_iter().enumerate() {
            ids[q * k + i] = id;
            scores[q * k + i] = if metric == Metric::L2 { -key } else { key };
        }
    }
    Ok(TopKResult { k, ids, scores })
}

//! Batched k-NN queries, parallel over queries, with tombstones and an optional
//! mask. Deleted or masked-out nodes still route; they are only kept out of the
//! results. When the mask lets through few rows the graph walk would visit most
//! of the graph to fill k results, so the search switches to an exact scan.

use std::cell::RefCell;
use std::sync::RwLockReadGuard;

use rayon::prelude::*;

use super::codes::{self, Codes};
use super::layer::{greedy, search_layer, Cand, Scratch};
use super::pool;
use super::quant::Coded;
use super::resid::Coded8;
use super::space::{Exact, Measure, Space};
use super::{Entry, Hnsw};
use crate::flat::{check_k, flat_topk, try_filled, TopKResult};
use crate::{CoreError, Result};

/// When to answer a masked search by an exact scan of the allowed rows. A filtered
/// walk visits about ef/share nodes at memory-latency speed; the scan reads
/// share·n rows at GEMM speed. They cost the same where allowed ≈ C·sqrt(ef·n).
/// C was measured (tests/hnsw_filter_speed.rs, 50k×128, 200 queries: crossover near
/// share 0.5, so C ≈ 14) and is halved for a few queries, where the scan is a
/// memory-bound GEMV instead of a GEMM. See `benches/results/search.md`.
pub const EXACT_FALLBACK_SCALE: f64 = 12.0;

thread_local! {
    /// One walk scratch per worker thread, kept between calls: a fresh visited table per
    /// call costs page faults that rival a whole query. It holds 2 bytes a node of the
    /// largest index the thread has searched.
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Run `f` with this thread's scratch, sized for `n` nodes.
fn with_scratch<T>(n: usize, f: impl FnOnce(&mut Scratch) -> T) -> T {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let s = slot.get_or_insert_with(|| Scratch::new(n));
        f(s)
    })
}

fn use_exact(allowed: usize, n: usize, ef: usize, nq: usize, scale: f64) -> bool {
    let c = if nq >= 4 { scale } else { scale / 2.0 };
    (allowed as f64) < c * (ef as f64 * n as f64).sqrt()
}

impl Hnsw {
    pub fn search(
        &self,
        data: &[f32],
        queries: &[f32],
        k: usize,
        ef: usize,
        mask: Option<&[bool]>,
    ) -> Result<TopKResult> {
        self.search_with(data, queries, k, ef, mask, EXACT_FALLBACK_SCALE)
    }

    /// `search` with the exact-scan scale given (0 = never scan; for tuning).
    pub fn search_with(
        &self,
        data: &[f32],
        queries: &[f32],
        k: usize,
        ef: usize,
        mask: Option<&[bool]>,
        exact_scale: f64,
    ) -> Result<TopKResult> {
        let sp = self.space(data)?;
        let dim = self.cfg.dim;
        if !queries.len().is_multiple_of(dim) {
            return Err(CoreError::DimensionMismatch {
                expected: dim,
                got: queries.len(),
            });
        }
        let rows = data.len() / dim;
        if let Some(m) = mask {
            if m.len() != rows {
                return Err(CoreError::invalid(
                    "mask",
                    format!("has length {} but data has {rows} rows", m.len()),
                ));
            }
        }
        let n = self.len();
        let nq = queries.len() / dim;
        // Neither the answer nor the beam is ever wider than the graph, so no allocation
        // follows the caller's k or ef.
        let k = k.min(n);
        check_k(nq, k)?;
        let keep = |i: u32| !self.deleted[i as usize] && mask.is_none_or(|m| m[i as usize]);
        let ef = ef.max(k).clamp(1, n.max(1));
        if let Some(m) = mask {
            let allowed = (0..n).filter(|&i| m[i] && !self.deleted[i]).count();
            if use_exact(allowed, n, ef, nq, exact_scale) {
                let live: Vec<bool> = (0..n as u32).map(keep).collect();
                return flat_topk(
                    &data[..n * dim],
                    queries,
                    dim,
                    k,
                    self.cfg.metric,
                    Some(&live),
                );
            }
        }
        // every node may be returned: the walk keeps one sorted beam (`pool`)
        let open = mask.is_none() && self.tombstones == 0 && n < pool::MAX_NODES;
        let entry = self.entry();
        let codes = self.codes(data, n);
        let quant = codes.as_ref().and_then(|g| g.as_ref());
        let one = |qi: usize| {
            let Some(e) = entry else { return Vec::new() };
            let q = &queries[qi * dim..(qi + 1) * dim];
            with_scratch(n, |s| match quant {
                Some(Codes::Wide(z)) => {
                    let coded = Coded {
                        quant: z,
                        q: z.query(q),
                    };
                    // 16-bit steps are coarse on tight clusters: the whole beam is measured
                    rerank(&sp, q, walk(self, &coded, e, ef, ef, open, s, keep))
                }
                Some(Codes::Resid(z)) => {
                    let coded = Coded8 {
                        codes: z,
                        q: z.query(q),
                    };
                    let width = k + RERANK_SLACK;
                    rerank(&sp, q, walk(self, &coded, e, ef, width, open, s, keep))
                }
                None => walk(self, &Exact { sp: &sp, q }, e, ef, k, open, s, keep),
            })
        };
        // A lone query runs on the calling thread: handing it to the pool costs more
        // than the walk gains from nothing.
        let found: Vec<Vec<Cand>> = if nq == 1 {
            vec![one(0)]
        } else {
            (0..nq).into_par_iter().map(one).collect()
        };
        let mut ids = try_filled(nq * k, -1i64)?;
        let pad = sp.score(f32::INFINITY);
        let mut scores = try_filled(nq * k, pad)?;
        for (qi, f) in found.iter().enumerate() {
            for (j, c) in f.iter().take(k).enumerate() {
                ids[qi * k + j] = c.1 as i64;
                scores[qi * k + j] = sp.score(c.0);
            }
        }
        Ok(TopKResult { k, ids, scores })
    }

    /// The codes of rows `0..n` for the walk (made now after loading a file without them,
    /// or when `add` saw fewer rows), or None when queries walk the float rows.
    fn codes(&self, data: &[f32], n: usize) -> Option<RwLockReadGuard<'_, Option<Codes>>> {
        if n == 0 {
            return None;
        }
        let kind = self.walk_codes.pick(n, self.cfg.dim)?;
        let fresh = |g: &Option<Codes>| g.as_ref().is_some_and(|z| z.fresh(kind, n));
        let read = self.quant.read().unwrap_or_else(|e| e.into_inner());
        if fresh(&read) {
            return Some(read);
        }
        drop(read);
        {
            let mut w = self.quant.write().unwrap_or_else(|e| e.into_inner());
            if !fresh(&w) {
                if w.as_ref().is_some_and(|z| z.rows() > n) {
                    *w = None; // codes of more rows than the graph: not this graph's
                }
                codes::update(&mut w, kind, data, self.cfg.dim, n, self.cfg.metric);
            }
        }
        Some(self.quant.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Nodes past the `k` asked for that are measured again on the float rows after a walk
/// over residual codes: their order is off only among near ties (errors ~1e-5 on unit
/// rows), so the true k nearest are among the first k + this of the ef kept. Measured
/// (tests/hnsw_walk_speed.rs, 5k/20k rows): recall@10 the same with 16, 26 or all 64
/// measured; through `_core` (bench_query_vs_hnswlib's data, k = 11 as a first page of 10
/// asks, 1,000 queries, same graph) the same with slack 5, 6 or 8 and one hit fewer with
/// 4. Each float row measured costs ~0.2 µs (read from L3): 6 instead of 8 saved ~0.45 µs
/// a query at 5k and 20k rows.
pub const RERANK_SLACK: usize = 6;

/// The route measured codes: measure the kept nodes `found` (the walk's best few)
/// exactly and rank them.
fn rerank(sp: &Space, q: &[f32], mut found: Vec<Cand>) -> Vec<Cand> {
    // all rows asked for first: they are read from L3 or memory, one after another
    found.iter().for_each(|c| sp.prefetch(c.1));
    for j in 0..found.len() {
        if let Some(next) = found.get(j + 1) {
            sp.prefetch_rest(next.1);
        }
        found[j].0 = sp.dist(q, found[j].1);
    }
    found.sort_unstable();
    found
}

/// Descend the upper layers greedily from `e`, then search layer 0 with a beam of `ef`:
/// its nearest `width`, nearest first. `open`: every node passes `keep` (no mask, no
/// tombstones), so layer 0 takes the sorted beam of `pool`, two candidates at a time.
#[allow(clippy::too_many_arguments)]
fn walk(
    h: &Hnsw,
    m: &impl Measure,
    e: Entry,
    ef: usize,
    width: usize,
    open: bool,
    s: &mut Scratch,
    keep: impl Fn(u32) -> bool,
) -> Vec<Cand> {
    let mut cur = Cand(m.dist(e.node), e.node);
    for layer in (1..=e.level).rev() {
        cur = greedy(&h.graph, m, cur, layer, s);
    }
    if open {
        return pool::search(&h.graph, m, cur, ef, width, true, s);
    }
    search_layer(&h.graph, m, &[cur], ef, width, 0, s, keep)
}

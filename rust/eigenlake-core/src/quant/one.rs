//! One query on the calling thread (filtered search through the API): the coded scan of
//! `search` without its per-batch machinery (query blocks, worker states, answer lists),
//! in scratch buffers kept per thread, with two cuts that keep the answer exact:
//!
//! - the k-th best lower bound (the filter's threshold) is kept exactly in a k-heap from
//!   the first k rows on, so the filter tightens at once rather than every 2k pushes;
//! - candidates are re-scored best upper bound first, and the re-rank stops at the first
//!   candidate whose upper bound is below the k-th best exact key found: that row and
//!   every one after it has k rows strictly better (ties may still win by id, so a row
//!   whose upper bound equals that key is still scored).

use std::cell::RefCell;

use super::encode::QueryCode;
use super::kernels::{self, MR, NR};
use super::QuantFlat;
use crate::distance::{self, Metric};

/// Buffers reused by every single-query search of a thread.
#[derive(Default)]
struct Scratch {
    qc: QueryCode,
    qi8: Vec<i8>,
    qu8: Vec<u8>,
    /// min-heap of the best k lower bounds (or exact keys in the re-rank)
    heap: Vec<f32>,
    cands: Vec<(f32, u32)>,
    best: Vec<(f32, i64)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Keep the `k` largest keys pushed into the min-heap `h`; returns the k-th largest once
/// there are k (else -inf). Keys that are not > -inf (incl. NaN) never enter.
#[inline(always)]
/// Re-score `cands` ((upper bound, code row), best upper bound first) on the f32 rows
/// (`row`), pushing every finite key into `best` as (key, `data_row`), until the next
/// candidate's upper bound is below the k-th best key found: every later row has k rows
/// strictly better (an upper bound equal to it is still scored: it may win a tie on a
/// smaller id). `heap` (empty) keeps the k best keys. Returns how many were scored.
#[allow(clippy::too_many_arguments)]
pub(super) fn rescore<'a>(
    cands: &[(f32, u32)],
    k: usize,
    q: &[f32],
    l2: bool,
    row: impl Fn(u32) -> &'a [f32],
    data_row: impl Fn(u32) -> usize,
    heap: &mut Vec<f32>,
    best: &mut Vec<(f32, i64)>,
) -> usize {
    let mut kth = f32::NEG_INFINITY;
    let mut scored = 0;
    for (i, &(hi, r)) in cands.iter().enumerate() {
        if hi < kth {
            break;
        }
        // the rows are scattered: fetch a few ahead while this one is scored
        if let Some(&(_, ahead)) = cands.get(i + PREFETCH_AHEAD) {
            distance::prefetch(row(ahead));
        }
        let x = row(r);
        let key = if l2 {
            -distance::l2sq(q, x)
        } else {
            distance::dot(q, x)
        };
        scored += 1;
        // as `TopK`: a NaN or -inf key never enters (so never a -inf score)
        if key > f32::NEG_INFINITY {
            best.push((key, data_row(r) as i64));
            kth = heap_push(heap, k, key);
        }
    }
    scored
}

/// Candidates ahead of the one being re-scored whose row is prefetched.
const PREFETCH_AHEAD: usize = 3;

pub(super) fn heap_push(h: &mut Vec<f32>, k: usize, key: f32) -> f32 {
    if h.len() == k && (key <= h[0] || key.is_nan()) {
        // the common case once the heap is full: the key does not enter
        return h[0];
    }
    heap_insert(h, k, key)
}

#[inline(never)]
fn heap_insert(h: &mut Vec<f32>, k: usize, key: f32) -> f32 {
    if h.len() < k {
        if key > f32::NEG_INFINITY {
            h.push(key);
            let mut i = h.len() - 1;
            while i > 0 {
                let p = (i - 1) / 2;
                if h[p] <= h[i] {
                    break;
                }
                h.swap(p, i);
                i = p;
            }
        }
    } else if key > h[0] {
        h[0] = key;
        let mut i = 0;
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut s = i;
            if l < k && h[l] < h[s] {
                s = l;
            }
            if r < k && h[r] < h[s] {
                s = r;
            }
            if s == i {
                break;
            }
            h.swap(s, i);
            i = s;
        }
    }
    if h.len() == k {
        h[0]
    } else {
        f32::NEG_INFINITY
    }
}

impl QuantFlat {
    /// The best `k` (1 ≤ k ≤ n) of query `q` over every code row into `ids` / `scores`
    /// (≥ k long, padded by the caller; ids through `map` as in `search_in`), best first;
    /// returns the rows re-scored, or `None` (nothing written) if the query must be
    /// searched exactly (`QueryCode::new` refuses it).
    pub(super) fn search_one(
        &self,
        data: &[f32],
        q: &[f32],
        k: usize,
        metric: Metric,
        map: Option<&[u32]>,
        (ids, scores): (&mut [i64], &mut [f32]),
    ) -> Option<usize> {
        SCRATCH.with(|cell| {
            let mut s = cell.try_borrow_mut().ok()?;
            let s = &mut *s;
            self.scan_one(data, q, k, metric, map, s, (ids, scores))
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_one(
        &self,
        data: &[f32],
        q: &[f32],
        k: usize,
        metric: Metric,
        map: Option<&[u32]>,
        s: &mut Scratch,
        (ids, scores): (&mut [i64], &mut [f32]),
    ) -> Option<usize> {
        let l2 = metric == Metric::L2;
        if !s.qc.fill(q, self.max_norm, l2) {
            return None;
        }
        let (dim, n, dp) = (self.dim, self.n, self.dp);
        let qc = &s.qc;
        // one query is a block of one: codes in order, zero-padded to dp (u8: + 128)
        s.qi8.clear();
        s.qi8.extend_from_slice(&qc.codes);
        s.qi8.resize(dp, 0);
        s.qu8.clear();
        s.qu8.extend(s.qi8.iter().map(|&c| (c as i32 + 128) as u8));
        s.heap.clear();
        s.cands.clear();
        let isa = kernels::active();
        let pb = self.panel_bytes();
        let mut dots = [0i32; MR * NR];
        let mut thr = f32::NEG_INFINITY;
        for p in 0..n.div_ceil(NR) {
            let r0 = p * NR;
            let bits = match n - r0 {
                left if left >= NR => u32::MAX,
                left => (1u32 << left) - 1,
            };
            let panel = &self.codes[p * pb..(p + 1) * pb];
            isa.dots_laid(
                1,
                dp / 4,
                &s.qi8,
                &s.qu8,
                panel,
                &self.csum[r0..r0 + NR],
                &mut dots,
            );
            let d = &dots[..NR];
            let (heap, cands) = (&mut s.heap, &mut s.cands);
            self.panel_bounds(isa, d, (bits, r0), qc, thr, l2, |row, lo, hi| {
                // thr is the k-th best lower bound of the rows so far (k rows are at
                // least that good): a row whose upper bound is below it cannot enter
                thr = heap_push(heap, k, lo);
                if hi >= thr {
                    cands.push((hi, row as u32));
                }
            });
        }
        // best upper bound first; stop once the next cannot reach the k-th exact key
        s.cands.retain(|c| c.0 >= thr);
        s.cands
            .sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let data_row = |r: u32| map.map_or(r as usize, |m| m[r as usize] as usize);
        let row = |r: u32| &data[data_row(r) * dim..(data_row(r) + 1) * dim];
        s.heap.clear();
        s.best.clear();
        let scored = rescore(&s.cands, k, q, l2, row, data_row, &mut s.heap, &mut s.best);
        s.best
            .sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        s.best.truncate(k);
        for (i, &(key, id)) in s.best.iter().enumerate() {
            ids[i] = id;
            scores[i] = if l2 { -key } else { key };
        }
        Some(scored)
    }
}

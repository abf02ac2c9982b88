//! The coded scan, the candidate merge and the f32 re-rank.

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use super::encode::{bounds, bounds_l2, QueryCode};
use super::kernels::{self, QBlock, MR, NR};
use super::QuantFlat;
use crate::distance::Metric;
use crate::flat::{check_k, check_shapes, gemv, gemv_inline, try_filled, TopK, TopKResult};
use crate::{CoreError, Result};

/// Masks allowing at most this many rows are searched exactly (codes would save little).
const FEW_ROWS: usize = 2048;
/// `search_rows`: its codes are one block (no mask to skip), so they pay from fewer rows.
const FEW_LISTED: usize = 256;
/// A query's candidate list is cut back (to rows reaching the current bound) past this.
const CAND_CAP: usize = 4096;
/// Fewer queries than this use the VNNI kernel even where AMX is on (AMX works on 32
/// queries at once; a single query is bound by reading the codes anyway).
const AMX_MIN_QUERIES: usize = 16;

/// Per-worker scan state, one entry per coded query.
struct Scan {
    lowers: Vec<TopK>,
    thr: Vec<f32>,
    cands: Vec<Vec<(f32, u32)>>,
}

impl Scan {
    fn new(nq: usize, k: usize) -> Scan {
        Scan {
            lowers: vec![TopK::new(k); nq],
            thr: vec![f32::NEG_INFINITY; nq],
            cands: vec![Vec::new(); nq],
        }
    }

    fn merge(mut self, other: Scan) -> Scan {
        for (q, (l, c)) in other.lowers.into_iter().zip(other.cands).enumerate() {
            self.lowers[q].merge(l);
            self.thr[q] = self.lowers[q].threshold;
            self.cands[q].extend(c);
            prune(&mut self.cands[q], self.thr[q], 0);
        }
        self
    }
}

/// f32 (not NaN) → u32 with the same order, so a shared bound can be raised by `fetch_max`.
fn order_key(f: f32) -> u32 {
    let b = f.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 0x8000_0000
    }
}

fn from_order_key(k: u32) -> f32 {
    if k >> 31 == 1 {
        f32::from_bits(k & 0x7fff_ffff)
    } else {
        f32::from_bits(!k)
    }
}

fn prune(c: &mut Vec<(f32, u32)>, thr: f32, cap: usize) {
    if c.len() > cap {
        c.retain(|x| x.0 >= thr);
    }
}

/// What a coded scan reads: the rows `mask` allows (code rows), `map` from code rows to
/// rows of the f32 data (None: the same), and whether it runs on the calling thread.
#[derive(Clone, Copy)]
struct Reads<'a> {
    mask: Option<&'a [bool]>,
    map: Option<&'a [u32]>,
    serial: bool,
}

/// One query's lower-bound heap and candidates (upper bound, code row) after the scan.
type Found = (TopK, Vec<(f32, u32)>);

/// Best first, equal scores by smaller id (as `TopK`).
fn better(a: &(f32, i64), b: &(f32, i64)) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

impl QuantFlat {
    /// Exact top-k of each query over `data` (the f32 rows these codes were made of),
    /// as `flat::flat_topk`. Call inside `threads::install`.
    pub fn search(
        &self,
        data: &[f32],
        queries: &[f32],
        k: usize,
        metric: Metric,
        mask: Option<&[bool]>,
    ) -> Result<TopKResult> {
        let (n, _) = check_shapes(data, queries, self.dim, mask)?;
        self.holds_rows_of(n)?;
        self.search_in(data, queries, k, metric, mask, None, false, FEW_ROWS)
    }

    /// Exact top-k of each query over rows `rows` of `data`, the codes being those of
    /// exactly these rows in this order (code row j is `data` row `rows[j]`; strictly
    /// increasing; None: every row of `data`, which then has as many rows as the codes):
    /// ids are rows of `data`, the answer `flat::flat_topk` gives with a mask keeping just
    /// these rows. A filter's rows coded once, their floats read in place or in a copy.
    /// Coded from fewer rows than `search` (`FEW_LISTED`: the codes are one block).
    /// `serial`: all on the calling thread, where one query over a few thousand rows
    /// would spend more on handing work to the pool than on the scan.
    pub fn search_rows(
        &self,
        data: &[f32],
        rows: Option<&[u32]>,
        queries: &[f32],
        k: usize,
        metric: Metric,
        serial: bool,
    ) -> Result<TopKResult> {
        let (n, _) = check_shapes(data, queries, self.dim, None)?;
        let Some(rows) = rows else {
            self.holds_rows_of(n)?;
            return self.search_in(data, queries, k, metric, None, None, serial, FEW_LISTED);
        };
        if rows.len() != self.n {
            return Err(CoreError::invalid(
                "rows",
                format!("lists {} rows but the codes hold {}", rows.len(), self.n),
            ));
        }
        let ordered = rows.windows(2).all(|w| w[0] < w[1]);
        if !ordered || rows.last().is_some_and(|&r| r as usize >= n) {
            return Err(CoreError::invalid(
                "rows",
                format!("must be strictly increasing rows of data (0..{n})"),
            ));
        }
        self.search_in(
            data,
            queries,
            k,
            metric,
            None,
            Some(rows),
            serial,
            FEW_LISTED,
        )
    }

    /// `data` of `n` rows is the matrix these codes were made of (as many rows).
    fn holds_rows_of(&self, n: usize) -> Result<()> {
        if n != self.n {
            return Err(CoreError::invalid(
                "data",
                format!("has {n} rows but the codes hold {}", self.n),
            ));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn search_in(
        &self,
        data: &[f32],
        queries: &[f32],
        k: usize,
        metric: Metric,
        mask: Option<&[bool]>,
        map: Option<&[u32]>,
        serial: bool,
        few: usize,
    ) -> Result<TopKResult> {
        let dim = self.dim;
        let (n, nq) = (self.n, queries.len() / dim);
        let width = k.min(n);
        check_k(nq, width)?;
        let allowed_rows: Option<Vec<u32>> =
            mask.map(|m| (0..n as u32).filter(|&i| m[i as usize]).collect());
        let rows = allowed_rows.as_ref().map_or(n, |a| a.len());
        let kk = width.min(rows);
        let pad = if metric == Metric::L2 {
            f32::INFINITY
        } else {
            f32::NEG_INFINITY
        };
        let mut ids = try_filled(nq * width, -1i64)?;
        let mut scores = try_filled(nq * width, pad)?;
        let query = |q: usize| &queries[q * dim..(q + 1) * dim];
        // coded where it pays and the bound applies; the rest exactly
        let l2 = metric == Metric::L2;
        if serial && nq == 1 && mask.is_none() && kk > 0 && rows > few {
            let out = (&mut ids[..], &mut scores[..]);
            if let Some(scored) = self.search_one(data, queries, kk, metric, map, out) {
                self.last_candidates.store(scored, Ordering::Relaxed);
                return Ok(TopKResult {
                    k: width,
                    ids,
                    scores,
                });
            }
        }
        let code = |q: usize| QueryCode::new(query(q), self.max_norm, l2);
        let coded: Vec<Option<QueryCode>> = if kk > 0 && rows > few {
            if serial {
                (0..nq).map(code).collect()
            } else {
                (0..nq).into_par_iter().map(code).collect()
            }
        } else {
            vec![None; nq]
        };
        let exact: Vec<usize> = (0..nq).filter(|&q| coded[q].is_none()).collect();
        let fast: Vec<usize> = (0..nq).filter(|&q| coded[q].is_some()).collect();
        let mut answers: Vec<(usize, Vec<(f32, i64)>)> = Vec::with_capacity(nq);
        if kk > 0 && !exact.is_empty() {
            let row_id = |j: usize| {
                let r = allowed_rows.as_ref().map_or(j, |a| a[j] as usize);
                map.map_or(r, |m| m[r] as usize)
            };
            let row = |j: usize| {
                let r = row_id(j);
                &data[r * dim..(r + 1) * dim]
            };
            for &q in &exact {
                let best = if serial {
                    gemv_inline(query(q), rows, kk, metric, &row, &row_id)
                } else {
                    gemv(query(q), rows, kk, metric, &row, &row_id)
                };
                let best = best.into_sorted();
                answers.push((q, best));
            }
        }
        let mut reranked = 0;
        if !fast.is_empty() {
            let qcs: Vec<&QueryCode> = fast.iter().map(|&q| coded[q].as_ref().unwrap()).collect();
            let how = Reads { mask, map, serial };
            let (best, cands) = self.coded(data, queries, &fast, &qcs, kk, metric, how);
            reranked = cands;
            answers.extend(fast.iter().copied().zip(best));
        }
        self.last_candidates.store(reranked, Ordering::Relaxed);
        for (q, best) in answers {
            for (i, (key, id)) in best.into_iter().enumerate() {
                ids[q * width + i] = id;
                scores[q * width + i] = if metric == Metric::L2 { -key } else { key };
            }
        }
        Ok(TopKResult {
            k: width,
            ids,
            scores,
        })
    }

    /// One query against one panel: the rows whose upper bound reaches the best known
    /// k-th lower bound enter the query's lower-bound heap and candidate list.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn visit(
        &self,
        st: &mut Scan,
        qi: usize,
        shared: &AtomicU32,
        qc: &QueryCode,
        d: &[i32],
        (bits, r0): (u32, usize),
        isa: kernels::QIsa,
        l2: bool,
    ) {
        let thr = st.thr[qi].max(from_order_key(shared.load(Ordering::Relaxed)));
        let any = self.panel_bounds(isa, d, (bits, r0), qc, thr, l2, |row, lo, hi| {
            st.lowers[qi].push(lo, row as i64);
            st.cands[qi].push((hi, row as u32));
        });
        if !any {
            return;
        }
        st.thr[qi] = st.lowers[qi].threshold;
        if st.thr[qi] > thr {
            shared.fetch_max(order_key(st.thr[qi]), Ordering::Relaxed);
        }
        prune(&mut st.cands[qi], thr.max(st.thr[qi]), CAND_CAP);
    }

    /// The rows of the panel starting at row `r0` that `bits` allows and whose upper
    /// bound, from their integer products `d` with query `qc`, reaches `thr`: `f(row,
    /// lower, upper)` for each, in row order (the vector filter, then the exact bounds
    /// of the rows it lets through: the same numbers, `encode::bounds`). Whether any was.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn panel_bounds(
        &self,
        isa: kernels::QIsa,
        d: &[i32],
        (bits, r0): (u32, usize),
        qc: &QueryCode,
        thr: f32,
        l2: bool,
        mut f: impl FnMut(usize, f32, f32),
    ) -> bool {
        let (sc, al, be) = (
            &self.scale[r0..r0 + NR],
            &self.alpha[r0..r0 + NR],
            &self.beta[r0..r0 + NR],
        );
        let mut hits = if l2 {
            isa.filter_l2(d, sc, al, be, &self.sq[r0..r0 + NR], qc, self.gl2, thr)
        } else {
            isa.filter(d, sc, al, be, qc.t, qc.ca, qc.cb, thr)
        } & bits;
        let any = hits != 0;
        while hits != 0 {
            let r = hits.trailing_zeros() as usize;
            hits &= hits - 1;
            let m = self.meta(r0 + r);
            let (lo, hi) = if l2 {
                bounds_l2(d[r], &m, qc, self.gl2)
            } else {
                bounds(d[r], &m, qc)
            };
            f(r0 + r, lo, hi);
        }
        any
    }

    /// The coded scan of queries `fast` (codes `qcs`) and their re-rank: the best ≤ k
    /// (key, id) of each, best first, and the number of rows re-scored.
    #[allow(clippy::too_many_arguments)]
    fn coded(
        &self,
        data: &[f32],
        queries: &[f32],
        fast: &[usize],
        qcs: &[&QueryCode],
        k: usize,
        metric: Metric,
        how: Reads,
    ) -> (Vec<Vec<(f32, i64)>>, usize) {
        let Reads { mask, map, serial } = how;
        let l2 = metric == Metric::L2;
        let (dim, n) = (self.dim, self.n);
        let isa = kernels::active();
        let blocks: Vec<QBlock> = qcs
            .chunks(MR)
            .map(|c| {
                let codes: Vec<&[i8]> = c.iter().map(|q| q.codes.as_slice()).collect();
                QBlock::new(&codes, self.dp)
            })
            .collect();
        let panels = n.div_ceil(NR);
        // rows each panel may return (bit r = row 32p + r)
        let allowed: Vec<u32> = match mask {
            // every row: whole panels, the last one cut at n
            None => (0..panels)
                .map(|p| match n - p * NR {
                    left if left >= NR => u32::MAX,
                    left => (1u32 << left) - 1,
                })
                .collect(),
            Some(m) => (0..panels)
                .map(|p| {
                    let part = &m[p * NR..((p + 1) * NR).min(n)];
                    part.iter()
                        .enumerate()
                        .fold(0u32, |b, (r, &ok)| b | ((ok as u32) << r))
                })
                .collect(),
        };
        let pb = self.panel_bytes();
        let nf = fast.len();
        // a few contiguous ranges of panels per worker: each worker state holds a heap
        // per query, so states are few and panels run in order inside one
        let pieces = if serial {
            1
        } else {
            (rayon::current_num_threads() * 4).clamp(1, panels.max(1))
        };
        let per = panels.div_ceil(pieces);
        // The best k-th lower bound any worker has seen, per query: k rows of one worker
        // reach it, so every worker may skip rows whose upper bound is below it (without
        // sharing, each worker's own bound rose slowly and let ~pieces× the rows through).
        let shared: Vec<AtomicU32> = (0..nf)
            .map(|_| AtomicU32::new(order_key(f32::NEG_INFINITY)))
            .collect();
        // AMX: every query against a whole panel in one call (row-major codes + 128,
        // padded to 32 queries); else blocks of MR through the panel kernel
        let amx = self.dp.is_multiple_of(64) && nf >= AMX_MIN_QUERIES && kernels::amx_enabled();
        let nqp = nf.next_multiple_of(32);
        let qall: Vec<u8> = if amx {
            let mut v = vec![128u8; nqp * self.dp];
            for (qi, qc) in qcs.iter().enumerate() {
                for (j, &c) in qc.codes.iter().enumerate() {
                    v[qi * self.dp + j] = (c as i32 + 128) as u8;
                }
            }
            v
        } else {
            Vec::new()
        };
        let scan_piece = |piece: usize| {
            let mut st = Scan::new(nf, k);
            let mut dots = [0i32; MR * NR];
            let mut all = vec![0i32; if amx { nqp * NR } else { 0 }];
            let (p0, p1) = (piece * per, ((piece + 1) * per).min(panels));
            for (p, &bits) in allowed.iter().enumerate().take(p1).skip(p0) {
                if bits == 0 {
                    continue;
                }
                let panel = &self.codes[p * pb..(p + 1) * pb];
                let r0 = p * NR;
                let csum = &self.csum[r0..r0 + NR];
                let visit = |st: &mut Scan, qi: usize, d: &[i32]| {
                    self.visit(st, qi, &shared[qi], qcs[qi], d, (bits, r0), isa, l2);
                };
                if amx {
                    // SAFETY: amx_enabled checked the CPU and the OS grant; dp is a
                    // multiple of 64; `qall` holds nqp·dp codes and `all` nqp·32
                    unsafe {
                        super::amx::dots_all(
                            panel.as_ptr(),
                            qall.as_ptr(),
                            nqp,
                            self.dp,
                            all.as_mut_ptr(),
                        )
                    };
                    for qi in 0..nf {
                        let d = &mut all[qi * NR..(qi + 1) * NR];
                        d.iter_mut().zip(csum).for_each(|(v, c)| *v -= c << 7);
                        visit(&mut st, qi, d);
                    }
                    continue;
                }
                for (b, blk) in blocks.iter().enumerate() {
                    isa.dots(blk, panel, csum, &mut dots);
                    for i in 0..blk.m {
                        visit(&mut st, b * MR + i, &dots[i * NR..(i + 1) * NR]);
                    }
                }
            }
            st
        };
        let scan = if serial {
            scan_piece(0)
        } else {
            (0..pieces)
                .into_par_iter()
                .map(scan_piece)
                .reduce(|| Scan::new(nf, k), Scan::merge)
        };
        let Scan { lowers, cands, .. } = scan;
        let data_row = |r: u32| map.map_or(r as usize, |m| m[r as usize] as usize);
        let rerank = |((l, mut c), &q): (Found, &usize)| {
            let l = l.into_sorted();
            // the k-th best lower bound over all rows: a row whose upper bound is
            // below it has k rows strictly better than it
            let floor = if l.len() == k {
                l[k - 1].0
            } else {
                f32::NEG_INFINITY
            };
            c.retain(|x| x.0 >= floor);
            // best upper bound first, stopping where the next cannot reach the k-th exact
            // key found (as `one`: every row from there on has k rows strictly better)
            c.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let qv = &queries[q * dim..(q + 1) * dim];
            let row = |r: u32| &data[data_row(r) * dim..(data_row(r) + 1) * dim];
            let mut heap = Vec::with_capacity(k);
            let mut best: Vec<(f32, i64)> = Vec::with_capacity(k + 8);
            let scored = super::one::rescore(&c, k, qv, l2, row, data_row, &mut heap, &mut best);
            best.sort_unstable_by(better);
            best.truncate(k);
            (best, scored)
        };
        let out: Vec<(Vec<(f32, i64)>, usize)> = if serial {
            lowers
                .into_iter()
                .zip(cands)
                .zip(fast)
                .map(rerank)
                .collect()
        } else {
            lowers
                .into_par_iter()
                .zip(cands)
                .zip(fast.par_iter())
                .map(rerank)
                .collect()
        };
        let total = out.iter().map(|o| o.1).sum();
        (out.into_iter().map(|o| o.0).collect(), total)
    }
}

#[cfg(test)]
mod tests {
    use super::{from_order_key, order_key};

    #[test]
    fn order_keys_keep_the_order() {
        let v = [
            f32::NEG_INFINITY,
            -1e30,
            -1.0,
            -1e-40,
            -0.0,
            0.0,
            1e-40,
            2.0,
            1e30,
            f32::INFINITY,
        ];
        for w in v.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{} {}", w[0], w[1]);
        }
        for x in v {
            assert_eq!(from_order_key(order_key(x)).to_bits(), x.to_bits());
        }
    }
}

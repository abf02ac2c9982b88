//! k nearest neighbours (self excluded) and the k-distance curve. Each row keeps a bounded
//! top-k while distance tiles stream past; groups of the layout that cannot hold a row
//! nearer than its current k-th neighbour are skipped (own group first, then by centre
//! distance, so the bound tightens early).

use std::ops::Range;

use rayon::prelude::*;

use super::kdtree::{knn_tree, Measure};
use super::layout::{margin, to_euclid, Layout};
use super::points::{check_matrix, Metric, Points, COL_BLOCK, ROW_BLOCK};
use super::screen::{group_bounds, visit_tile, Scratch, Screen};
use crate::error::{CoreError, Result};

/// Spare candidates kept per row for the exact euclidean re-ranking.
const EXTRA: usize = 4;

/// Neighbour ids (original rows) and distances, `k` per row, nearest first.
pub struct Knn {
    pub k: usize,
    pub ids: Vec<u32>,
    pub dist: Vec<f32>,
}

#[derive(Clone)]
struct TopK {
    k: usize,
    d: Vec<f32>,
    i: Vec<u32>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            d: Vec::with_capacity(k + 1),
            i: Vec::with_capacity(k + 1),
        }
    }

    #[inline]
    fn worst(&self) -> f32 {
        if self.d.len() < self.k {
            f32::INFINITY
        } else {
            self.d[self.k - 1]
        }
    }

    /// Keep the k smallest; among equal distances the first pushed stays ahead.
    #[inline]
    fn push(&mut self, d: f32, i: u32) {
        if d >= self.worst() {
            return;
        }
        let pos = self.d.partition_point(|&x| x <= d);
        self.d.insert(pos, d);
        self.i.insert(pos, i);
        self.d.truncate(self.k);
        self.i.truncate(self.k);
    }
}

/// Work items: blocks of at most `ROW_BLOCK` rows that never straddle two groups.
pub(crate) fn items(lay: &Layout) -> Vec<Range<usize>> {
    lay.groups
        .iter()
        .flat_map(|g| {
            let s = g.start;
            (0..g.len().div_ceil(ROW_BLOCK))
                .map(move |b| s + b * ROW_BLOCK..(s + (b + 1) * ROW_BLOCK).min(s + g.len()))
        })
        .collect()
}

/// Candidate groups for the item starting at `p`: its own, then by centre distance.
pub(crate) fn group_order(lay: &Layout, p: usize) -> Vec<usize> {
    let g = lay.group_of(p);
    let gaps: Vec<f32> = (0..lay.n_groups()).map(|b| lay.centre_gap(g, b)).collect();
    let mut order: Vec<usize> = (0..lay.n_groups())
        .filter(|&b| b != g && !lay.groups[b].is_empty())
        .collect();
    order.sort_by(|&a, &b| gaps[a].total_cmp(&gaps[b]));
    order.insert(0, g);
    order
}

/// Error bound of a fast distance, as a euclidean length (for the pruning tests).
pub(crate) fn row_slack(lay: &Layout, p: usize, max_sq: f32) -> f32 {
    let rel = 8.0 * f32::EPSILON * (lay.pts.dim as f32).sqrt();
    match lay.pts.metric {
        Metric::Cosine => (2.0 * rel).sqrt(),
        Metric::Euclidean => (rel * (lay.pts.sq[p] + max_sq)).sqrt(),
    }
}

pub fn knn(x: &[f32], dim: usize, k: usize, metric: Metric) -> Result<Knn> {
    let n = check_matrix(x, dim)?;
    if k == 0 || k >= n {
        return Err(CoreError::invalid(
            "k",
            format!("must be in 1..={} (n - 1, self excluded), got {k}", n - 1),
        ));
    }
    knn_rows(x, dim, k, metric, Measure::Exact)
}

/// At or below this many features the k-d tree answers kNN. Measured (single thread,
/// n = 5000, k = 20, kNN CPU time tree vs blocked): gaussian d = 8/16/32/64: 0.022/0.049/
/// 0.083/0.142 s vs 0.184/0.207/0.207/0.245 s; 10 blobs: 0.009/0.012/0.017/0.029 s vs
/// 0.043/0.044/0.048/0.054 s. The blocked GEMM search stays for embeddings (hundreds of
/// features), where it was built and benchmarked.
pub(crate) const TREE_MAX_DIM: usize = 64;

/// kNN of rows (checked by `check_matrix`): the k-d tree for few features (measuring as
/// `measure` says), else the blocked search.
pub(crate) fn knn_rows(
    x: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    measure: Measure,
) -> Result<Knn> {
    if dim <= TREE_MAX_DIM {
        // euclidean rows go to the tree as they are (it only takes differences)
        if metric == Metric::Euclidean {
            let (ids, dist) = knn_tree(x, dim, k, metric, measure);
            return Ok(Knn { k, ids, dist });
        }
        let pts = Points::new(x, dim, metric)?;
        // a zero row has cosine distance 1 to every row, which no euclidean view keeps
        if pts.sq.iter().all(|&s| s > 0.5) {
            let (ids, dist) = knn_tree(&pts.data, dim, k, metric, measure);
            return Ok(Knn { k, ids, dist });
        }
    }
    let lay = Layout::new(x, dim, metric)?;
    Ok(knn_layout(&lay, k))
}

/// Distance from each row to its k-th nearest row, the row itself counted as the first.
pub fn kdist(x: &[f32], dim: usize, k: usize, metric: Metric) -> Result<Vec<f32>> {
    let n = check_matrix(x, dim)?;
    if k == 0 || k > n {
        return Err(CoreError::invalid(
            "k",
            format!("must be in 1..={n}, got {k}"),
        ));
    }
    if k == 1 {
        return Ok(vec![0.0; n]);
    }
    let r = knn(x, dim, k - 1, metric)?;
    Ok(r.dist.chunks(k - 1).map(|d| d[k - 2]).collect())
}

pub(crate) fn knn_layout(lay: &Layout, k: usize) -> Knn {
    let pts = &lay.pts;
    let (n, m) = (pts.n, lay.n_groups());
    let max_sq = pts.sq.iter().copied().fold(0f32, f32::max);
    let screen = Screen::new(lay);
    // euclidean selects on f32 expansions: keep spares so the exact re-ranking can swap in
    // a row whose true distance is a hair nearer than the last one chosen
    let keep = match pts.metric {
        Metric::Cosine => k,
        Metric::Euclidean => (k + EXTRA).min(n - 1),
    };
    let per_item: Vec<Vec<TopK>> = items(lay)
        .par_iter()
        .map(|rows| {
            let cd = group_bounds(lay, &screen, rows.clone());
            let slack: Vec<f32> = rows.clone().map(|p| row_slack(lay, p, max_sq)).collect();
            let mut tops = vec![TopK::new(keep); rows.len()];
            let mut thr = vec![0f32; rows.len()];
            let mut scratch = Scratch::default();
            for b in group_order(lay, rows.start) {
                let g = lay.groups[b].clone();
                for c0 in (g.start..g.end).step_by(COL_BLOCK) {
                    // a row's threshold: its current k-th distance, as a euclidean length
                    for (r, t) in thr.iter_mut().enumerate() {
                        let e = to_euclid(pts.metric, tops[r].worst());
                        *t = e + margin(e) + slack[r];
                    }
                    if (0..rows.len()).all(|r| cd[r * m + b] > thr[r]) {
                        break;
                    }
                    let cols = c0..(c0 + COL_BLOCK).min(g.end);
                    visit_tile(
                        lay,
                        &screen,
                        rows.clone(),
                        cols,
                        &thr,
                        None,
                        &mut scratch,
                        |r, j, d| {
                            if rows.start + r != j {
                                tops[r].push(d, j as u32);
                            }
                        },
                    );
                }
            }
            if pts.metric == Metric::Euclidean {
                for (r, t) in tops.iter_mut().enumerate() {
                    refine(lay, rows.start + r, t, k);
                }
            }
            tops
        })
        .collect();
    let mut ids = vec![0u32; n * k];
    let mut dist = vec![0f32; n * k];
    for (p, t) in per_item.into_iter().flatten().enumerate() {
        let o = lay.perm[p] as usize * k;
        for (s, (&d, &j)) in t.d.iter().zip(&t.i).enumerate() {
            ids[o + s] = lay.perm[j as usize];
            dist[o + s] = d;
        }
    }
    Knn { k, ids, dist }
}

/// Recompute euclidean distances of the chosen neighbours without cancellation; keep `k`.
fn refine(lay: &Layout, p: usize, t: &mut TopK, k: usize) {
    let mut v: Vec<(f32, u32)> =
        t.i.iter()
            .map(|&j| (lay.pts.exact(p, j as usize), j))
            .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v.truncate(k);
    t.d = v.iter().map(|x| x.0).collect();
    t.i = v.iter().map(|x| x.1).collect();
}

//! DBSCAN with scikit-learn's semantics, without an n×n matrix or neighbour lists.
//!
//! Pass 1 counts each row's neighbours within `eps` (inclusive, self counted) and keeps
//! the list only for rows that stay below `min_samples` (at most `min_samples − 1`
//! entries): the non-core rows. Pass 2 unites core rows within `eps` in a concurrent
//! union-find, skipping tiles whose core rows already share one root. Clusters are then
//! numbered in the order of their first core row, and a border row takes the smallest
//! cluster number among its core neighbours: exactly the label scikit-learn's sequential
//! expansion gives it (cluster c is fully expanded before cluster c + 1 starts).

use std::cell::Cell;
use std::ops::Range;

use rayon::prelude::*;

use super::layout::{margin, to_euclid, Layout};
use super::neighbors::{group_order, items, row_slack};
use super::points::{check_matrix, Metric, COL_BLOCK};
use super::screen::{group_bounds, visit_tile, Scratch, Screen};
use super::unionfind::UnionFind;
use crate::error::{CoreError, Result};

pub struct Dbscan {
    /// Cluster per row, −1 = noise.
    pub labels: Vec<i64>,
    pub core: Vec<bool>,
}

pub fn dbscan(
    x: &[f32],
    dim: usize,
    eps: f32,
    min_samples: usize,
    metric: Metric,
) -> Result<Dbscan> {
    check_matrix(x, dim)?;
    if !(eps.is_finite() && eps > 0.0) {
        return Err(CoreError::invalid("eps", format!("must be > 0, got {eps}")));
    }
    if min_samples == 0 {
        return Err(CoreError::invalid("min_samples", "must be at least 1"));
    }
    let lay = Layout::new(x, dim, metric)?;
    Ok(run(&lay, eps, min_samples))
}

struct Scan<'a> {
    lay: &'a Layout,
    screen: &'a Screen,
    eps: f32,
    eps_e: f32,
    max_sq: f32,
}

impl Scan<'_> {
    /// Is the pair within eps? Fast distance unless it is within its error of eps.
    #[inline]
    fn within(&self, p: usize, j: usize, d: f32) -> bool {
        let s = self.lay.pts.slack(p, j);
        if d + s <= self.eps {
            true
        } else if d - s > self.eps {
            false
        } else {
            self.lay.pts.exact(p, j) <= self.eps
        }
    }

    /// Groups that may hold a row within eps of some row of `rows`.
    fn candidates(&self, rows: &Range<usize>, cd: &[f32]) -> Vec<usize> {
        let m = self.lay.n_groups();
        let slack = row_slack(self.lay, rows.start, self.max_sq);
        let lim = self.eps_e + margin(self.eps_e) + slack;
        group_order(self.lay, rows.start)
            .into_iter()
            .filter(|&b| (0..rows.len()).any(|r| cd[r * m + b] <= lim))
            .collect()
    }

    /// Call `f(p, j)` for every pair within eps, `p` in `rows` with `active(p)`, `j` in the
    /// groups `cand` with `cols[j]` (when given); `f` returns false to stop the row block
    /// early. Activity is re-read between tiles, so finished rows cost no more dots.
    fn pairs(
        &self,
        rows: &Range<usize>,
        cand: &[usize],
        active: &dyn Fn(usize) -> bool,
        cols_ok: Option<&[bool]>,
        mut f: impl FnMut(usize, usize) -> bool,
    ) {
        let base: Vec<f32> = rows
            .clone()
            .map(|p| self.eps_e + margin(self.eps_e) + row_slack(self.lay, p, self.max_sq))
            .collect();
        let mut thr = base.clone();
        let mut scratch = Scratch::default();
        for &b in cand {
            let g = self.lay.groups[b].clone();
            for c0 in (g.start..g.end).step_by(COL_BLOCK) {
                for (r, t) in thr.iter_mut().enumerate() {
                    *t = if active(rows.start + r) {
                        base[r]
                    } else {
                        -1.0
                    };
                }
                let cols = c0..(c0 + COL_BLOCK).min(g.end);
                let mut go = true;
                let mask = cols_ok.map(|m| &m[cols.clone()]);
                visit_tile(
                    self.lay,
                    self.screen,
                    rows.clone(),
                    cols,
                    &thr,
                    mask,
                    &mut scratch,
                    |r, j, d| {
                        let p = rows.start + r;
                        if go && self.within(p, j, d) {
                            go = f(p, j);
                        }
                    },
                );
                if !go {
                    return;
                }
            }
        }
    }
}

fn run(lay: &Layout, eps: f32, min_samples: usize) -> Dbscan {
    let n = lay.pts.n;
    let screen = Screen::new(lay);
    let scan = Scan {
        lay,
        screen: &screen,
        eps,
        eps_e: to_euclid(lay.pts.metric, eps),
        max_sq: lay.pts.sq.iter().copied().fold(0f32, f32::max),
    };
    let work = items(lay);
    // pass 1: core flags (by position) and the neighbour lists of non-core rows
    let pass1: Vec<(Vec<bool>, Vec<Vec<u32>>)> = work
        .par_iter()
        .map(|rows| {
            let cd = group_bounds(lay, &screen, rows.clone());
            let cand = scan.candidates(rows, &cd);
            let count: Vec<Cell<usize>> = vec![Cell::new(0); rows.len()];
            let mut lists = vec![Vec::new(); rows.len()];
            let mut open = rows.len();
            let active = |p: usize| count[p - rows.start].get() < min_samples;
            scan.pairs(rows, &cand, &active, None, |p, j| {
                let r = p - rows.start;
                let c = count[r].get();
                if c < min_samples {
                    count[r].set(c + 1);
                    if c + 1 == min_samples {
                        lists[r] = Vec::new();
                        open -= 1;
                    } else {
                        lists[r].push(j as u32);
                    }
                }
                open > 0
            });
            let core: Vec<bool> = count.iter().map(|c| c.get() >= min_samples).collect();
            (core, lists)
        })
        .collect();
    let mut core = Vec::with_capacity(n);
    let mut lists = Vec::with_capacity(n);
    for (c, l) in pass1 {
        core.extend(c);
        lists.extend(l);
    }
    // pass 2: connect core rows
    let uf = UnionFind::new(n);
    work.par_iter().for_each(|rows| {
        if !rows.clone().any(|p| core[p]) {
            return;
        }
        let g = lay.group_of(rows.start);
        let cd = group_bounds(lay, &screen, rows.clone());
        let cand: Vec<usize> = scan
            .candidates(rows, &cd)
            .into_iter()
            .filter(|&b| b >= g)
            .collect();
        for b in cand {
            if settled(lay, &uf, &core, rows, b) {
                continue;
            }
            scan.pairs(rows, &[b], &|p| core[p], Some(&core), |p, j| {
                if core[p] && core[j] {
                    uf.union(p as u32, j as u32);
                }
                true
            });
        }
    });
    label(lay, &uf, &core, &lists)
}

/// True when every core row of `rows` and of group `b` already has one root.
fn settled(lay: &Layout, uf: &UnionFind, core: &[bool], rows: &Range<usize>, b: usize) -> bool {
    let mut root = None;
    for p in rows
        .clone()
        .chain(lay.groups[b].clone())
        .filter(|&p| core[p])
    {
        let r = uf.find(p as u32);
        match root {
            None => root = Some(r),
            Some(x) if x != r => return false,
            _ => {}
        }
    }
    true
}

/// Number clusters by first core row in original order; borders take the smallest.
fn label(lay: &Layout, uf: &UnionFind, core: &[bool], lists: &[Vec<u32>]) -> Dbscan {
    let n = lay.pts.n;
    let mut pos = vec![0usize; n];
    lay.perm
        .iter()
        .enumerate()
        .for_each(|(p, &i)| pos[i as usize] = p);
    let mut root_label = vec![-1i64; n];
    let mut next = 0i64;
    let mut labels = vec![-1i64; n];
    for i in 0..n {
        let p = pos[i];
        if core[p] {
            let r = uf.find(p as u32) as usize;
            if root_label[r] < 0 {
                root_label[r] = next;
                next += 1;
            }
            labels[i] = root_label[r];
        }
    }
    for i in 0..n {
        let p = pos[i];
        if !core[p] {
            labels[i] = lists[p]
                .iter()
                .filter(|&&j| core[j as usize])
                .map(|&j| root_label[uf.find(j) as usize])
                .min()
                .unwrap_or(-1);
        }
    }
    let core_orig = (0..n).map(|i| core[pos[i]]).collect();
    Dbscan {
        labels,
        core: core_orig,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_eps_inclusive_min_samples_counts_self() {
        // scikit-learn's test_boundaries: points at distance exactly eps
        let x = [0.0f32, 0.0, 1.0, 0.0, 2.0, 0.0];
        let r = dbscan(&x, 2, 1.0, 3, Metric::Euclidean).unwrap();
        assert_eq!(r.core, vec![false, true, false]);
        assert_eq!(r.labels, vec![0, 0, 0]);
        let r = dbscan(&x, 2, 0.999, 1, Metric::Euclidean).unwrap();
        assert_eq!(r.labels, vec![0, 1, 2]);
        let r = dbscan(&x, 2, 0.999, 2, Metric::Euclidean).unwrap();
        assert_eq!(r.labels, vec![-1, -1, -1]);
    }

    #[test]
    fn border_takes_first_cluster_in_index_order() {
        // 1.15 is a border of both clusters; the one with the first core row claims it
        let x = [1.15f32, 2.1, 2.15, 2.2, 2.3, 0.0, 0.05, 0.1, 0.2];
        let r = dbscan(&x, 1, 1.0, 4, Metric::Euclidean).unwrap();
        assert_eq!(r.labels, vec![0, 0, 0, 0, 0, 1, 1, 1, 1]);
        assert!(!r.core[0]);
    }

    #[test]
    fn rejects_bad_parameters() {
        let x = [0.0f32, 1.0];
        assert!(dbscan(&x, 1, 0.0, 2, Metric::Cosine).is_err());
        assert!(dbscan(&x, 1, 1.0, 0, Metric::Cosine).is_err());
    }
}

//! Exact k nearest neighbours (self excluded) for low-dimensional rows, with a k-d tree.
//!
//! The blocked-GEMM kNN of `neighbors` is built for embeddings; with a handful of features
//! a tree prunes almost every pair instead. Large cells split at the middle of their
//! widest side (sparse tails of skewed features are cut off early rather than stretching
//! every cell, as median splits do on the anomaly tables), small ones at a whole number of
//! leaves near their median, until at most `LEAF` rows remain.
//! The build moves only row ids; each leaf's rows are then copied once into a column-major
//! block padded to `LEAF` lanes, so one row against a leaf is `dim` vector steps (and a
//! query row is a lane of its own leaf's block). Queries are in `kdtree_search`, the SIMD
//! leaf kernels in `kdtree_kernels`.
//! From `ROTATE_MIN_DIM` features on, the tree holds the rows rotated onto their principal
//! axes (`principal`); rotated distances differ from the true ones by rounding, so each row's
//! list carries spare candidates that are re-ranked on the original rows — for every row
//! (`Measure::Exact`, the `knn` API) or only where a proved rounding bound says the set
//! could change (`Measure::SetExact`, LOF).

use rayon::prelude::*;

use super::kdtree_kernels::{kernels, Kernels, LEAF};
use super::points::Metric;
use super::principal::{principal_axes, rotate};
use super::topk::{key, unkey, Prune};
use crate::distance;

#[derive(Clone, Copy)]
pub(super) struct Node {
    /// Tree positions `start..end` of the node's rows.
    pub(super) start: u32,
    pub(super) end: u32,
    /// Internal: the two children. Leaf: `[block, LEAF_MARK]`.
    pub(super) kids: [u32; 2],
}

pub(super) const LEAF_MARK: u32 = u32::MAX;

pub(crate) struct KdTree {
    pub(super) dim: usize,
    /// Original row of each tree position.
    pub(super) idx: Vec<u32>,
    pub(super) nodes: Vec<Node>,
    /// `dim` rounded up to whole 4-lane groups (the box kernels' unit).
    pub(super) dp: usize,
    /// Per node, the tight bounding box: `dp` lows then `dp` highs (padding lanes 0).
    pub(super) boxes: Vec<f32>,
    /// Leading columns the per-row box test of a leaf measures (`dim` unless set lower, for
    /// rotated rows: see `BOX_COLS`).
    pub(super) box_cols: usize,
    /// Per leaf, its rows as `dim × LEAF` column-major, padded lanes far away (their
    /// distance is ∞). The only copy of the rows the tree keeps.
    pub(super) blocks: Vec<f32>,
}

impl KdTree {
    pub(crate) fn new(x: &[f32], dim: usize) -> Self {
        let n = x.len() / dim;
        let mut order: Vec<u32> = (0..n as u32).collect();
        let kern = kernels();
        let Sub {
            nodes,
            boxes,
            n_leaves,
        } = build(kern, x, &mut order, dim, 0, 0);
        // leaves are numbered in tree order, so block b holds the b-th run of positions
        let leaves: Vec<(usize, usize)> = nodes
            .iter()
            .filter(|nd| nd.kids[1] == LEAF_MARK)
            .map(|nd| (nd.start as usize, nd.end as usize))
            .collect();
        let mut blocks = Vec::with_capacity(n_leaves as usize * dim * LEAF);
        blocks.par_extend(rayon::iter::repeat_n(PAD, n_leaves as usize * dim * LEAF));
        blocks
            .par_chunks_mut(dim * LEAF)
            .zip(&leaves)
            .for_each(|(b, &(s, e))| {
                for (lane, &i) in order[s..e].iter().enumerate() {
                    let row = &x[i as usize * dim..][..dim];
                    for (c, &v) in row.iter().enumerate() {
                        b[c * LEAF + lane] = v;
                    }
                }
            });
        KdTree {
            dim,
            box_cols: dim,
            dp: pad4(dim),
            idx: order,
            nodes,
            boxes,
            blocks,
        }
    }

    /// The column-major block of a leaf node.
    pub(super) fn block(&self, node: usize) -> &[f32] {
        let b = self.nodes[node].kids[0] as usize;
        &self.blocks[b * self.dim * LEAF..][..self.dim * LEAF]
    }

    /// A node's box: `dp` lows then `dp` highs.
    #[inline]
    pub(super) fn bounds(&self, node: usize) -> &[f32] {
        &self.boxes[2 * self.dp * node..][..2 * self.dp]
    }
}

fn pad4(dim: usize) -> usize {
    dim.div_ceil(4) * 4
}

const PAD: f32 = 1e30;

/// A built subtree: nodes in preorder, child indices and leaf blocks counted from it.
struct Sub {
    nodes: Vec<Node>,
    boxes: Vec<f32>,
    n_leaves: u32,
}

/// Subtrees of at least this many rows build their two halves in parallel.
const PAR_BUILD_ROWS: usize = 1024;

/// Tight bounding box of rows `idx` of `x`: `dp` lows then `dp` highs (padding lanes 0).
fn bbox(kern: Kernels, x: &[f32], dim: usize, idx: &[u32]) -> Vec<f32> {
    let mut bx = vec![0f32; 2 * pad4(dim)];
    (kern.bbox)(x, dim, idx, &mut bx);
    bx
}

/// Build the subtree over rows `order` of `x` (reordered in place into tree order),
/// whose first row is tree position `base`.
/// Splits at the middle of the widest side of the box (so sparse tails are cut off
/// early instead of stretching every cell); at the median when that leaves a side empty,
/// for small cells (`MEDIAN_BELOW`) and past `MIDPOINT_MAX_DEPTH`, which bounds the depth.
/// Only row ids move; the rows are copied once, into the leaf blocks.
fn build(
    kern: Kernels,
    x: &[f32],
    order: &mut [u32],
    dim: usize,
    base: usize,
    depth: usize,
) -> Sub {
    // each subtree boxes its own rows: the two halves of a parallel split do so at once
    let mut bx = bbox(kern, x, dim, order);
    let len = order.len();
    let dp = pad4(dim);
    let mut node = Node {
        start: base as u32,
        end: (base + len) as u32,
        kids: [0, LEAF_MARK],
    };
    if len <= LEAF {
        return Sub {
            nodes: vec![node],
            boxes: bx,
            n_leaves: 1,
        };
    }
    let s = (0..dim)
        .max_by(|&p, &q| {
            let (wp, wq) = (bx[dp + p] - bx[p], bx[dp + q] - bx[q]);
            wp.total_cmp(&wq).then(q.cmp(&p))
        })
        .unwrap_or(0);
    let at = |i: u32| x[i as usize * dim + s];
    let mut mid = 0;
    if depth < MIDPOINT_MAX_DEPTH && len > MEDIAN_BELOW {
        let cut = bx[s] + 0.5 * (bx[dp + s] - bx[s]);
        // branch-free partition: rows below the cut gather at the front
        for j in 0..len {
            let below = at(order[j]) < cut;
            order.swap(j, mid);
            mid += below as usize;
        }
    }
    if mid == 0 || mid == len {
        // the whole leaf count nearest the middle, so the leaves below come out full
        mid = ((len + LEAF) / (2 * LEAF) * LEAF).clamp(LEAF.min(len / 2), len - 1);
        order.select_nth_unstable_by(mid, |&p, &q| at(p).total_cmp(&at(q)));
    }
    let (ol, or) = order.split_at_mut(mid);
    let (left, right) = if len >= PAR_BUILD_ROWS {
        rayon::join(
            || build(kern, x, ol, dim, base, depth + 1),
            || build(kern, x, or, dim, base + mid, depth + 1),
        )
    } else {
        (
            build(kern, x, ol, dim, base, depth + 1),
            build(kern, x, or, dim, base + mid, depth + 1),
        )
    };
    // this node, then the left subtree, then the right one
    let n_left = left.nodes.len() as u32;
    node.kids = [1, 1 + n_left];
    let mut nodes = Vec::with_capacity(1 + left.nodes.len() + right.nodes.len());
    nodes.push(node);
    let shift = |nd: &Node, by: u32, leaves: u32| {
        let mut nd = *nd;
        if nd.kids[1] == LEAF_MARK {
            nd.kids[0] += leaves;
        } else {
            nd.kids = [nd.kids[0] + by, nd.kids[1] + by];
        }
        nd
    };
    nodes.extend(left.nodes.iter().map(|nd| shift(nd, 1, 0)));
    nodes.extend(
        right
            .nodes
            .iter()
            .map(|nd| shift(nd, 1 + n_left, left.n_leaves)),
    );
    bx.extend_from_slice(&left.boxes);
    bx.extend_from_slice(&right.boxes);
    Sub {
        nodes,
        boxes: bx,
        n_leaves: left.n_leaves + right.n_leaves,
    }
}

/// Cells of at most this many rows split at the whole leaf count nearest their median, so
/// the leaves below are full (fewer leaves to visit, no idle lanes). Measured (1-thread
/// LOF ms, cardio / thyroid / satellite / shuttle) at 2, 4, 8, 16, 64 leaves: 3.50 / 3.73 /
/// 18.9 / 49.4, 3.25 / 3.3 / 17.1 / 48.6, 3.05 / 3.4 / 16.4 / 50.0, 3.02 / 3.44 / 16.0 /
/// 53.4, 3.22 / 3.56 / 15.7 / 64.5 (median splits everywhere lose the tails on shuttle).
const MEDIAN_BELOW: usize = 8 * LEAF;

/// Depth up to which cells are split at their middle (past it, at the median).
const MIDPOINT_MAX_DEPTH: usize = 48;

/// What the kNN of rotated rows reports (see `knn_tree`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Measure {
    /// Every row's neighbours re-ranked on the original rows: distances as measured
    /// directly.
    Exact,
    /// Re-ranked only where rounding could change the neighbour set; elsewhere the
    /// distances are the rotated ones, off by rounding (~1e-7 relative, proved within
    /// `row_rounding`). For LOF, whose scores carry far larger tolerances.
    SetExact,
}

/// kNN of prepared rows (row-major, checked finite): ids and distances in the metric's
/// units. Cosine rows must be unit vectors; they are ranked by euclidean distance and
/// reported as `1 − cos = ‖a − b‖² / 2`.
pub(crate) fn knn_tree(
    x: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    measure: Measure,
) -> (Vec<u32>, Vec<f32>) {
    let rotated = dim >= ROTATE_MIN_DIM;
    // per row, how far its rotated copy can be from the original (euclidean)
    let mut err = Vec::new();
    let tree = if rotated {
        // the axes are serial; the rotation after them is parallel
        let axes = crate::threads::keeping_a_worker_awake(|| principal_axes(x, dim));
        let y = rotate(x, dim, &axes);
        if measure == Measure::SetExact {
            let c = row_rounding(dim);
            err = y.chunks_exact(dim).map(|r| c * norm(r)).collect();
        }
        let mut tree = KdTree::new(&y, dim);
        tree.box_cols = dim.min(BOX_COLS);
        tree
    } else {
        KdTree::new(x, dim)
    };
    let err_far = err.iter().fold(0f32, |a, &b| a.max(b));
    let row = |i: usize| &x[i * dim..(i + 1) * dim];
    let n = x.len() / dim;
    // Rotated distances differ from the true ones by rounding, which can swap rows near the
    // k-th place: take a few spare candidates and rank them on the original rows. The
    // search is bounded by the k-th (not the last spare) plus the rounding allowance.
    let (kk, prune) = if rotated {
        let e = rotation_allowance(&tree);
        ((k + ROTATED_SPARE).min(n - 1), Prune { rank: k, e })
    } else {
        (k, Prune::exact(k))
    };
    // the kernel itself, not the checked wrapper: this runs k + spares times per row
    let l2sq = distance::active().l2sq;
    let fin = |i: usize, keys: &[u64], ids: &mut [u32], dist: &mut [f32], v: &mut Vec<u64>| {
        let certain = !err.is_empty() && set_is_certain(keys, k, kk, err[i], &err, err_far);
        let keys = if rotated && !certain {
            v.clear();
            v.extend(keys.iter().map(|&kv| {
                let j = unkey(kv).1;
                key(l2sq(row(i), row(j as usize)), j)
            }));
            insertion_sort(v);
            &v[..]
        } else {
            keys
        };
        for ((o, d), &kv) in ids.iter_mut().zip(dist.iter_mut()).zip(keys) {
            let (sq, j) = unkey(kv);
            *o = j;
            *d = match metric {
                Metric::Euclidean => sq.sqrt(),
                Metric::Cosine => 0.5 * sq,
            };
        }
    };
    tree.knn_sq(kk, k, prune, &fin)
}

fn norm(r: &[f32]) -> f32 {
    r.iter().map(|v| v * v).sum::<f32>().sqrt()
}

/// Whether a row's first `k` keys (rotated squared distances, nearest first, of a list of
/// up to `kk`) are its true k nearest whatever the rotation's rounding: every row outside
/// them must be farther than every row inside by more than the two rows' errors can close.
/// Rows in the list have their own error (`err`); a row past a full list is at least as
/// far as its last key, with any row's error (`err_far`); rows the search pruned were past
/// the bound's allowance, which already covers any two rows' errors.
fn set_is_certain(keys: &[u64], k: usize, kk: usize, err_i: f32, err: &[f32], far: f32) -> bool {
    if keys.len() < k {
        return false;
    }
    let at = |p: usize| {
        let (sq, j) = unkey(keys[p]);
        (sq.sqrt(), err[j as usize])
    };
    let (dk, _) = at(k - 1);
    let inside = keys[..k]
        .iter()
        .map(|&kv| err[unkey(kv).1 as usize])
        .fold(0f32, f32::max);
    // the distances themselves are f32 sums of `dim` squares: a relative allowance
    let reach = dk * (1.0 + CERTAIN_SLACK) + 2.0 * err_i + inside;
    let spares_clear = (k..keys.len()).all(|p| {
        let (d, e) = at(p);
        d > reach + e
    });
    let full = keys.len() >= kk;
    spares_clear && (!full || at(keys.len() - 1).0 > reach + far)
}

/// Relative allowance for the rounding of a squared-distance sum of f32 terms (taken on
/// the distance, generously: `dim·ε` is below 1e-5 for the tree's ≤ 64 features).
const CERTAIN_SLACK: f32 = 1e-5;

/// A rotated row's distance from its exact image, per unit of its norm (twice the bound
/// `rotation_allowance` argues for a row: a margin for the centring's own rounding).
fn row_rounding(dim: usize) -> f32 {
    let d = dim as f32;
    2.0 * (d.sqrt() + 1.0) * d * f32::EPSILON
}

/// Sorts keys that are already nearly in order (exact distances re-ranking rotated ones
/// swap only near-ties): one compare per key when nothing moves.
fn insertion_sort(v: &mut [u64]) {
    for i in 1..v.len() {
        let kv = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > kv {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = kv;
    }
}

/// How far apart (euclidean) the rotated and the true distance of two rows can be, taken
/// twice (the bound is a rotated k-th distance; a true neighbour must still pass it): each
/// rotated coordinate is a `dim`-term dot product with a unit axis, off by at most about
/// `dim·ε·‖v‖` (and as much again from the f32 axes), for `v` a centred row; `‖v‖` is at
/// most the root box's farthest corner.
fn rotation_allowance(tree: &KdTree) -> f32 {
    let (dim, dp) = (tree.dim as f32, tree.dp);
    let (lo, hi) = tree.bounds(0).split_at(dp);
    let far: f32 = lo
        .iter()
        .zip(hi)
        .map(|(l, h)| l.abs().max(h.abs()).powi(2))
        .sum::<f32>()
        .sqrt();
    let per_row = (dim.sqrt() + 1.0) * dim * f32::EPSILON * far;
    // two rows per distance, twice over, and a factor of 2 for the bounds' own slack
    8.0 * per_row
}

/// Columns of a rotated tree's per-row box test (each query row against a leaf's box, the
/// test that picks the rows the leaf kernel measures): principal axes put most of a
/// distance in the first columns, so the rest of the box gap rarely drops a row the first
/// ones kept but costs as much again. 1-thread LOF (cardio, satellite) ms, all columns vs
/// the first 6 / 8 / 10 / 12: 2.25, 12.4–12.7 vs 2.16–2.18, 11.3–11.6 / 2.15–2.17,
/// 11.3–11.6 / 2.17–2.18, 11.6–12.4 / 2.17–2.21, 11.4–11.7. Unrotated columns are not in
/// order of spread; their trees test them all.
const BOX_COLS: usize = 8;

/// Spare candidates per row when the tree is built on rotated rows (as the blocked
/// search keeps for its own re-ranking).
const ROTATED_SPARE: usize = 4;

/// From this many features on, the tree is built on principal axes (see `principal`).
/// Measured (kNN CPU time, unrotated vs rotated): thyroid 6-d 7.2 vs 7.9 ms, shuttle 9-d
/// 84 vs 96 ms, cardio 21-d 7.0 vs 6.5 ms, satellite 36-d 46 vs 33 ms.
const ROTATE_MIN_DIM: usize = 12;

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::cluster::points::Points;

    /// Rows with a few exact duplicates and some heavy-tailed coordinates (the shape of
    /// the anomaly tables), values on a coarse grid so equal distances occur.
    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x: Vec<f32> = (0..n * dim)
            .map(|i| {
                let v: f32 = rng.random_range(-1.0..1.0);
                let v = if i % 7 == 0 { v * v * v * 20.0 } else { v };
                (v * 64.0).round() / 64.0
            })
            .collect();
        for r in (3..n).step_by(5) {
            x.copy_within((r - 3) * dim..(r - 2) * dim, r * dim);
        }
        x
    }

    /// The tree on rows prepared as `knn_rows` does (raw for euclidean, unit for cosine).
    fn tree_knn(x: &[f32], dim: usize, k: usize, metric: Metric) -> (Vec<u32>, Vec<f32>) {
        tree_knn_as(x, dim, k, metric, Measure::Exact)
    }

    fn tree_knn_as(
        x: &[f32],
        dim: usize,
        k: usize,
        metric: Metric,
        measure: Measure,
    ) -> (Vec<u32>, Vec<f32>) {
        match metric {
            Metric::Euclidean => knn_tree(x, dim, k, metric, measure),
            Metric::Cosine => {
                let pts = Points::new(x, dim, metric).unwrap();
                knn_tree(&pts.data, dim, k, metric, measure)
            }
        }
    }

    const MEASURES: [Measure; 2] = [Measure::Exact, Measure::SetExact];

    /// Scalar brute force in f64 on the rows the tree is given (raw for euclidean, unit
    /// for cosine): per row, the k nearest others by (distance, row).
    fn brute(x: &[f32], dim: usize, metric: Metric) -> Vec<Vec<(f64, u32)>> {
        let pts = match metric {
            Metric::Euclidean => Points {
                data: x.to_vec(),
                dim,
                n: x.len() / dim,
                sq: vec![],
                metric,
            },
            Metric::Cosine => Points::new(x, dim, metric).unwrap(),
        };
        (0..pts.n)
            .map(|i| {
                let mut v: Vec<(f64, u32)> = (0..pts.n)
                    .filter(|&j| j != i)
                    .map(|j| {
                        let d: f64 = pts
                            .row(i)
                            .iter()
                            .zip(pts.row(j))
                            .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                            .sum();
                        let d = match pts.metric {
                            Metric::Euclidean => d.sqrt(),
                            Metric::Cosine => d / 2.0,
                        };
                        (d, j as u32)
                    })
                    .collect();
                v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                v
            })
            .collect()
    }

    fn check(x: &[f32], dim: usize, k: usize, metric: Metric) {
        for measure in MEASURES {
            check_as(x, dim, k, metric, measure);
        }
    }

    fn check_as(x: &[f32], dim: usize, k: usize, metric: Metric, measure: Measure) {
        let (ids, dist) = tree_knn_as(x, dim, k, metric, measure);
        let want = brute(x, dim, metric);
        let tol = |d: f64| 1e-5 * (1.0 + d);
        for (i, w) in want.iter().enumerate() {
            for s in 0..k {
                let (d, j) = (dist[i * k + s] as f64, ids[i * k + s]);
                assert!(
                    (d - w[s].0).abs() <= tol(w[s].0),
                    "row {i} #{s}: {d} vs {:?}",
                    w[s]
                );
                assert_ne!(j as usize, i, "row {i} lists itself");
                // the row is one of those at (nearly) this distance in the full order
                let tied = w
                    .iter()
                    .any(|&(wd, wj)| wj == j && (wd - w[s].0).abs() <= tol(wd));
                assert!(tied, "row {i} #{s}: id {j} at {d}, expected {:?}", w[s]);
                if w[s].0 == 0.0 {
                    assert_eq!(d, 0.0, "duplicates are at distance exactly 0");
                }
            }
            // ids distinct
            let mut r: Vec<u32> = ids[i * k..(i + 1) * k].to_vec();
            r.sort_unstable();
            r.dedup();
            assert_eq!(r.len(), k);
        }
    }

    #[test]
    fn matches_brute_force_across_dims() {
        for (n, dim, k) in [
            (300, 1, 5),
            (46, 13, 13),
            (500, 2, 20),
            (700, 7, 20),
            (400, 33, 10),
            (600, 12, 3),
        ] {
            check(&data(n, dim, dim as u64), dim, k, Metric::Euclidean);
        }
    }

    #[test]
    fn rotated_trees_keep_exact_neighbour_sets_of_near_duplicates() {
        // tight clusters far from the origin: rotation rounding (~6e-8 of a coordinate's
        // size) is a sizeable share of the within-cluster distances, so the k nearest must
        // come from ranking spare candidates on the original rows
        let (dim, k) = (20, 5);
        let mut rng = ChaCha8Rng::seed_from_u64(21);
        let mut x = Vec::new();
        for _ in 0..20 {
            let c: Vec<f32> = (0..dim).map(|_| rng.random_range(-1e3..1e3)).collect();
            for _ in 0..20 {
                x.extend(c.iter().map(|&v| v + rng.random_range(-1e-2..1e-2)));
            }
        }
        // (`SetExact` re-ranks exactly the rows whose set the rounding could change)
        let want = brute(&x, dim, Metric::Euclidean);
        for measure in MEASURES {
            let (ids, _) = tree_knn_as(&x, dim, k, Metric::Euclidean, measure);
            for (i, w) in want.iter().enumerate() {
                if w[k].0 - w[k - 1].0 <= 1e-3 * w[k].0 {
                    continue; // (nearly) tied at the k-th place: f32 cannot tell them apart
                }
                let mut got: Vec<u32> = ids[i * k..(i + 1) * k].to_vec();
                let mut want: Vec<u32> = w[..k].iter().map(|p| p.1).collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "row {i}, {measure:?}");
            }
        }
    }

    #[test]
    fn a_set_is_certain_only_when_no_rounding_can_swap_rows_across_the_kth() {
        // k = 2 of a list of up to 4: rotated distances 1, 2, then spares; every row's
        // rounding 0.1 unless set otherwise
        let keys = |d: &[f32]| -> Vec<u64> {
            d.iter()
                .enumerate()
                .map(|(j, &v)| key(v * v, j as u32))
                .collect()
        };
        let err = [0.1f32; 8];
        let certain =
            |d: &[f32], err: &[f32], far: f32| set_is_certain(&keys(d), 2, 4, 0.1, err, far);
        // inside reaches 2 + 0.2 (query) + 0.1 (inside): spares at 2.5+ clear it
        assert!(certain(&[1.0, 2.0, 2.5, 3.0], &err, 0.1));
        // a spare within the errors of the k-th
        assert!(!certain(&[1.0, 2.0, 2.35, 3.0], &err, 0.1));
        // a spare's own larger error
        let mut big = err;
        big[2] = 0.3;
        assert!(!certain(&[1.0, 2.0, 2.5, 3.0], &big, 0.3));
        // an inside row's larger error
        let mut big = err;
        big[0] = 0.3;
        assert!(!certain(&[1.0, 2.0, 2.5, 3.0], &big, 0.3));
        // a full list: unseen rows past the last key may have any row's error
        assert!(!certain(&[1.0, 2.0, 2.5, 2.6], &err, 0.5));
        // not full: the rest were pruned with the allowance, so only the spares count
        assert!(certain(&[1.0, 2.0, 2.5], &err, 0.5));
        // fewer than k
        assert!(!certain(&[1.0], &err, 0.1));
    }

    #[test]
    fn rotation_allowance_covers_the_rounding_of_rotated_distances() {
        // rows far from their centre in some directions: rotated rounding is largest there
        let dim = 24;
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let x: Vec<f32> = (0..300 * dim)
            .map(|i| rng.random_range(-1.0..1.0f32) * if i % 3 == 0 { 3e3 } else { 1.0 })
            .collect();
        let y = rotate(&x, dim, &principal_axes(&x, dim));
        let e = rotation_allowance(&KdTree::new(&y, dim));
        let dist = |v: &[f32], i: usize, j: usize| -> f64 {
            (0..dim)
                .map(|c| (v[i * dim + c] as f64 - v[j * dim + c] as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let mut worst = 0f64;
        for i in 0..300 {
            for j in 0..i {
                worst = worst.max((dist(&y, i, j) - dist(&x, i, j)).abs());
            }
        }
        // the allowance is four pair errors (see `rotation_allowance`)
        assert!(worst > 0.0 && worst <= e as f64 / 4.0, "{worst} vs {e}");
    }

    #[test]
    fn fewer_rows_than_a_leaf_and_k_is_n_minus_1() {
        for (n, dim) in [(2, 3), (9, 2), (31, 5), (33, 7), (40, 20)] {
            check(&data(n, dim, 5), dim, n - 1, Metric::Euclidean);
        }
    }

    #[test]
    fn large_enough_for_a_parallel_build() {
        check(&data(5000, 3, 11), 3, 7, Metric::Euclidean);
    }

    #[test]
    fn enough_leaves_to_walk_the_tree() {
        // past FLAT_MAX_LEAVES leaves the queries walk the tree instead of sorting leaves
        let x = data(7000, 4, 12);
        let tree = KdTree::new(&x, 4);
        let leaves = tree
            .nodes
            .iter()
            .filter(|nd| nd.kids[1] == LEAF_MARK)
            .count();
        assert!(
            leaves > super::super::kdtree_search::FLAT_MAX_LEAVES,
            "{leaves} leaves"
        );
        check(&x, 4, 12, Metric::Euclidean);
    }

    #[test]
    fn geometric_values_reach_the_median_fallback() {
        // each middle split peels off one row: past MIDPOINT_MAX_DEPTH it splits at medians
        let x: Vec<f32> = (0..300).map(|i| 0.9f32.powi(i)).collect();
        check(&x, 1, 4, Metric::Euclidean);
    }

    #[test]
    fn every_top_k_list_gives_the_same_neighbours() {
        // the sorted AVX-512 and AVX2 lists (k ≤ 32) and the portable buffer-and-select one
        #[cfg(target_arch = "x86_64")]
        {
            use super::super::kdtree_kernels::kernels;
            use super::super::topk::avx2::SortedTop256;
            use super::super::topk::avx512::SortedTop;
            use super::super::topk::{Prune, Top};
            for (n, dim, k) in [(900, 3, 20), (500, 6, 1), (700, 9, 32)] {
                let tree = KdTree::new(&data(n, dim, 3), dim);
                let fin =
                    |_: usize, keys: &[u64], ids: &mut [u32], d: &mut [f32], _: &mut Vec<u64>| {
                        for ((o, dd), &kv) in ids.iter_mut().zip(d.iter_mut()).zip(keys) {
                            (*dd, *o) = unkey(kv);
                        }
                    };
                let p = Prune::exact(k);
                let a = tree.knn_with(k, kernels(), || Top::new(k, p), &fin);
                if std::arch::is_x86_feature_detected!("avx512f") {
                    let b = tree.knn_with(k, kernels(), || SortedTop::new(k, p), &fin);
                    assert!(a == b, "AVX-512 list: n {n}, dim {dim}, k {k}");
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    let b = tree.knn_with(k, kernels(), || SortedTop256::new(k, p), &fin);
                    assert!(a == b, "AVX2 list: n {n}, dim {dim}, k {k}");
                }
            }
        }
    }

    #[test]
    fn all_rows_equal() {
        let x = vec![0.5f32; 100 * 3];
        let (ids, dist) = tree_knn(&x, 3, 4, Metric::Euclidean);
        assert!(dist.iter().all(|&d| d == 0.0));
        // ties go to the smaller rows
        assert_eq!(&ids[..4], &[1, 2, 3, 4]);
        assert_eq!(&ids[4..8], &[0, 2, 3, 4]);
    }

    #[test]
    fn cosine_as_half_squared_chord() {
        let x: Vec<f32> = data(400, 6, 9).iter().map(|v| v + 0.3).collect();
        check(&x, 6, 10, Metric::Cosine);
    }

    #[test]
    fn rotated_spares_the_bound_never_lets_in() {
        // a leaf of 14 rows far from the other 32: with k = 13 its rows find their k
        // neighbours at home and the far leaf is pruned, so the spare slots stay empty
        let (dim, mut rng) = (13, ChaCha8Rng::seed_from_u64(2));
        let x: Vec<f32> = (0..46 * dim)
            .map(|i| rng.random_range(-1.0..1.0f32) + if i / dim < 32 { 0.0 } else { 50.0 })
            .collect();
        check(&x, dim, 13, Metric::Euclidean);
    }
}

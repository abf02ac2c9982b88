//! Queries of the k-d tree (`kdtree`), a leaf at a time: the leaf's rows first scan their
//! own leaf, then the other leaves nearest first — in a small tree by sorting all leaves by
//! box-to-box gap, in a large one by walking the tree together, nearer child first — taking
//! a leaf only if its box is within the largest current k-th distance of those rows; each
//! row then takes only the leaves whose box is within its own k-th distance, and of those
//! only the lanes within it. The order is shared by up to `LEAF` queries and the distances
//! are SIMD blocks.
//!
//! Ties: neighbours are ordered by (distance, row), so the result is the one a stable
//! brute-force sort gives, whatever order the tree visits rows in.

use rayon::prelude::*;

use super::kdtree::{KdTree, LEAF_MARK};
use super::kdtree_kernels::{kernels, Kernels, LEAF};
use super::topk::{Neighbours, Prune, Top};
#[cfg(target_arch = "x86_64")]
use crate::distance::Isa;

/// Turns a row's `kk` nearest keys (nearest first) into its `k` output slots: given the
/// row's original id, the keys, the row's ids and distances, and a scratch vector.
pub(crate) type Finish<'f> =
    &'f (dyn Fn(usize, &[u64], &mut [u32], &mut [f32], &mut Vec<u64>) + Sync);

impl KdTree {
    /// The `kk` nearest other rows of every row (squared euclidean, ties to the smaller
    /// row), handed to `fin` to fill `k` ids and distances per row, in original row order.
    /// `prune` says how each list of `kk` bounds the search.
    pub(crate) fn knn_sq(
        &self,
        kk: usize,
        k: usize,
        prune: Prune,
        fin: Finish,
    ) -> (Vec<u32>, Vec<f32>) {
        let kern = kernels();
        #[cfg(target_arch = "x86_64")]
        match kern.sorted_top {
            Isa::Avx512 if kk <= super::topk::avx512::MAX_K => {
                let list = || super::topk::avx512::SortedTop::new(kk, prune);
                return self.knn_with(k, kern, list, fin);
            }
            Isa::Avx2 if kk <= super::topk::avx2::MAX_K => {
                let list = || super::topk::avx2::SortedTop256::new(kk, prune);
                return self.knn_with(k, kern, list, fin);
            }
            _ => {}
        }
        self.knn_with(k, kern, || Top::new(kk, prune), fin)
    }

    /// `knn_sq` with the top-k list made by `list`.
    pub(super) fn knn_with<T: Neighbours>(
        &self,
        k: usize,
        kern: Kernels,
        list: impl Fn() -> T + Sync,
        fin: Finish,
    ) -> (Vec<u32>, Vec<f32>) {
        let n = self.idx.len();
        let leaves: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].kids[1] == LEAF_MARK)
            .collect();
        // filled by both threads: fresh pages fault in (and zero) in parallel, not serially
        let mut ids = Vec::with_capacity(n * k);
        ids.par_extend(rayon::iter::repeat_n(0u32, n * k));
        let mut dist = Vec::with_capacity(n * k);
        dist.par_extend(rayon::iter::repeat_n(0f32, n * k));
        let out = Rows {
            ids: ids.as_mut_ptr(),
            dist: dist.as_mut_ptr(),
            k,
        };
        leaves.par_iter().for_each_init(
            || {
                let tops = (0..LEAF).map(|_| list()).collect();
                (Batch::new(self, kern, tops, &leaves), Vec::new())
            },
            |(b, scratch), &l| {
                b.run(l);
                let start = self.nodes[l].start as usize;
                for (top, &i) in b.tops[..b.m].iter_mut().zip(&self.idx[start..]) {
                    // SAFETY: `idx` is a permutation and every tree position lies in exactly
                    // one leaf, so row `i` is written by this call only
                    let (io, dout) = unsafe { out.row(i as usize) };
                    fin(i as usize, top.finish(), io, dout, scratch);
                }
            },
        );
        (ids, dist)
    }
}

/// The output rows, written straight in original order from the leaves' parallel tasks.
struct Rows {
    ids: *mut u32,
    dist: *mut f32,
    k: usize,
}

// SAFETY: tasks write disjoint rows (see `knn_with`); the buffers outlive the tasks.
unsafe impl Sync for Rows {}

impl Rows {
    /// # Safety
    /// `i` is in bounds and no other live reference to row `i` exists.
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, i: usize) -> (&mut [u32], &mut [f32]) {
        unsafe {
            (
                std::slice::from_raw_parts_mut(self.ids.add(i * self.k), self.k),
                std::slice::from_raw_parts_mut(self.dist.add(i * self.k), self.k),
            )
        }
    }
}

/// The queries of one leaf and their running top-k lists.
struct Batch<'a, T> {
    tree: &'a KdTree,
    kern: Kernels,
    tops: Vec<T>,
    /// Per query lane, its pruning bound (−1 on lanes without a query); `reach` is the
    /// largest: nodes whose box is farther from the query leaf's box are skipped.
    bounds: [f32; LEAF],
    reach: f32,
    /// Per query lane, the squared distance at its list's pruning rank.
    kth: [f32; LEAF],
    prune: Prune,
    dists: Box<[[f32; LEAF]; LEAF]>,
    masks: [u64; LEAF],
    /// The query leaf (node index) and its row count.
    leaf: usize,
    m: usize,
    /// Every leaf, when there are few enough to visit in order of their box gap instead
    /// of walking the tree (see `FLAT_MAX_LEAVES`); with room for their gaps.
    flat: Option<Flat<'a>>,
}

/// All leaves (node indices) and a scratch list of (gap, leaf) to sort.
/// A (gap, leaf) pair is one sortable word: gaps are sums of squares (never negative),
/// whose bits order as their values.
type Flat<'a> = (&'a [usize], Vec<u64>);

/// Up to this many leaves, each query leaf measures its box gap to every leaf, sorts them
/// and scans them nearest first until one is out of reach: the order is strictly by gap
/// (the walk's depth-first order is not) and no inner node is visited; the L² gaps grow
/// past what the walk costs. Measured (1 thread, walk vs flat): cardio 63 leaves 2.83 vs
/// 2.71 ms, thyroid 133 leaves 3.03 vs 2.98 ms, satellite 223 leaves 14.8 vs 14.9 ms; once
/// the gaps sorted as single words and rotated rows tested 8 box sides, satellite 10.7 vs
/// 10.3 ms.
pub(super) const FLAT_MAX_LEAVES: usize = 256;

impl<'a, T: Neighbours> Batch<'a, T> {
    fn new(tree: &'a KdTree, kern: Kernels, tops: Vec<T>, leaves: &'a [usize]) -> Self {
        let prune = tops[0].prune();
        let flat =
            (leaves.len() <= FLAT_MAX_LEAVES).then(|| (leaves, Vec::with_capacity(leaves.len())));
        Batch {
            flat,
            tree,
            kern,
            tops,
            bounds: [-1.0; LEAF],
            reach: f32::INFINITY,
            kth: [f32::INFINITY; LEAF],
            prune,
            dists: Box::new([[0.0; LEAF]; LEAF]),
            masks: [0; LEAF],
            leaf: 0,
            m: 0,
        }
    }

    fn run(&mut self, leaf: usize) {
        let nd = self.tree.nodes[leaf];
        let m = (nd.end - nd.start) as usize;
        self.m = m;
        self.tops[..m].iter_mut().for_each(T::clear);
        self.bounds = [-1.0; LEAF];
        self.bounds[..m].fill(f32::INFINITY);
        self.kth = [f32::INFINITY; LEAF];
        self.reach = f32::INFINITY;
        self.leaf = leaf;
        // the rows' own leaf first: it seeds every bound with near rows
        self.scan(leaf);
        if let Some((leaves, mut order)) = self.flat.take() {
            let t = self.tree;
            let q = t.bounds(leaf);
            order.clear();
            order.extend(leaves.iter().filter(|&&l| l != leaf).map(|&l| {
                let gap = (self.kern.gap)(q, t.bounds(l), self.reach);
                (gap.to_bits() as u64) << 32 | l as u64
            }));
            order.sort_unstable();
            for &w in &order {
                let (gap, l) = (f32::from_bits((w >> 32) as u32), w as u32 as usize);
                // sorted: every later leaf is at least as far
                if gap > self.reach {
                    break;
                }
                self.scan(l);
            }
            self.flat = Some((leaves, order));
        } else {
            self.visit(0);
        }
    }

    fn visit(&mut self, node: usize) {
        let t = self.tree;
        let nd = t.nodes[node];
        if nd.kids[1] == LEAF_MARK {
            if node != self.leaf {
                self.scan(node);
            }
            return;
        }
        let [l, r] = nd.kids.map(|c| c as usize);
        let q = t.bounds(self.leaf);
        let (dl, dr) = (
            (self.kern.gap)(q, t.bounds(l), self.reach),
            (self.kern.gap)(q, t.bounds(r), self.reach),
        );
        let ((near, dn), (far, df)) = if dl <= dr {
            ((l, dl), (r, dr))
        } else {
            ((r, dr), (l, dl))
        };
        if dn <= self.reach {
            self.visit(near);
        }
        if df <= self.reach {
            self.visit(far);
        }
    }

    /// Offer the rows of leaf `node` to the queries of the batch whose own bound reaches
    /// its box.
    fn scan(&mut self, node: usize) {
        let t = self.tree;
        let (dim, dp) = (t.dim, t.dp);
        let nd = t.nodes[node];
        let (lo, hi) = t.boxes[2 * dp * node..][..2 * dp].split_at(dp);
        // the box's first `box_cols` sides: a lower bound on the distance all the same
        let bc = t.box_cols;
        let sel = (self.kern.boxes)(t.block(self.leaf), &lo[..bc], &hi[..bc], &self.bounds);
        if sel == 0 {
            return;
        }

        (self.kern.rows)(
            t.block(node),
            t.block(self.leaf),
            dim,
            sel,
            &self.bounds,
            &mut self.dists,
            &mut self.masks,
        );
        let start = nd.start as usize;
        let lanes = u64::MAX >> (64 - (nd.end as usize - start));
        let ids = &t.idx[start..nd.end as usize];
        let mut rows = sel;
        let mut offered = false;
        while rows != 0 {
            let j = rows.trailing_zeros() as usize;
            rows &= rows - 1;
            let mut hits = self.masks[j] & lanes;
            if node == self.leaf {
                // no row is its own neighbour (query j is lane j of its own leaf)
                hits &= !(1u64 << j);
            }
            if hits != 0 {
                let top = &mut self.tops[j];
                top.offer(&self.dists[j], hits, ids);
                self.kth[j] = top.kth();
                offered = true;
            }
        }
        if !offered {
            return; // no list changed: the bounds stand
        }
        let m = self.m;
        self.prune.bounds(&self.kth[..m], &mut self.bounds[..m]);
        // a plain compare (bounds are never NaN) so this vectorises
        self.reach = self.bounds[..m]
            .iter()
            .fold(0f32, |r, &b| if b > r { b } else { r });
    }
}

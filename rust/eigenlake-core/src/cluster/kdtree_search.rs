//! Queries of the k-d tree (`kdtree`), a leaf at a time: the leaf's rows walk the tree
//! together, nearer child first, entering a node only if its box is within the largest
//! current k-th distance of those rows (box-to-box distance); each row then takes only
//! the leaves whose box is within its own k-th distance, and of those only the lanes within
//! it. The walk is shared by up to `LEAF` queries and the distances are SIMD blocks.
//!
//! Ties: neighbours are ordered by (distance, row), so the result is the one a stable
//! brute-force sort gives, whatever order the tree visits rows in.

use rayon::prelude::*;

use super::kdtree::{KdTree, LEAF_MARK};
use super::kdtree_kernels::{kernels, Kernels, LEAF};
use super::topk::{unkey, Neighbours, Top};

impl KdTree {
    /// The `k` nearest other rows of every row: original ids and squared euclidean
    /// distances, row-major in original row order, nearest first.
    pub(crate) fn knn_sq(&self, k: usize) -> (Vec<u32>, Vec<f32>) {
        let kern = kernels();
        #[cfg(target_arch = "x86_64")]
        if kern.sorted_top && k <= super::topk_avx512::MAX_K {
            return self.knn_with(k, kern, super::topk_avx512::SortedTop::new);
        }
        self.knn_with(k, kern, Top::new)
    }

    /// `knn_sq` with the top-k list made by `list`.
    pub(super) fn knn_with<T: Neighbours>(
        &self,
        k: usize,
        kern: Kernels,
        list: fn(usize) -> T,
    ) -> (Vec<u32>, Vec<f32>) {
        let n = self.idx.len();
        // one output slice per leaf (leaves cover the tree positions in order)
        let leaves: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].kids[1] == LEAF_MARK)
            .collect();
        let mut keys_t = vec![0u64; n * k];
        let mut parts = Vec::with_capacity(leaves.len());
        let mut rest = keys_t.as_mut_slice();
        for &l in &leaves {
            let nd = self.nodes[l];
            let (head, tail) = rest.split_at_mut((nd.end - nd.start) as usize * k);
            parts.push((l, head));
            rest = tail;
        }
        parts.into_par_iter().for_each_init(
            || Batch::new(self, kern, (0..LEAF).map(|_| list(k)).collect()),
            |b, (l, out)| {
                b.run(l);
                for (o, top) in out.chunks_mut(k).zip(&mut b.tops[..b.m]) {
                    o.copy_from_slice(top.finish());
                }
            },
        );
        // back to original row order
        let mut pos = vec![0u32; n];
        self.idx
            .iter()
            .enumerate()
            .for_each(|(p, &i)| pos[i as usize] = p as u32);
        let mut ids = vec![0u32; n * k];
        let mut dist = vec![0f32; n * k];
        ids.par_chunks_mut(k)
            .zip(dist.par_chunks_mut(k))
            .zip(&pos)
            .for_each(|((io, dout), &p)| {
                let row = &keys_t[p as usize * k..][..k];
                for ((i, d), &key) in io.iter_mut().zip(dout.iter_mut()).zip(row) {
                    (*d, *i) = unkey(key);
                }
            });
        (ids, dist)
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
    dists: Box<[[f32; LEAF]; LEAF]>,
    masks: [u64; LEAF],
    /// The query leaf (node index) and its row count.
    leaf: usize,
    m: usize,
}

impl<'a, T: Neighbours> Batch<'a, T> {
    fn new(tree: &'a KdTree, kern: Kernels, tops: Vec<T>) -> Self {
        Batch {
            tree,
            kern,
            tops,
            bounds: [-1.0; LEAF],
            reach: f32::INFINITY,
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
        self.reach = f32::INFINITY;
        self.leaf = leaf;
        self.visit(0);
    }

    fn visit(&mut self, node: usize) {
        let t = self.tree;
        let nd = t.nodes[node];
        if nd.kids[1] == LEAF_MARK {
            self.scan(node);
            return;
        }
        let [l, r] = nd.kids.map(|c| c as usize);
        let (dl, dr) = (
            t.box_gap(self.leaf, l, self.reach),
            t.box_gap(self.leaf, r, self.reach),
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
        let q = t.nodes[self.leaf];
        let (q0, m) = (q.start as usize, self.m);
        let (lo, hi) = t.boxes[2 * dp * node..][..2 * dp].split_at(dp);
        let sel = (self.kern.boxes)(t.block(self.leaf), &lo[..dim], &hi[..dim], &self.bounds);
        if sel == 0 {
            return;
        }

        (self.kern.rows)(
            t.block(node),
            &t.data[q0 * dim..(q0 + m) * dim],
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
        while rows != 0 {
            let j = rows.trailing_zeros() as usize;
            rows &= rows - 1;
            let mut hits = self.masks[j] & lanes;
            if node == self.leaf {
                // no row is its own neighbour (query j is lane j of its own leaf)
                hits &= !(1u64 << j);
            }
            let top = &mut self.tops[j];
            top.offer(&self.dists[j], hits, ids);
            self.bounds[j] = top.bound();
        }
        self.reach = self.bounds[..m].iter().copied().fold(0.0, f32::max);
    }
}

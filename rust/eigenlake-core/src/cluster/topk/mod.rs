//! A bounded list of the k nearest neighbours of one row, as sortable words.
//!
//! CONTRACT: the `Neighbours` trait, `Prune`, `key`/`unkey`. `scalar` is the portable
//! buffer-and-select list (`Top`, any k, the fallback); `avx2` and `avx512` keep k ≤ 32
//! keys sorted in registers. The list is a type parameter of the search, so its caller
//! (`KdTree::knn_sq` in `kdtree_search`) picks one per call from the ISA that
//! `distance::active` checked (`kdtree_kernels::Kernels::sorted_top`).

#[cfg(target_arch = "x86_64")]
pub(super) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(super) mod avx512;
mod scalar;

pub(crate) use scalar::Top;

use super::kdtree_kernels::LEAF;

/// Relative allowance on the pruning bound: box distances are float sums, and a row
/// exactly at the k-th distance with a smaller index must still be reached.
const PRUNE_SLACK: f32 = 1e-5;

/// How a list turns its keys into a pruning bound: from its `rank`-th nearest key (the
/// list may keep spares past it), widened by `e`, an absolute allowance in euclidean units
/// for distances measured on rotated rows (their rounding is proportional to the rows'
/// size, not to the distance).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prune {
    pub(crate) rank: usize,
    pub(crate) e: f32,
}

impl Prune {
    /// Bound from the k-th key of a list of k, on exact distances.
    pub(crate) fn exact(k: usize) -> Self {
        Prune { rank: k, e: 0.0 }
    }

    /// `bound` of each k-th distance in `kth`, into `out`: one pass over a leaf's rows
    /// after their offers (the square roots vectorise, and no offer waits on one).
    pub(crate) fn bounds(&self, kth: &[f32], out: &mut [f32]) {
        for (o, &sq) in out.iter_mut().zip(kth) {
            *o = self.bound(sq);
        }
    }

    #[inline]
    pub(crate) fn bound(&self, sq: f32) -> f32 {
        if self.e == 0.0 {
            sq * (1.0 + PRUNE_SLACK)
        } else {
            let r = sq.sqrt() * (1.0 + PRUNE_SLACK) + self.e;
            r * r
        }
    }
}

/// The running k nearest of one query row, fed a leaf at a time.
pub(crate) trait Neighbours {
    fn clear(&mut self);
    /// How the list's keys bound the search.
    fn prune(&self) -> Prune;
    /// Squared distance of the key at the pruning rank (∞ until that many are known);
    /// `prune().bound` of it is the distance beyond which no row can enter.
    fn kth(&self) -> f32;
    /// Offer the lanes set in `hits` of one leaf: squared distances and original rows.
    fn offer(&mut self, dists: &[f32; LEAF], hits: u64, ids: &[u32]);
    /// The nearest keys found, nearest first: at least the pruning rank, at most k (spares
    /// past the rank are kept only while they are within the bound).
    fn finish(&mut self) -> &[u64];
}

/// A neighbour as one sortable word: squared distance bits (non-negative floats order as
/// their bits) above the original row, so ties go to the smaller row.
#[inline]
pub(crate) fn key(d: f32, i: u32) -> u64 {
    ((d.to_bits() as u64) << 32) | i as u64
}

#[inline]
pub(crate) fn unkey(key: u64) -> (f32, u32) {
    (f32::from_bits((key >> 32) as u32), key as u32)
}

/// Test oracle for any `Neighbours` list: leaves of random distances (many ties) offered in
/// random order, for every k up to `max_k`, end as the k smallest (distance, row) keys,
/// nearest first, bounded by the k-th.
#[cfg(test)]
pub(crate) fn check_list<T: Neighbours>(make: impl Fn(usize) -> T, max_k: usize, seed: u64) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for round in 0..300 {
        let k = 1 + round % max_k;
        let mut top = make(k);
        let mut all = Vec::new();
        for leaf in 0..rng.random_range(1..6u32) {
            let dists: [f32; LEAF] = std::array::from_fn(|_| rng.random_range(0..10) as f32 * 0.5);
            let ids: Vec<u32> = (0..LEAF as u32).map(|l| leaf * 100 + l).collect();
            let hits: u64 = rng.random::<u32>() as u64;
            for l in (0..LEAF).filter(|&l| hits >> l & 1 == 1) {
                all.push(key(dists[l], ids[l]));
            }
            top.offer(&dists, hits, &ids);
        }
        all.sort_unstable();
        all.truncate(k);
        assert_eq!(top.finish(), all.as_slice(), "round {round}, k {k}");
        if all.len() == k {
            assert_eq!(top.kth(), unkey(all[k - 1]).0);
        }
    }
}

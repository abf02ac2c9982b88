//! A bounded list of the k nearest neighbours of one row, as sortable words.

use super::kdtree_kernels::LEAF;

/// Relative allowance on the pruning bound: box distances are float sums, and a row
/// exactly at the k-th distance with a smaller index must still be reached.
const PRUNE_SLACK: f32 = 1e-5;

/// Spare candidates a list may carry past a leaf before it is cut back to k.
const CUT_SLACK: usize = 12;

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

/// The k smallest neighbour keys. Candidates within the bound are appended unsorted and
/// cut back to the k smallest (`select_nth`) when the buffer fills: a few cycles per
/// candidate instead of an ordered insert. (Keeping the best k sorted and merging the new
/// ones in at each cut was tried: 5–12% slower on the anomaly tables.)
pub(crate) struct Top {
    pub(crate) k: usize,
    pub(crate) keys: Vec<u64>,
    /// Squared distance at the pruning rank as of the last cut (∞ until k rows are known).
    pub(crate) kth: f32,
    /// The k-th key at the last cut: a candidate not below it can never enter (this drops
    /// rows tied with the k-th at a larger index, which the distance bound lets through).
    worst: u64,
    prune: Prune,
}

impl Top {
    pub(crate) fn new(k: usize, prune: Prune) -> Self {
        assert!((1..=k).contains(&prune.rank));
        Top {
            k,
            keys: Vec::with_capacity(Self::cap(k)),
            kth: f32::INFINITY,
            worst: u64::MAX,
            prune,
        }
    }

    fn cap(k: usize) -> usize {
        2 * k + 8
    }

    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.kth = f32::INFINITY;
        self.worst = u64::MAX;
    }

    #[inline]
    pub(crate) fn push(&mut self, d: f32, i: u32) {
        let kv = key(d, i);
        if kv >= self.worst {
            return;
        }
        self.keys.push(kv);
        // first k known: a finite bound; buffer full: back to k
        if self.keys.len() == Self::cap(self.k)
            || (self.keys.len() == self.k && self.kth == f32::INFINITY)
        {
            self.cut();
        }
    }

    /// Keep the k smallest keys (unordered) and bound by the k-th.
    pub(crate) fn cut(&mut self) {
        let k = self.k;
        let kth = match self.keys.len().cmp(&k) {
            std::cmp::Ordering::Less => return,
            // the k-th smallest lands at k − 1
            std::cmp::Ordering::Greater => *self.keys.select_nth_unstable(k - 1).1,
            std::cmp::Ordering::Equal => self.keys.iter().copied().max().unwrap_or(0),
        };
        self.keys.truncate(k);
        self.worst = kth;
        let at_rank = match self.prune.rank {
            r if r == k => kth,
            r => *self.keys.select_nth_unstable(r - 1).1,
        };
        self.kth = self.kth.min(unkey(at_rank).0);
    }

    /// The k nearest, nearest first.
    pub(crate) fn finish(&mut self) -> &[u64] {
        self.cut();
        self.keys.sort_unstable();
        &self.keys
    }
}

impl Neighbours for Top {
    fn clear(&mut self) {
        Top::clear(self);
    }

    fn prune(&self) -> Prune {
        self.prune
    }

    fn kth(&self) -> f32 {
        self.kth
    }

    fn offer(&mut self, dists: &[f32; LEAF], mut hits: u64, ids: &[u32]) {
        while hits != 0 {
            let lane = hits.trailing_zeros() as usize;
            hits &= hits - 1;
            self.push(dists[lane], ids[lane]);
        }
        if self.keys.len() > self.k + CUT_SLACK {
            self.cut();
        }
    }

    fn finish(&mut self) -> &[u64] {
        Top::finish(self)
    }
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

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn offered_leaf_by_leaf_keeps_the_k_smallest_keys() {
        check_list(|k| Top::new(k, Prune::exact(k)), 40, 3);
    }

    /// Whatever the order candidates arrive in (many tied distances, cuts at every size),
    /// the list ends as the k smallest (distance, row) pairs in order.
    #[test]
    fn keeps_the_k_smallest_keys_in_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for round in 0..200 {
            let k = 1 + round % 25;
            let n = rng.random_range(0..120);
            let mut cands: Vec<(f32, u32)> = (0..n)
                .map(|i| (rng.random_range(0..8) as f32 * 0.25, i as u32))
                .collect();
            let mut want: Vec<u64> = cands.iter().map(|&(d, i)| key(d, i)).collect();
            want.sort_unstable();
            want.truncate(k);
            // shuffle the arrival order
            for i in (1..cands.len()).rev() {
                cands.swap(i, rng.random_range(0..=i));
            }
            let mut top = Top::new(k, Prune::exact(k));
            for (m, &(d, i)) in cands.iter().enumerate() {
                // offered only while within the bound, as the searches do
                if d <= Prune::exact(k).bound(top.kth) {
                    top.push(d, i);
                }
                if m % 7 == 0 && top.keys.len() > k {
                    top.cut();
                }
            }
            assert_eq!(top.finish(), want.as_slice(), "round {round}, k {k}, n {n}");
        }
    }
}

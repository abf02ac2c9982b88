//! The portable top-k list: candidates within the bound are buffered and cut back to the
//! k smallest now and then. Any k, any CPU; the fallback of the sorted SIMD lists.

use super::super::kdtree_kernels::LEAF;
use super::{key, unkey, Neighbours, Prune};

/// Spare candidates a list may carry past a leaf before it is cut back to k.
const CUT_SLACK: usize = 12;

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

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::super::check_list;
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

//! The k ≤ 32 nearest keys of one row kept sorted in AVX-512 registers' worth of memory.
//!
//! Each accepted candidate is placed with a min, a max and a lane shift per 8-key register
//! (no masks, no chain between registers), so the pruning bound is exact after every leaf
//! and there is no batch selection: on the anomaly tables the buffer-and-`select_nth` list
//! of `scalar` spent a quarter of the kNN time in its cuts.

use std::arch::x86_64::*;

use super::super::kdtree_kernels::LEAF;
use super::{key, unkey, Neighbours, Prune};

/// Keys per register and the most the list holds.
const LANES: usize = 8;
pub(crate) const MAX_K: usize = 32;

#[repr(C, align(64))]
pub(crate) struct SortedTop {
    /// Ascending; slots past the keys found so far hold `u64::MAX`.
    keys: [u64; MAX_K],
    k: usize,
    prune: Prune,
}

impl SortedTop {
    /// Only for `k ≤ MAX_K`, and only once the CPU is known to have AVX-512F.
    pub(crate) fn new(k: usize, prune: Prune) -> Self {
        assert!((1..=MAX_K).contains(&k) && (1..=k).contains(&prune.rank));
        assert!(std::arch::is_x86_feature_detected!("avx512f"));
        SortedTop {
            keys: [u64::MAX; MAX_K],
            k,
            prune,
        }
    }
}

impl Neighbours for SortedTop {
    fn clear(&mut self) {
        self.keys = [u64::MAX; MAX_K];
    }

    fn prune(&self) -> Prune {
        self.prune
    }

    fn kth(&self) -> f32 {
        match self.keys[self.prune.rank - 1] {
            u64::MAX => f32::INFINITY,
            kv => unkey(kv).0,
        }
    }

    fn offer(&mut self, dists: &[f32; LEAF], hits: u64, ids: &[u32]) {
        if hits == 0 {
            return;
        }
        assert!(ids.len() >= 64 - hits.leading_zeros() as usize);
        // SAFETY: `new` checked the CPU for AVX-512F; `ids` covers every hit lane (asserted)
        unsafe {
            match self.k.div_ceil(LANES) {
                1 => offer::<1>(&mut self.keys, self.k - 1, dists, hits, ids.as_ptr()),
                2 => offer::<2>(&mut self.keys, self.k - 1, dists, hits, ids.as_ptr()),
                3 => offer::<3>(&mut self.keys, self.k - 1, dists, hits, ids.as_ptr()),
                _ => offer::<4>(&mut self.keys, self.k - 1, dists, hits, ids.as_ptr()),
            }
        }
    }

    fn finish(&mut self) -> &[u64] {
        // spares past the pruning rank may never have been offered
        let filled = self.keys[..self.k].partition_point(|&kv| kv != u64::MAX);
        &self.keys[..filled]
    }
}

/// Insert the hit lanes whose key is below the k-th (slot `kth`) into the sorted keys,
/// `N` registers of which are live (slots from k on are spare: sorted, but not results).
#[target_feature(enable = "avx512f")]
unsafe fn offer<const N: usize>(
    keys: &mut [u64; MAX_K],
    kth: usize,
    dists: &[f32; LEAF],
    mut hits: u64,
    ids: *const u32,
) {
    let p = keys.as_mut_ptr() as *mut __m512i;
    let mut r: [__m512i; N] = std::array::from_fn(|i| _mm512_load_si512(p.add(i)));
    let (kreg, kidx) = (kth / LANES, _mm512_set1_epi64((kth % LANES) as i64));
    let lane_of = |r: __m512i| {
        _mm_cvtsi128_si64(_mm512_castsi512_si128(_mm512_permutexvar_epi64(kidx, r))) as u64
    };
    // the k-th key as of this leaf: a candidate the leaf's earlier ones pushed past the
    // k-th place still gets placed (beyond slot k, where it does no harm), which is cheaper
    // than reading the k-th slot back after every insert (a serial lane extraction)
    let worst = lane_of(r[kreg]);
    while hits != 0 {
        let lane = hits.trailing_zeros() as usize;
        hits &= hits - 1;
        let kv = key(dists[lane], *ids.add(lane));
        if kv >= worst {
            continue;
        }
        let v = _mm512_set1_epi64(kv as i64);
        // slot i takes its left neighbour's key if that is above `kv` (it moves up), else
        // min(own key, kv): the first key above `kv` gives way to it. In the sorted list
        // that is max(min(own, kv), left neighbour), with 0 left of slot 0; each register
        // reads only old keys, so the registers do not wait on each other.
        let mut left = _mm512_setzero_si512();
        for reg in r.iter_mut() {
            let cur = *reg;
            // [last key of the register before, keys 0..7 of this one]
            let shifted = _mm512_alignr_epi64::<7>(cur, left);
            *reg = _mm512_max_epu64(_mm512_min_epu64(cur, v), shifted);
            left = cur;
        }
    }
    for (i, &reg) in r.iter().enumerate() {
        _mm512_store_si512(p.add(i), reg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::topk::check_list;
    use crate::distance::{kernels_for, Isa};

    /// Every register count (k up to 32), against the shared oracle.
    #[test]
    fn keeps_the_k_smallest_keys_sorted() {
        if kernels_for(Isa::Avx512).is_none() {
            eprintln!("no AVX-512F on this CPU: the sorted list is not used here");
            return;
        }
        check_list(|k| SortedTop::new(k, Prune::exact(k)), MAX_K, 4);
    }
}

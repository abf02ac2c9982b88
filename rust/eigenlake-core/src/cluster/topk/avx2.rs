//! The k ≤ 32 nearest keys of one row kept sorted in AVX2 registers' worth of memory: the
//! AVX2 form of `avx512` (same insert, max(min(key, new), left neighbour) per slot).
//! AVX2 has no unsigned 64-bit min/max, but keys stay below 2^63 (a finite squared distance
//! has its sign bit clear), so signed compares and blends order them; empty slots hold
//! `i64::MAX`, above every key.

use std::arch::x86_64::*;

use super::super::kdtree_kernels::LEAF;
use super::{key, unkey, Neighbours, Prune};

/// Keys per register and the most the list holds.
const LANES: usize = 4;
pub(crate) const MAX_K: usize = 32;
const EMPTY: u64 = i64::MAX as u64;

#[repr(C, align(32))]
pub(crate) struct SortedTop256 {
    /// Ascending; slots past the keys found so far hold `EMPTY`.
    keys: [u64; MAX_K],
    k: usize,
    prune: Prune,
}

impl SortedTop256 {
    /// Only for `k ≤ MAX_K`; checks the CPU for AVX2.
    pub(crate) fn new(k: usize, prune: Prune) -> Self {
        assert!((1..=MAX_K).contains(&k) && (1..=k).contains(&prune.rank));
        assert!(std::arch::is_x86_feature_detected!("avx2"));
        SortedTop256 {
            keys: [EMPTY; MAX_K],
            k,
            prune,
        }
    }
}

impl Neighbours for SortedTop256 {
    fn clear(&mut self) {
        self.keys = [EMPTY; MAX_K];
    }

    fn prune(&self) -> Prune {
        self.prune
    }

    fn kth(&self) -> f32 {
        match self.keys[self.prune.rank - 1] {
            EMPTY => f32::INFINITY,
            kv => unkey(kv).0,
        }
    }

    fn offer(&mut self, dists: &[f32; LEAF], hits: u64, ids: &[u32]) {
        if hits == 0 {
            return;
        }
        assert!(ids.len() >= 64 - hits.leading_zeros() as usize);
        let worst = self.keys[self.k - 1];
        let keys = &mut self.keys;
        // SAFETY: `new` checked the CPU for AVX2; `ids` covers every hit lane (asserted)
        unsafe {
            match self.k.div_ceil(LANES) {
                1 => offer::<1>(keys, worst, dists, hits, ids.as_ptr()),
                2 => offer::<2>(keys, worst, dists, hits, ids.as_ptr()),
                3 => offer::<3>(keys, worst, dists, hits, ids.as_ptr()),
                4 => offer::<4>(keys, worst, dists, hits, ids.as_ptr()),
                5 => offer::<5>(keys, worst, dists, hits, ids.as_ptr()),
                6 => offer::<6>(keys, worst, dists, hits, ids.as_ptr()),
                7 => offer::<7>(keys, worst, dists, hits, ids.as_ptr()),
                _ => offer::<8>(keys, worst, dists, hits, ids.as_ptr()),
            }
        }
    }

    fn finish(&mut self) -> &[u64] {
        // spares past the pruning rank may never have been offered
        let filled = self.keys[..self.k].partition_point(|&kv| kv != EMPTY);
        &self.keys[..filled]
    }
}

/// Insert the hit lanes whose key is below `worst` (the k-th as of this leaf; see
/// `avx512`) into the sorted keys, `N` registers of which are live.
#[target_feature(enable = "avx2")]
unsafe fn offer<const N: usize>(
    keys: &mut [u64; MAX_K],
    worst: u64,
    dists: &[f32; LEAF],
    mut hits: u64,
    ids: *const u32,
) {
    let p = keys.as_mut_ptr() as *mut __m256i;
    let mut r: [__m256i; N] = std::array::from_fn(|i| _mm256_load_si256(p.add(i)));
    while hits != 0 {
        let lane = hits.trailing_zeros() as usize;
        hits &= hits - 1;
        let kv = key(dists[lane], *ids.add(lane));
        if kv >= worst {
            continue;
        }
        let v = _mm256_set1_epi64x(kv as i64);
        let mut left = _mm256_setzero_si256();
        for reg in r.iter_mut() {
            let cur = *reg;
            // [last key of the register before, keys 0..3 of this one]
            let rot = _mm256_permute4x64_epi64::<0b10_01_00_11>(cur);
            let prev = _mm256_permute4x64_epi64::<0b11_11_11_11>(left);
            let shifted = _mm256_blend_epi32::<0b0000_0011>(rot, prev);
            let low = _mm256_blendv_epi8(cur, v, _mm256_cmpgt_epi64(cur, v));
            *reg = _mm256_blendv_epi8(low, shifted, _mm256_cmpgt_epi64(shifted, low));
            left = cur;
        }
    }
    for (i, &reg) in r.iter().enumerate() {
        _mm256_store_si256(p.add(i), reg);
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
        if kernels_for(Isa::Avx2).is_none() {
            eprintln!("no AVX2 on this CPU: the sorted list is not used here");
            return;
        }
        check_list(|k| SortedTop256::new(k, Prune::exact(k)), MAX_K, 5);
    }
}

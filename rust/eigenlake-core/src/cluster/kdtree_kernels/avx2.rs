//! AVX2 kernels of the k-d tree search: a leaf's 32 lanes are four 8-lane registers.

use std::arch::x86_64::*;

use super::{EXIT_EVERY, LEAF};

/// 8 lanes at a time, then a last group of 4 (`dp` is a multiple of 4).
#[target_feature(enable = "avx2,fma")]
fn gap256(a: &[f32], b: &[f32], limit: f32) -> f32 {
    let dp = a.len() / 2;
    assert!(b.len() == a.len() && dp.is_multiple_of(4));
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut sum = 0.0;
    let mut c = 0;
    while c + 8 <= dp {
        // SAFETY: c + 8 <= dp, within each half of a and b
        let (al, ah, bl, bh) = unsafe {
            (
                _mm256_loadu_ps(pa.add(c)),
                _mm256_loadu_ps(pa.add(dp + c)),
                _mm256_loadu_ps(pb.add(c)),
                _mm256_loadu_ps(pb.add(dp + c)),
            )
        };
        let t = _mm256_max_ps(
            _mm256_max_ps(_mm256_sub_ps(bl, ah), _mm256_sub_ps(al, bh)),
            _mm256_setzero_ps(),
        );
        let t = _mm256_mul_ps(t, t);
        let h = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps::<1>(t));
        let h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        sum += _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps::<1>(h, h)));
        if sum > limit {
            return sum;
        }
        c += 8;
    }
    if c < dp {
        // SAFETY: c + 4 == dp
        let (al, ah, bl, bh) = unsafe {
            (
                _mm_loadu_ps(pa.add(c)),
                _mm_loadu_ps(pa.add(dp + c)),
                _mm_loadu_ps(pb.add(c)),
                _mm_loadu_ps(pb.add(dp + c)),
            )
        };
        let t = _mm_max_ps(
            _mm_max_ps(_mm_sub_ps(bl, ah), _mm_sub_ps(al, bh)),
            _mm_setzero_ps(),
        );
        let t = _mm_mul_ps(t, t);
        let h = _mm_add_ps(t, _mm_movehl_ps(t, t));
        sum += _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps::<1>(h, h)));
    }
    sum
}

#[target_feature(enable = "avx2")]
fn boxes256(qblock: &[f32], lo: &[f32], hi: &[f32], bounds: &[f32; LEAF]) -> u64 {
    let mut a = [_mm256_setzero_ps(); 4];
    let zero = _mm256_setzero_ps();
    let within = |a: &[__m256; 4]| {
        let mut m = 0u64;
        for (r, &acc) in a.iter().enumerate() {
            // SAFETY: `bounds` holds LEAF = 32 floats
            let b = unsafe { _mm256_loadu_ps(bounds.as_ptr().add(8 * r)) };
            m |= (_mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(acc, b)) as u64 & 0xff) << (8 * r);
        }
        m
    };
    for (c, ((col, &l), &h)) in qblock.chunks_exact(LEAF).zip(lo).zip(hi).enumerate() {
        if c % EXIT_EVERY == 0 && c > 0 && within(&a) == 0 {
            return 0;
        }
        let (l, h) = (_mm256_set1_ps(l), _mm256_set1_ps(h));
        for (r, acc) in a.iter_mut().enumerate() {
            // SAFETY: `col` holds LEAF = 32 floats
            let x = unsafe { _mm256_loadu_ps(col.as_ptr().add(8 * r)) };
            let t = _mm256_max_ps(
                _mm256_max_ps(_mm256_sub_ps(l, x), _mm256_sub_ps(x, h)),
                zero,
            );
            *acc = _mm256_add_ps(*acc, _mm256_mul_ps(t, t));
        }
    }
    within(&a)
}

/// Query rows measured at once: 2 rows × 4 registers are 8 independent FMA chains, enough
/// to keep both FMA units busy (one row's 4 chains ran at half rate); 16 registers leave
/// no room for 4 rows.
const ROWS256: usize = 2;

#[target_feature(enable = "avx2,fma")]
fn rows256(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    mut sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
) {
    assert!(block.len() >= dim * LEAF && qs.len() >= dim * LEAF && sel >> LEAF == 0);
    while sel != 0 {
        let j0 = sel.trailing_zeros() as usize;
        sel &= sel - 1;
        let out = (&mut *dists, &mut *masks);
        if sel == 0 {
            group256::<1>(block, qs, dim, [j0], bounds, out);
        } else {
            let j1 = sel.trailing_zeros() as usize;
            sel &= sel - 1;
            group256::<ROWS256>(block, qs, dim, [j0, j1], bounds, out);
        }
    }
}

/// `R` query rows (lanes `js` of the query block `qs`) against the 32 lanes of `block`.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn group256<const R: usize>(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    js: [usize; R],
    bounds: &[f32; LEAF],
    (dists, masks): (&mut [[f32; LEAF]; LEAF], &mut [u64; LEAF]),
) {
    assert!(block.len() >= dim * LEAF && qs.len() >= dim * LEAF);
    assert!(js.iter().all(|&j| j < LEAF));
    let b = js.map(|j| _mm256_set1_ps(bounds[j]));
    let within = |acc: &[[__m256; 4]; R]| {
        let mut any = 0;
        for (a, &br) in acc.iter().zip(&b) {
            for &x in a {
                any |= _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(x, br));
            }
        }
        any != 0
    };
    let mut acc = [[_mm256_setzero_ps(); 4]; R];
    for c in 0..dim {
        if c % EXIT_EVERY == 0 && c > 0 && !within(&acc) {
            for &j in &js {
                masks[j] = 0;
            }
            return;
        }
        // SAFETY: c < dim and the block holds dim × LEAF floats
        let x: [__m256; 4] = std::array::from_fn(|r| unsafe {
            _mm256_loadu_ps(block.as_ptr().add(c * LEAF + 8 * r))
        });
        for (a, &j) in acc.iter_mut().zip(&js) {
            // SAFETY: j < LEAF and c < dim (asserted), so within dim × LEAF
            let v = _mm256_set1_ps(unsafe { *qs.get_unchecked(c * LEAF + j) });
            for (acc_r, &x_r) in a.iter_mut().zip(&x) {
                let t = _mm256_sub_ps(x_r, v);
                *acc_r = _mm256_fmadd_ps(t, t, *acc_r);
            }
        }
    }
    for ((a, &j), &br) in acc.iter().zip(&js).zip(&b) {
        let mut m = 0u64;
        for (r, &x) in a.iter().enumerate() {
            // SAFETY: a row of `dists` holds LEAF = 32 floats
            unsafe { _mm256_storeu_ps(dists[j].as_mut_ptr().add(8 * r), x) };
            m |= (_mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(x, br)) as u64 & 0xff) << (8 * r);
        }
        masks[j] = m;
    }
}

// SAFETY (all three): only chosen by `kernels` after the CPU check of `distance::active`.
pub(super) fn gap_avx2(a: &[f32], b: &[f32], limit: f32) -> f32 {
    unsafe { gap256(a, b, limit) }
}

pub(super) fn boxes_avx2(q: &[f32], lo: &[f32], hi: &[f32], b: &[f32; LEAF]) -> u64 {
    unsafe { boxes256(q, lo, hi, b) }
}

pub(super) fn rows_avx2(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
) {
    unsafe { rows256(block, qs, dim, sel, bounds, dists, masks) }
}

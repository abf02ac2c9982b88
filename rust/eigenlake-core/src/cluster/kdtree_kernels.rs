//! SIMD kernels of the k-d tree search: a leaf is a column-major block of `LEAF` = 32
//! lanes (`dim` columns), so every step below is one broadcast and two 16-lane (AVX-512)
//! or four 8-lane (AVX2) operations. Chosen once per call from the ISA that
//! `distance::active` checked; the scalar versions are the reference and the fallback.

use crate::distance::{active, Isa};

/// Lanes per leaf block.
pub(super) const LEAF: usize = 32;

/// Per lane of a query block, whether the squared distance from that query row to the box
/// `lo..hi` is at most the lane's bound (bit `j` = lane `j`).
pub(super) type BoxFn = fn(qblock: &[f32], lo: &[f32], hi: &[f32], bounds: &[f32; LEAF]) -> u64;

/// For each query `j` selected in `sel` (lane `j` of the query leaf's block `qs`): squared
/// distances to the block's lanes into `dists[j]`, and `masks[j]` = lanes within `bounds[j]`.
pub(super) type RowsFn = fn(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
);

/// Squared distance between two boxes (each `dp` lows then `dp` highs, `dp` a multiple of
/// 4, padding lanes 0); may stop early once past `limit` (callers only compare with it).
pub(super) type GapFn = fn(a: &[f32], b: &[f32], limit: f32) -> f32;

/// Bounding box of rows `idx` of row-major `x` into `out` (`dp` lows then `dp` highs, `dp`
/// = `dim` rounded up to 4; padding lanes left 0).
pub(super) type BboxFn = fn(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]);

#[derive(Clone, Copy)]
pub(super) struct Kernels {
    pub bbox: BboxFn,
    pub gap: GapFn,
    pub boxes: BoxFn,
    pub rows: RowsFn,
    /// Keep each row's top-k sorted in AVX-512 registers (`topk_avx512`).
    pub sorted_top: bool,
}

pub(super) fn kernels() -> Kernels {
    match active().isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Kernels {
            bbox: x86::bbox_avx512,
            gap: x86::gap_avx512,
            boxes: x86::boxes_avx512,
            rows: x86::rows_avx512,
            sorted_top: true,
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Kernels {
            bbox: bbox_scalar,
            gap: x86::gap_avx2,
            boxes: x86::boxes_avx2,
            rows: x86::rows_avx2,
            sorted_top: false,
        },
        _ => Kernels {
            bbox: bbox_scalar,
            gap: gap_scalar,
            boxes: boxes_scalar,
            rows: rows_scalar,
            sorted_top: false,
        },
    }
}

/// Also the AVX2 choice: the compiler's 4-lane version of this loop is as fast there.
fn bbox_scalar(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]) {
    let dp = out.len() / 2;
    let (lo, hi) = out.split_at_mut(dp);
    let first = &x[idx[0] as usize * dim..][..dim];
    lo[..dim].copy_from_slice(first);
    hi[..dim].copy_from_slice(first);
    for &i in &idx[1..] {
        let r = &x[i as usize * dim..][..dim];
        for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(r) {
            // plain compares (no NaN handling: rows are finite) so this vectorises
            *l = if v < *l { v } else { *l };
            *h = if v > *h { v } else { *h };
        }
    }
}

fn gap_scalar(a: &[f32], b: &[f32], limit: f32) -> f32 {
    let dp = a.len() / 2;
    let (alo, ahi) = a.split_at(dp);
    let (blo, bhi) = b.split_at(dp);
    let mut sum = 0.0;
    for (((al, ah), bl), bh) in alo
        .chunks_exact(4)
        .zip(ahi.chunks_exact(4))
        .zip(blo.chunks_exact(4))
        .zip(bhi.chunks_exact(4))
    {
        let mut acc = [0f32; 4];
        for c in 0..4 {
            let t = (bl[c] - ah[c]).max(al[c] - bh[c]).max(0.0);
            acc[c] = t * t;
        }
        sum += (acc[0] + acc[1]) + (acc[2] + acc[3]);
        if sum > limit {
            break;
        }
    }
    sum
}

fn boxes_scalar(qblock: &[f32], lo: &[f32], hi: &[f32], bounds: &[f32; LEAF]) -> u64 {
    let mut acc = [0f32; LEAF];
    for ((col, &l), &h) in qblock.chunks_exact(LEAF).zip(lo).zip(hi) {
        for (a, &x) in acc.iter_mut().zip(col) {
            let t = (l - x).max(x - h).max(0.0);
            *a += t * t;
        }
    }
    lanes_le(&acc, bounds)
}

fn lanes_le(acc: &[f32; LEAF], bounds: &[f32; LEAF]) -> u64 {
    acc.iter()
        .zip(bounds)
        .enumerate()
        .fold(0, |m, (j, (&a, &b))| m | (((a <= b) as u64) << j))
}

fn rows_scalar(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    mut sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
) {
    while sel != 0 {
        let j = sel.trailing_zeros() as usize;
        sel &= sel - 1;
        let acc = &mut dists[j];
        *acc = [0.0; LEAF];
        for (col, qcol) in block
            .chunks_exact(LEAF)
            .zip(qs.chunks_exact(LEAF))
            .take(dim)
        {
            let qc = qcol[j];
            for (a, &v) in acc.iter_mut().zip(col) {
                let t = v - qc;
                *a += t * t;
            }
        }
        masks[j] = lanes_le(acc, &[bounds[j]; LEAF]);
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::LEAF;

    /// Columns between checks whether any lane is still within the bound (partial sums
    /// only grow; on rotated rows the first columns hold most of the distance).
    /// (1-thread LOF, every 4 vs 8: cardio 2.69 vs 2.64 ms, thyroid 2.94 vs 2.88, satellite
    /// 14.6 vs 14.45, shuttle unchanged: a check costs about two columns of 4 rows.)
    const EXIT_EVERY: usize = 8;

    #[target_feature(enable = "avx512f")]
    fn boxes512(qblock: &[f32], lo: &[f32], hi: &[f32], bounds: &[f32; LEAF]) -> u64 {
        let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        let zero = _mm512_setzero_ps();
        // SAFETY: `bounds` holds LEAF = 32 floats
        let (b0, b1) = unsafe {
            (
                _mm512_loadu_ps(bounds.as_ptr()),
                _mm512_loadu_ps(bounds.as_ptr().add(16)),
            )
        };
        let within = |a0, a1| {
            _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a0, b0) as u64
                | (_mm512_cmp_ps_mask::<_CMP_LE_OQ>(a1, b1) as u64) << 16
        };
        for (c, ((col, &l), &h)) in qblock.chunks_exact(LEAF).zip(lo).zip(hi).enumerate() {
            if c % EXIT_EVERY == 0 && c > 0 && within(a0, a1) == 0 {
                return 0;
            }
            let (l, h) = (_mm512_set1_ps(l), _mm512_set1_ps(h));
            // SAFETY: `col` holds LEAF = 32 floats
            let (x0, x1) = unsafe {
                (
                    _mm512_loadu_ps(col.as_ptr()),
                    _mm512_loadu_ps(col.as_ptr().add(16)),
                )
            };
            let t0 = _mm512_max_ps(
                _mm512_max_ps(_mm512_sub_ps(l, x0), _mm512_sub_ps(x0, h)),
                zero,
            );
            let t1 = _mm512_max_ps(
                _mm512_max_ps(_mm512_sub_ps(l, x1), _mm512_sub_ps(x1, h)),
                zero,
            );
            a0 = _mm512_add_ps(a0, _mm512_mul_ps(t0, t0));
            a1 = _mm512_add_ps(a1, _mm512_mul_ps(t1, t1));
        }
        within(a0, a1)
    }

    /// A row is `G` masked 16-lane loads; lows and highs stay in registers.
    #[target_feature(enable = "avx512f")]
    fn bbox512_g<const G: usize>(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]) {
        let dp = out.len() / 2;
        assert!(G * 16 >= dim && dp >= dim && !idx.is_empty());
        assert!(idx.iter().all(|&i| (i as usize + 1) * dim <= x.len()));
        let masks: [__mmask16; G] = std::array::from_fn(|g| {
            let left = dim.saturating_sub(16 * g).min(16);
            ((1u32 << left) - 1) as __mmask16
        });
        // SAFETY: each masked load reads lanes < dim of a row within `x` (asserted above)
        let load = |i: u32, g: usize| unsafe {
            _mm512_maskz_loadu_ps(masks[g], x.as_ptr().add(i as usize * dim + 16 * g))
        };
        let mut lo: [__m512; G] = std::array::from_fn(|g| load(idx[0], g));
        let mut hi = lo;
        for &i in &idx[1..] {
            for g in 0..G {
                let v = load(i, g);
                lo[g] = _mm512_min_ps(lo[g], v);
                hi[g] = _mm512_max_ps(hi[g], v);
            }
        }
        let (ol, oh) = out.split_at_mut(dp);
        for g in 0..G {
            // SAFETY: lanes < dim, within dp
            unsafe {
                _mm512_mask_storeu_ps(ol.as_mut_ptr().add(16 * g), masks[g], lo[g]);
                _mm512_mask_storeu_ps(oh.as_mut_ptr().add(16 * g), masks[g], hi[g]);
            }
        }
    }

    /// 16 lanes at a time (the last group masked); no early exit: at most four steps for the
    /// tree's dimensions, and a horizontal sum per step would cost more than it saves.
    #[target_feature(enable = "avx512f")]
    fn gap512(a: &[f32], b: &[f32], _limit: f32) -> f32 {
        let dp = a.len() / 2;
        assert!(b.len() == a.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let zero = _mm512_setzero_ps();
        let mut acc = zero;
        let mut c = 0;
        while c < dp {
            let m: __mmask16 = if dp - c >= 16 {
                0xffff
            } else {
                (1u16 << (dp - c)) - 1
            };
            // SAFETY: lanes c..c + 16 are masked to c..dp, within each half of a and b
            let (al, ah, bl, bh) = unsafe {
                (
                    _mm512_maskz_loadu_ps(m, pa.add(c)),
                    _mm512_maskz_loadu_ps(m, pa.add(dp + c)),
                    _mm512_maskz_loadu_ps(m, pb.add(c)),
                    _mm512_maskz_loadu_ps(m, pb.add(dp + c)),
                )
            };
            let t = _mm512_max_ps(
                _mm512_max_ps(_mm512_sub_ps(bl, ah), _mm512_sub_ps(al, bh)),
                zero,
            );
            acc = _mm512_fmadd_ps(t, t, acc);
            c += 16;
        }
        _mm512_reduce_add_ps(acc)
    }

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

    /// Query rows measured at once: their accumulators are independent FMA chains, so the
    /// adds do not wait on each other's latency (one row at a time ran at half rate).
    const ROWS512: usize = 4;

    #[target_feature(enable = "avx512f")]
    fn rows512(
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
            // the next (up to) four selected rows; a short last group runs as its own size
            let mut js = [0usize; ROWS512];
            let mut got = 0;
            while got < ROWS512 && sel != 0 {
                js[got] = sel.trailing_zeros() as usize;
                sel &= sel - 1;
                got += 1;
            }
            let out = (&mut *dists, &mut *masks);
            match got {
                4 => group512::<4>(block, qs, dim, [js[0], js[1], js[2], js[3]], bounds, out),
                3 => group512::<3>(block, qs, dim, [js[0], js[1], js[2]], bounds, out),
                2 => group512::<2>(block, qs, dim, [js[0], js[1]], bounds, out),
                _ => group512::<1>(block, qs, dim, [js[0]], bounds, out),
            }
        }
    }

    /// `R` query rows (lanes `js` of the query block `qs`) against the 32 lanes of `block`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn group512<const R: usize>(
        block: &[f32],
        qs: &[f32],
        dim: usize,
        js: [usize; R],
        bounds: &[f32; LEAF],
        (dists, masks): (&mut [[f32; LEAF]; LEAF], &mut [u64; LEAF]),
    ) {
        assert!(block.len() >= dim * LEAF && qs.len() >= dim * LEAF);
        assert!(js.iter().all(|&j| j < LEAF));
        let b = js.map(|j| _mm512_set1_ps(bounds[j]));
        let within = |acc: &[[__m512; 2]; R]| {
            let mut any = 0u16;
            for (a, &br) in acc.iter().zip(&b) {
                any |= _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[0], br)
                    | _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[1], br);
            }
            any != 0
        };
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for c in 0..dim {
            if c % EXIT_EVERY == 0 && c > 0 && !within(&acc) {
                for &j in &js {
                    masks[j] = 0;
                }
                return;
            }
            // SAFETY: c < dim and the block holds dim × LEAF floats
            let (x0, x1) = unsafe {
                let p = block.as_ptr().add(c * LEAF);
                (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)))
            };
            for (a, &j) in acc.iter_mut().zip(&js) {
                // SAFETY: j < LEAF and c < dim (asserted), so within dim × LEAF
                let v = _mm512_set1_ps(unsafe { *qs.get_unchecked(c * LEAF + j) });
                let (t0, t1) = (_mm512_sub_ps(x0, v), _mm512_sub_ps(x1, v));
                a[0] = _mm512_fmadd_ps(t0, t0, a[0]);
                a[1] = _mm512_fmadd_ps(t1, t1, a[1]);
            }
        }
        for ((a, &j), &br) in acc.iter().zip(&js).zip(&b) {
            let o = dists[j].as_mut_ptr();
            // SAFETY: a row of `dists` holds LEAF = 32 floats
            unsafe {
                _mm512_storeu_ps(o, a[0]);
                _mm512_storeu_ps(o.add(16), a[1]);
            }
            let m0 = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[0], br) as u64;
            let m1 = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[1], br) as u64;
            masks[j] = m0 | (m1 << 16);
        }
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
                m |= (_mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(acc, b)) as u64 & 0xff)
                    << (8 * r);
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
        while sel != 0 {
            let j = sel.trailing_zeros() as usize;
            sel &= sel - 1;
            let mut a = [_mm256_setzero_ps(); 4];
            let b = _mm256_set1_ps(bounds[j]);
            let within = |a: &[__m256; 4]| {
                a.iter().fold(0, |m, &x| {
                    m | _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(x, b))
                })
            };
            let mut out = false;
            for (c, (col, qcol)) in block
                .chunks_exact(LEAF)
                .zip(qs.chunks_exact(LEAF))
                .take(dim)
                .enumerate()
            {
                let qc = qcol[j];
                if c % EXIT_EVERY == 0 && c > 0 && within(&a) == 0 {
                    out = true;
                    break;
                }
                let v = _mm256_set1_ps(qc);
                for (r, acc) in a.iter_mut().enumerate() {
                    // SAFETY: `col` holds LEAF = 32 floats
                    let t = _mm256_sub_ps(unsafe { _mm256_loadu_ps(col.as_ptr().add(8 * r)) }, v);
                    *acc = _mm256_fmadd_ps(t, t, *acc);
                }
            }
            if out {
                masks[j] = 0;
                continue;
            }
            let mut m = 0u64;
            for (r, &acc) in a.iter().enumerate() {
                // SAFETY: a row of `dists` holds LEAF = 32 floats
                unsafe { _mm256_storeu_ps(dists[j].as_mut_ptr().add(8 * r), acc) };
                m |= (_mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(acc, b)) as u64 & 0xff)
                    << (8 * r);
            }
            masks[j] = m;
        }
    }

    // SAFETY (all seven): only chosen by `kernels` after the CPU check of `distance::active`.
    pub(super) fn bbox_avx512(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]) {
        match dim.div_ceil(16) {
            1 => unsafe { bbox512_g::<1>(x, dim, idx, out) },
            2 => unsafe { bbox512_g::<2>(x, dim, idx, out) },
            3 => unsafe { bbox512_g::<3>(x, dim, idx, out) },
            4 => unsafe { bbox512_g::<4>(x, dim, idx, out) },
            _ => super::bbox_scalar(x, dim, idx, out),
        }
    }

    pub(super) fn gap_avx512(a: &[f32], b: &[f32], limit: f32) -> f32 {
        unsafe { gap512(a, b, limit) }
    }

    pub(super) fn gap_avx2(a: &[f32], b: &[f32], limit: f32) -> f32 {
        unsafe { gap256(a, b, limit) }
    }

    pub(super) fn boxes_avx512(q: &[f32], lo: &[f32], hi: &[f32], b: &[f32; LEAF]) -> u64 {
        unsafe { boxes512(q, lo, hi, b) }
    }

    pub(super) fn boxes_avx2(q: &[f32], lo: &[f32], hi: &[f32], b: &[f32; LEAF]) -> u64 {
        unsafe { boxes256(q, lo, hi, b) }
    }

    pub(super) fn rows_avx512(
        block: &[f32],
        qs: &[f32],
        dim: usize,
        sel: u64,
        bounds: &[f32; LEAF],
        dists: &mut [[f32; LEAF]; LEAF],
        masks: &mut [u64; LEAF],
    ) {
        unsafe { rows512(block, qs, dim, sel, bounds, dists, masks) }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::kernels_for;

    #[test]
    fn simd_bounding_boxes_match_scalar() {
        #[cfg(target_arch = "x86_64")]
        if kernels_for(Isa::Avx512).is_some() {
            for dim in [1usize, 3, 9, 16, 21, 40, 64] {
                let n = 50;
                let x: Vec<f32> = (0..n * dim)
                    .map(|i| ((i * 7919) % 1013) as f32 - 500.0)
                    .collect();
                let idx: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 1).rev().collect();
                let dp = dim.div_ceil(4) * 4;
                let (mut a, mut b) = (vec![0f32; 2 * dp], vec![0f32; 2 * dp]);
                bbox_scalar(&x, dim, &idx, &mut a);
                x86::bbox_avx512(&x, dim, &idx, &mut b);
                assert_eq!(a, b, "dim {dim}");
            }
        }
    }

    /// Every SIMD version the CPU has agrees with the scalar one (masks exactly, away from
    /// the bound; distances to rounding), including early exits on far lanes.
    #[test]
    fn simd_kernels_match_scalar() {
        let mut sets = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if kernels_for(Isa::Avx2).is_some() {
                sets.push((
                    x86::gap_avx2 as GapFn,
                    x86::boxes_avx2 as BoxFn,
                    x86::rows_avx2 as RowsFn,
                ));
            }
            if kernels_for(Isa::Avx512).is_some() {
                sets.push((
                    x86::gap_avx512 as GapFn,
                    x86::boxes_avx512 as BoxFn,
                    x86::rows_avx512 as RowsFn,
                ));
            }
        }
        let mut s = 7u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        };
        for dim in [1, 3, 9, 21, 40] {
            let block: Vec<f32> = (0..dim * LEAF).map(|_| rnd()).collect();
            let qblock: Vec<f32> = (0..dim * LEAF).map(|_| rnd()).collect();
            let lo: Vec<f32> = (0..dim).map(|_| rnd() - 1.0).collect();
            let hi: Vec<f32> = lo.iter().map(|l| l + 1.0).collect();
            let mut bounds = [0f32; LEAF];
            bounds
                .iter_mut()
                .enumerate()
                .for_each(|(j, b)| *b = 0.15 * (j as f32) * dim as f32);
            // 15 rows: three full groups of four and a short one
            let sel = 0xF0F0_5554u64;
            let (mut d0, mut m0) = (Box::new([[0f32; LEAF]; LEAF]), [0u64; LEAF]);
            // the scalar reference for every row
            rows_scalar(
                &block,
                &qblock,
                dim,
                u32::MAX as u64,
                &bounds,
                &mut d0,
                &mut m0,
            );
            let b0 = boxes_scalar(&qblock, &lo, &hi, &bounds);
            // two boxes (dp lows, dp highs; padding lanes 0), overlapping in some columns
            let dp = dim.div_ceil(4) * 4;
            let mut ba = vec![0f32; 2 * dp];
            let mut bb = vec![0f32; 2 * dp];
            for c in 0..dim {
                let (x, y) = (rnd(), rnd());
                (ba[c], ba[dp + c]) = (x.min(y), x.max(y));
                let (x, y) = (rnd(), rnd());
                (bb[c], bb[dp + c]) = (x.min(y), x.max(y));
            }
            let g0 = gap_scalar(&ba, &bb, f32::INFINITY);
            for &(gf, bf, rf) in &sets {
                let g1 = gf(&ba, &bb, f32::INFINITY);
                assert!(
                    (g1 - g0).abs() <= 1e-5 * (1.0 + g0),
                    "gap, dim {dim}: {g1} vs {g0}"
                );
                // stopping early may only happen past the limit
                assert!(gf(&ba, &bb, 0.5 * g0) > 0.5 * g0 || g0 == 0.0);
                assert_eq!(bf(&qblock, &lo, &hi, &bounds), b0, "boxes, dim {dim}");
                // every group size: 4 + 4 + 4 + 3 rows, then 1, 2 and 5 rows
                for part in [sel, 0x8000_0000, 0x0000_0101, 0x0101_0101 | 1 << 30] {
                    let (mut d1, mut m1) = (Box::new([[0f32; LEAF]; LEAF]), [0u64; LEAF]);
                    rf(&block, &qblock, dim, part, &bounds, &mut d1, &mut m1);
                    for j in (0..LEAF).filter(|j| part >> j & 1 == 1) {
                        assert_eq!(m1[j], m0[j], "mask of row {j}, dim {dim}");
                        for l in (0..LEAF).filter(|l| m0[j] >> l & 1 == 1) {
                            assert!((d1[j][l] - d0[j][l]).abs() <= 1e-5 * (1.0 + d0[j][l]));
                        }
                    }
                }
            }
        }
    }
}

//! Scalar kernels of the k-d tree search: the reference the SIMD versions are tested
//! against, and the fallback on CPUs without them.

use super::LEAF;

/// Also the AVX2 choice: the compiler's 4-lane version of this loop is as fast there.
pub(super) fn bbox_scalar(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]) {
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

pub(super) fn gap_scalar(a: &[f32], b: &[f32], limit: f32) -> f32 {
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

pub(super) fn boxes_scalar(qblock: &[f32], lo: &[f32], hi: &[f32], bounds: &[f32; LEAF]) -> u64 {
    let mut acc = [0f32; LEAF];
    for ((col, &l), &h) in qblock.chunks_exact(LEAF).zip(lo).zip(hi) {
        for (a, &x) in acc.iter_mut().zip(col) {
            let t = (l - x).max(x - h).max(0.0);
            *a += t * t;
        }
    }
    lanes_le(&acc, bounds)
}

pub(super) fn lanes_le(acc: &[f32; LEAF], bounds: &[f32; LEAF]) -> u64 {
    acc.iter()
        .zip(bounds)
        .enumerate()
        .fold(0, |m, (j, (&a, &b))| m | (((a <= b) as u64) << j))
}

pub(super) fn rows_scalar(
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

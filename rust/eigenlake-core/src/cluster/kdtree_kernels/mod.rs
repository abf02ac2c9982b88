//! SIMD kernels of the k-d tree search: a leaf is a column-major block of `LEAF` = 32
//! lanes (`dim` columns), so every step below is one broadcast and two 16-lane (AVX-512)
//! or four 8-lane (AVX2) operations. Chosen once per call from the ISA that
//! `distance::active` checked; the scalar versions are the reference and the fallback.
//! One file per ISA (`scalar`, `avx2`, `avx512`), as the distance kernels.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar;

use scalar::{bbox_scalar, boxes_scalar, gap_scalar, rows_scalar};

use crate::distance::{active, Isa};

/// Lanes per leaf block.
pub(super) const LEAF: usize = 32;

/// Columns between checks whether any lane is still within the bound (partial sums
/// only grow; on rotated rows the first columns hold most of the distance).
/// (1-thread LOF, every 4 vs 8: cardio 2.69 vs 2.64 ms, thyroid 2.94 vs 2.88, satellite
/// 14.6 vs 14.45, shuttle unchanged: a check costs about two columns of 4 rows.)
pub(super) const EXIT_EVERY: usize = 8;

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
    /// Keep each row's top-k sorted in registers (`topk::avx512`, `topk::avx2`) of this ISA
    /// (`Scalar`: the portable buffer-and-select list `topk::Top`).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub sorted_top: Isa,
}

pub(super) fn kernels() -> Kernels {
    match active().isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Kernels {
            bbox: avx512::bbox_avx512,
            gap: avx512::gap_avx512,
            boxes: avx512::boxes_avx512,
            rows: avx512::rows_avx512,
            sorted_top: Isa::Avx512,
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Kernels {
            bbox: bbox_scalar,
            gap: avx2::gap_avx2,
            boxes: avx2::boxes_avx2,
            rows: avx2::rows_avx2,
            sorted_top: Isa::Avx2,
        },
        _ => Kernels {
            bbox: bbox_scalar,
            gap: gap_scalar,
            boxes: boxes_scalar,
            rows: rows_scalar,
            sorted_top: Isa::Scalar,
        },
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
                avx512::bbox_avx512(&x, dim, &idx, &mut b);
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
                    avx2::gap_avx2 as GapFn,
                    avx2::boxes_avx2 as BoxFn,
                    avx2::rows_avx2 as RowsFn,
                ));
            }
            if kernels_for(Isa::Avx512).is_some() {
                sets.push((
                    avx512::gap_avx512 as GapFn,
                    avx512::boxes_avx512 as BoxFn,
                    avx512::rows_avx512 as RowsFn,
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

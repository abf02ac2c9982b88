//! AVX-512 principal-axes kernels: the Jacobi solver with its row updates 8 lanes wide, and
//! the rotation of rows onto the axes.

use std::arch::x86_64::*;

/// `jacobi` compiled for AVX-512: the row updates run 8 lanes wide.
#[target_feature(enable = "avx512f")]
pub(super) fn jacobi_avx512(a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    super::scalar::jacobi_any(a, n)
}

/// Rows rotated at once: `G` accumulators each, all sharing the axes' loads.
const ROTATE_GROUP: usize = 4;

/// `(x − centre)·Rᵀ` for every row of `x`, with `rt` = Rᵀ row-major (`rt[c]` holds
/// coordinate `c` of every axis): a centred row is a sum of `rt`'s rows scaled by its
/// coordinates, `G` masked 16-lane registers per row.
#[target_feature(enable = "avx512f")]
fn rotate512_g<const G: usize>(x: &[f32], dim: usize, centre: &[f32], rt: &[f32], out: &mut [f32]) {
    assert!(G * 16 >= dim && centre.len() == dim && rt.len() == dim * dim);
    assert!(out.len() == x.len() && x.len().is_multiple_of(dim));
    let masks: [__mmask16; G] = std::array::from_fn(|g| {
        let left = dim.saturating_sub(16 * g).min(16);
        ((1u32 << left) - 1) as __mmask16
    });
    let mut v = [[0f32; 64]; ROTATE_GROUP];
    for (xs, os) in x
        .chunks(ROTATE_GROUP * dim)
        .zip(out.chunks_mut(ROTATE_GROUP * dim))
    {
        let r = xs.len() / dim;
        for (vr, row) in v.iter_mut().zip(xs.chunks_exact(dim)) {
            for ((t, &a), &m) in vr.iter_mut().zip(row).zip(centre) {
                *t = a - m;
            }
        }
        let mut acc = [[_mm512_setzero_ps(); G]; ROTATE_GROUP];
        for (c, axes_c) in rt.chunks_exact(dim).enumerate() {
            // SAFETY: lanes masked to < dim within `axes_c`
            let a: [__m512; G] = std::array::from_fn(|g| unsafe {
                _mm512_maskz_loadu_ps(masks[g], axes_c.as_ptr().add(16 * g))
            });
            for (acc_r, vr) in acc.iter_mut().zip(&v).take(r) {
                let s = _mm512_set1_ps(vr[c]);
                for g in 0..G {
                    acc_r[g] = _mm512_fmadd_ps(s, a[g], acc_r[g]);
                }
            }
        }
        for (acc_r, o) in acc.iter().zip(os.chunks_exact_mut(dim)) {
            for g in 0..G {
                // SAFETY: lanes masked to < dim within the output row
                unsafe { _mm512_mask_storeu_ps(o.as_mut_ptr().add(16 * g), masks[g], acc_r[g]) };
            }
        }
    }
}

// SAFETY: only chosen by `rotate_kernel` after the CPU check of `distance::active`.
pub(super) fn rotate_avx512(x: &[f32], dim: usize, centre: &[f32], rt: &[f32], out: &mut [f32]) {
    match dim.div_ceil(16) {
        1 => unsafe { rotate512_g::<1>(x, dim, centre, rt, out) },
        2 => unsafe { rotate512_g::<2>(x, dim, centre, rt, out) },
        3 => unsafe { rotate512_g::<3>(x, dim, centre, rt, out) },
        4 => unsafe { rotate512_g::<4>(x, dim, centre, rt, out) },
        _ => super::scalar::rotate_scalar(x, dim, centre, rt, out),
    }
}

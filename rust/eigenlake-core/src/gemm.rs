//! Blocked product `A · Bᵀ` of two row-major f32 matrices sharing `dim` columns.
//!
//! CONTRACT: `gemm_abt(a, b, dim, out)` writes `out[i * nb + j] = dot(a_i, b_j)`
//! where `na = a.len() / dim`, `nb = b.len() / dim`. Runs single-threaded; callers
//! parallelise over blocks of rows of `a`.

use crate::distance;

pub fn gemm_abt(a: &[f32], b: &[f32], dim: usize, out: &mut [f32]) {
    let na = a.len() / dim;
    let nb = b.len() / dim;
    debug_assert_eq!(out.len(), na * nb);
    for i in 0..na {
        let ai = &a[i * dim..(i + 1) * dim];
        let row = &mut out[i * nb..(i + 1) * nb];
        for (j, o) in row.iter_mut().enumerate() {
            *o = distance::dot(ai, &b[j * dim..(j + 1) * dim]);
        }
    }
}

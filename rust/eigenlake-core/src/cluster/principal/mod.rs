//! Principal axes of a row sample, as an orthonormal rotation (components by decreasing
//! variance). Rotating changes no euclidean distance, but on correlated features it lines
//! the k-d tree's boxes up with the data and puts most of each distance in the first
//! coordinates, where a partial sum can already reject a row.
//!
//! `scalar` holds the portable Jacobi solver and the reference rotation; `avx512` the
//! Jacobi solver compiled for AVX-512 and the rotation kernel. Both are chosen here from the
//! ISA that `distance::active` checked (other CPUs rotate with the GEMM).

#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar;

use rayon::prelude::*;

use crate::gemm::gemm_abt;

/// Rows sampled for the covariance (any orthonormal basis keeps the search exact; the
/// sample only has to find the main directions).
const SAMPLE: usize = 512;
const SWEEPS: usize = 3;
/// Stop once the off-diagonal mass is below this share of the diagonal's (squared norms):
/// axes good to ~1e-4 are plenty for a tree (any orthonormal basis keeps the search
/// exact), and full precision cost 0.5 ms of sweeps on 36 features.
const OFF_DIAG_TOL: f64 = 1e-8;
/// Off-diagonal entries below this share of their diagonal pair are left alone.
const SKIP_BELOW: f64 = 1e-6;
/// Rows per parallel piece of the rotation.
const ROTATE_ROWS: usize = 512;

/// An orthonormal basis of principal axes and the centre the rows are rotated about.
pub(crate) struct Axes {
    /// `dim × dim` row-major: row `c` is the `c`-th principal axis (decreasing variance).
    pub(crate) rot: Vec<f32>,
    /// The sample mean: rotating `x − centre` keeps the rounding of the rotated rows in
    /// proportion to their spread, not to their distance from the origin.
    pub(crate) centre: Vec<f32>,
}

/// Principal axes of a sample of the rows of `x`.
pub(crate) fn principal_axes(x: &[f32], dim: usize) -> Axes {
    let n = x.len() / dim;
    let step = n.div_ceil(SAMPLE).max(1);
    let s = n.div_ceil(step);
    let mut mean = vec![0f64; dim];
    for r in x.chunks_exact(dim).step_by(step) {
        mean.iter_mut().zip(r).for_each(|(m, &v)| *m += v as f64);
    }
    let centre: Vec<f32> = mean.iter().map(|m| (m / s as f64) as f32).collect();
    // the centred sample's coordinates as rows (dim × s): the scatter matrix is one GEMM
    let mut xt = vec![0f32; dim * s];
    for (t, r) in x.chunks_exact(dim).step_by(step).enumerate() {
        for (c, (&v, &m)) in r.iter().zip(&centre).enumerate() {
            xt[c * s + t] = v - m;
        }
    }
    let mut scatter = vec![0f32; dim * dim];
    gemm_abt(&xt, &xt, s, &mut scatter);
    let cov: Vec<f64> = scatter.iter().map(|&v| v as f64).collect();
    let (vals, vecs) = jacobi(cov, dim);
    let mut order: Vec<usize> = (0..dim).collect();
    order.sort_by(|&a, &b| vals[b].total_cmp(&vals[a]));
    // eigenvectors are the rows of `vecs`
    let rot = order
        .iter()
        .flat_map(|&c| vecs[c * dim..(c + 1) * dim].iter().map(|&v| v as f32))
        .collect();
    Axes { rot, centre }
}

/// Rows of row-major `x` as `(x − centre)·Rᵀ` into `out`, `rt` = Rᵀ row-major (`dim ×
/// dim`; row `c` holds coordinate `c` of every axis).
type RotateFn = fn(x: &[f32], dim: usize, centre: &[f32], rt: &[f32], out: &mut [f32]);

/// The rotation kernel of the active ISA, where one beats the GEMM on `dim × dim` axes.
fn rotate_kernel() -> Option<RotateFn> {
    #[cfg(target_arch = "x86_64")]
    if crate::distance::active().isa == crate::distance::Isa::Avx512 {
        return Some(avx512::rotate_avx512);
    }
    None
}

/// Rows of `x` in the rotated basis (`(x − centre) · Rᵀ`): by the rotation kernel
/// where there is one (on AVX-512 twice as fast as the GEMM for 21 features: the GEMM
/// packs both sides for a product only `dim` deep), else by the GEMM.
pub(crate) fn rotate(x: &[f32], dim: usize, axes: &Axes) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    if let Some(kernel) = rotate_kernel() {
        // Rᵀ: row c holds coordinate c of every axis
        let rt: Vec<f32> = (0..dim * dim)
            .map(|i| axes.rot[(i % dim) * dim + i / dim])
            .collect();
        out.par_chunks_mut(ROTATE_ROWS * dim)
            .zip(x.par_chunks(ROTATE_ROWS * dim))
            .for_each(|(o, xs)| kernel(xs, dim, &axes.centre, &rt, o));
        return out;
    }
    out.par_chunks_mut(ROTATE_ROWS * dim)
        .zip(x.par_chunks(ROTATE_ROWS * dim))
        .for_each_init(Vec::new, |tmp, (o, xs)| {
            tmp.resize(xs.len(), 0.0);
            for (t, r) in tmp.chunks_exact_mut(dim).zip(xs.chunks_exact(dim)) {
                for ((t, &v), &m) in t.iter_mut().zip(r).zip(&axes.centre) {
                    *t = v - m;
                }
            }
            gemm_abt(tmp, &axes.rot, dim, o)
        });
    out
}

/// Eigenvalues and eigenvectors (the rows of the second result) of a symmetric matrix by
/// cyclic Jacobi rotations. A rotation changes only rows and columns p and q: the rows are
/// updated (contiguous, so they vectorise) and copied into the columns; the eigenvectors
/// are kept as rows for the same reason.
fn jacobi(a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    #[cfg(target_arch = "x86_64")]
    if crate::distance::active().isa == crate::distance::Isa::Avx512 {
        // SAFETY: the active ISA was checked on this CPU
        return unsafe { avx512::jacobi_avx512(a, n) };
    }
    scalar::jacobi_any(a, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_orthonormal_and_sorted() {
        // a stretched, sheared cloud: the first axis must carry the largest variance
        let mut x = Vec::new();
        let mut s = 12345u64;
        for _ in 0..500 {
            let mut r = [0f32; 5];
            for v in r.iter_mut() {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                *v = ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            }
            x.extend([
                10.0 * r[0] + r[1],
                r[1],
                3.0 * r[2],
                r[3] + r[0],
                0.1 * r[4],
            ]);
        }
        let axes = principal_axes(&x, 5);
        let rot = &axes.rot;
        for a in 0..5 {
            for b in 0..5 {
                let d: f32 = (0..5).map(|c| rot[a * 5 + c] * rot[b * 5 + c]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-5, "{a} {b} {d}");
            }
        }
        let y = rotate(&x, 5, &axes);
        let var = |c: usize| y.chunks(5).map(|r| r[c] * r[c]).sum::<f32>();
        assert!((0..4).all(|c| var(c) >= var(c + 1)));
        // principal axes decorrelate: the rotated rows' covariance is diagonal
        let cov = |a: usize, b: usize| y.chunks(5).map(|r| r[a] * r[b]).sum::<f32>();
        for a in 0..5 {
            for b in 0..a {
                assert!(cov(a, b).abs() <= 1e-3 * var(0), "{a} {b}: {}", cov(a, b));
            }
        }
    }

    #[test]
    fn simd_rotation_matches_scalar() {
        #[cfg(target_arch = "x86_64")]
        if crate::distance::kernels_for(crate::distance::Isa::Avx512).is_some() {
            // row counts that leave every short last group of the four-row kernel
            for (dim, n) in [
                (5usize, 9usize),
                (12, 37),
                (16, 4),
                (21, 50),
                (36, 3),
                (64, 11),
            ] {
                let val = |i: usize| ((i * 7919) % 1013) as f32 / 101.3 - 5.0;
                let x: Vec<f32> = (0..n * dim).map(val).collect();
                let centre: Vec<f32> = (0..dim).map(|c| val(3 * c + 1) * 0.3).collect();
                let rt: Vec<f32> = (0..dim * dim).map(|i| val(i + 17) * 0.2).collect();
                let (mut a, mut b) = (vec![0f32; n * dim], vec![f32::NAN; n * dim]);
                scalar::rotate_scalar(&x, dim, &centre, &rt, &mut a);
                avx512::rotate_avx512(&x, dim, &centre, &rt, &mut b);
                for (i, (u, v)) in a.iter().zip(&b).enumerate() {
                    assert!(
                        (u - v).abs() <= 1e-4 * (1.0 + u.abs()),
                        "dim {dim} at {i}: {u} vs {v}"
                    );
                }
            }
        }
    }
}

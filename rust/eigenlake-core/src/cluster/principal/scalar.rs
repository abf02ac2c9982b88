//! Portable principal-axes kernels: the Jacobi eigen-solver (compiled again for AVX-512 by
//! `avx512`) and the reference rotation the SIMD version is tested against.

use super::{OFF_DIAG_TOL, SKIP_BELOW, SWEEPS};

#[inline(always)]
pub(super) fn jacobi_any(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut vt = vec![0f64; n * n];
    (0..n).for_each(|i| vt[i * n + i] = 1.0);
    for _ in 0..SWEEPS {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i] * a[i * n + i]).sum();
        if off <= OFF_DIAG_TOL * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let (app, aqq, apq) = (a[p * n + p], a[q * n + q], a[p * n + q]);
                // already negligible against its diagonal pair: the rotation would not
                // move the axes noticeably (later sweeps mostly take this branch)
                if apq.abs() <= SKIP_BELOW * (app * aqq).abs().sqrt() {
                    continue;
                }
                // the rotation that zeroes a[p][q]
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                rotate_rows(&mut a, n, p, q, c, s);
                for k in 0..n {
                    (a[k * n + p], a[k * n + q]) = (a[p * n + k], a[q * n + k]);
                }
                // the 2 × 2 block of Jᵀ A J (the row pass above saw only one side)
                let (cc, ss, cs) = (c * c, s * s, c * s);
                a[p * n + p] = cc * app - 2.0 * cs * apq + ss * aqq;
                a[q * n + q] = ss * app + 2.0 * cs * apq + cc * aqq;
                let pq = (cc - ss) * apq + cs * (app - aqq);
                (a[p * n + q], a[q * n + p]) = (pq, pq);
                rotate_rows(&mut vt, n, p, q, c, s);
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), vt)
}

/// Rows p and q of the row-major `n × n` matrix `m` ← (c·p − s·q, s·p + c·q).
#[inline(always)]
fn rotate_rows(m: &mut [f64], n: usize, p: usize, q: usize, c: f64, s: f64) {
    let (lo, hi) = m.split_at_mut(q * n);
    for (x, y) in lo[p * n..(p + 1) * n].iter_mut().zip(&mut hi[..n]) {
        (*x, *y) = (c * *x - s * *y, s * *x + c * *y);
    }
}

/// `(x − centre)·Rᵀ` for every row of `x`, with `rt` = Rᵀ row-major: the reference for
/// the SIMD versions (other CPUs rotate with the GEMM instead).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) fn rotate_scalar(x: &[f32], dim: usize, centre: &[f32], rt: &[f32], out: &mut [f32]) {
    let mut v = vec![0f32; dim];
    for (row, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        for ((t, &a), &m) in v.iter_mut().zip(row).zip(centre) {
            *t = a - m;
        }
        o.fill(0.0);
        for (&s, axes_c) in v.iter().zip(rt.chunks_exact(dim)) {
            for (oj, &a) in o.iter_mut().zip(axes_c) {
                *oj = s.mul_add(a, *oj);
            }
        }
    }
}

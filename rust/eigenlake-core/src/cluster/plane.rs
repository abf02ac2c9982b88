//! The plane of the two leading principal axes of some rows, and the rows' coordinates in
//! it: the 2-D picture an analysis answer carries (`projection` of `search.cluster`).
//!
//! Randomised subspace iteration (Halko, Martinsson & Tropp 2011, alg. 4.4): the centred
//! rows `C` (m × d) times a seeded Gaussian sketch of `WIDTH` columns, `POWER_STEPS` times
//! through `Cᵀ` and `C` again (each step sharpens the leading directions against the
//! rest), orthonormalised after every product; the axes are the leading right singular
//! vectors of `Qᵀ C` (WIDTH × d), found from its WIDTH × WIDTH Gram matrix. The products
//! are f32 GEMMs in fixed row blocks (the same numbers on any thread count), everything
//! WIDTH-sized is f64. The answer keeps three significant digits of the coordinates; the
//! plane is found to about (σ_{WIDTH+1}/σ₂)^(2·POWER_STEPS+1) of the rows' singular values:
//! ~1e-6 or better with clear leading directions, ~1e-4 for a few rows in many dimensions
//! (a flat tail), plenty for a picture.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::sketch::{dots, weighted_sums, WIDTH};
use crate::error::{CoreError, Result};

/// Passes through `Cᵀ` and `C` after the first product.
pub const POWER_STEPS: usize = 4;
/// Eigenvalues below this share of the largest are a rank the rows do not have.
const RANK_TOL: f64 = 1e-12;

/// The plane of `principal_plane`.
pub struct Plane {
    /// The mean of the rows (f64 sums, as f32).
    pub mean: Vec<f32>,
    /// The two axes, `2 × d` row-major, unit length (zero where the rows span fewer
    /// directions), each with its largest-magnitude loading positive.
    pub axes: Vec<f64>,
    /// The share of the rows' total variance along each axis (0 when there is none).
    pub ratio: [f64; 2],
    /// Coordinates of each row in the plane, `m × 2` row-major.
    pub coords: Vec<f32>,
}

/// The plane of rows `rows` of `x` (`dim` columns), sketched with `seed`. Only those rows
/// are read (and refused if one holds NaN or infinity).
pub fn principal_plane(x: &[f32], dim: usize, rows: &[usize], seed: u64) -> Result<Plane> {
    if dim == 0 || !x.len().is_multiple_of(dim) {
        return Err(CoreError::invalid(
            "x",
            "must be a matrix with at least one column",
        ));
    }
    let n = x.len() / dim;
    if let Some(&bad) = rows.iter().find(|&&r| r >= n) {
        return Err(CoreError::invalid(
            "rows",
            format!("row {bad} is past the {n} rows of x"),
        ));
    }
    let m = rows.len();
    if m == 0 {
        return Err(CoreError::invalid("rows", "must name at least one row"));
    }
    let mut sums = vec![0f64; dim];
    for &r in rows {
        let row = &x[r * dim..(r + 1) * dim];
        sums.iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
    }
    let mean: Vec<f32> = sums.iter().map(|s| (s / m as f64) as f32).collect();
    let mut centred = vec![0f32; m * dim];
    for (c, &r) in centred.chunks_exact_mut(dim).zip(rows) {
        let row = &x[r * dim..(r + 1) * dim];
        for ((c, &v), &mu) in c.iter_mut().zip(row).zip(&mean) {
            *c = v - mu;
        }
    }
    if !centred.iter().all(|v| v.is_finite()) {
        return Err(CoreError::invalid("x", "contains NaN or infinity"));
    }
    let total = sum_sq(&centred);

    // matrices of a few columns are kept as rows (`cols × len`)
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sketch: Vec<f32> = (0..WIDTH * dim)
        .map(|_| gaussian(&mut rng) as f32)
        .collect();
    let mut q = orthonormal(dots(&centred, dim, &sketch), m);
    for _ in 0..POWER_STEPS {
        let z = orthonormal(weighted_sums(&centred, dim, &narrow(&q)), dim);
        q = orthonormal(dots(&centred, dim, &narrow(&z)), m);
    }
    // B = Qᵀ C (c × d); its right singular vectors from B Bᵀ = U S² Uᵀ: v = Uᵀ B / s
    let c = q.len() / m;
    let b = weighted_sums(&centred, dim, &narrow(&q));
    let (w, u) = symmetric_eigen(gram(&b, c, dim), c);
    let mut order: Vec<usize> = (0..c).collect();
    order.sort_by(|&i, &j| w[j].total_cmp(&w[i]));
    let mut axes = vec![0f64; 2 * dim];
    let mut ratio = [0f64; 2];
    for (k, &e) in order.iter().take(2).enumerate() {
        if w[e] <= 0.0 {
            continue;
        }
        let axis = &mut axes[k * dim..(k + 1) * dim];
        for (a, br) in b.chunks_exact(dim).enumerate() {
            let f = u[a * c + e] / w[e].sqrt();
            axis.iter_mut().zip(br).for_each(|(o, &v)| *o += f * v);
        }
        // the first loading of the largest magnitude (as NumPy's argmax picks it)
        let big = axis
            .iter()
            .fold(0f64, |b, &v| if v.abs() > b.abs() { v } else { b });
        if big < 0.0 {
            axis.iter_mut().for_each(|v| *v = -*v);
        }
        if total > 0.0 {
            ratio[k] = w[e] / total;
        }
    }
    let xy = dots(&centred, dim, &narrow(&axes));
    let coords = transpose(&xy, 2, m).iter().map(|&v| v as f32).collect();
    Ok(Plane {
        mean,
        axes,
        ratio,
        coords,
    })
}

/// One standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Lanes of the f64 reductions below: independent partial sums, so they vectorise.
const LANES: usize = 8;

/// `a · b` in f64 over `LANES` partial sums.
#[inline(always)]
fn dot64(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0f64; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// `Σ v²` in f64 over `LANES` partial sums.
fn sum_sq(a: &[f32]) -> f64 {
    let mut acc = [0f64; LANES];
    let c = a.chunks_exact(LANES);
    let tail: f64 = c.remainder().iter().map(|&v| v as f64 * v as f64).sum();
    for x in c {
        for l in 0..LANES {
            acc[l] += x[l] as f64 * x[l] as f64;
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// The `rows × cols` row-major matrix `a` transposed.
fn transpose<T: Copy + Default>(a: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = vec![T::default(); a.len()];
    for (i, r) in a.chunks_exact(cols).enumerate() {
        for (j, &v) in r.iter().enumerate() {
            out[j * rows + i] = v;
        }
    }
    out
}

fn narrow(a: &[f64]) -> Vec<f32> {
    a.iter().map(|&v| v as f32).collect()
}

/// `G[i][j] = aᵢ · aⱼ` of the `c` rows (each `len` long) of `a`.
#[inline(always)]
fn gram(a: &[f64], c: usize, len: usize) -> Vec<f64> {
    let mut g = vec![0f64; c * c];
    for i in 0..c {
        for j in 0..=i {
            let ai = &a[i * len..(i + 1) * len];
            let aj = &a[j * len..(j + 1) * len];
            let d = dot64(ai, aj);
            (g[i * c + j], g[j * c + i]) = (d, d);
        }
    }
    g
}

/// `orthonormal_rows`, built for AVX2 where the CPU has it (f64 loops four lanes wide
/// instead of two; the same operations in the same order).
fn orthonormal(a: Vec<f64>, len: usize) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked above)
        return unsafe { orthonormal_avx2(a, len) };
    }
    orthonormal_rows(a, len)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn orthonormal_avx2(a: Vec<f64>, len: usize) -> Vec<f64> {
    orthonormal_rows(a, len)
}

/// An orthonormal basis of the span of the rows of `a` (each `len` long), as rows: SVQB
/// twice (Stathopoulos & Wu 2002). The rows are scaled to unit length, the eigenvectors of
/// their Gram matrix give the basis, directions with a negligible eigenvalue (a lower rank)
/// are dropped; the second pass restores orthogonality to machine precision.
#[inline(always)]
fn orthonormal_rows(mut a: Vec<f64>, len: usize) -> Vec<f64> {
    for _ in 0..2 {
        let mut kept = Vec::with_capacity(a.len());
        for r in a.chunks_exact(len) {
            let norm = dot64(r, r).sqrt();
            if norm > 0.0 {
                kept.extend(r.iter().map(|v| v / norm));
            }
        }
        let c = kept.len() / len.max(1);
        let (w, v) = symmetric_eigen(gram(&kept, c, len), c);
        let top = w.iter().copied().fold(0.0, f64::max);
        let mut out = Vec::with_capacity(kept.len());
        for k in (0..c).filter(|&k| w[k] > top * RANK_TOL) {
            let mut row = vec![0f64; len];
            for (i, r) in kept.chunks_exact(len).enumerate() {
                let f = v[i * c + k] / w[k].sqrt();
                row.iter_mut().zip(r).for_each(|(o, &x)| *o += f * x);
            }
            out.extend(row);
        }
        a = out;
    }
    a
}

/// Eigenvalues and eigenvectors (the columns of the `n × n` row-major second result) of a
/// small symmetric matrix, by cyclic Jacobi rotations run to machine precision.
fn symmetric_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let scale: f64 = a.iter().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|p| (p + 1..n).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        if off <= scale * f64::EPSILON * f64::EPSILON {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // A ← Jᵀ A J: columns p and q, then rows p and q
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_of_a_small_symmetric_matrix() {
        let a = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0];
        let (w, v) = symmetric_eigen(a.clone(), 3);
        for k in 0..3 {
            for i in 0..3 {
                let av: f64 = (0..3).map(|j| a[i * 3 + j] * v[j * 3 + k]).sum();
                assert!((av - w[k] * v[i * 3 + k]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn the_plane_of_a_stretched_cloud() {
        // variance 9 along e0, 4 along e1, 0.01 elsewhere
        let (m, d) = (500, 20);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut x = vec![0f32; m * d];
        for r in x.chunks_exact_mut(d) {
            for (j, v) in r.iter_mut().enumerate() {
                let sd = [3.0, 2.0].get(j).copied().unwrap_or(0.1);
                *v = (sd * gaussian(&mut rng) + 1.0) as f32;
            }
        }
        let rows: Vec<usize> = (0..m).collect();
        let p = principal_plane(&x, d, &rows, 0).unwrap();
        // the sample's own axes lean a few degrees off e0 and e1 (the exact check against
        // an SVD is tests/reference/test_principal_plane.py)
        assert!(p.axes[0] > 0.99 && p.axes[d + 1] > 0.99);
        assert!(p.ratio[0] > p.ratio[1] && p.ratio[1] > 0.25);
        assert_eq!(p.coords.len(), 2 * m);
        let again = principal_plane(&x, d, &rows, 0).unwrap();
        assert_eq!(p.coords, again.coords);
    }

    #[test]
    fn identical_rows_have_no_plane() {
        let x = vec![0.5f32; 40 * 16];
        let rows: Vec<usize> = (0..40).collect();
        let p = principal_plane(&x, 16, &rows, 3).unwrap();
        assert!(p.axes.iter().all(|&v| v == 0.0) && p.ratio == [0.0, 0.0]);
        assert!(p.coords.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn rows_outside_x_are_refused() {
        let x = vec![0f32; 4 * 3];
        assert!(principal_plane(&x, 3, &[4], 0).is_err());
        assert!(principal_plane(&x, 3, &[], 0).is_err());
    }
}

//! Products of many rows with a sketch of at most `WIDTH` vectors (`plane`'s randomised
//! subspace iteration): `dots` (each row against each sketch vector) and `weighted_sums`
//! (the rows summed with one weight per row and sketch vector).
//!
//! Both keep `WIDTH` accumulators in registers across a whole row (dots) or a whole block
//! of rows (sums), so each value of the rows is loaded once per product; a sketch of fewer
//! vectors is padded with zeros. f32 arithmetic in a fixed order over fixed blocks of
//! `BLOCK` rows: the same numbers on any thread count. The AVX-512 build uses 16 lanes and
//! fused multiply-adds (last bits differ from the 8-lane AVX2 and portable builds, which
//! agree with each other).

use rayon::prelude::*;

use crate::distance;

/// Vectors of the sketch: the two axes wanted and eight more, so the two converge fast.
pub const WIDTH: usize = 10;
/// Lanes of one accumulator (one AVX2 register).
const LANES: usize = 8;
/// Rows per parallel block.
const BLOCK: usize = 256;

/// `out[i][r] = s_i · a_r` in f64, `c × n` (`s`: `c ≤ WIDTH` vectors of `dim`, `a`: `n`
/// rows of `dim`).
pub fn dots(a: &[f32], dim: usize, s: &[f32]) -> Vec<f64> {
    let n = a.len() / dim;
    let c = s.len() / dim;
    assert!(c <= WIDTH, "dots: at most {WIDTH} sketch vectors");
    let mut padded = s.to_vec();
    padded.resize(WIDTH * dim, 0.0);
    let mut by_row = vec![0f32; n * WIDTH];
    by_row
        .par_chunks_mut(BLOCK * WIDTH)
        .zip(a.par_chunks(BLOCK * dim))
        .for_each(|(o, rows)| match isa() {
            // SAFETY: `isa` checked the CPU has the instructions of the kernel it names
            #[cfg(target_arch = "x86_64")]
            Wide::Avx512 => unsafe { dots_avx512(rows, dim, &padded, o) },
            #[cfg(target_arch = "x86_64")]
            Wide::Avx2 => unsafe { dots_avx2(rows, dim, &padded, o) },
            _ => dots_block(rows, dim, &padded, o),
        });
    let mut out = vec![0f64; c * n];
    for (r, line) in by_row.chunks_exact(WIDTH).enumerate() {
        for (i, &v) in line[..c].iter().enumerate() {
            out[i * n + r] = v as f64;
        }
    }
    out
}

/// `out[i] = Σ_r q[i][r] · a_r` in f64, `c × dim` (`q`: `c ≤ WIDTH` rows of one weight per
/// row of `a`): f32 sums over each block of rows (in parallel), added in block order.
pub fn weighted_sums(a: &[f32], dim: usize, q: &[f32]) -> Vec<f64> {
    let n = a.len() / dim;
    let c = q.len() / n.max(1);
    assert!(c <= WIDTH, "weighted_sums: at most {WIDTH} weight rows");
    // weights row by row (WIDTH per row of `a`), zero for the padding
    let mut by_row = vec![0f32; n * WIDTH];
    for (i, w) in q.chunks_exact(n.max(1)).enumerate() {
        for (r, &v) in w.iter().enumerate() {
            by_row[r * WIDTH + i] = v;
        }
    }
    let parts: Vec<Vec<f32>> = a
        .par_chunks(BLOCK * dim)
        .zip(by_row.par_chunks(BLOCK * WIDTH))
        .map(|(rows, weights)| {
            let mut acc = vec![0f32; WIDTH * dim];
            match isa() {
                // SAFETY: `isa` checked the CPU has the instructions of the kernel it names
                #[cfg(target_arch = "x86_64")]
                Wide::Avx512 => unsafe { sums_avx512(rows, dim, weights, &mut acc) },
                #[cfg(target_arch = "x86_64")]
                Wide::Avx2 => unsafe { sums_avx2(rows, dim, weights, &mut acc) },
                _ => sums_block(rows, dim, weights, &mut acc),
            }
            acc
        })
        .collect();
    let mut out = vec![0f64; c * dim];
    for p in parts {
        out.iter_mut().zip(&p).for_each(|(o, &v)| *o += v as f64);
    }
    out
}

/// Which build of the kernels runs.
#[derive(Clone, Copy)]
enum Wide {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

/// The kernels of the ISA `distance` picked (same `EIGENLAKE_SIMD` override).
fn isa() -> Wide {
    match distance::active().isa {
        #[cfg(target_arch = "x86_64")]
        distance::Isa::Avx512 => Wide::Avx512,
        #[cfg(target_arch = "x86_64")]
        distance::Isa::Avx2 => Wide::Avx2,
        _ => Wide::Portable,
    }
}

/// Lanes of an AVX-512 accumulator.
#[cfg(target_arch = "x86_64")]
const LANES512: usize = 16;

/// `dots_block` with 16-lane fused multiply-adds, the `WIDTH` accumulators in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn dots_avx512(rows: &[f32], dim: usize, s: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let whole = dim / LANES512 * LANES512;
    assert!(s.len() == WIDTH * dim && out.len() >= rows.len() / dim * WIDTH);
    for (r, o) in rows.chunks_exact(dim).zip(out.chunks_exact_mut(WIDTH)) {
        let mut acc = [_mm512_setzero_ps(); WIDTH];
        let mut k = 0;
        while k < whole {
            // SAFETY: k + LANES512 <= whole <= dim, within `r` and every sketch vector
            let x = _mm512_loadu_ps(r.as_ptr().add(k));
            for (i, a) in acc.iter_mut().enumerate() {
                let si = _mm512_loadu_ps(s.as_ptr().add(i * dim + k));
                *a = _mm512_fmadd_ps(si, x, *a);
            }
            k += LANES512;
        }
        for (i, (o, a)) in o.iter_mut().zip(&acc).enumerate() {
            let mut t = _mm512_reduce_add_ps(*a);
            for k in whole..dim {
                t += s[i * dim + k] * r[k];
            }
            *o = t;
        }
    }
}

/// `sums_block` with 16-lane fused multiply-adds, the `WIDTH` partial sums in registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sums_avx512(rows: &[f32], dim: usize, weights: &[f32], acc: &mut [f32]) {
    use std::arch::x86_64::*;
    let whole = dim / LANES512 * LANES512;
    let n = rows.len() / dim;
    assert!(weights.len() >= n * WIDTH && acc.len() == WIDTH * dim);
    let mut k = 0;
    while k < whole {
        let mut part = [_mm512_setzero_ps(); WIDTH];
        for r in 0..n {
            // SAFETY: row r < n and k + LANES512 <= dim: within `rows`
            let x = _mm512_loadu_ps(rows.as_ptr().add(r * dim + k));
            for (i, p) in part.iter_mut().enumerate() {
                let f = _mm512_set1_ps(*weights.get_unchecked(r * WIDTH + i));
                *p = _mm512_fmadd_ps(f, x, *p);
            }
        }
        for (i, p) in part.iter().enumerate() {
            _mm512_storeu_ps(acc.as_mut_ptr().add(i * dim + k), *p);
        }
        k += LANES512;
    }
    for k in whole..dim {
        for (r, w) in rows.chunks_exact(dim).zip(weights.chunks_exact(WIDTH)) {
            for (i, &f) in w.iter().enumerate() {
                acc[i * dim + k] += f * r[k];
            }
        }
    }
}

/// `dots_block` with the `WIDTH` accumulators in AVX2 registers: the same lane-wise
/// products and sums, then the lanes added in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dots_avx2(rows: &[f32], dim: usize, s: &[f32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let whole = dim / LANES * LANES;
    assert!(s.len() == WIDTH * dim && out.len() * dim >= rows.len() / dim * WIDTH * dim);
    for (r, o) in rows.chunks_exact(dim).zip(out.chunks_exact_mut(WIDTH)) {
        let mut acc = [_mm256_setzero_ps(); WIDTH];
        let mut k = 0;
        while k < whole {
            // SAFETY: k + LANES <= whole <= dim, within `r` and every sketch vector
            let x = _mm256_loadu_ps(r.as_ptr().add(k));
            for (i, a) in acc.iter_mut().enumerate() {
                let si = _mm256_loadu_ps(s.as_ptr().add(i * dim + k));
                *a = _mm256_add_ps(*a, _mm256_mul_ps(si, x));
            }
            k += LANES;
        }
        for (i, (o, a)) in o.iter_mut().zip(&acc).enumerate() {
            let mut lanes = [0f32; LANES];
            _mm256_storeu_ps(lanes.as_mut_ptr(), *a);
            let mut t = lanes.iter().sum::<f32>();
            for k in whole..dim {
                t += s[i * dim + k] * r[k];
            }
            *o = t;
        }
    }
}

/// `sums_block` with the `WIDTH` partial sums in AVX2 registers (the same order of
/// operations).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn sums_avx2(rows: &[f32], dim: usize, weights: &[f32], acc: &mut [f32]) {
    use std::arch::x86_64::*;
    let whole = dim / LANES * LANES;
    let n = rows.len() / dim;
    assert!(weights.len() >= n * WIDTH && acc.len() == WIDTH * dim);
    let mut k = 0;
    while k < whole {
        let mut part = [_mm256_setzero_ps(); WIDTH];
        for r in 0..n {
            // SAFETY: row r < n and k + LANES <= dim: within `rows`
            let x = _mm256_loadu_ps(rows.as_ptr().add(r * dim + k));
            for (i, p) in part.iter_mut().enumerate() {
                let f = _mm256_set1_ps(*weights.get_unchecked(r * WIDTH + i));
                *p = _mm256_add_ps(*p, _mm256_mul_ps(f, x));
            }
        }
        for (i, p) in part.iter().enumerate() {
            _mm256_storeu_ps(acc.as_mut_ptr().add(i * dim + k), *p);
        }
        k += LANES;
    }
    for k in whole..dim {
        for (r, w) in rows.chunks_exact(dim).zip(weights.chunks_exact(WIDTH)) {
            for (i, &f) in w.iter().enumerate() {
                acc[i * dim + k] += f * r[k];
            }
        }
    }
}

/// `out[r][i] = s_i · rows_r` for a block of rows (`s`: `WIDTH` vectors).
#[inline(always)]
fn dots_block(rows: &[f32], dim: usize, s: &[f32], out: &mut [f32]) {
    let whole = dim / LANES * LANES;
    for (r, o) in rows.chunks_exact(dim).zip(out.chunks_exact_mut(WIDTH)) {
        let mut acc = [[0f32; LANES]; WIDTH];
        for k in (0..whole).step_by(LANES) {
            let x = &r[k..k + LANES];
            for (a, si) in acc.iter_mut().zip(s.chunks_exact(dim)) {
                let si = &si[k..k + LANES];
                for l in 0..LANES {
                    a[l] += si[l] * x[l];
                }
            }
        }
        for ((o, a), si) in o.iter_mut().zip(&acc).zip(s.chunks_exact(dim)) {
            let mut t = a.iter().sum::<f32>();
            for k in whole..dim {
                t += si[k] * r[k];
            }
            *o = t;
        }
    }
}

/// `acc[i] = Σ_r weights[r][i] · rows_r` for a block of rows (`weights`: `WIDTH` per row),
/// `LANES` columns at a time so the `WIDTH` partial sums stay in registers.
#[inline(always)]
fn sums_block(rows: &[f32], dim: usize, weights: &[f32], acc: &mut [f32]) {
    let whole = dim / LANES * LANES;
    for k in (0..whole).step_by(LANES) {
        let mut part = [[0f32; LANES]; WIDTH];
        for (r, w) in rows.chunks_exact(dim).zip(weights.chunks_exact(WIDTH)) {
            let x = &r[k..k + LANES];
            for (p, &f) in part.iter_mut().zip(w) {
                for l in 0..LANES {
                    p[l] += f * x[l];
                }
            }
        }
        for (i, p) in part.iter().enumerate() {
            acc[i * dim + k..i * dim + k + LANES].copy_from_slice(p);
        }
    }
    for k in whole..dim {
        for (r, w) in rows.chunks_exact(dim).zip(weights.chunks_exact(WIDTH)) {
            for (i, &f) in w.iter().enumerate() {
                acc[i * dim + k] += f * r[k];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, dim: usize, seed: u32) -> Vec<f32> {
        (0..n * dim)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn dots_and_sums_match_plain_loops() {
        for (n, dim, c) in [(1, 3, 1), (700, 21, 10), (513, 16, 2), (300, 9, 7)] {
            let a = data(n, dim, 1);
            let s = data(c, dim, 2);
            let got = dots(&a, dim, &s);
            for i in 0..c {
                for r in 0..n {
                    let want: f64 = (0..dim)
                        .map(|k| s[i * dim + k] as f64 * a[r * dim + k] as f64)
                        .sum();
                    assert!((got[i * n + r] - want).abs() < 1e-4, "dots {n} {dim} {c}");
                }
            }
            let q = data(c, n, 3);
            let got = weighted_sums(&a, dim, &q);
            for i in 0..c {
                for k in 0..dim {
                    let want: f64 = (0..n)
                        .map(|r| q[i * n + r] as f64 * a[r * dim + k] as f64)
                        .sum();
                    assert!(
                        (got[i * dim + k] - want).abs() < 1e-3 * n as f64,
                        "sums {n} {dim} {c}"
                    );
                }
            }
        }
    }

    /// Every build of the block kernels the CPU runs gives the portable one's numbers (AVX2:
    /// exactly; AVX-512, with fused multiply-adds: to f32 rounding).
    #[test]
    fn every_build_agrees_with_the_portable_kernels() {
        let (n, dim) = (37, 53); // tails past 8 and 16 lanes
        let rows = data(n, dim, 4);
        let s = data(WIDTH, dim, 5);
        let w = data(n, WIDTH, 6);
        let mut want_dots = vec![0f32; n * WIDTH];
        dots_block(&rows, dim, &s, &mut want_dots);
        let mut want_sums = vec![0f32; WIDTH * dim];
        sums_block(&rows, dim, &w, &mut want_sums);
        #[cfg(target_arch = "x86_64")]
        {
            let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4);
            if std::arch::is_x86_feature_detected!("avx2") {
                let (mut d, mut u) = (vec![0f32; n * WIDTH], vec![0f32; WIDTH * dim]);
                // SAFETY: the CPU has AVX2 (checked above)
                unsafe {
                    dots_avx2(&rows, dim, &s, &mut d);
                    sums_avx2(&rows, dim, &w, &mut u);
                }
                assert_eq!(d, want_dots);
                assert_eq!(u, want_sums);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                let (mut d, mut u) = (vec![0f32; n * WIDTH], vec![0f32; WIDTH * dim]);
                // SAFETY: the CPU has AVX-512F (checked above)
                unsafe {
                    dots_avx512(&rows, dim, &s, &mut d);
                    sums_avx512(&rows, dim, &w, &mut u);
                }
                assert!(close(&d, &want_dots) && close(&u, &want_sums));
            }
        }
    }
}

//! Inner products of one query with four rows at a time, for the one-query scans
//! (`gemv_inline`, the shared scan). Each row's sum is computed in exactly the order the
//! active `distance::dot` uses (AVX-512: four accumulators over 64-float steps, then
//! 16-float steps into the first, the masked tail into the second, the same reduction),
//! so every score is bit-identical to `dot`'s: only the query's loads are shared and the
//! four rows' chains overlap (one row's four chains of six FMAs leave the FMA units
//! waiting on latency). Other instruction sets call `dot` row by row.

use crate::distance::{self, Isa};

/// The scores of `q` with rows `xs` (each `q.len()` long), in order.
#[inline]
pub fn dot4(q: &[f32], xs: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    if distance::active().isa == Isa::Avx512 {
        // SAFETY: the active kernels are AVX-512 only on a CPU that has AVX-512F; every
        // row is as long as `q` (checked here, as `dot` checks it)
        assert!(
            xs.iter().all(|x| x.len() == q.len()),
            "dot4: length mismatch"
        );
        return unsafe { dot4_avx512(q, xs) };
    }
    xs.map(|x| distance::dot(q, x))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::needless_range_loop)] // `j` picks a query slice and one chain of each row
unsafe fn dot4_avx512(q: &[f32], xs: [&[f32]; 4]) -> [f32; 4] {
    use std::arch::x86_64::*;
    let n = q.len();
    let pq = q.as_ptr();
    let px = xs.map(|x| x.as_ptr());
    let mut acc = [[_mm512_setzero_ps(); 4]; 4];
    let mut i = 0;
    while i + 64 <= n {
        for j in 0..4 {
            let o = i + 16 * j;
            let a = _mm512_loadu_ps(pq.add(o));
            for r in 0..4 {
                acc[r][j] = _mm512_fmadd_ps(a, _mm512_loadu_ps(px[r].add(o)), acc[r][j]);
            }
        }
        i += 64;
    }
    while i + 16 <= n {
        let a = _mm512_loadu_ps(pq.add(i));
        for r in 0..4 {
            acc[r][0] = _mm512_fmadd_ps(a, _mm512_loadu_ps(px[r].add(i)), acc[r][0]);
        }
        i += 16;
    }
    if i < n {
        let m = ((1u32 << (n - i)) - 1) as __mmask16;
        let a = _mm512_maskz_loadu_ps(m, pq.add(i));
        for r in 0..4 {
            let y = _mm512_maskz_loadu_ps(m, px[r].add(i));
            acc[r][1] = _mm512_fmadd_ps(a, y, acc[r][1]);
        }
    }
    acc.map(|a| {
        let s = _mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3]));
        _mm512_reduce_add_ps(s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Bit-identical to `distance::dot` for every length around the steps and the tail.
    #[test]
    fn dot4_is_dot_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for n in (0..140).chain([383, 384, 385, 768]) {
            let q: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let rows: Vec<Vec<f32>> = (0..4)
                .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
                .collect();
            let got = dot4(&q, [&rows[0], &rows[1], &rows[2], &rows[3]]);
            for (g, x) in got.iter().zip(&rows) {
                assert_eq!(g.to_bits(), distance::dot(&q, x).to_bits(), "n={n}");
            }
        }
    }
}

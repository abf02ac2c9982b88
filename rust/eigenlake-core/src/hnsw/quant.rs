//! 16-bit codes of the indexed rows, for the query walk.
//!
//! A query walk is bound by how fast rows arrive from memory (a 384-d float row is 24
//! cache lines; the walk reads ~1,000 rows at ef 64). The walk therefore measures codes:
//! each dimension is cut into `levels` steps between its smallest and largest value over
//! the rows (`lo + step · code`), half the bytes. The query is scaled per dimension and
//! rounded to integers of the same resolution (`levels² · dim` must fit an i32: 2,365
//! steps at 384 dimensions), so a distance is one integer dot product (16-bit products,
//! 32-bit sums) plus a per-row constant. The `ef` nodes the walk keeps are then measured
//! exactly on the float rows and re-ranked, so only the route (not the reported scores
//! or the order of the answer) sees the rounding. Builds keep measuring floats. 8-bit
//! codes were tried first: on tight clusters (rows nearer each other than one step) the
//! walk lost its way (recall@10 0.62 instead of 0.87 at 100k, bench_query_vs_hnswlib).
//!
//! The steps are fitted on the rows present when the codes are made and refitted each
//! time the graph doubles; rows added in between are clamped to the fitted range.
//!
//! Walked only when asked for (`WalkCodes::Wide16`): the 8-bit residual codes (`resid`)
//! are finer on tight clusters, half the bytes, and measured faster at every size.

use rayon::prelude::*;

use crate::distance::{active, Isa, Metric};

/// Rows encoded per parallel task.
const ROWS_PER_TASK: usize = 1024;

pub struct Quant {
    dim: usize,
    metric: Metric,
    lo: Vec<f32>,
    step: Vec<f32>,
    /// Row-major codes, `dim` a row, each in `0..=levels`.
    codes: Vec<u16>,
    levels: f32,
    /// Squared norm of each float row (l2 only; empty for inner product).
    norms: Vec<f32>,
    /// Rows the steps were fitted on.
    fitted: usize,
}

impl Quant {
    /// Codes of rows `0..rows` of `data`, steps fitted on them.
    pub fn fit(data: &[f32], dim: usize, rows: usize, metric: Metric) -> Quant {
        let used = &data[..rows * dim];
        let (lo, hi) = used
            .par_chunks(dim * ROWS_PER_TASK)
            .map(|block| {
                let mut lo = vec![f32::INFINITY; dim];
                let mut hi = vec![f32::NEG_INFINITY; dim];
                for row in block.chunks_exact(dim) {
                    for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                        *l = l.min(v);
                        *h = h.max(v);
                    }
                }
                (lo, hi)
            })
            .reduce(
                || (vec![f32::INFINITY; dim], vec![f32::NEG_INFINITY; dim]),
                |(mut l1, mut h1), (l2, h2)| {
                    l1.iter_mut().zip(l2).for_each(|(a, b)| *a = a.min(b));
                    h1.iter_mut().zip(h2).for_each(|(a, b)| *a = a.max(b));
                    (l1, h1)
                },
            );
        let mut lo = lo;
        let levels = resolution(dim);
        let step: Vec<f32> = lo
            .iter_mut()
            .zip(&hi)
            .map(|(l, &h)| {
                if !(l.is_finite() && h.is_finite()) || h <= *l {
                    if !l.is_finite() {
                        *l = 0.0;
                    }
                    0.0
                } else {
                    (h - *l) / levels
                }
            })
            .collect();
        let mut q = Quant {
            dim,
            metric,
            lo,
            step,
            codes: Vec::new(),
            levels,
            norms: Vec::new(),
            fitted: rows,
        };
        q.extend(data, rows);
        q
    }

    /// Rows encoded.
    pub fn rows(&self) -> usize {
        self.codes.len() / self.dim.max(1)
    }

    /// Rows the steps were fitted on.
    pub fn fitted(&self) -> usize {
        self.fitted
    }

    /// Encode rows `self.rows()..rows` of `data` with the fitted steps.
    pub fn extend(&mut self, data: &[f32], rows: usize) {
        let (dim, start) = (self.dim, self.rows());
        if rows <= start {
            return;
        }
        // read at random by every walk: memory advised for huge pages before it is written
        crate::hugepage::reserve(&mut self.codes, rows * dim);
        self.codes.resize(rows * dim, 0);
        let src = &data[start * dim..rows * dim];
        let (lo, step, top) = (&self.lo, &self.step, self.levels);
        self.codes[start * dim..]
            .par_chunks_mut(dim * ROWS_PER_TASK)
            .zip(src.par_chunks(dim * ROWS_PER_TASK))
            .for_each(|(out, block)| {
                for (orow, row) in out.chunks_exact_mut(dim).zip(block.chunks_exact(dim)) {
                    for (((c, &v), &l), &s) in orow.iter_mut().zip(row).zip(lo).zip(step) {
                        *c = if s > 0.0 {
                            ((v - l) / s).round().clamp(0.0, top) as u16
                        } else {
                            0
                        };
                    }
                }
            });
        if self.metric == Metric::L2 {
            let dot = active().dot;
            self.norms
                .extend(src.chunks_exact(dim).map(|row| dot(row, row)));
        }
    }

    /// The query in code space.
    pub fn query(&self, q: &[f32]) -> QQuery {
        let dim = self.dim;
        // scaled query: q_d · step_d, rounded to integers no larger than `top`, so that
        // levels · top · dim (the largest possible dot product) fits an i32
        let scaled: Vec<f32> = q.iter().zip(&self.step).map(|(&a, &s)| a * s).collect();
        let base: f32 = q.iter().zip(&self.lo).map(|(&a, &l)| a * l).sum();
        let top = self.levels;
        let big = scaled.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let unit = if big > 0.0 { big / top } else { 1.0 };
        let padded = dim.div_ceil(32) * 32;
        let mut qq = vec![0i16; padded];
        for (o, v) in qq.iter_mut().zip(&scaled) {
            *o = (v / unit).round() as i16;
        }
        QQuery {
            qq,
            base,
            unit,
            kernel: kernel(),
        }
    }

    #[inline]
    fn codes_of(&self, i: u32) -> &[u16] {
        let i = i as usize;
        &self.codes[i * self.dim..(i + 1) * self.dim]
    }

    /// "Smaller is nearer" estimate of the distance of row `i` (the units of
    /// `Space::dist`): `-q·x` for inner product, `‖q − x‖² − ‖q‖²` for l2.
    #[inline]
    pub fn dist(&self, qq: &QQuery, i: u32) -> f32 {
        let d = (qq.kernel)(self.codes_of(i), &qq.qq);
        let ip = qq.base + qq.unit * d as f32;
        match self.metric {
            Metric::InnerProduct => -ip,
            Metric::L2 => self.norms[i as usize] - 2.0 * ip,
        }
    }

    /// Ask for the codes of row `i` ahead of use.
    #[inline]
    pub fn prefetch(&self, i: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            for line in self.codes_of(i).chunks(32) {
                // SAFETY: a prefetch of an address inside a live slice; SSE is baseline.
                #[allow(unused_unsafe)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8)
                };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }
}

/// A query in code space: `q·x ≈ base + unit · Σ qq_d · code_d`.
pub struct QQuery {
    /// Padded with zeros to a multiple of 32.
    qq: Vec<i16>,
    base: f32,
    unit: f32,
    kernel: DotU16,
}

type DotU16 = fn(&[u16], &[i16]) -> i32;

/// Steps per dimension (and the query's integer range) for `dim` dimensions: the same
/// for both, as fine as an i32 sum of `dim` products allows, at most 32,767.
fn resolution(dim: usize) -> f32 {
    ((i32::MAX as f64 / dim.max(1) as f64).sqrt().floor()).min(32767.0) as f32
}

fn kernel() -> DotU16 {
    use std::sync::OnceLock;
    static K: OnceLock<DotU16> = OnceLock::new();
    *K.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            let isa = active().isa;
            if isa == Isa::Avx512 && is_x86_feature_detected!("avx512bw") {
                return x86::dot_avx512;
            }
            if matches!(isa, Isa::Avx512 | Isa::Avx2) && is_x86_feature_detected!("avx2") {
                return x86::dot_avx2;
            }
        }
        let _ = Isa::Scalar;
        dot_scalar
    })
}

/// Σ codes_d · q_d (the reference).
pub fn dot_scalar(codes: &[u16], q: &[i16]) -> i32 {
    codes
        .iter()
        .zip(q)
        .map(|(&c, &v)| c as i32 * v as i32)
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    pub fn dot_avx512(codes: &[u16], q: &[i16]) -> i32 {
        // SAFETY: chosen only when the CPU has AVX-512F/BW.
        unsafe { avx512(codes, q) }
    }

    pub fn dot_avx2(codes: &[u16], q: &[i16]) -> i32 {
        // SAFETY: chosen only when the CPU has AVX2.
        unsafe { avx2(codes, q) }
    }

    /// `q` is at least `codes.len()` long, rounded up to 32 (zero padded).
    /// Codes are at most 32,767, so they read as i16.
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn avx512(codes: &[u16], q: &[i16]) -> i32 {
        let n = codes.len();
        assert!(q.len() >= n.div_ceil(32) * 32);
        let (pc, pq) = (codes.as_ptr(), q.as_ptr());
        let mut acc = [_mm512_setzero_si512(); 2];
        let mut i = 0;
        while i + 64 <= n {
            for (j, a) in acc.iter_mut().enumerate() {
                let o = i + 32 * j;
                let c = _mm512_loadu_si512(pc.add(o) as *const __m512i);
                let v = _mm512_loadu_si512(pq.add(o) as *const __m512i);
                *a = _mm512_add_epi32(*a, _mm512_madd_epi16(c, v));
            }
            i += 64;
        }
        while i < n {
            let rem = (n - i).min(32);
            let m: __mmask32 = if rem == 32 { !0 } else { (1u32 << rem) - 1 };
            let c = _mm512_maskz_loadu_epi16(m, pc.add(i) as *const i16);
            let v = _mm512_loadu_si512(pq.add(i) as *const __m512i);
            acc[0] = _mm512_add_epi32(acc[0], _mm512_madd_epi16(c, v));
            i += 32;
        }
        _mm512_reduce_add_epi32(_mm512_add_epi32(acc[0], acc[1]))
    }

    #[target_feature(enable = "avx2")]
    unsafe fn avx2(codes: &[u16], q: &[i16]) -> i32 {
        let n = codes.len();
        assert!(q.len() >= n.div_ceil(32) * 32);
        let (pc, pq) = (codes.as_ptr(), q.as_ptr());
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        while i + 16 <= n {
            let c = _mm256_loadu_si256(pc.add(i) as *const __m256i);
            let v = _mm256_loadu_si256(pq.add(i) as *const __m256i);
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(c, v));
            i += 16;
        }
        let mut lanes = [0i32; 8];
        _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, acc);
        let mut s: i32 = lanes.iter().sum();
        while i < n {
            s += *pc.add(i) as i32 * *pq.add(i) as i32;
            i += 1;
        }
        s
    }
}

/// A walk's measure over the codes (see the module notes).
pub struct Coded<'a> {
    pub quant: &'a Quant,
    pub q: QQuery,
}

impl crate::hnsw::space::Measure for Coded<'_> {
    #[inline]
    fn dist(&self, i: u32) -> f32 {
        self.quant.dist(&self.q, i)
    }
    #[inline]
    fn prefetch(&self, i: u32) {
        self.quant.prefetch(i);
    }
    #[inline]
    fn prefetch_rest(&self, _i: u32) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_the_reference() {
        for n in [1usize, 7, 16, 31, 32, 33, 64, 100, 384, 385] {
            let codes: Vec<u16> = (0..n).map(|i| (i * 3701 % 2366) as u16).collect();
            let mut q: Vec<i16> = (0..n).map(|i| (i as i16 * 113) % 2000 - 1000).collect();
            q.resize(n.div_ceil(32) * 32, 0);
            let want = dot_scalar(&codes, &q);
            assert_eq!(kernel()(&codes, &q), want, "n={n}");
            #[cfg(target_arch = "x86_64")]
            {
                if is_x86_feature_detected!("avx2") {
                    assert_eq!(x86::dot_avx2(&codes, &q), want, "avx2 n={n}");
                }
                if is_x86_feature_detected!("avx512bw") {
                    assert_eq!(x86::dot_avx512(&codes, &q), want, "avx512 n={n}");
                }
            }
        }
    }

    #[test]
    fn estimates_are_close_to_exact() {
        let dim = 48;
        let rows = 200;
        let data: Vec<f32> = (0..rows * dim)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let q: Vec<f32> = (0..dim).map(|i| (i as f32 * 0.37).sin()).collect();
        for metric in [Metric::InnerProduct, Metric::L2] {
            let z = Quant::fit(&data, dim, rows, metric);
            assert_eq!(z.rows(), rows);
            let qq = z.query(&q);
            for r in 0..rows {
                let x = &data[r * dim..(r + 1) * dim];
                let ip: f32 = q.iter().zip(x).map(|(a, b)| a * b).sum();
                let exact = match metric {
                    Metric::InnerProduct => -ip,
                    Metric::L2 => x.iter().map(|v| v * v).sum::<f32>() - 2.0 * ip,
                };
                let got = z.dist(&qq, r as u32);
                assert!(
                    (got - exact).abs() < 0.002 * (1.0 + exact.abs()),
                    "{got} vs {exact}"
                );
            }
        }
    }
}

//! 8-bit residual codes of the indexed rows, for the query walk.
//!
//! Each row is assigned to the nearest of a few coarse centroids (k-means, about 2·√n of
//! them) and only its residual `r = x − c` is coded: one signed byte a dimension, scaled
//! by the row's own largest residual (`r ≈ scale · code`, codes in −127..=127). Global
//! 8-bit steps (per dimension, over all rows) are coarser than a tight cluster and lost the
//! route (see `quant`); a residual's range is the cluster's, so the steps are hundreds of
//! times finer there. A row is 1 byte a dimension (384 B at 384-d, a quarter of its float
//! row), so at 5k rows the codes fit a core's L2.
//!
//! Inner product: `q·x = q·c + q·r`; `q·c` is measured once per query per centroid the
//! walk meets (lazily), `q·r ≈ scale · unit · Σ qi_d · code_d` with the query rounded to
//! 16-bit integers (`unit` a step), one integer dot product of 16-bit by 8-bit values.
//! L2 walks `‖x‖² − 2 q·x` with `‖x‖²` kept exact. The `ef` nodes the walk keeps are
//! measured again on the float rows (`search`), so only the route sees the rounding.
//!
//! Rows added after the fit are assigned to the fitted centroids (their scales are their
//! own, so nothing is clamped); the centroids are refitted each time the rows double.

use std::cell::Cell;

use rayon::prelude::*;

use crate::cluster::assign::assign;
use crate::cluster::kmeans::{kmeans, KMeansParams};
use crate::distance::{active, Metric};

/// Largest code magnitude.
const TOP: f32 = 127.0;

/// At most this many rows per centroid are used to fit the centroids (an even stride
/// over the rows); every row is then assigned.
const SAMPLE_PER_CENTROID: usize = 16;

/// Rows encoded per parallel task.
const ROWS_PER_TASK: usize = 512;

/// One cache line of codes: rows start on a line, so a 384-d row is 6 lines, not 7.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
pub struct Line([i8; 64]);

/// Per row: its centroid, its residual's step, and `‖x‖²` (l2 only).
#[derive(Clone, Copy, Default)]
struct Meta {
    scale: f32,
    cent: u32,
    norm: f32,
    _pad: f32,
}

pub struct Resid {
    dim: usize,
    /// Lines a row takes (`dim` rounded up to 64 bytes, zero padded).
    lines: usize,
    metric: Metric,
    /// k × dim.
    cent: Vec<f32>,
    codes: Vec<Line>,
    meta: Vec<Meta>,
    fitted: usize,
}

/// A row's (scale, centroid, ‖x‖²) as a saved graph holds it.
pub(super) type SavedMeta = (f32, u32, f32);

/// Most centroids: the fit and the assignment of every row cost rows × centroids × dim.
const MAX_CENTROIDS: usize = 256;

/// Centroids for `rows` rows: about 2·√n, at most `MAX_CENTROIDS` (a tight cluster split in
/// two costs little; two clusters merged in one give their rows a residual as wide as the
/// clusters' distance).
pub fn centroids_for(rows: usize) -> usize {
    ((2.0 * (rows as f64).sqrt()).round() as usize).clamp(1, MAX_CENTROIDS.min(rows.max(1)))
}

impl Resid {
    /// Codes of rows `0..rows` of `data`, centroids fitted on them.
    pub fn fit(data: &[f32], dim: usize, rows: usize, metric: Metric) -> Resid {
        let k = centroids_for(rows);
        let stride = (rows / (k * SAMPLE_PER_CENTROID)).max(1);
        let sample: Vec<f32> = if stride == 1 {
            data[..rows * dim].to_vec()
        } else {
            (0..rows)
                .step_by(stride)
                .flat_map(|r| data[r * dim..(r + 1) * dim].iter().copied())
                .collect()
        };
        let p = KMeansParams {
            k,
            max_iter: 6,
            tol: 1e-4,
            n_init: 1,
            seed: 0x5EED_C0DE,
            spherical: false,
            init: None,
        };
        // k-means refuses only degenerate input (no rows, non-finite values): one zero
        // centroid then codes the rows themselves
        let cent = match kmeans(&sample, dim, &p) {
            Ok(r) => r.centroids,
            Err(_) => vec![0.0; dim],
        };
        let mut z = Resid {
            dim,
            lines: dim.div_ceil(64).max(1),
            metric,
            cent,
            codes: Vec::new(),
            meta: Vec::new(),
            fitted: rows,
        };
        z.extend(data, rows);
        z
    }

    /// Rows encoded.
    pub fn rows(&self) -> usize {
        self.meta.len()
    }

    /// Rows the centroids were fitted on.
    pub fn fitted(&self) -> usize {
        self.fitted
    }

    /// Number of centroids.
    pub fn centroids(&self) -> usize {
        self.cent.len() / self.dim.max(1)
    }

    /// Encode rows `self.rows()..rows` of `data` against the fitted centroids.
    pub fn extend(&mut self, data: &[f32], rows: usize) {
        let (dim, lines, start) = (self.dim, self.lines, self.rows());
        if rows <= start {
            return;
        }
        let src = &data[start * dim..rows * dim];
        let mut labels = vec![0u32; rows - start];
        let mut far = vec![0f32; rows - start];
        assign(src, dim, &self.cent, false, &mut labels, &mut far);
        // read at random by every walk: memory advised for huge pages before it is written
        crate::hugepage::reserve(&mut self.codes, rows * lines);
        self.codes.resize(rows * lines, Line([0; 64]));
        self.meta.resize(rows, Meta::default());
        let (cent, l2) = (&self.cent, self.metric == Metric::L2);
        self.codes[start * lines..]
            .par_chunks_mut(lines * ROWS_PER_TASK)
            .zip(self.meta[start..].par_chunks_mut(ROWS_PER_TASK))
            .zip(src.par_chunks(dim * ROWS_PER_TASK))
            .zip(labels.par_chunks(ROWS_PER_TASK))
            .for_each(|(((out, meta), block), lab)| {
                let mut r = vec![0f32; dim];
                for (((orow, m), x), &j) in out
                    .chunks_exact_mut(lines)
                    .zip(meta.iter_mut())
                    .zip(block.chunks_exact(dim))
                    .zip(lab)
                {
                    let c = &cent[j as usize * dim..(j as usize + 1) * dim];
                    *m = encode(x, c, &mut r, orow, j);
                    if l2 {
                        m.norm = x.iter().map(|v| v * v).sum();
                    }
                }
            });
    }

    /// What a saved graph keeps of the codes (`persist`): (centroids k × dim, per row its
    /// (scale, centroid, ‖x‖²), the code bytes `lines · 64` a row, rows fitted on).
    pub(super) fn parts(&self) -> (&[f32], Vec<SavedMeta>, &[u8], usize) {
        let meta = self
            .meta
            .iter()
            .map(|m| (m.scale, m.cent, m.norm))
            .collect();
        // SAFETY: `Line` is `repr(C)` over `[i8; 64]`: its lines are contiguous bytes.
        let codes = unsafe {
            std::slice::from_raw_parts(self.codes.as_ptr() as *const u8, self.codes.len() * 64)
        };
        (&self.cent, meta, codes, self.fitted)
    }

    /// Codes as `parts` gave them, checked (None when they do not fit together: a file
    /// from another dimension, a centroid index out of range, a short buffer).
    pub(super) fn from_parts(
        dim: usize,
        metric: Metric,
        cent: Vec<f32>,
        meta: &[SavedMeta],
        codes: &[u8],
        fitted: usize,
    ) -> Option<Resid> {
        let lines = dim.div_ceil(64).max(1);
        let k = cent.len() / dim.max(1);
        let rows = meta.len();
        if dim == 0
            || cent.len() != k * dim
            || k == 0
            || k > MAX_CENTROIDS
            || codes.len() != rows.checked_mul(lines * 64)?
            || meta
                .iter()
                .any(|&(scale, c, _)| c as usize >= k || !scale.is_finite())
        {
            return None;
        }
        let mut z = Resid {
            dim,
            lines,
            metric,
            cent,
            codes: Vec::new(),
            meta: meta
                .iter()
                .map(|&(scale, cent, norm)| Meta {
                    scale,
                    cent,
                    norm,
                    _pad: 0.0,
                })
                .collect(),
            fitted,
        };
        crate::hugepage::reserve(&mut z.codes, rows * lines);
        z.codes.extend(codes.chunks_exact(64).map(|c| {
            let mut l = Line([0; 64]);
            for (o, &b) in l.0.iter_mut().zip(c) {
                *o = b as i8;
            }
            l
        }));
        Some(z)
    }

    /// The query in code space.
    pub fn query<'q>(&self, q: &'q [f32]) -> RQuery<'q> {
        let width = self.lines * 64;
        // 16-bit query steps, as fine as an i32 sum of `width` products with codes allows
        let top_q = ((i32::MAX as f64 / (TOP as f64 * width as f64)).floor()).min(32767.0);
        // the largest magnitude over 16 lanes: one running max is a chain of `dim` steps
        let mut lanes = [0.0f32; 16];
        for c in q.chunks(16) {
            for (l, &v) in lanes.iter_mut().zip(c) {
                *l = l.max(v.abs());
            }
        }
        let big = lanes.iter().fold(0.0f32, |m, &v| m.max(v));
        let unit = if big > 0.0 { big / top_q as f32 } else { 1.0 };
        let mut qi = vec![0i16; width];
        let inv = 1.0 / unit;
        for (o, &v) in qi.iter_mut().zip(q) {
            let x = v * inv;
            *o = (x + 0.5f32.copysign(x)) as i16; // rounded half away from zero
        }
        RQuery {
            qi,
            unit,
            q,
            qc: vec![Cell::new(f32::NAN); self.centroids()],
            kernel: kernel(),
        }
    }

    #[inline]
    fn codes_of(&self, i: u32) -> &[i8] {
        let i = i as usize;
        let rows = &self.codes[i * self.lines..(i + 1) * self.lines];
        // SAFETY: `Line` is `repr(C)` over `[i8; 64]`, so its lines are contiguous bytes.
        unsafe { std::slice::from_raw_parts(rows.as_ptr() as *const i8, rows.len() * 64) }
    }

    /// `q·c_j`, measured the first time this query needs it.
    #[inline]
    fn query_cent(&self, qq: &RQuery<'_>, j: u32) -> f32 {
        let v = qq.qc[j as usize].get();
        if !v.is_nan() {
            return v;
        }
        self.measure_cent(qq, j)
    }

    /// `query_cent`'s first time, out of line: the walk's distance stays small enough to
    /// be inlined into the beam's loop.
    #[cold]
    #[inline(never)]
    fn measure_cent(&self, qq: &RQuery<'_>, j: u32) -> f32 {
        let j = j as usize;
        let v = (active().dot)(qq.q, &self.cent[j * self.dim..(j + 1) * self.dim]);
        qq.qc[j].set(v);
        v
    }

    /// Estimate of `q·x` for row `i`.
    #[inline]
    pub fn ip(&self, qq: &RQuery<'_>, i: u32) -> f32 {
        let m = self.meta[i as usize];
        let d = (qq.kernel)(self.codes_of(i), &qq.qi);
        self.query_cent(qq, m.cent) + m.scale * qq.unit * d as f32
    }

    /// "Smaller is nearer" estimate of the distance of row `i` (the units of
    /// `Space::dist`): `-q·x` for inner product, `‖q − x‖² − ‖q‖²` for l2.
    #[inline]
    pub fn dist(&self, qq: &RQuery<'_>, i: u32) -> f32 {
        let ip = self.ip(qq, i);
        match self.metric {
            Metric::InnerProduct => -ip,
            Metric::L2 => self.meta[i as usize].norm - 2.0 * ip,
        }
    }

    /// Ask for the codes (and the row's meta) of row `i` ahead of use.
    #[inline]
    pub fn prefetch(&self, i: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let i = i as usize;
            // SAFETY: prefetches of addresses inside live slices; SSE is baseline.
            unsafe {
                for line in &self.codes[i * self.lines..(i + 1) * self.lines] {
                    _mm_prefetch::<_MM_HINT_T0>(line as *const Line as *const i8);
                }
                _mm_prefetch::<_MM_HINT_T0>(&self.meta[i] as *const Meta as *const i8);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }
}

/// Code `x − c` into `out` (zero padded); `r` is scratch of `dim` floats.
fn encode(x: &[f32], c: &[f32], r: &mut [f32], out: &mut [Line], cent: u32) -> Meta {
    for ((o, &a), &b) in r.iter_mut().zip(x).zip(c) {
        *o = a - b;
    }
    let big = r.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if big > 0.0 && big.is_finite() {
        big / TOP
    } else {
        0.0
    };
    out.iter_mut().for_each(|l| *l = Line([0; 64]));
    if scale > 0.0 {
        for (d, &v) in r.iter().enumerate() {
            out[d / 64].0[d % 64] = (v / scale).round().clamp(-TOP, TOP) as i8;
        }
    }
    Meta {
        scale,
        cent,
        norm: 0.0,
        _pad: 0.0,
    }
}

/// A query in code space: `q·x ≈ q·c + scale · unit · Σ qi_d · code_d`.
pub struct RQuery<'q> {
    /// Padded with zeros to the codes' width.
    qi: Vec<i16>,
    unit: f32,
    q: &'q [f32],
    /// `q·c_j`, NaN until measured.
    qc: Vec<Cell<f32>>,
    kernel: DotI8,
}

type DotI8 = fn(&[i8], &[i16]) -> i32;

fn kernel() -> DotI8 {
    use std::sync::OnceLock;
    static K: OnceLock<DotI8> = OnceLock::new();
    *K.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            use crate::distance::Isa;
            let isa = active().isa;
            if isa == Isa::Avx512
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vnni")
            {
                return x86::dot_vnni;
            }
            if isa == Isa::Avx512 && is_x86_feature_detected!("avx512bw") {
                return x86::dot_avx512;
            }
            if matches!(isa, Isa::Avx512 | Isa::Avx2) && is_x86_feature_detected!("avx2") {
                return x86::dot_avx2;
            }
        }
        dot_scalar
    })
}

/// Σ codes_d · q_d (the reference).
pub fn dot_scalar(codes: &[i8], q: &[i16]) -> i32 {
    codes
        .iter()
        .zip(q)
        .map(|(&c, &v)| c as i32 * v as i32)
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    pub fn dot_vnni(codes: &[i8], q: &[i16]) -> i32 {
        // SAFETY: chosen only when the CPU has AVX-512F/BW/VNNI.
        unsafe { vnni(codes, q) }
    }

    pub fn dot_avx512(codes: &[i8], q: &[i16]) -> i32 {
        // SAFETY: chosen only when the CPU has AVX-512F/BW.
        unsafe { avx512(codes, q) }
    }

    pub fn dot_avx2(codes: &[i8], q: &[i16]) -> i32 {
        // SAFETY: chosen only when the CPU has AVX2.
        unsafe { avx2(codes, q) }
    }

    /// Both are a multiple of 64 long and of one length (rows are whole lines).
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn vnni(codes: &[i8], q: &[i16]) -> i32 {
        let n = codes.len();
        assert!(n.is_multiple_of(64) && q.len() == n);
        let (pc, pq) = (codes.as_ptr(), q.as_ptr());
        let mut a0 = _mm512_setzero_si512();
        let mut a1 = _mm512_setzero_si512();
        let mut i = 0;
        while i < n {
            let c0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(pc.add(i) as *const __m256i));
            let c1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(pc.add(i + 32) as *const __m256i));
            let q0 = _mm512_loadu_si512(pq.add(i) as *const __m512i);
            let q1 = _mm512_loadu_si512(pq.add(i + 32) as *const __m512i);
            a0 = _mm512_dpwssd_epi32(a0, c0, q0);
            a1 = _mm512_dpwssd_epi32(a1, c1, q1);
            i += 64;
        }
        _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1))
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn avx512(codes: &[i8], q: &[i16]) -> i32 {
        let n = codes.len();
        assert!(n.is_multiple_of(64) && q.len() == n);
        let (pc, pq) = (codes.as_ptr(), q.as_ptr());
        let mut a0 = _mm512_setzero_si512();
        let mut a1 = _mm512_setzero_si512();
        let mut i = 0;
        while i < n {
            let c0 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(pc.add(i) as *const __m256i));
            let c1 = _mm512_cvtepi8_epi16(_mm256_loadu_si256(pc.add(i + 32) as *const __m256i));
            let q0 = _mm512_loadu_si512(pq.add(i) as *const __m512i);
            let q1 = _mm512_loadu_si512(pq.add(i + 32) as *const __m512i);
            a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(c0, q0));
            a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(c1, q1));
            i += 64;
        }
        _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1))
    }

    #[target_feature(enable = "avx2")]
    unsafe fn avx2(codes: &[i8], q: &[i16]) -> i32 {
        let n = codes.len();
        assert!(n.is_multiple_of(64) && q.len() == n);
        let (pc, pq) = (codes.as_ptr(), q.as_ptr());
        let mut a0 = _mm256_setzero_si256();
        let mut a1 = _mm256_setzero_si256();
        let mut i = 0;
        while i < n {
            let c0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pc.add(i) as *const __m128i));
            let c1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(pc.add(i + 16) as *const __m128i));
            let q0 = _mm256_loadu_si256(pq.add(i) as *const __m256i);
            let q1 = _mm256_loadu_si256(pq.add(i + 16) as *const __m256i);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(c0, q0));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(c1, q1));
            i += 32;
        }
        let mut lanes = [0i32; 8];
        _mm256_storeu_si256(lanes.as_mut_ptr() as *mut __m256i, _mm256_add_epi32(a0, a1));
        lanes.iter().sum()
    }

    #[cfg(test)]
    pub fn all() -> Vec<(&'static str, super::DotI8)> {
        let mut v: Vec<(&'static str, super::DotI8)> = Vec::new();
        if is_x86_feature_detected!("avx2") {
            v.push(("avx2", dot_avx2));
        }
        if is_x86_feature_detected!("avx512bw") {
            v.push(("avx512", dot_avx512));
            if is_x86_feature_detected!("avx512vnni") {
                v.push(("vnni", dot_vnni));
            }
        }
        v
    }
}

/// A walk's measure over the residual codes (see the module notes).
pub struct Coded8<'a> {
    pub codes: &'a Resid,
    pub q: RQuery<'a>,
}

impl crate::hnsw::space::Measure for Coded8<'_> {
    #[inline(always)]
    fn dist(&self, i: u32) -> f32 {
        self.codes.dist(&self.q, i)
    }
    #[inline]
    fn prefetch(&self, i: u32) {
        self.codes.prefetch(i);
    }
    #[inline]
    fn prefetch_rest(&self, _i: u32) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn kernels() -> Vec<(&'static str, DotI8)> {
        #[allow(unused_mut)]
        let mut v: Vec<(&'static str, DotI8)> = vec![("chosen", kernel())];
        #[cfg(target_arch = "x86_64")]
        v.extend(x86::all());
        v
    }

    #[test]
    fn kernels_match_the_reference_on_random_and_extreme_input() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for case in 0..400 {
            let n = 64 * rng.random_range(1..=12usize);
            let (codes, q): (Vec<i8>, Vec<i16>) = match case % 4 {
                // the extremes: every product at its largest magnitude, both signs
                0 => (vec![-127; n], vec![i16::MAX; n]),
                1 => (vec![127; n], vec![i16::MIN + 1; n]),
                _ => (
                    (0..n).map(|_| rng.random_range(-127..=127i8)).collect(),
                    (0..n).map(|_| rng.random()).collect(),
                ),
            };
            // the extremes overflow an i32 past 516 values; the walk's query never does
            let exact: i64 = codes
                .iter()
                .zip(&q)
                .map(|(&a, &b)| a as i64 * b as i64)
                .sum();
            if exact.abs() > i32::MAX as i64 {
                continue;
            }
            let want = dot_scalar(&codes, &q) as i64;
            assert_eq!(want, exact);
            for (name, k) in kernels() {
                assert_eq!(k(&codes, &q) as i64, want, "{name} n={n} case={case}");
            }
        }
    }

    fn gauss(rng: &mut ChaCha8Rng) -> f32 {
        let u: f32 = rng.random_range(f32::MIN_POSITIVE..1.0);
        let v: f32 = rng.random();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }

    /// Tight blobs of unit vectors (the bench's shape: noise 0.03 around N(0,1) centres).
    fn blobs(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres: Vec<f32> = (0..10 * dim).map(|_| gauss(&mut rng)).collect();
        let mut out = Vec::with_capacity(n * dim);
        for _ in 0..n {
            let c = rng.random_range(0..10);
            let mut v: Vec<f32> = (0..dim)
                .map(|j| centres[c * dim + j] + 0.03 * gauss(&mut rng))
                .collect();
            crate::distance::normalize(&mut v);
            out.extend(v);
        }
        out
    }

    /// The error bound: a residual code is off by at most half a step (`scale / 2`) a
    /// dimension, the query by half a `unit`, so `|q·x − est| ≤ ½·scale·‖q‖₁ +
    /// ½·unit·(‖r‖₁ + ½·scale·dim)` (plus float rounding).
    #[test]
    fn estimates_stay_within_the_rounding_bound() {
        for (dim, rows) in [(48usize, 300usize), (100, 500), (384, 400)] {
            let data = blobs(rows, dim, dim as u64);
            let q: Vec<f32> = data[..dim].iter().map(|v| v * 0.9 + 0.01).collect();
            for metric in [Metric::InnerProduct, Metric::L2] {
                let z = Resid::fit(&data, dim, rows, metric);
                assert_eq!(z.rows(), rows);
                let qq = z.query(&q);
                let q1: f32 = q.iter().map(|v| v.abs()).sum();
                for r in 0..rows {
                    let x = &data[r * dim..(r + 1) * dim];
                    let m = z.meta[r];
                    let c = &z.cent[m.cent as usize * dim..(m.cent as usize + 1) * dim];
                    let r1: f32 = x.iter().zip(c).map(|(a, b)| (a - b).abs()).sum();
                    let ip: f32 = q.iter().zip(x).map(|(a, b)| a * b).sum();
                    let bound = 0.5 * m.scale * q1
                        + 0.5 * qq.unit * (r1 + 0.5 * m.scale * dim as f32)
                        + 1e-5;
                    let got = z.ip(&qq, r as u32);
                    assert!((got - ip).abs() <= bound, "{got} vs {ip}, bound {bound}");
                    let exact = match metric {
                        Metric::InnerProduct => -ip,
                        Metric::L2 => x.iter().map(|v| v * v).sum::<f32>() - 2.0 * ip,
                    };
                    assert!((z.dist(&qq, r as u32) - exact).abs() <= 2.0 * bound + 1e-5);
                }
                // the residual steps are far finer than the rows' global range
                let widest = z.meta.iter().fold(0.0f32, |a, m| a.max(m.scale));
                assert!(widest * TOP < 0.05, "residual range {}", widest * TOP);
            }
        }
    }

    #[test]
    fn rows_added_after_the_fit_are_coded_like_the_fitted_ones() {
        let dim = 64;
        let data = blobs(600, dim, 3);
        let mut z = Resid::fit(&data, dim, 300, Metric::InnerProduct);
        z.extend(&data, 600);
        let whole = Resid::fit(&data, dim, 600, Metric::InnerProduct);
        assert_eq!(z.rows(), 600);
        let q = &data[dim * 450..dim * 451];
        let (a, b) = (z.query(q), whole.query(q));
        for r in 300..600u32 {
            let ip: f32 = q
                .iter()
                .zip(&data[r as usize * dim..][..dim])
                .map(|(x, y)| x * y)
                .sum();
            assert!((z.ip(&a, r) - ip).abs() < 1e-3);
            assert!((whole.ip(&b, r) - ip).abs() < 1e-3);
        }
    }
}

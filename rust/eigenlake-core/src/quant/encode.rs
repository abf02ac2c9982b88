//! Rows and queries as int8 codes, with the numbers the error bound needs.
//!
//! A row x (dim d) is stored as codes c ∈ [-127, 127]^d and a scale s (x ≈ s·c); a query q
//! as codes u and a scale t (q ≈ t·u). The scan computes the integer D = u·c exactly and
//! the approximate score A = t·s·D. The bound (real arithmetic, r = x − s·c, ρ = q − t·u):
//!
//!   q·x = t·s·(u·c) + q·r + ρ·(s·c)          so  |q·x − A| ≤ ‖q‖·‖r‖ + ‖ρ‖·‖s·c‖.
//!
//! The score the caller gets is the f32 kernel's `dot(q, x)`, which differs from q·x by at
//! most γ·‖q‖·‖x‖ for any summation order (γ = (d+2)·u / (1 − (d+2)·u), u = 2⁻²⁴; Higham
//! §3.1), plus < d·2⁻¹⁴⁹ of underflow. So with the per-row numbers
//!
//!   α = ‖r‖ + γ·‖x‖,   β = ‖s·c‖      (both computed in f64 and rounded up to f32)
//!
//! |dot(q, x) − A| ≤ ‖q‖·α + ‖ρ‖·β + η. The scan evaluates A and that bound in f32: the
//! products t·s and (t·s)·D (D < 2²⁴ is exact in f32) err by ≤ 2.01u·|A| ≤ 2.01u·‖t·u‖·β,
//! and the few roundings of the bound itself by a relative few u; both are folded into the
//! per-query coefficients `ca ≥ ‖q‖`, `cb ≥ ‖ρ‖ + 2.01u·‖t·u‖` (with generous 2⁻¹⁸ / 2⁻²⁰
//! margins) and every underflow into η = 2⁻¹⁰⁰, so the f32 `upper`/`lower` of `bounds` are
//! rigorous. Queries whose products could overflow (‖q‖·max‖x‖ ≥ 2¹⁰⁰), zero queries and
//! non-finite ones are searched exactly instead (the caller checks `QueryCode::new`).
//! Rows holding NaN/inf get α = +inf: always a candidate, never a lower bound.
//!
//! Squared l2 (`bounds_l2`): ‖q − x‖² = ‖q‖² + ‖x‖² − 2·q·x, and q·x is within the same w
//! of A, so the real distance D lies within P ± 2w, P = ‖q‖² + ‖x‖² − 2A. The f32 `l2sq`
//! kernel sums non-negative terms each rounded a few times: its result lies within
//! D·(1 ± g), g = γ for d + 4 roundings. Every f32 rounding of P and of the radius errs by
//! at most u times a quantity ≤ ‖q‖² + ‖x‖² + 2|A| + 2w + radius, fewer than ten times;
//! σ = 16u·(‖q‖² + ‖x‖² + 2|A| + 2w) and a 2⁻¹⁶ relative margin on the radius cover them.
//! Queries with (‖q‖ + max‖x‖)² ≥ 2¹⁰⁰ are searched exactly (nothing can overflow below).

/// Codes of a row are in this range (symmetric, so −c is a code too).
pub const QMAX: f32 = 127.0;
/// Absolute slack for every underflow of the bound's arithmetic.
pub const ETA: f32 = 1.0 / (1u128 << 100) as f32;
/// ‖q‖·max‖x‖ from which a query is searched exactly (no f32 product can overflow below).
pub const OVERFLOW_GUARD: f64 = 1.2676506002282294e30; // 2^100

const U: f64 = 1.0 / (1u64 << 24) as f64;

/// f64 → the smallest f32 ≥ v (+inf past f32::MAX).
pub fn up(v: f64) -> f32 {
    let f = v as f32;
    if (f as f64) < v {
        f.next_up()
    } else {
        f
    }
}

/// γ for the f32 kernel's worst-case accumulated rounding over `dim` products.
pub fn gamma(dim: usize) -> f64 {
    let nu = (dim as f64 + 2.0) * U;
    nu / (1.0 - nu)
}

/// What the scan needs of one row besides its codes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowMeta {
    pub scale: f32,
    pub alpha: f32,
    pub beta: f32,
    /// Σ c: the VNNI kernel multiplies (u + 128)·c and subtracts 128·Σc.
    pub csum: i32,
    /// ‖x‖ rounded up (for the overflow guard); +inf for a non-finite row.
    pub norm: f32,
    /// ‖x‖² rounded to nearest (l2; 0 for a non-finite row, whose α is +inf)
    pub sq: f32,
}

/// Encode `x` into `codes` (`x.len()` of them) and return its numbers.
pub fn encode_row(x: &[f32], codes: &mut [i8]) -> RowMeta {
    if !x.iter().all(|v| v.is_finite()) {
        codes.iter_mut().for_each(|c| *c = 0);
        return RowMeta {
            scale: 0.0,
            alpha: f32::INFINITY,
            beta: 0.0,
            csum: 0,
            norm: f32::INFINITY,
            sq: 0.0,
        };
    }
    let m = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let mut scale = m / QMAX;
    // a subnormal scale would lose bits in t·s: such a row is all error (codes 0, r = x)
    if !scale.is_normal() {
        scale = 0.0;
    }
    let (mut r2, mut xh2, mut x2, mut csum) = (0.0f64, 0.0f64, 0.0f64, 0i32);
    for (c, &v) in codes.iter_mut().zip(x) {
        let q = if scale > 0.0 {
            (v / scale).round().clamp(-QMAX, QMAX)
        } else {
            0.0
        };
        *c = q as i8;
        csum += *c as i32;
        // s·c is exact in f64 (24 + 8 bits); the rest err by ~2⁻⁵³ relative, far inside the
        // 1e-9 margin below
        let xh = scale as f64 * q as f64;
        let r = v as f64 - xh;
        r2 += r * r;
        xh2 += xh * xh;
        x2 += v as f64 * v as f64;
    }
    let g = gamma(x.len());
    let margin = 1.0 + 1e-9;
    RowMeta {
        scale,
        alpha: up((r2.sqrt() + g * x2.sqrt()) * margin),
        beta: up(xh2.sqrt() * margin),
        csum,
        norm: up(x2.sqrt() * margin),
        sq: x2 as f32,
    }
}

/// A query's codes and bound coefficients.
#[derive(Clone, Debug, Default)]
pub struct QueryCode {
    pub codes: Vec<i8>,
    pub t: f32,
    /// ≥ ‖q‖, with margin: multiplies α.
    pub ca: f32,
    /// ≥ ‖ρ‖ + 2.01u·‖t·u‖, with margin: multiplies β.
    pub cb: f32,
    /// ‖q‖² rounded to nearest (l2).
    pub q2: f32,
}

/// Lanes of the query encoding's sums (independent, so the compiler keeps them in vectors).
const LANES: usize = 8;

impl QueryCode {
    /// `None` when the query must be searched exactly (zero, non-finite, tiny scale, or
    /// products that could overflow against rows up to `max_norm`; for `l2` the squares
    /// of the norms too).
    pub fn new(q: &[f32], max_norm: f32, l2: bool) -> Option<QueryCode> {
        let mut qc = QueryCode::default();
        qc.fill(q, max_norm, l2).then_some(qc)
    }

    /// `new` into `self`, reusing its code buffer: false where `new` gives `None`.
    ///
    /// The codes need not be the nearest integers to q/t: the bound holds for any integer
    /// codes u in [-127, 127] because ρ = q − t·u is measured from the u actually stored.
    /// So u is q·(1/t) rounded by the 1.5·2²³ trick (ties to even; exact for |x| < 2²²,
    /// and |q·(1/t)| ≤ 127·(1 + 2u) here), which vectorises where `f32::round` is a call.
    pub fn fill(&mut self, q: &[f32], max_norm: f32, l2: bool) -> bool {
        // the same operations compiled for wider vectors where the CPU has them (no
        // fusing either way: the numbers are those of the portable build)
        #[cfg(target_arch = "x86_64")]
        if super::kernels::active() == super::kernels::QIsa::Avx512Vnni {
            // SAFETY: that kernel set is only chosen where the CPU has AVX-512F/BW
            return unsafe { self.fill_avx512(q, max_norm, l2) };
        }
        self.fill_body(q, max_norm, l2)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw")]
    unsafe fn fill_avx512(&mut self, q: &[f32], max_norm: f32, l2: bool) -> bool {
        self.fill_body(q, max_norm, l2)
    }

    #[inline(always)]
    fn fill_body(&mut self, q: &[f32], max_norm: f32, l2: bool) -> bool {
        const MAGIC: f32 = 12_582_912.0; // 1.5·2²³
        let mut mx = [0.0f32; LANES];
        let mut bad = [false; LANES];
        let (head, tail) = q.split_at(q.len() - q.len() % LANES);
        for ch in head.chunks_exact(LANES) {
            for l in 0..LANES {
                let a = ch[l].abs();
                // NaN is flagged here, and `a > mx` keeps it out of the max
                bad[l] |= !a.is_finite();
                mx[l] = if a > mx[l] { a } else { mx[l] };
            }
        }
        let mut m = mx.iter().fold(0.0f32, |a, &v| a.max(v));
        for &v in tail {
            if !v.is_finite() {
                return false;
            }
            m = m.max(v.abs());
        }
        if bad.iter().any(|&b| b) {
            return false;
        }
        let t = m / QMAX;
        if !t.is_normal() {
            return false;
        }
        let inv = 1.0 / t;
        self.codes.clear();
        self.codes.resize(q.len(), 0);
        for (c, &v) in self.codes.iter_mut().zip(q) {
            let u = (((v * inv) + MAGIC) - MAGIC).clamp(-QMAX, QMAX);
            // SAFETY: u is finite (|v·inv| ≤ 127·(1 + 2⁻²²)) and clamped into i8's range;
            // unlike `as`, this conversion vectorises
            *c = unsafe { u.to_int_unchecked::<i32>() } as i8;
        }
        // t·u is exact in f64 (24 + 8 bits); the rest err by ~2⁻⁵³ relative (in any
        // summation order), far inside the 2⁻¹⁸ margin below
        let (mut q2, mut rho2, mut tu2) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
        let t64 = t as f64;
        let (ch, ct) = self.codes.split_at(head.len());
        for (cs, vs) in ch.chunks_exact(LANES).zip(head.chunks_exact(LANES)) {
            for l in 0..LANES {
                let (v, tu) = (vs[l] as f64, t64 * cs[l] as f64);
                let rho = v - tu;
                q2[l] += v * v;
                rho2[l] += rho * rho;
                tu2[l] += tu * tu;
            }
        }
        for (&c, &v) in ct.iter().zip(tail) {
            let (v, tu) = (v as f64, t64 * c as f64);
            let rho = v - tu;
            q2[0] += v * v;
            rho2[0] += rho * rho;
            tu2[0] += tu * tu;
        }
        let q2: f64 = q2.iter().sum();
        let rho2: f64 = rho2.iter().sum();
        let tu2: f64 = tu2.iter().sum();
        let qn = q2.sqrt();
        let reach = if l2 {
            (qn + max_norm as f64).powi(2)
        } else {
            qn * max_norm as f64
        };
        // (a NaN reach is refused too)
        if reach.is_nan() || reach >= OVERFLOW_GUARD {
            return false;
        }
        let rel = 1.0 + 1.0 / (1u64 << 18) as f64;
        self.t = t;
        self.ca = up(qn * rel);
        self.cb = up((rho2.sqrt() + tu2.sqrt() / (1u64 << 20) as f64) * rel);
        self.q2 = q2 as f32;
        true
    }
}

/// The f32 bounds on `dot(q, x)` of a row with integer product `d`: `(lower, upper)`.
/// The scan's vector filter computes `upper` with exactly these operations (no fused
/// multiply-add, same order), so a row it lets through gets the same numbers here.
#[inline(always)]
pub fn bounds(d: i32, m: &RowMeta, q: &QueryCode) -> (f32, f32) {
    let a = (q.t * m.scale) * d as f32;
    let w = (q.ca * m.alpha + q.cb * m.beta) + ETA;
    (a - w, a + w)
}

/// g of the l2 bound for `dim` (rounded up).
pub fn gamma_l2(dim: usize) -> f32 {
    up(gamma(dim + 2))
}

/// The f32 bounds on `−l2sq(q, x)` (the ranking key of l2): `(lower, upper)`. `g` is
/// `gamma_l2(dim)`. The l2 filter computes `upper` with exactly these operations.
#[inline(always)]
pub fn bounds_l2(d: i32, m: &RowMeta, q: &QueryCode, g: f32) -> (f32, f32) {
    const SIGMA: f32 = 16.0 / (1u32 << 24) as f32;
    const MARGIN: f32 = 1.0 + 1.0 / (1u32 << 16) as f32;
    let a = (q.t * m.scale) * d as f32;
    let w = (q.ca * m.alpha + q.cb * m.beta) + ETA;
    let qx = q.q2 + m.sq;
    let p = qx - 2.0 * a;
    let sigma = SIGMA * ((qx + 2.0 * a.abs()) + 2.0 * w);
    let rad = (((2.0 * w + sigma) * (1.0 + g) + g * p.abs()) * MARGIN) + ETA;
    (-p - rad, -p + rad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot64(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    #[test]
    fn bound_holds_on_awkward_rows() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let dim = 37;
        for trial in 0..2000 {
            let sx = [1e-20f32, 1e-3, 1.0, 1e6, 1e12][trial % 5];
            let sq = [1e-6f32, 1.0, 1e3][trial % 3];
            let x: Vec<f32> = (0..dim)
                .map(|j| {
                    let v: f32 = rng.random_range(-1.0..1.0) * sx;
                    // a spike stretches the scale: most codes then carry few bits
                    if j == trial % dim && trial % 7 == 0 {
                        v * 1e4
                    } else {
                        v
                    }
                })
                .collect();
            let q: Vec<f32> = (0..dim).map(|_| rng.random_range(-1.0..1.0) * sq).collect();
            let mut c = vec![0i8; dim];
            let m = encode_row(&x, &mut c);
            let Some(qc) = QueryCode::new(&q, m.norm, true) else {
                continue;
            };
            let d: i32 = qc
                .codes
                .iter()
                .zip(&c)
                .map(|(&a, &b)| a as i32 * b as i32)
                .sum();
            let (lo, hi) = bounds(d, &m, &qc);
            for f in [
                crate::distance::scalar::dot(&q, &x),
                crate::distance::dot(&q, &x),
            ] {
                assert!(lo <= f && f <= hi, "trial {trial}: {lo} <= {f} <= {hi}");
            }
            let e = dot64(&q, &x);
            assert!(lo as f64 <= e && e <= hi as f64);
            let (lo, hi) = bounds_l2(d, &m, &qc, gamma_l2(dim));
            for f in [
                crate::distance::scalar::l2sq(&q, &x),
                crate::distance::l2sq(&q, &x),
            ] {
                assert!(
                    lo <= -f && -f <= hi,
                    "l2 trial {trial}: {lo} <= {} <= {hi}",
                    -f
                );
            }
        }
    }

    #[test]
    fn non_finite_rows_are_always_candidates() {
        let mut c = vec![0i8; 3];
        let m = encode_row(&[1.0, f32::NAN, 2.0], &mut c);
        let qc = QueryCode::new(&[1.0, 1.0, 1.0], 1.0, false).unwrap();
        let (lo, hi) = bounds(0, &m, &qc);
        assert_eq!((lo, hi), (f32::NEG_INFINITY, f32::INFINITY));
        let (lo, hi) = bounds_l2(0, &m, &qc, gamma_l2(3));
        assert_eq!((lo, hi), (f32::NEG_INFINITY, f32::INFINITY));
        assert!(QueryCode::new(&[0.0, 0.0], 1.0, false).is_none());
        assert!(QueryCode::new(&[1e20, 1.0], 1e20, false).is_none());
        assert!(QueryCode::new(&[1e20, 1.0], 1.0, false).is_some());
        assert!(QueryCode::new(&[1e20, 1.0], 1.0, true).is_none());
    }
}

//! Distance kernels over f32 slices.
//!
//! CONTRACT (other modules rely on these signatures): `dot`, `l2sq`, `norm_sq`,
//! `normalize`, `active_isa`, `Metric`. `scalar` is the reference and the fallback;
//! per-ISA files are selected once at start by runtime detection (`dispatch`).

mod dispatch;
pub mod query;
pub mod scalar;

#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod avx2;
#[cfg(target_arch = "x86_64")]
pub mod avx512;
#[cfg(target_arch = "aarch64")]
pub mod neon;

pub use dispatch::{active, kernels_for, Isa, Kernels};

/// How a search or analysis compares vectors. Cosine is stored as normalised
/// vectors compared by inner product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Larger is nearer (cosine on normalised vectors).
    InnerProduct,
    /// Squared euclidean; smaller is nearer.
    L2,
}

#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot: length mismatch");
    (active().dot)(a, b)
}

#[inline]
pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "l2sq: length mismatch");
    (active().l2sq)(a, b)
}

#[inline]
pub fn norm_sq(a: &[f32]) -> f32 {
    (active().dot)(a, a)
}

/// Scale `v` to unit length; returns false (and leaves `v`) when it is all zeros.
pub fn normalize(v: &mut [f32]) -> bool {
    let n = norm_sq(v).sqrt();
    if n == 0.0 || !n.is_finite() {
        return false;
    }
    let inv = 1.0 / n;
    v.iter_mut().for_each(|x| *x *= inv);
    true
}

/// Name of the instruction set the kernels use on this CPU:
/// `"avx512"`, `"avx2"`, `"neon"` or `"scalar"`.
pub fn active_isa() -> &'static str {
    active().isa.name()
}

/// Ask for the cache lines of row `x` (a hint; no effect on results): scattered rows
/// about to be scored are fetched a few ahead while the current one is.
#[inline(always)]
pub fn prefetch(x: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in x.chunks(16) {
        // SAFETY: a prefetch never faults; SSE is part of x86_64
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

//! Distance kernels over f32 slices.
//!
//! CONTRACT (other modules rely on these signatures): `dot`, `l2sq`, `norm_sq`,
//! `normalize`, `active_isa`, `Metric`. `scalar` is the reference and the fallback;
//! per-ISA files are selected once at start by runtime detection.

pub mod scalar;

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
    scalar::dot(a, b)
}

#[inline]
pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    scalar::l2sq(a, b)
}

#[inline]
pub fn norm_sq(a: &[f32]) -> f32 {
    scalar::dot(a, a)
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

/// Name of the instruction set the kernels use on this CPU.
pub fn active_isa() -> &'static str {
    "scalar"
}

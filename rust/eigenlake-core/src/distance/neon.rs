//! NEON kernels (4 lanes, aarch64 only). NEON is part of the aarch64 baseline.

use std::arch::aarch64::*;

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut i = 0;
    // SAFETY: NEON is always present on aarch64; every load reads 4 lanes below `n`.
    let mut r = unsafe {
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut s0 = vdupq_n_f32(0.0);
        let mut s1 = vdupq_n_f32(0.0);
        while i + 8 <= n {
            s0 = vfmaq_f32(s0, vld1q_f32(pa.add(i)), vld1q_f32(pb.add(i)));
            s1 = vfmaq_f32(s1, vld1q_f32(pa.add(i + 4)), vld1q_f32(pb.add(i + 4)));
            i += 8;
        }
        vaddvq_f32(vaddq_f32(s0, s1))
    };
    while i < n {
        r += a[i] * b[i];
        i += 1;
    }
    r
}

pub fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut i = 0;
    // SAFETY: as in `dot`.
    let mut r = unsafe {
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut s0 = vdupq_n_f32(0.0);
        let mut s1 = vdupq_n_f32(0.0);
        while i + 8 <= n {
            let d0 = vsubq_f32(vld1q_f32(pa.add(i)), vld1q_f32(pb.add(i)));
            let d1 = vsubq_f32(vld1q_f32(pa.add(i + 4)), vld1q_f32(pb.add(i + 4)));
            s0 = vfmaq_f32(s0, d0, d0);
            s1 = vfmaq_f32(s1, d1, d1);
            i += 8;
        }
        vaddvq_f32(vaddq_f32(s0, s1))
    };
    while i < n {
        let d = a[i] - b[i];
        r += d * d;
        i += 1;
    }
    r
}

//! Register-blocked micro-kernels: C[MR×NR] (+)= Aₚ · Bₚ over `kc` steps, where
//! each step loads NR floats of B and broadcasts MR floats of A.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::distance::{active, kernels_for, Isa};

/// `kernel(kc, a_panel, b_panel, c, ldc, accumulate)`.
pub type Kernel = unsafe fn(usize, *const f32, *const f32, *mut f32, usize, bool);

#[derive(Clone, Copy)]
pub struct Micro {
    pub mr: usize,
    pub nr: usize,
    pub kernel: Kernel,
}

/// The micro-kernel of the ISA picked by `distance` (same override, same check).
pub fn active_micro() -> Micro {
    micro_for(active().isa).expect("the active ISA is supported")
}

/// The micro-kernel of `isa`, or `None` when this CPU lacks it.
pub fn micro_for(isa: Isa) -> Option<Micro> {
    kernels_for(isa)?;
    Some(match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Micro {
            mr: 8,
            nr: 32,
            kernel: k8x32_avx512,
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Micro {
            mr: 6,
            nr: 16,
            kernel: k6x16_avx2,
        },
        _ => Micro {
            mr: 4,
            nr: 4,
            kernel: k4x4_scalar,
        },
    })
}

/// # Safety
/// Panels hold `kc·4` floats; `c` addresses a 4×4 tile with row stride `ldc`.
unsafe fn k4x4_scalar(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, acc: bool) {
    let mut t = [[0.0f32; 4]; 4];
    for k in 0..kc {
        for (i, row) in t.iter_mut().enumerate() {
            let x = *a.add(k * 4 + i);
            for (j, v) in row.iter_mut().enumerate() {
                *v += x * *b.add(k * 4 + j);
            }
        }
    }
    for (i, row) in t.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let o = c.add(i * ldc + j);
            *o = if acc { *o + v } else { *v };
        }
    }
}

/// # Safety
/// AVX-512F present; panels hold `kc·8` / `kc·32` floats; `c` addresses an 8×32 tile.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn k8x32_avx512(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    acc: bool,
) {
    let mut t = [[_mm512_setzero_ps(); 2]; 8];
    for k in 0..kc {
        let b0 = _mm512_loadu_ps(b.add(k * 32));
        let b1 = _mm512_loadu_ps(b.add(k * 32 + 16));
        for (i, row) in t.iter_mut().enumerate() {
            let x = _mm512_set1_ps(*a.add(k * 8 + i));
            row[0] = _mm512_fmadd_ps(x, b0, row[0]);
            row[1] = _mm512_fmadd_ps(x, b1, row[1]);
        }
    }
    for (i, row) in t.iter().enumerate() {
        for (h, v) in row.iter().enumerate() {
            let o = c.add(i * ldc + h * 16);
            let v = if acc {
                _mm512_add_ps(_mm512_loadu_ps(o), *v)
            } else {
                *v
            };
            _mm512_storeu_ps(o, v);
        }
    }
}

/// # Safety
/// AVX2+FMA present; panels hold `kc·6` / `kc·16` floats; `c` addresses a 6×16 tile.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn k6x16_avx2(kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, acc: bool) {
    let mut t = [[_mm256_setzero_ps(); 2]; 6];
    for k in 0..kc {
        let b0 = _mm256_loadu_ps(b.add(k * 16));
        let b1 = _mm256_loadu_ps(b.add(k * 16 + 8));
        for (i, row) in t.iter_mut().enumerate() {
            let x = _mm256_set1_ps(*a.add(k * 6 + i));
            row[0] = _mm256_fmadd_ps(x, b0, row[0]);
            row[1] = _mm256_fmadd_ps(x, b1, row[1]);
        }
    }
    for (i, row) in t.iter().enumerate() {
        for (h, v) in row.iter().enumerate() {
            let o = c.add(i * ldc + h * 8);
            let v = if acc {
                _mm256_add_ps(_mm256_loadu_ps(o), *v)
            } else {
                *v
            };
            _mm256_storeu_ps(o, v);
        }
    }
}

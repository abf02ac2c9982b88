//! AVX-512 kernels of the GEMM: the 8×32 micro-kernel.

use std::arch::x86_64::*;

/// # Safety
/// AVX-512F present; panels hold `kc·8` / `kc·32` floats; `c` addresses an 8×32 tile.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn k8x32_avx512(
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

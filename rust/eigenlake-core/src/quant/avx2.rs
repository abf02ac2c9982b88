//! AVX2 panel kernel: codes sign-extended to i16 and multiplied pairwise (`vpmaddwd`).
//! `vpmaddubsw` would take the bytes as they are, but its i16 pair sums saturate
//! (255·127·2 > 2¹⁵), so it could not give the exact integer the bound relies on.

use std::arch::x86_64::*;

use super::kernels::{MR, NR};

/// # Safety
/// AVX2 present; `qi8` holds `k4·m·4` codes, `panel` `k4·128`.
#[target_feature(enable = "avx2")]
pub unsafe fn dots(
    m: usize,
    k4: usize,
    qi8: *const i8,
    panel: *const i8,
    out: &mut [i32; MR * NR],
) {
    for i in 0..m {
        // 8 groups of 4 rows; lane 2r+h of group g holds row 4g+r, dims pair h
        let mut acc = [_mm256_setzero_si256(); 8];
        for k in 0..k4 {
            let q = qi8.add((k * m + i) * 4);
            let w = [
                *q as i16,
                *q.add(1) as i16,
                *q.add(2) as i16,
                *q.add(3) as i16,
            ];
            let qv = _mm256_set1_epi64x(
                (w[0] as u16 as i64)
                    | ((w[1] as u16 as i64) << 16)
                    | ((w[2] as u16 as i64) << 32)
                    | ((w[3] as u16 as i64) << 48),
            );
            let p = panel.add(k * NR * 4);
            for (g, a) in acc.iter_mut().enumerate() {
                let c = _mm256_cvtepi8_epi16(_mm_loadu_si128(p.add(g * 16) as *const __m128i));
                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(c, qv));
            }
        }
        for (g, a) in acc.iter().enumerate() {
            let mut v = [0i32; 8];
            _mm256_storeu_si256(v.as_mut_ptr() as *mut __m256i, *a);
            for r in 0..4 {
                out[i * NR + g * 4 + r] = v[2 * r] + v[2 * r + 1];
            }
        }
    }
}

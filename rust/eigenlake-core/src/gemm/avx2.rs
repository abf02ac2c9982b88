//! AVX2 + FMA kernels of the GEMM: the 6×16 micro-kernel and the 8×8 panel transpose
//! (also used when AVX-512 is active).

use std::arch::x86_64::*;

/// # Safety
/// AVX2+FMA present; panels hold `kc·6` / `kc·16` floats; `c` addresses a 6×16 tile.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn k6x16_avx2(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    acc: bool,
) {
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

/// `r[i][j]` → `out[j][i]` for eight 8-float rows.
#[inline]
#[target_feature(enable = "avx2")]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

/// `transpose_scalar`, eight rows × eight columns at a time; leftover rows and columns
/// as the scalar version does them.
#[target_feature(enable = "avx2")]
pub(super) fn transpose_avx2(
    panel: &mut [f32],
    srcs: &[&[f32]],
    k0: usize,
    kc: usize,
    width: usize,
) {
    let nr = srcs.len();
    let full = nr / 8 * 8;
    assert!(nr <= width && panel.len() >= kc * width);
    assert!(srcs.iter().all(|r| r.len() >= k0 + kc));
    let mut k = 0;
    while k + 8 <= kc {
        for w0 in (0..full).step_by(8) {
            // SAFETY: every source row holds k0 + kc ≥ k0 + k + 8 floats (checked above)
            let rows: [__m256; 8] = std::array::from_fn(|i| unsafe {
                _mm256_loadu_ps(srcs[w0 + i].as_ptr().add(k0 + k))
            });
            for (j, &t) in transpose8(rows).iter().enumerate() {
                let o = (k + j) * width + w0;
                // SAFETY: o + 8 ≤ (k + j + 1) · width ≤ kc · width ≤ panel.len()
                unsafe { _mm256_storeu_ps(panel.as_mut_ptr().add(o), t) };
            }
        }
        for j in 0..8 {
            let row = &mut panel[(k + j) * width..(k + j + 1) * width];
            for (w, src) in srcs.iter().enumerate().skip(full) {
                row[w] = src[k0 + k + j];
            }
            row[nr..].fill(0.0);
        }
        k += 8;
    }
    for kk in k..kc {
        let dst = &mut panel[kk * width..(kk + 1) * width];
        for (d, src) in dst[..nr].iter_mut().zip(srcs) {
            *d = src[k0 + kk];
        }
        dst[nr..].fill(0.0);
    }
}

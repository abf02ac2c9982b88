//! AVX-512F kernels (16 lanes). The tail is a masked load, so no scalar loop.

use std::arch::x86_64::*;

#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn tail_mask(rem: usize) -> __mmask16 {
    ((1u32 << rem) - 1) as __mmask16
}

/// # Safety
/// The CPU must support AVX-512F; `a.len() == b.len()`.
#[target_feature(enable = "avx512f")]
pub unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + 64 <= n {
        for (j, s) in acc.iter_mut().enumerate() {
            let o = i + 16 * j;
            *s = _mm512_fmadd_ps(_mm512_loadu_ps(pa.add(o)), _mm512_loadu_ps(pb.add(o)), *s);
        }
        i += 64;
    }
    while i + 16 <= n {
        acc[0] = _mm512_fmadd_ps(
            _mm512_loadu_ps(pa.add(i)),
            _mm512_loadu_ps(pb.add(i)),
            acc[0],
        );
        i += 16;
    }
    if i < n {
        let m = tail_mask(n - i);
        let x = _mm512_maskz_loadu_ps(m, pa.add(i));
        let y = _mm512_maskz_loadu_ps(m, pb.add(i));
        acc[1] = _mm512_fmadd_ps(x, y, acc[1]);
    }
    let s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_reduce_add_ps(s)
}

/// `dot(a, b)` for each of the `M` rows `b`, reading `a` once: the same operations in the
/// same order per row as `dot`, so the same bits.
///
/// # Safety
/// The CPU must support AVX-512F; every `b` is as long as `a`.
#[target_feature(enable = "avx512f")]
pub unsafe fn dots<const M: usize>(a: &[f32], b: [&[f32]; M]) -> [f32; M] {
    let n = a.len();
    assert!(b.iter().all(|r| r.len() == n));
    let pa = a.as_ptr();
    let pb = b.map(|r| r.as_ptr());
    let mut acc = [[_mm512_setzero_ps(); 4]; M];
    let mut i = 0;
    while i + 64 <= n {
        for j in 0..4 {
            let o = i + 16 * j;
            let x = _mm512_loadu_ps(pa.add(o));
            for (s, p) in acc.iter_mut().zip(&pb) {
                s[j] = _mm512_fmadd_ps(x, _mm512_loadu_ps(p.add(o)), s[j]);
            }
        }
        i += 64;
    }
    while i + 16 <= n {
        let x = _mm512_loadu_ps(pa.add(i));
        for (s, p) in acc.iter_mut().zip(&pb) {
            s[0] = _mm512_fmadd_ps(x, _mm512_loadu_ps(p.add(i)), s[0]);
        }
        i += 16;
    }
    if i < n {
        let m = tail_mask(n - i);
        let x = _mm512_maskz_loadu_ps(m, pa.add(i));
        for (s, p) in acc.iter_mut().zip(&pb) {
            s[1] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, p.add(i)), s[1]);
        }
    }
    acc.map(|s| {
        _mm512_reduce_add_ps(_mm512_add_ps(
            _mm512_add_ps(s[0], s[1]),
            _mm512_add_ps(s[2], s[3]),
        ))
    })
}

/// # Safety
/// The CPU must support AVX-512F; `a.len() == b.len()`.
#[target_feature(enable = "avx512f")]
pub unsafe fn l2sq(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [_mm512_setzero_ps(); 4];
    let mut i = 0;
    while i + 64 <= n {
        for (j, s) in acc.iter_mut().enumerate() {
            let o = i + 16 * j;
            let d = _mm512_sub_ps(_mm512_loadu_ps(pa.add(o)), _mm512_loadu_ps(pb.add(o)));
            *s = _mm512_fmadd_ps(d, d, *s);
        }
        i += 64;
    }
    while i + 16 <= n {
        let d = _mm512_sub_ps(_mm512_loadu_ps(pa.add(i)), _mm512_loadu_ps(pb.add(i)));
        acc[0] = _mm512_fmadd_ps(d, d, acc[0]);
        i += 16;
    }
    if i < n {
        let m = tail_mask(n - i);
        let d = _mm512_sub_ps(
            _mm512_maskz_loadu_ps(m, pa.add(i)),
            _mm512_maskz_loadu_ps(m, pb.add(i)),
        );
        acc[1] = _mm512_fmadd_ps(d, d, acc[1]);
    }
    let s = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    _mm512_reduce_add_ps(s)
}

//! AVX-512 VNNI panel kernel: `vpdpbusd` multiplies 4 unsigned by 4 signed bytes and adds
//! them into an i32 lane, 64 products per instruction (4× an f32 FMA). The query is given
//! as u + 128 ∈ [1, 255] and the row's 128·Σc is subtracted at the end, so the result is
//! the exact signed u·c (|u·c| ≤ 127²·d stays far from i32 overflow for d < 2¹⁷).

use std::arch::x86_64::*;

use super::kernels::{MR, NR};

/// # Safety
/// AVX-512F/BW/VNNI present; `qu8` holds `k4·M·4` bytes, `panel` `k4·128`, `csum` 32.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub unsafe fn dots<const M: usize>(
    k4: usize,
    qu8: *const u8,
    panel: *const i8,
    csum: *const i32,
    out: &mut [i32; MR * NR],
) {
    let mut acc = [[_mm512_setzero_si512(); 2]; M];
    // With one or two queries each accumulator waits on the previous vpdpbusd (5 cycles):
    // steps go round-robin to more sets, which multiplies the chains (more queries have
    // enough): four sets for one query, two for two.
    let mut more = [[[_mm512_setzero_si512(); 2]; M]; 3];
    let step = |k: usize, acc: &mut [[__m512i; 2]; M]| {
        let p = panel.add(k * NR * 4);
        let b0 = _mm512_loadu_si512(p as *const _);
        let b1 = _mm512_loadu_si512(p.add(64) as *const _);
        let q = qu8.add(k * M * 4) as *const i32;
        for (i, a) in acc.iter_mut().enumerate() {
            let u = _mm512_set1_epi32(q.add(i).read_unaligned());
            a[0] = _mm512_dpbusd_epi32(a[0], u, b0);
            a[1] = _mm512_dpbusd_epi32(a[1], u, b1);
        }
    };
    let mut k = 0;
    if M == 1 {
        while k + 4 <= k4 {
            step(k, &mut acc);
            step(k + 1, &mut more[0]);
            step(k + 2, &mut more[1]);
            step(k + 3, &mut more[2]);
            k += 4;
        }
    }
    if M <= 2 {
        while k + 2 <= k4 {
            step(k, &mut acc);
            step(k + 1, &mut more[0]);
            k += 2;
        }
    }
    while k < k4 {
        step(k, &mut acc);
        k += 1;
    }
    if M <= 2 {
        for set in &more {
            for (a, o) in acc.iter_mut().zip(set) {
                a[0] = _mm512_add_epi32(a[0], o[0]);
                a[1] = _mm512_add_epi32(a[1], o[1]);
            }
        }
    }
    // 128·Σc
    let c0 = _mm512_slli_epi32::<7>(_mm512_loadu_si512(csum as *const _));
    let c1 = _mm512_slli_epi32::<7>(_mm512_loadu_si512(csum.add(16) as *const _));
    for (i, a) in acc.iter().enumerate() {
        let o = out.as_mut_ptr().add(i * NR);
        _mm512_storeu_si512(o as *mut _, _mm512_sub_epi32(a[0], c0));
        _mm512_storeu_si512(o.add(16) as *mut _, _mm512_sub_epi32(a[1], c1));
    }
}

/// Bit r set where row r of the panel may beat `thr`: `upper ≥ thr` with `upper` computed
/// as `encode::bounds` computes it (same operations, same order, no fusing).
///
/// # Safety
/// AVX-512F present.
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn filter(
    d: *const i32,
    scale: *const f32,
    alpha: *const f32,
    beta: *const f32,
    t: f32,
    ca: f32,
    cb: f32,
    thr: f32,
) -> u32 {
    let (t, ca, cb, thr) = (
        _mm512_set1_ps(t),
        _mm512_set1_ps(ca),
        _mm512_set1_ps(cb),
        _mm512_set1_ps(thr),
    );
    let eta = _mm512_set1_ps(super::encode::ETA);
    let mut bits = 0u32;
    for h in 0..2 {
        let o = h * 16;
        let dv = _mm512_cvtepi32_ps(_mm512_loadu_si512(d.add(o) as *const _));
        let a = _mm512_mul_ps(_mm512_mul_ps(t, _mm512_loadu_ps(scale.add(o))), dv);
        let w = _mm512_add_ps(
            _mm512_add_ps(
                _mm512_mul_ps(ca, _mm512_loadu_ps(alpha.add(o))),
                _mm512_mul_ps(cb, _mm512_loadu_ps(beta.add(o))),
            ),
            eta,
        );
        let up = _mm512_add_ps(a, w);
        let m = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(up, thr);
        bits |= (m as u32) << o;
    }
    bits
}

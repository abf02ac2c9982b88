//! Scalar reference kernels of the GEMM: the 4×4 micro-kernel and the panel transpose,
//! the fallback on any CPU and the oracle for the SIMD versions.

/// # Safety
/// Panels hold `kc·4` floats; `c` addresses a 4×4 tile with row stride `ldc`.
pub(super) unsafe fn k4x4_scalar(
    kc: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
    ldc: usize,
    acc: bool,
) {
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

/// `transpose_into` in scalar code, the reference. Works in strips of 8 columns: each
/// source row gives 8 contiguous floats (one bounds check), written into an L1-resident
/// 8 × width tile.
pub(super) fn transpose_scalar(
    panel: &mut [f32],
    srcs: &[&[f32]],
    k0: usize,
    kc: usize,
    width: usize,
) {
    const S: usize = 8;
    let nr = srcs.len();
    let mut k = 0;
    while k + S <= kc {
        let tile = &mut panel[k * width..(k + S) * width];
        for (w, src) in srcs.iter().enumerate() {
            let v: &[f32; S] = src[k0 + k..k0 + k + S].try_into().expect("8 floats");
            for (t, &x) in v.iter().enumerate() {
                tile[t * width + w] = x;
            }
        }
        for t in 0..S {
            tile[t * width + nr..(t + 1) * width].fill(0.0);
        }
        k += S;
    }
    for kk in k..kc {
        let dst = &mut panel[kk * width..(kk + 1) * width];
        for (d, src) in dst[..nr].iter_mut().zip(srcs) {
            *d = src[k0 + kk];
        }
        dst[nr..].fill(0.0);
    }
}

//! Blocked product `A · Bᵀ` of two row-major f32 matrices sharing `dim` columns.
//!
//! CONTRACT: `gemm_abt(a, b, dim, out)` writes `out[i * nb + j] = dot(a_i, b_j)`
//! where `na = a.len() / dim`, `nb = b.len() / dim`. Runs single-threaded; callers
//! parallelise over blocks of rows of `a`.
//!
//! Goto/BLIS scheme: both operands are packed into k-major panels (`pack`), and a
//! register-blocked micro-kernel computes one MR×NR tile at a time: C[MR×NR] (+)= Aₚ · Bₚ
//! over `kc` steps, each loading NR floats of B and broadcasting MR floats of A. One file
//! per ISA (`scalar` the reference, `avx2`, `avx512`: micro-kernel and panel transpose);
//! the micro-kernel and the transpose are those of the ISA `distance` picked (`micro_for`,
//! `transpose_into` below).
//! Callers that reuse one operand (exact search) pack it once with `Packed::new`.

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
mod pack;
mod scalar;

pub use pack::{Packed, KC};

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
            kernel: avx512::k8x32_avx512,
        },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Micro {
            mr: 6,
            nr: 16,
            kernel: avx2::k6x16_avx2,
        },
        _ => Micro {
            mr: 4,
            nr: 4,
            kernel: scalar::k4x4_scalar,
        },
    })
}

/// Fill one `kc × width` panel from `srcs` (≤ width rows, columns `k0..k0 + kc`),
/// zero-padding missing rows: with 8×8 in-register transposes where AVX2 is active (packing
/// the rows was ~30% of k-means' product time with the scalar loop), else
/// `scalar::transpose_scalar`.
fn transpose_into(panel: &mut [f32], srcs: &[&[f32]], k0: usize, kc: usize, width: usize) {
    #[cfg(target_arch = "x86_64")]
    if matches!(active().isa, Isa::Avx2 | Isa::Avx512) {
        // SAFETY: the active ISA was checked against the CPU by `distance::active`
        unsafe { avx2::transpose_avx2(panel, srcs, k0, kc, width) };
        return;
    }
    scalar::transpose_scalar(panel, srcs, k0, kc, width);
}

/// Rows of `a` packed at once (the packed block stays in L2).
const MC: usize = 256;
/// Rows of `b` packed at once (bounds the packing buffer).
const NC: usize = 2048;

pub fn gemm_abt(a: &[f32], b: &[f32], dim: usize, out: &mut [f32]) {
    gemm_abt_with(&active_micro(), a, b, dim, out)
}

/// `gemm_abt` with a given micro-kernel (tests run every one the CPU has).
pub fn gemm_abt_with(m: &Micro, a: &[f32], b: &[f32], dim: usize, out: &mut [f32]) {
    if dim == 0 {
        out.iter_mut().for_each(|o| *o = 0.0);
        return;
    }
    let na = a.len() / dim;
    let nb = b.len() / dim;
    assert_eq!(out.len(), na * nb, "gemm_abt: out has the wrong length");
    // A is packed once (in L2-sized blocks) and reused against every block of B.
    let pas: Vec<Packed> = (0..na)
        .step_by(MC)
        .map(|i0| Packed::new(&a[i0 * dim..(i0 + MC).min(na) * dim], dim, m.mr))
        .collect();
    let mut pb = Packed::gather(0, dim, m.nr, |_| &[]);
    for j0 in (0..nb).step_by(NC) {
        let jn = NC.min(nb - j0);
        pb.repack(jn, dim, |j| &b[(j0 + j) * dim..(j0 + j + 1) * dim]);
        for (bi, pa) in pas.iter().enumerate() {
            gemm_packed(m, pa, &pb, &mut out[bi * MC * nb + j0..], nb);
        }
    }
}

/// `out[i * ldc + j] = a_i · b_j` for the packed rows of `pa` (panel width `m.mr`)
/// and `pb` (panel width `m.nr`).
pub fn gemm_packed(m: &Micro, pa: &Packed, pb: &Packed, out: &mut [f32], ldc: usize) {
    let (na, nb) = (pa.rows(), pb.rows());
    assert_eq!(pa.dim(), pb.dim());
    assert!(pa.width() == m.mr && pb.width() == m.nr);
    if na == 0 || nb == 0 {
        return;
    }
    assert!(
        out.len() >= (na - 1) * ldc + nb,
        "gemm_packed: out too short"
    );
    let mut tmp = vec![0.0f32; m.mr * m.nr];
    for p in 0..pa.kblocks() {
        let kc = pa.kc(p);
        let accumulate = p > 0;
        for jp in 0..pb.panels() {
            let bp = pb.panel(p, jp);
            let j0 = jp * m.nr;
            let nj = m.nr.min(nb - j0);
            for ip in 0..pa.panels() {
                let ap = pa.panel(p, ip);
                let i0 = ip * m.mr;
                let ni = m.mr.min(na - i0);
                if ni == m.mr && nj == m.nr {
                    // SAFETY: the tile lies inside `out` (checked above); panels hold kc·MR / kc·NR.
                    unsafe {
                        (m.kernel)(
                            kc,
                            ap,
                            bp,
                            out.as_mut_ptr().add(i0 * ldc + j0),
                            ldc,
                            accumulate,
                        )
                    };
                } else {
                    // SAFETY: `tmp` holds a whole MR×NR tile.
                    unsafe { (m.kernel)(kc, ap, bp, tmp.as_mut_ptr(), m.nr, false) };
                    for i in 0..ni {
                        let row = &mut out[(i0 + i) * ldc + j0..(i0 + i) * ldc + j0 + nj];
                        let src = &tmp[i * m.nr..i * m.nr + nj];
                        if accumulate {
                            row.iter_mut().zip(src).for_each(|(o, s)| *o += s);
                        } else {
                            row.copy_from_slice(src);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::scalar::transpose_scalar;
    use super::*;

    /// The dispatched packing equals the scalar reference for row counts around the
    /// 8-row groups and column counts around the 8-column strips, offsets included.
    #[test]
    fn transpose_matches_scalar() {
        let src: Vec<Vec<f32>> = (0..40)
            .map(|r| (0..50).map(|c| (r * 100 + c) as f32).collect())
            .collect();
        for (nr, width) in [(0, 8), (3, 8), (8, 8), (13, 16), (32, 32), (37, 64)] {
            let rows: Vec<&[f32]> = src[..nr].iter().map(|r| r.as_slice()).collect();
            for (k0, kc) in [(0, 50), (3, 8), (5, 17), (1, 7)] {
                let mut want = vec![-1.0; kc * width];
                let mut got = vec![-2.0; kc * width];
                transpose_scalar(&mut want, &rows, k0, kc, width);
                transpose_into(&mut got, &rows, k0, kc, width);
                assert_eq!(got, want, "nr {nr} width {width} k0 {k0} kc {kc}");
                for k in 0..kc {
                    for w in 0..width {
                        let v = if w < nr { src[w][k0 + k] } else { 0.0 };
                        assert_eq!(want[k * width + w], v);
                    }
                }
            }
        }
    }
}

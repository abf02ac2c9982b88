//! Blocked product `A · Bᵀ` of two row-major f32 matrices sharing `dim` columns.
//!
//! CONTRACT: `gemm_abt(a, b, dim, out)` writes `out[i * nb + j] = dot(a_i, b_j)`
//! where `na = a.len() / dim`, `nb = b.len() / dim`. Runs single-threaded; callers
//! parallelise over blocks of rows of `a`.
//!
//! Goto/BLIS scheme: both operands are packed into k-major panels (`pack`), and a
//! register-blocked SIMD micro-kernel (`micro`) computes one MR×NR tile at a time.
//! Callers that reuse one operand (exact search) pack it once with `Packed::new`.

mod micro;
mod pack;

pub use micro::{active_micro, micro_for, Micro};
pub use pack::{Packed, KC};

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

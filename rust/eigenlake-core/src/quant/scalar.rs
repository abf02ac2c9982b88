//! Scalar reference of the panel kernel: the fallback and the tests' oracle.

use super::kernels::{MR, NR};

/// `out[i·32 + r] = Σ_j u_ij · c_rj` for the `m` queries of a block and the 32 rows of a
/// panel (layouts in `kernels`).
pub fn dots(m: usize, k4: usize, qi8: &[i8], panel: &[i8], out: &mut [i32; MR * NR]) {
    out.iter_mut().for_each(|o| *o = 0);
    for k in 0..k4 {
        let p = &panel[k * NR * 4..(k + 1) * NR * 4];
        for i in 0..m {
            let q = &qi8[(k * m + i) * 4..(k * m + i) * 4 + 4];
            for r in 0..NR {
                let c = &p[r * 4..r * 4 + 4];
                out[i * NR + r] += (0..4).map(|l| q[l] as i32 * c[l] as i32).sum::<i32>();
            }
        }
    }
}

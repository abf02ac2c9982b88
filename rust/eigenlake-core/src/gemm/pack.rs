//! Packing rows of a row-major matrix into k-major panels of `width` rows:
//! within k-block `p` and panel `q`, element (row r, column k) sits at
//! `panel(p, q)[k * width + r]`. Rows past the end are zero-padded.

#[cfg(target_arch = "x86_64")]
use crate::distance::Isa;

/// Depth of one k-block: a 32-wide B panel of KC floats (24 KiB) stays in L1.
pub const KC: usize = 192;
/// Widest panel any micro-kernel uses.
pub const MAX_WIDTH: usize = 64;

pub struct Packed {
    data: Vec<f32>,
    rows: usize,
    dim: usize,
    width: usize,
}

impl Packed {
    /// Pack the contiguous rows of `m` (`m.len() / dim` rows).
    pub fn new(m: &[f32], dim: usize, width: usize) -> Packed {
        let rows = m.len().checked_div(dim).unwrap_or(0);
        Packed::gather(rows, dim, width, |r| &m[r * dim..(r + 1) * dim])
    }

    /// Pack `rows` rows given by `row(r)`, e.g. the rows a mask lets through.
    pub fn gather<'a>(
        rows: usize,
        dim: usize,
        width: usize,
        row: impl Fn(usize) -> &'a [f32],
    ) -> Packed {
        let mut p = Packed {
            data: Vec::new(),
            rows: 0,
            dim,
            width,
        };
        p.repack(rows, dim, row);
        p
    }

    /// Pack again into the same buffer (no new allocation, no page faults).
    pub fn repack<'a>(&mut self, rows: usize, dim: usize, row: impl Fn(usize) -> &'a [f32]) {
        let width = self.width;
        assert!(width <= MAX_WIDTH);
        let panels = rows.div_ceil(width);
        let padded = panels * width;
        self.data.resize(padded * dim, 0.0);
        self.rows = rows;
        self.dim = dim;
        let mut srcs: [&[f32]; MAX_WIDTH] = [&[]; MAX_WIDTH];
        for q in 0..panels {
            let r0 = q * width;
            let nr = width.min(rows - r0);
            for (w, s) in srcs[..nr].iter_mut().enumerate() {
                *s = row(r0 + w);
            }
            for k0 in (0..dim).step_by(KC) {
                let kc = KC.min(dim - k0);
                let off = k0 * padded + q * kc * width;
                let panel = &mut self.data[off..off + kc * width];
                transpose_into(panel, &srcs[..nr], k0, kc, width);
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn panels(&self) -> usize {
        self.rows.div_ceil(self.width)
    }
    pub fn kblocks(&self) -> usize {
        self.dim.div_ceil(KC)
    }
    pub fn kc(&self, p: usize) -> usize {
        KC.min(self.dim - p * KC)
    }

    /// Pointer to the `kc(p) × width` panel `q` of k-block `p`.
    pub fn panel(&self, p: usize, q: usize) -> *const f32 {
        let padded = self.panels() * self.width;
        let off = p * KC * padded + q * self.kc(p) * self.width;
        self.data[off..].as_ptr()
    }
}

/// Fill one `kc × width` panel from `srcs` (≤ width rows, columns `k0..k0 + kc`),
/// zero-padding missing rows: with 8×8 in-register transposes where AVX2 is active (packing
/// the rows was ~30% of k-means' product time with the scalar loop), else `transpose_scalar`.
fn transpose_into(panel: &mut [f32], srcs: &[&[f32]], k0: usize, kc: usize, width: usize) {
    #[cfg(target_arch = "x86_64")]
    if matches!(crate::distance::active().isa, Isa::Avx2 | Isa::Avx512) {
        // SAFETY: the active ISA was checked against the CPU by `distance::active`
        unsafe { x86::transpose_avx2(panel, srcs, k0, kc, width) };
        return;
    }
    transpose_scalar(panel, srcs, k0, kc, width);
}

/// `transpose_into` in scalar code, the reference. Works in strips of 8 columns: each
/// source row gives 8 contiguous floats (one bounds check), written into an L1-resident
/// 8 × width tile.
fn transpose_scalar(panel: &mut [f32], srcs: &[&[f32]], k0: usize, kc: usize, width: usize) {
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

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

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
}

#[cfg(test)]
mod tests {
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

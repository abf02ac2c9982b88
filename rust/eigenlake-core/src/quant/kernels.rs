//! The panel kernel and the bound filter, picked once per process like the distance
//! kernels: AVX-512 VNNI where the active distance ISA is AVX-512 and the CPU has VNNI,
//! AVX2 where AVX2 is active (or AVX-512 lacks VNNI), else scalar. `EIGENLAKE_SIMD`
//! therefore moves this choice too; `active().name()` shows it (`build_info()["quant_simd"]`).
//!
//! Layouts: a panel holds 32 rows as `[dim/4][32 rows][4 codes]` (one 128-byte line of
//! codes per 4 dimensions, what `vpdpbusd` takes); a query block holds ≤ 8 queries as
//! `[dim/4][m][4]`, as i8 codes and as u8 codes + 128.

use std::sync::OnceLock;

use super::encode::{bounds_l2, QueryCode, RowMeta};
use crate::distance::{self, Isa};

/// Queries per block (the VNNI kernel keeps 2·MR accumulators in registers).
pub const MR: usize = 8;
/// Rows per panel.
pub const NR: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QIsa {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
}

impl QIsa {
    pub fn name(self) -> &'static str {
        match self {
            QIsa::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            QIsa::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            QIsa::Avx512Vnni => "avx512_vnni",
        }
    }

    /// Every kernel this CPU can run (the tests compare them all with scalar).
    pub fn available() -> Vec<QIsa> {
        let mut v = vec![QIsa::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") {
                v.push(QIsa::Avx2);
            }
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vnni")
            {
                v.push(QIsa::Avx512Vnni);
            }
        }
        v
    }

    fn for_distance(isa: Isa) -> QIsa {
        let have = QIsa::available();
        let want = match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => [QIsa::Avx512Vnni, QIsa::Avx2].to_vec(),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => [QIsa::Avx2].to_vec(),
            _ => Vec::new(),
        };
        want.into_iter()
            .find(|k| have.contains(k))
            .unwrap_or(QIsa::Scalar)
    }

    /// `out[i·32 + r]` = the exact integer product of query i of `blk` with row r of
    /// `panel` (`k4·128` codes; `csum` the panel's 32 code sums).
    #[inline]
    pub fn dots(self, blk: &QBlock, panel: &[i8], csum: &[i32], out: &mut [i32; MR * NR]) {
        self.dots_laid(blk.m, blk.k4, &blk.qi8, &blk.qu8, panel, csum, out);
    }

    /// `dots` of `m` queries laid out as a `QBlock`'s `qi8` and `qu8` (for one query: its
    /// codes zero-padded to `k4·4`, and those + 128).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn dots_laid(
        self,
        m: usize,
        k4: usize,
        qi8: &[i8],
        qu8: &[u8],
        panel: &[i8],
        csum: &[i32],
        out: &mut [i32; MR * NR],
    ) {
        assert!(panel.len() >= k4 * NR * 4 && csum.len() >= NR && (1..=MR).contains(&m));
        assert!(qi8.len() >= k4 * m * 4 && qu8.len() >= k4 * m * 4);
        match self {
            QIsa::Scalar => super::scalar::dots(m, k4, qi8, panel, out),
            // SAFETY (both): the CPU was checked by `available`; sizes asserted above
            #[cfg(target_arch = "x86_64")]
            QIsa::Avx2 => unsafe { super::avx2::dots(m, k4, qi8.as_ptr(), panel.as_ptr(), out) },
            #[cfg(target_arch = "x86_64")]
            QIsa::Avx512Vnni => unsafe {
                let (q, p, c) = (qu8.as_ptr(), panel.as_ptr(), csum.as_ptr());
                use super::avx512::dots as d;
                match m {
                    1 => d::<1>(k4, q, p, c, out),
                    2 => d::<2>(k4, q, p, c, out),
                    3 => d::<3>(k4, q, p, c, out),
                    4 => d::<4>(k4, q, p, c, out),
                    5 => d::<5>(k4, q, p, c, out),
                    6 => d::<6>(k4, q, p, c, out),
                    7 => d::<7>(k4, q, p, c, out),
                    _ => d::<8>(k4, q, p, c, out),
                }
            },
        }
    }

    /// Bit r set where row r may reach `thr` (see `avx512::filter`).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn filter(
        self,
        d: &[i32],
        scale: &[f32],
        alpha: &[f32],
        beta: &[f32],
        t: f32,
        ca: f32,
        cb: f32,
        thr: f32,
    ) -> u32 {
        assert!(d.len() >= NR && scale.len() >= NR && alpha.len() >= NR && beta.len() >= NR);
        #[cfg(target_arch = "x86_64")]
        if self == QIsa::Avx512Vnni {
            // SAFETY: the CPU has AVX-512F (checked with VNNI); slices hold 32 (asserted)
            return unsafe {
                super::avx512::filter(
                    d.as_ptr(),
                    scale.as_ptr(),
                    alpha.as_ptr(),
                    beta.as_ptr(),
                    t,
                    ca,
                    cb,
                    thr,
                )
            };
        }
        let mut bits = 0u32;
        for r in 0..NR {
            let a = (t * scale[r]) * d[r] as f32;
            let w = (ca * alpha[r] + cb * beta[r]) + super::encode::ETA;
            if a + w >= thr {
                bits |= 1 << r;
            }
        }
        bits
    }
}

/// The l2 filter: bit r set where row r's upper bound on `−l2sq` reaches `thr`, computed
/// as `encode::bounds_l2` computes it.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn filter_l2_body(
    d: &[i32],
    scale: &[f32],
    alpha: &[f32],
    beta: &[f32],
    sq: &[f32],
    q: &QueryCode,
    g: f32,
    thr: f32,
) -> u32 {
    let mut up = [0.0f32; NR];
    for r in 0..NR {
        let m = RowMeta {
            scale: scale[r],
            alpha: alpha[r],
            beta: beta[r],
            csum: 0,
            norm: 0.0,
            sq: sq[r],
        };
        up[r] = bounds_l2(d[r], &m, q, g).1;
    }
    up.iter()
        .enumerate()
        .fold(0u32, |b, (r, &u)| b | (((u >= thr) as u32) << r))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn filter_l2_avx512(
    d: &[i32],
    scale: &[f32],
    alpha: &[f32],
    beta: &[f32],
    sq: &[f32],
    q: &QueryCode,
    g: f32,
    thr: f32,
) -> u32 {
    filter_l2_body(d, scale, alpha, beta, sq, q, g, thr)
}

impl QIsa {
    /// `filter` for l2 (keys `−l2sq`).
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn filter_l2(
        self,
        d: &[i32],
        scale: &[f32],
        alpha: &[f32],
        beta: &[f32],
        sq: &[f32],
        q: &QueryCode,
        g: f32,
        thr: f32,
    ) -> u32 {
        assert!(
            d.len() >= NR
                && scale.len() >= NR
                && alpha.len() >= NR
                && beta.len() >= NR
                && sq.len() >= NR
        );
        #[cfg(target_arch = "x86_64")]
        if self == QIsa::Avx512Vnni {
            // SAFETY: the CPU has AVX-512F (checked with VNNI)
            return unsafe { filter_l2_avx512(d, scale, alpha, beta, sq, q, g, thr) };
        }
        filter_l2_body(d, scale, alpha, beta, sq, q, g, thr)
    }
}

/// The kernel set chosen for this process (follows the distance kernels' choice).
pub fn active() -> QIsa {
    static ACTIVE: OnceLock<QIsa> = OnceLock::new();
    *ACTIVE.get_or_init(|| QIsa::for_distance(distance::active().isa))
}

/// Whether batches may use the AMX kernel: the AVX-512 VNNI set is active, the CPU has
/// AMX-INT8, Linux granted the tile state, and `EIGENLAKE_AMX` is not `0`.
pub fn amx_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        {
            active() == QIsa::Avx512Vnni
                && std::env::var("EIGENLAKE_AMX").map_or(true, |v| v.trim() != "0")
                && super::amx::available()
        }
        #[cfg(not(target_arch = "x86_64"))]
        false
    })
}

/// The kernels a search uses, as shown to users: `"avx512_vnni+amx"` where batches of
/// queries go through AMX tiles.
pub fn description() -> &'static str {
    if amx_enabled() {
        "avx512_vnni+amx"
    } else {
        active().name()
    }
}

/// ≤ MR query codes laid out for the kernels.
pub struct QBlock {
    pub m: usize,
    pub k4: usize,
    pub qi8: Vec<i8>,
    pub qu8: Vec<u8>,
}

impl QBlock {
    /// `codes[i]` are query i's codes, `dp` = dim rounded up to 4 (zero-padded).
    pub fn new(codes: &[&[i8]], dp: usize) -> QBlock {
        let (m, k4) = (codes.len(), dp / 4);
        let mut qi8 = vec![0i8; k4 * m * 4];
        for (i, c) in codes.iter().enumerate() {
            for (j, &v) in c.iter().enumerate() {
                qi8[((j / 4) * m + i) * 4 + j % 4] = v;
            }
        }
        let qu8 = qi8.iter().map(|&v| (v as i32 + 128) as u8).collect();
        QBlock { m, k4, qi8, qu8 }
    }
}

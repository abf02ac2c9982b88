//! Spherical assignment from int8 codes, with the same labels as scoring every centroid in
//! f32 (issue #19).
//!
//! The rows are coded once per k-means call (they do not change between iterations), the
//! centroids once per iteration (`quant::QueryCode`). For each row, the exact integer
//! products with every centroid's codes give, through `quant::bounds`, an interval
//! [lo, hi] holding the f32 `distance::dot` of the row and that centroid for any
//! summation order (the proof is in `quant::encode`), so it holds the GEMM's score too.
//! Where the best lower bound is above every other centroid's upper bound, that centroid
//! is the strict f32 argmax whatever the kernel: the label is certain. Otherwise the few
//! centroids whose upper bound reaches it are re-scored with `distance::dot` and the
//! largest wins, the first in index order on a tie (what the f32 scorer keeps). So the
//! labels are those of the f32 argmax by `distance::dot`, lowest index on ties.
//!
//! Codes are 4× fewer bytes than the f32 rows, and the products run on AMX tiles: a pass
//! costs a fraction of the f32 GEMM. k-means uses them only where AMX is on (`enabled`);
//! the VNNI, AVX2 and scalar kernels give the same labels (tests) but no speed-up. Escape
//! hatch: `EIGENLAKE_KMEANS_CODES=0` scores every centroid in f32 as before.

use std::sync::OnceLock;

use rayon::prelude::*;

use crate::distance;
use crate::quant::{self, QBlock, QIsa, QueryCode, MR, NR};

/// Rows scored per task.
pub(crate) const BLOCK: usize = 256;

/// Whether spherical k-means uses the codes: the AMX kernel is on (`quant::amx_enabled`)
/// and `EIGENLAKE_KMEANS_CODES` is not `0`. Through the AVX-512 VNNI panel kernel a pass
/// cost as much CPU as the f32 GEMM (measured on 50k × 384, k = 50: 350 vs 360 ms for the
/// whole k-means, against 220 ms with AMX), so without AMX the f32 path stays.
pub(crate) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        quant::amx_enabled()
            && std::env::var("EIGENLAKE_KMEANS_CODES").map_or(true, |v| v.trim() != "0")
    })
}

/// The integer product kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// AMX tiles (dim padded to a multiple of 64).
    Amx,
    Panel(QIsa),
}

impl Kernel {
    pub(crate) fn active(dp: usize) -> Kernel {
        if dp.is_multiple_of(64) && quant::amx_enabled() {
            Kernel::Amx
        } else {
            Kernel::Panel(quant::active_kernels())
        }
    }
}

/// Int8 codes of the rows, row-major (`dp` per row, zero-padded, rows padded to a whole
/// number of 32), stored as u8 = code + 128 (what the products take), with each row's
/// scale, α and β (see `quant::encode`).
pub(crate) struct RowCodes {
    dim: usize,
    dp: usize,
    /// rows held, padding included (padding rows: code 0)
    held: usize,
    codes: Vec<u8>,
    scale: Vec<f32>,
    alpha: Vec<f32>,
    beta: Vec<f32>,
    /// An upper bound of every row's norm.
    max_norm: f32,
}

impl RowCodes {
    /// dim rounded up to 64 (the codes' row stride).
    pub(crate) fn padded_dim(&self) -> usize {
        self.dp
    }

    /// Codes of the finite rows of `x`.
    pub(crate) fn new(x: &[f32], dim: usize) -> RowCodes {
        let n = x.len() / dim;
        let dp = dim.div_ceil(64) * 64;
        let held = n.next_multiple_of(NR);
        let mut codes = vec![128u8; held * dp];
        let metas: Vec<(f32, f32, f32, f32)> = codes[..n * dp]
            .par_chunks_mut(dp * 64)
            .zip(x.par_chunks(dim * 64))
            .flat_map_iter(|(cb, xb)| {
                xb.chunks_exact(dim)
                    .zip(cb.chunks_exact_mut(dp))
                    .map(|(r, c)| encode(r, &mut c[..dim]))
                    .collect::<Vec<_>>()
            })
            .collect();
        let max_norm = metas.iter().fold(0f32, |a, m| a.max(m.3));
        RowCodes {
            dim,
            dp,
            held,
            codes,
            scale: metas.iter().map(|m| m.0).collect(),
            alpha: metas.iter().map(|m| m.1).collect(),
            beta: metas.iter().map(|m| m.2).collect(),
            max_norm,
        }
    }
}

/// `quant::encode_row` for one finite row, codes written as u8 = code + 128 (rounded half
/// to even, which vectorises; the bound holds for any codes): (scale, α, β, ‖x‖ rounded
/// up).
fn encode(x: &[f32], codes: &mut [u8]) -> (f32, f32, f32, f32) {
    #[cfg(target_arch = "x86_64")]
    let m = if quant::active_kernels() == QIsa::Avx512Vnni {
        // SAFETY: the VNNI kernels are active, so the CPU has AVX-512F
        unsafe { max_abs_avx512(x) }
    } else {
        x.iter().fold(0.0f32, |a, v| a.max(v.abs()))
    };
    #[cfg(not(target_arch = "x86_64"))]
    let m = x.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    let mut scale = m / quant::QMAX;
    if !scale.is_normal() {
        scale = 0.0;
    }
    let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
    #[cfg(target_arch = "x86_64")]
    let sums = if quant::active_kernels() == QIsa::Avx512Vnni {
        // SAFETY: the VNNI kernels are active, so the CPU has AVX-512F/BW
        unsafe { encode_avx512(x, codes, scale, inv) }
    } else {
        encode_scalar(x, codes, scale, inv)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let sums = encode_scalar(x, codes, scale, inv);
    let (r2, xh2, x2) = sums;
    let g = quant::gamma(x.len());
    let margin = 1.0 + 1e-9;
    (
        scale,
        quant::up((r2.sqrt() + g * x2.sqrt()) * margin),
        quant::up(xh2.sqrt() * margin),
        quant::up(x2.sqrt() * margin),
    )
}

/// Codes (u8 = code + 128) of `x` at `scale` (1/scale = `inv`), and Σr², Σ(s·c)², Σx² in f64
/// (s·c is exact in f64; the rest err by ~2⁻⁵³ relative, inside `encode`'s margin).
fn encode_scalar(x: &[f32], codes: &mut [u8], scale: f32, inv: f32) -> (f64, f64, f64) {
    let s64 = scale as f64;
    let (mut r2, mut xh2, mut x2) = (0f64, 0f64, 0f64);
    for (c, &v) in codes.iter_mut().zip(x) {
        let q = (v * inv).round_ties_even().clamp(-quant::QMAX, quant::QMAX);
        *c = (q as i32 + 128) as u8;
        let v = v as f64;
        let xh = s64 * q as f64;
        let r = v - xh;
        r2 += r * r;
        xh2 += xh * xh;
        x2 += v * v;
    }
    (r2, xh2, x2)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn max_abs_avx512(x: &[f32]) -> f32 {
    use std::arch::x86_64::*;
    let n = x.len();
    let mut m = _mm512_setzero_ps();
    for o in (0..n).step_by(16) {
        let mask: __mmask16 = if o + 16 <= n {
            0xffff
        } else {
            ((1u32 << (n - o)) - 1) as u16
        };
        m = _mm512_max_ps(
            m,
            _mm512_abs_ps(_mm512_maskz_loadu_ps(mask, x.as_ptr().add(o))),
        );
    }
    _mm512_reduce_max_ps(m)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn encode_avx512(x: &[f32], codes: &mut [u8], scale: f32, inv: f32) -> (f64, f64, f64) {
    use std::arch::x86_64::*;
    let n = x.len();
    assert!(codes.len() >= n);
    let (iv, hi, lo) = (
        _mm512_set1_ps(inv),
        _mm512_set1_ps(quant::QMAX),
        _mm512_set1_ps(-quant::QMAX),
    );
    let s64 = _mm512_set1_pd(scale as f64);
    let off = _mm512_set1_epi32(128);
    let (mut r2, mut xh2, mut x2) = (
        _mm512_setzero_pd(),
        _mm512_setzero_pd(),
        _mm512_setzero_pd(),
    );
    for o in (0..n).step_by(16) {
        let mask: __mmask16 = if o + 16 <= n {
            0xffff
        } else {
            ((1u32 << (n - o)) - 1) as u16
        };
        let v = _mm512_maskz_loadu_ps(mask, x.as_ptr().add(o));
        let q = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm512_mul_ps(v, iv),
        );
        let q = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
        let c = _mm512_add_epi32(_mm512_cvtps_epi32(q), off);
        _mm512_mask_cvtepi32_storeu_epi8(codes.as_mut_ptr().add(o) as *mut _, mask, c);
        for h in 0..2 {
            let (vh, qh) = if h == 0 {
                (_mm512_castps512_ps256(v), _mm512_castps512_ps256(q))
            } else {
                (
                    _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))),
                    _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(q))),
                )
            };
            let vd = _mm512_cvtps_pd(vh);
            let xh = _mm512_mul_pd(s64, _mm512_cvtps_pd(qh));
            let r = _mm512_sub_pd(vd, xh);
            r2 = _mm512_fmadd_pd(r, r, r2);
            xh2 = _mm512_fmadd_pd(xh, xh, xh2);
            x2 = _mm512_fmadd_pd(vd, vd, x2);
        }
    }
    (
        _mm512_reduce_add_pd(r2),
        _mm512_reduce_add_pd(xh2),
        _mm512_reduce_add_pd(x2),
    )
}

/// Rows ahead of the one being decided whose f32 values are prefetched.
const PREFETCH_AHEAD: usize = 2;

/// The centroids' codes for one pass, laid out for the kernel.
pub(crate) struct CentCodes<'a> {
    cent: &'a [f32],
    k: usize,
    kernel: Kernel,
    /// `[panel][dp/4][32][4]`, 32 centroids a panel (padding centroids: codes 0)
    panels: Vec<i8>,
    csum: Vec<i32>,
    /// per centroid, padded to whole panels with 0
    t: Vec<f32>,
    ca: Vec<f32>,
    cb: Vec<f32>,
}

impl<'a> CentCodes<'a> {
    /// `None` when a centroid cannot be coded (zero, or products that could overflow): the
    /// pass is then scored in f32.
    pub(crate) fn new(rc: &RowCodes, cent: &'a [f32], kernel: Kernel) -> Option<Self> {
        let (dim, dp) = (rc.dim, rc.dp);
        let k = cent.len() / dim;
        let qcs: Vec<QueryCode> = cent
            .chunks_exact(dim)
            .map(|c| QueryCode::new(c, rc.max_norm, false))
            .collect::<Option<_>>()?;
        let kp = k.div_ceil(NR);
        let pb = dp / 4 * NR * 4;
        let mut panels = vec![0i8; kp * pb];
        let mut csum = vec![0i32; kp * NR];
        for (c, q) in qcs.iter().enumerate() {
            let (p, r) = (c / NR, c % NR);
            for (j, &v) in q.codes.iter().enumerate() {
                panels[p * pb + (j / 4) * NR * 4 + r * 4 + j % 4] = v;
            }
            csum[c] = q.codes.iter().map(|&v| v as i32).sum();
        }
        let pad = |v: Vec<f32>| {
            let mut v = v;
            v.resize(kp * NR, 0.0);
            v
        };
        Some(CentCodes {
            cent,
            k,
            kernel,
            panels,
            csum,
            t: pad(qcs.iter().map(|q| q.t).collect()),
            ca: pad(qcs.iter().map(|q| q.ca).collect()),
            cb: pad(qcs.iter().map(|q| q.cb).collect()),
        })
    }
}

/// What a row's assignment leaves for Hamerly's bounds: its label and, as chords,
/// `d1` ≥ the f32 chord to the label, `d2` ≤ the f32 chord to any other centroid.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Assigned {
    pub label: u32,
    pub d1: f32,
    pub d2: f32,
}

fn chord(score: f32) -> f32 {
    (2.0 - 2.0 * score).max(0.0).sqrt()
}

/// Per-worker buffers.
pub(crate) struct Worker {
    rows_u8: Vec<u8>,
    out: Vec<i32>,
    dots: Vec<i32>,
    blk: QBlock,
    lo: Vec<f32>,
    hi: Vec<f32>,
    /// rows re-scored in f32 (statistics)
    pub rescored: usize,
}

impl Worker {
    pub(crate) fn new() -> Worker {
        Worker {
            rows_u8: Vec::new(),
            out: Vec::new(),
            dots: Vec::new(),
            blk: QBlock {
                m: 0,
                k4: 0,
                qi8: Vec::new(),
                qu8: Vec::new(),
            },
            lo: Vec::new(),
            hi: Vec::new(),
            rescored: 0,
        }
    }
}

/// A row's bounds against every centroid, summed up: `floor` = the best lower bound,
/// `count` = centroids whose upper bound reaches it, `first` = the first of them, `other`
/// = the largest upper bound below it.
struct Summary {
    floor: f32,
    count: u32,
    first: usize,
    other: f32,
}

impl CentCodes<'_> {
    /// Assign rows `ids` (at most `BLOCK`, ascending) of `x` (the rows `rc` codes).
    pub(crate) fn assign(
        &self,
        rc: &RowCodes,
        x: &[f32],
        ids: &[u32],
        w: &mut Worker,
        out: &mut Vec<Assigned>,
    ) {
        let (dim, dp, k) = (rc.dim, rc.dp, self.k);
        let kp = k.div_ceil(NR);
        let len = ids.len();
        let row_codes = |i: u32| &rc.codes[i as usize * dp..(i as usize + 1) * dp];
        // exact integer products: w.dots[i·kp·32 + c]
        w.dots.clear();
        w.dots.resize(len * kp * NR, 0);
        let pb = dp / 4 * NR * 4;
        match self.kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Amx => {
                let nqp = len.next_multiple_of(NR);
                let i0 = ids[0] as usize;
                // a run of consecutive rows is read in place; others are gathered
                let rows: *const u8 =
                    if ids[len - 1] as usize - i0 == len - 1 && i0 + nqp <= rc.held {
                        rc.codes[i0 * dp..].as_ptr()
                    } else {
                        w.rows_u8.clear();
                        w.rows_u8.resize(nqp * dp, 128);
                        for (dst, &i) in w.rows_u8.chunks_exact_mut(dp).zip(ids) {
                            dst.copy_from_slice(row_codes(i));
                        }
                        w.rows_u8.as_ptr()
                    };
                w.out.resize(nqp * NR, 0);
                for p in 0..kp {
                    // SAFETY: amx_enabled checked the CPU and the OS grant; dp is a
                    // multiple of 64; `rows` holds nqp·dp codes (in place: rows i0.. up to
                    // `held`) and out nqp·32
                    unsafe {
                        quant::amx_dots_all(
                            self.panels[p * pb..].as_ptr(),
                            rows,
                            nqp,
                            dp,
                            w.out.as_mut_ptr(),
                        )
                    };
                    let cs = &self.csum[p * NR..(p + 1) * NR];
                    for i in 0..len {
                        let d = &mut w.dots[(i * kp + p) * NR..(i * kp + p + 1) * NR];
                        let o = &w.out[i * NR..(i + 1) * NR];
                        for ((d, &o), &c) in d.iter_mut().zip(o).zip(cs) {
                            *d = o - (c << 7);
                        }
                    }
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            Kernel::Amx => unreachable!("AMX is x86_64 only"),
            Kernel::Panel(isa) => {
                let k4 = dp / 4;
                let mut tile = [0i32; MR * NR];
                for (g, grp) in ids.chunks(MR).enumerate() {
                    let m = grp.len();
                    let blk = &mut w.blk;
                    blk.m = m;
                    blk.k4 = k4;
                    blk.qu8.clear();
                    blk.qu8.resize(k4 * m * 4, 0);
                    for (r, &i) in grp.iter().enumerate() {
                        let src = row_codes(i);
                        for j4 in 0..k4 {
                            let o = (j4 * m + r) * 4;
                            blk.qu8[o..o + 4].copy_from_slice(&src[j4 * 4..j4 * 4 + 4]);
                        }
                    }
                    blk.qi8.clear();
                    blk.qi8.extend(blk.qu8.iter().map(|&v| (v ^ 0x80) as i8));
                    for p in 0..kp {
                        let panel = &self.panels[p * pb..(p + 1) * pb];
                        isa.dots(blk, panel, &self.csum[p * NR..], &mut tile);
                        for r in 0..m {
                            let i = g * MR + r;
                            w.dots[(i * kp + p) * NR..(i * kp + p + 1) * NR]
                                .copy_from_slice(&tile[r * NR..(r + 1) * NR]);
                        }
                    }
                }
            }
        }
        out.clear();
        w.lo.resize(kp * NR, 0.0);
        w.hi.resize(kp * NR, 0.0);
        for (j, &i) in ids.iter().enumerate() {
            // most rows left by the bounds are re-scored, and they are scattered: ask for a
            // row a few ahead while this one is decided
            if let Some(&a) = ids.get(j + PREFETCH_AHEAD) {
                distance::prefetch(&x[a as usize * dim..(a as usize + 1) * dim]);
            }
            let i = i as usize;
            let d = &w.dots[j * kp * NR..(j + 1) * kp * NR];
            let m = (rc.scale[i], rc.alpha[i], rc.beta[i]);
            let sm = summarise(d, m, self, &mut w.lo, &mut w.hi);
            if sm.count == 1 {
                // one centroid's lower bound is above every other's upper bound
                out.push(Assigned {
                    label: sm.first as u32,
                    d1: chord(sm.floor),
                    d2: chord(sm.other),
                });
                continue;
            }
            w.rescored += 1;
            out.push(self.rescore(&x[i * dim..(i + 1) * dim], &sm, &w.hi));
        }
    }

    /// The label of a row whose bounds leave several centroids: those whose upper bound
    /// reaches the best lower bound (the rest score strictly below the best's f32 score)
    /// are scored with `distance::dot`; the largest wins, the first on a tie.
    fn rescore(&self, row: &[f32], sm: &Summary, hi: &[f32]) -> Assigned {
        let dim = row.len();
        let (mut label, mut top) = (usize::MAX, f32::NEG_INFINITY);
        // the largest score, or upper bound, of the centroids other than the label
        let (mut other, mut beaten) = (sm.other, f32::NEG_INFINITY);
        for (c, &h) in hi.iter().enumerate().take(self.k).skip(sm.first) {
            if h < sm.floor {
                continue;
            }
            let s = distance::dot(row, &self.cent[c * dim..(c + 1) * dim]);
            if label == usize::MAX || s > top {
                beaten = top;
                label = c;
                top = s;
            } else {
                other = other.max(s);
            }
        }
        other = other.max(beaten);
        Assigned {
            label: label as u32,
            d1: chord(top),
            d2: chord(other),
        }
    }
}

/// `quant::bounds` of a row (scale, α, β) with every centroid (products `d`, padded to
/// whole panels), into `lo`/`hi` (padding: −inf), summed up. The same operations in the
/// same order as `quant::bounds`, so the same values.
fn summarise(
    d: &[i32],
    m: (f32, f32, f32),
    cc: &CentCodes,
    lo: &mut [f32],
    hi: &mut [f32],
) -> Summary {
    #[cfg(target_arch = "x86_64")]
    if quant::active_kernels() == QIsa::Avx512Vnni {
        // SAFETY: the VNNI kernels are active, so the CPU has AVX-512F; all slices hold
        // whole panels (asserted inside)
        return unsafe { summarise_avx512(d, m, cc, lo, hi) };
    }
    summarise_scalar(d, m, cc, lo, hi)
}

fn summarise_scalar(
    d: &[i32],
    (s, al, be): (f32, f32, f32),
    cc: &CentCodes,
    lo: &mut [f32],
    hi: &mut [f32],
) -> Summary {
    let mut floor = f32::NEG_INFINITY;
    for c in 0..d.len() {
        if c < cc.k {
            let a = (cc.t[c] * s) * d[c] as f32;
            let w = (cc.ca[c] * al + cc.cb[c] * be) + quant::ETA;
            lo[c] = a - w;
            hi[c] = a + w;
        } else {
            lo[c] = f32::NEG_INFINITY;
            hi[c] = f32::NEG_INFINITY;
        }
        floor = floor.max(lo[c]);
    }
    let (mut count, mut first, mut other) = (0, usize::MAX, f32::NEG_INFINITY);
    for (c, &h) in hi.iter().enumerate().take(d.len()) {
        if h >= floor {
            count += 1;
            first = first.min(c);
        } else {
            other = other.max(h);
        }
    }
    Summary {
        floor,
        count,
        first,
        other,
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn summarise_avx512(
    d: &[i32],
    (s, al, be): (f32, f32, f32),
    cc: &CentCodes,
    lo: &mut [f32],
    hi: &mut [f32],
) -> Summary {
    use std::arch::x86_64::*;
    let n = d.len();
    assert!(n.is_multiple_of(16) && lo.len() >= n && hi.len() >= n && cc.t.len() >= n);
    assert!(cc.ca.len() >= n && cc.cb.len() >= n);
    let (sv, alv, bev) = (_mm512_set1_ps(s), _mm512_set1_ps(al), _mm512_set1_ps(be));
    let eta = _mm512_set1_ps(quant::ETA);
    let ninf = _mm512_set1_ps(f32::NEG_INFINITY);
    let mut fl = ninf;
    for o in (0..n).step_by(16) {
        let valid: __mmask16 = if o + 16 <= cc.k {
            0xffff
        } else if o >= cc.k {
            0
        } else {
            (1u32 << (cc.k - o)) as u16 - 1
        };
        let dv = _mm512_cvtepi32_ps(_mm512_loadu_si512(d.as_ptr().add(o) as *const _));
        let a = _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(cc.t.as_ptr().add(o)), sv), dv);
        let w = _mm512_add_ps(
            _mm512_add_ps(
                _mm512_mul_ps(_mm512_loadu_ps(cc.ca.as_ptr().add(o)), alv),
                _mm512_mul_ps(_mm512_loadu_ps(cc.cb.as_ptr().add(o)), bev),
            ),
            eta,
        );
        let l = _mm512_mask_blend_ps(valid, ninf, _mm512_sub_ps(a, w));
        let h = _mm512_mask_blend_ps(valid, ninf, _mm512_add_ps(a, w));
        _mm512_storeu_ps(lo.as_mut_ptr().add(o), l);
        _mm512_storeu_ps(hi.as_mut_ptr().add(o), h);
        fl = _mm512_max_ps(fl, l);
    }
    let floor = _mm512_reduce_max_ps(fl);
    let flv = _mm512_set1_ps(floor);
    let (mut count, mut first) = (0u32, usize::MAX);
    let mut ot = ninf;
    for o in (0..n).step_by(16) {
        let h = _mm512_loadu_ps(hi.as_ptr().add(o));
        let reach = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(h, flv);
        if reach != 0 && first == usize::MAX {
            first = o + reach.trailing_zeros() as usize;
        }
        count += reach.count_ones();
        ot = _mm512_mask_max_ps(ot, !reach, ot, h);
    }
    Summary {
        floor,
        count,
        first,
        other: _mm512_reduce_max_ps(ot),
    }
}

#[cfg(test)]
mod tests;

//! AVX-512 kernels of the k-d tree search: a leaf's 32 lanes are two 16-lane registers.

use std::arch::x86_64::*;

use super::{EXIT_EVERY, LEAF};

#[target_feature(enable = "avx512f")]
fn boxes512(qblock: &[f32], lo: &[f32], hi: &[f32], bounds: &[f32; LEAF]) -> u64 {
    let (mut a0, mut a1) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let zero = _mm512_setzero_ps();
    // SAFETY: `bounds` holds LEAF = 32 floats
    let (b0, b1) = unsafe {
        (
            _mm512_loadu_ps(bounds.as_ptr()),
            _mm512_loadu_ps(bounds.as_ptr().add(16)),
        )
    };
    let within = |a0, a1| {
        _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a0, b0) as u64
            | (_mm512_cmp_ps_mask::<_CMP_LE_OQ>(a1, b1) as u64) << 16
    };
    for (c, ((col, &l), &h)) in qblock.chunks_exact(LEAF).zip(lo).zip(hi).enumerate() {
        if c % EXIT_EVERY == 0 && c > 0 && within(a0, a1) == 0 {
            return 0;
        }
        let (l, h) = (_mm512_set1_ps(l), _mm512_set1_ps(h));
        // SAFETY: `col` holds LEAF = 32 floats
        let (x0, x1) = unsafe {
            (
                _mm512_loadu_ps(col.as_ptr()),
                _mm512_loadu_ps(col.as_ptr().add(16)),
            )
        };
        let t0 = _mm512_max_ps(
            _mm512_max_ps(_mm512_sub_ps(l, x0), _mm512_sub_ps(x0, h)),
            zero,
        );
        let t1 = _mm512_max_ps(
            _mm512_max_ps(_mm512_sub_ps(l, x1), _mm512_sub_ps(x1, h)),
            zero,
        );
        a0 = _mm512_add_ps(a0, _mm512_mul_ps(t0, t0));
        a1 = _mm512_add_ps(a1, _mm512_mul_ps(t1, t1));
    }
    within(a0, a1)
}

/// A row is `G` masked 16-lane loads; lows and highs stay in registers.
#[target_feature(enable = "avx512f")]
fn bbox512_g<const G: usize>(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]) {
    let dp = out.len() / 2;
    assert!(G * 16 >= dim && dp >= dim && !idx.is_empty());
    assert!(idx.iter().all(|&i| (i as usize + 1) * dim <= x.len()));
    let masks: [__mmask16; G] = std::array::from_fn(|g| {
        let left = dim.saturating_sub(16 * g).min(16);
        ((1u32 << left) - 1) as __mmask16
    });
    // SAFETY: each masked load reads lanes < dim of a row within `x` (asserted above)
    let load = |i: u32, g: usize| unsafe {
        _mm512_maskz_loadu_ps(masks[g], x.as_ptr().add(i as usize * dim + 16 * g))
    };
    let mut lo: [__m512; G] = std::array::from_fn(|g| load(idx[0], g));
    let mut hi = lo;
    for &i in &idx[1..] {
        for g in 0..G {
            let v = load(i, g);
            lo[g] = _mm512_min_ps(lo[g], v);
            hi[g] = _mm512_max_ps(hi[g], v);
        }
    }
    let (ol, oh) = out.split_at_mut(dp);
    for g in 0..G {
        // SAFETY: lanes < dim, within dp
        unsafe {
            _mm512_mask_storeu_ps(ol.as_mut_ptr().add(16 * g), masks[g], lo[g]);
            _mm512_mask_storeu_ps(oh.as_mut_ptr().add(16 * g), masks[g], hi[g]);
        }
    }
}

/// 16 lanes at a time (the last group masked); no early exit: at most four steps for the
/// tree's dimensions, and a horizontal sum per step would cost more than it saves.
#[target_feature(enable = "avx512f")]
fn gap512(a: &[f32], b: &[f32], _limit: f32) -> f32 {
    let dp = a.len() / 2;
    assert!(b.len() == a.len());
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let zero = _mm512_setzero_ps();
    let mut acc = zero;
    let mut c = 0;
    while c < dp {
        let m: __mmask16 = if dp - c >= 16 {
            0xffff
        } else {
            (1u16 << (dp - c)) - 1
        };
        // SAFETY: lanes c..c + 16 are masked to c..dp, within each half of a and b
        let (al, ah, bl, bh) = unsafe {
            (
                _mm512_maskz_loadu_ps(m, pa.add(c)),
                _mm512_maskz_loadu_ps(m, pa.add(dp + c)),
                _mm512_maskz_loadu_ps(m, pb.add(c)),
                _mm512_maskz_loadu_ps(m, pb.add(dp + c)),
            )
        };
        let t = _mm512_max_ps(
            _mm512_max_ps(_mm512_sub_ps(bl, ah), _mm512_sub_ps(al, bh)),
            zero,
        );
        acc = _mm512_fmadd_ps(t, t, acc);
        c += 16;
    }
    _mm512_reduce_add_ps(acc)
}

/// Query rows measured at once: their accumulators are independent FMA chains, so the
/// adds do not wait on each other's latency (one row at a time ran at half rate).
const ROWS512: usize = 4;

/// The next (up to) four rows of `rows`, taken out of it, and how many there are: a short
/// last group runs as its own size rather than repeating a row.
fn next_rows(rows: &mut u64) -> ([usize; ROWS512], usize) {
    let mut js = [0usize; ROWS512];
    let mut got = 0;
    while got < ROWS512 && *rows != 0 {
        js[got] = rows.trailing_zeros() as usize;
        *rows &= *rows - 1;
        got += 1;
    }
    (js, got)
}

/// Columns measured before a row is checked for any lane still within its bound; rows
/// with none are dropped one by one and the rest finish in one go (partial sums only grow,
/// and on rotated rows the first columns hold most of the distance). Cardio: 44% of the
/// (row, leaf) pairs are out after 8 of 21 columns, 58% after 12, 68% after 16, but
/// checking every 4 columns lost more to the saved and reloaded sums than it spared; the
/// all-four-rows exit of `rows512_whole` caught almost none. 1-thread LOF (cardio,
/// satellite): whole rows 2.56, 13.97 ms; checks after 8 then every 4 columns 2.59, 13.9;
/// one check after 8 2.47, 13.5; after 12 2.49, 13.2; after 16 2.53, 13.4.
const FIRST_SPAN: usize = 12;

#[target_feature(enable = "avx512f")]
fn rows512(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
) {
    assert!(block.len() >= dim * LEAF && qs.len() >= dim * LEAF && sel >> LEAF == 0);
    if dim <= FIRST_SPAN {
        return rows512_whole(block, qs, dim, sel, bounds, dists, masks);
    }
    // `dists[j]` holds row j's running partial sums between spans of columns
    let mut alive = sel;
    let mut c0 = 0;
    while c0 < dim {
        let c1 = if c0 == 0 { FIRST_SPAN } else { dim };
        let mut rows = alive;
        while rows != 0 {
            let (js, got) = next_rows(&mut rows);
            let d = &mut *dists;
            match got {
                4 => span512::<4>(block, qs, js, c0..c1, d),
                3 => span512::<3>(block, qs, [js[0], js[1], js[2]], c0..c1, d),
                2 => span512::<2>(block, qs, [js[0], js[1]], c0..c1, d),
                _ => span512::<1>(block, qs, [js[0]], c0..c1, d),
            }
        }
        c0 = c1;
        // rows with every lane past the bound are done (after the last column: final)
        let mut rows = alive;
        while rows != 0 {
            let j = rows.trailing_zeros() as usize;
            rows &= rows - 1;
            let b = _mm512_set1_ps(bounds[j]);
            let p = dists[j].as_ptr();
            // SAFETY: a row of `dists` holds LEAF = 32 floats
            let (a0, a1) = unsafe { (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16))) };
            let m = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a0, b) as u64
                | (_mm512_cmp_ps_mask::<_CMP_LE_OQ>(a1, b) as u64) << 16;
            masks[j] = m;
            if m == 0 {
                alive &= !(1u64 << j);
            }
        }
        if alive == 0 {
            return;
        }
    }
}

/// Columns `cols` of `R` query rows (lanes `js` of the query block `qs`) against the 32
/// lanes of `block`, added to the partial sums in `dists` (started from 0 at column 0).
#[target_feature(enable = "avx512f")]
#[inline]
fn span512<const R: usize>(
    block: &[f32],
    qs: &[f32],
    js: [usize; R],
    cols: std::ops::Range<usize>,
    dists: &mut [[f32; LEAF]; LEAF],
) {
    assert!(js.iter().all(|&j| j < LEAF));
    assert!(block.len() >= cols.end * LEAF && qs.len() >= cols.end * LEAF);
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    if cols.start > 0 {
        for (a, &j) in acc.iter_mut().zip(&js) {
            let p = dists[j].as_ptr();
            // SAFETY: a row of `dists` holds LEAF = 32 floats
            *a = unsafe { [_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16))] };
        }
    }
    columns(block, qs, &js, cols, &mut acc);
    for (a, &j) in acc.iter().zip(&js) {
        let o = dists[j].as_mut_ptr();
        // SAFETY: a row of `dists` holds LEAF = 32 floats
        unsafe {
            _mm512_storeu_ps(o, a[0]);
            _mm512_storeu_ps(o.add(16), a[1]);
        }
    }
}

/// Adds columns `cols` of query rows `js` (lanes of the query block `qs`) against the 32
/// lanes of `block` to their sums `acc`.
#[target_feature(enable = "avx512f")]
#[inline]
fn columns<const R: usize>(
    block: &[f32],
    qs: &[f32],
    js: &[usize; R],
    cols: std::ops::Range<usize>,
    acc: &mut [[__m512; 2]; R],
) {
    assert!(js.iter().all(|&j| j < LEAF));
    assert!(block.len() >= cols.end * LEAF && qs.len() >= cols.end * LEAF);
    for c in cols {
        // SAFETY: c < cols.end and the block holds at least cols.end × LEAF floats
        let (x0, x1) = unsafe {
            let p = block.as_ptr().add(c * LEAF);
            (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)))
        };
        for (a, &j) in acc.iter_mut().zip(js) {
            // SAFETY: j < LEAF and c < cols.end (asserted), so within the query block
            // SAFETY: j < LEAF and c < cols.end (asserted), so within the query block
            let (t0, t1) = unsafe { sub_broadcast(x0, x1, qs.as_ptr().add(c * LEAF + j)) };
            a[0] = _mm512_fmadd_ps(t0, t0, a[0]);
            a[1] = _mm512_fmadd_ps(t1, t1, a[1]);
        }
    }
}

/// `(x0 − v, x1 − v)` for the float `v` at `p`, taken as an embedded broadcast operand of
/// each subtraction. Written as assembly because the compiler turns two `set1` uses into
/// one `vbroadcastss`, a separate operation that on Zen 4 competes with the subtractions
/// for the floating-point pipes: with four rows per column the broadcasts were the
/// bottleneck (1-thread LOF cardio 2.04 → 1.87 ms, satellite 10.3 → 9.4 ms).
///
/// # Safety
/// `p` points to a readable `f32`; the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn sub_broadcast(x0: __m512, x1: __m512, p: *const f32) -> (__m512, __m512) {
    let (t0, t1): (__m512, __m512);
    // SAFETY: per the caller; the instructions only read the 4 bytes at `p`
    unsafe {
        std::arch::asm!(
            "vsubps {t0}, {x0}, dword ptr [{p}]{{1to16}}",
            "vsubps {t1}, {x1}, dword ptr [{p}]{{1to16}}",
            t0 = out(zmm_reg) t0,
            t1 = out(zmm_reg) t1,
            x0 = in(zmm_reg) x0,
            x1 = in(zmm_reg) x1,
            p = in(reg) p,
            options(pure, readonly, nostack, preserves_flags),
        );
    }
    (t0, t1)
}

/// Rows of at most `FIRST_SPAN` columns: all at once, masks straight from the registers.
#[target_feature(enable = "avx512f")]
fn rows512_whole(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    mut sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
) {
    while sel != 0 {
        let (js, got) = next_rows(&mut sel);
        let out = (&mut *dists, &mut *masks);
        match got {
            4 => group512::<4>(block, qs, dim, [js[0], js[1], js[2], js[3]], bounds, out),
            3 => group512::<3>(block, qs, dim, [js[0], js[1], js[2]], bounds, out),
            2 => group512::<2>(block, qs, dim, [js[0], js[1]], bounds, out),
            _ => group512::<1>(block, qs, dim, [js[0]], bounds, out),
        }
    }
}

/// `R` query rows (lanes `js` of the query block `qs`) against the 32 lanes of `block`.
#[target_feature(enable = "avx512f")]
#[inline]
fn group512<const R: usize>(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    js: [usize; R],
    bounds: &[f32; LEAF],
    (dists, masks): (&mut [[f32; LEAF]; LEAF], &mut [u64; LEAF]),
) {
    assert!(block.len() >= dim * LEAF && qs.len() >= dim * LEAF);
    assert!(js.iter().all(|&j| j < LEAF));
    let b = js.map(|j| _mm512_set1_ps(bounds[j]));
    let within = |acc: &[[__m512; 2]; R]| {
        let mut any = 0u16;
        for (a, &br) in acc.iter().zip(&b) {
            any |= _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[0], br)
                | _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[1], br);
        }
        any != 0
    };
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    for c0 in (0..dim).step_by(EXIT_EVERY) {
        if c0 > 0 && !within(&acc) {
            for &j in &js {
                masks[j] = 0;
            }
            return;
        }
        columns(block, qs, &js, c0..(c0 + EXIT_EVERY).min(dim), &mut acc);
    }
    for ((a, &j), &br) in acc.iter().zip(&js).zip(&b) {
        let o = dists[j].as_mut_ptr();
        // SAFETY: a row of `dists` holds LEAF = 32 floats
        unsafe {
            _mm512_storeu_ps(o, a[0]);
            _mm512_storeu_ps(o.add(16), a[1]);
        }
        let m0 = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[0], br) as u64;
        let m1 = _mm512_cmp_ps_mask::<_CMP_LE_OQ>(a[1], br) as u64;
        masks[j] = m0 | (m1 << 16);
    }
}

// SAFETY (all four): only chosen by `kernels` after the CPU check of `distance::active`.
pub(super) fn bbox_avx512(x: &[f32], dim: usize, idx: &[u32], out: &mut [f32]) {
    match dim.div_ceil(16) {
        1 => unsafe { bbox512_g::<1>(x, dim, idx, out) },
        2 => unsafe { bbox512_g::<2>(x, dim, idx, out) },
        3 => unsafe { bbox512_g::<3>(x, dim, idx, out) },
        4 => unsafe { bbox512_g::<4>(x, dim, idx, out) },
        _ => super::bbox_scalar(x, dim, idx, out),
    }
}

pub(super) fn gap_avx512(a: &[f32], b: &[f32], limit: f32) -> f32 {
    unsafe { gap512(a, b, limit) }
}

pub(super) fn boxes_avx512(q: &[f32], lo: &[f32], hi: &[f32], b: &[f32; LEAF]) -> u64 {
    unsafe { boxes512(q, lo, hi, b) }
}

pub(super) fn rows_avx512(
    block: &[f32],
    qs: &[f32],
    dim: usize,
    sel: u64,
    bounds: &[f32; LEAF],
    dists: &mut [[f32; LEAF]; LEAF],
    masks: &mut [u64; LEAF],
) {
    unsafe { rows512(block, qs, dim, sel, bounds, dists, masks) }
}

//! Exact silhouette coefficients with scikit-learn's conventions: labels are any integers
//! (noise −1 is just another label here; callers drop it first if they want), a point of
//! a size-1 cluster scores 0, and 2 ≤ number of labels ≤ n − 1.
//!
//! Cosine uses cluster sums: the summed distance from `x` to cluster `C` is
//! `|C| − x·ΣC` (self term `1 − x·x` = 0 for unit rows), so the cost is O(n·k·d): one
//! product of the rows with the k cluster means (packed once), in parallel row blocks.
//! Rows that are already unit length (as a cosine index stores them) are read in place.
//! Euclidean streams distance tiles into per-label sums: O(n²·d) time, O(n + k) memory
//! beyond the tiles.
//!
//! `centre_distances` gives the distance of each row to the mean of its cluster (what the
//! analyses rank representatives by), from the same cluster sums: O(n·d).

use std::borrow::Cow;
use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::points::{blocks, check_matrix, Metric, Points, COL_BLOCK, ROW_BLOCK};
use crate::distance;
use crate::error::{CoreError, Result};
use crate::gemm::{active_micro, gemm_packed, Packed};

/// Dense label ids `0..m` (sorted order of the distinct labels) and cluster sizes.
fn encode(labels: &[i64]) -> (Vec<usize>, Vec<usize>) {
    let mut uniq = labels.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let ids: Vec<usize> = labels
        .iter()
        .map(|l| uniq.binary_search(l).expect("label present"))
        .collect();
    let mut sizes = vec![0usize; uniq.len()];
    ids.iter().for_each(|&i| sizes[i] += 1);
    (ids, sizes)
}

fn check_labels(labels: &[i64], n: usize) -> Result<()> {
    if labels.len() != n {
        return Err(CoreError::invalid(
            "labels",
            format!("length {} does not match the {n} rows of x", labels.len()),
        ));
    }
    Ok(())
}

/// Silhouette of every row.
pub fn silhouette_samples(
    x: &[f32],
    dim: usize,
    labels: &[i64],
    metric: Metric,
) -> Result<Vec<f32>> {
    // NaN and infinity: cosine finds them in its pass over the rows (`unit_rows`),
    // euclidean in `Points::new`
    let n = rows_of(x, dim)?;
    check_labels(labels, n)?;
    let (ids, sizes) = encode(labels);
    let m = sizes.len();
    if m < 2 || m > n - 1 {
        return Err(CoreError::invalid(
            "labels",
            format!(
                "number of labels is {m}; valid values are 2 to n_samples - 1 ({})",
                n - 1
            ),
        ));
    }
    if metric == Metric::Cosine {
        return Ok(cosine_samples(&unit_rows(x, dim)?, dim, &ids, &sizes));
    }
    check_finite(x)?; // O(n·d) against the O(n²·d) below; the message of the bindings
    let pts = Points::new(x, dim, metric)?;
    // per block of rows: summed distance to each label, then the scores (O(n + k) memory)
    let mut out = vec![0f32; n];
    out.par_chunks_mut(ROW_BLOCK)
        .enumerate()
        .for_each(|(b, ob)| {
            let rows = b * ROW_BLOCK..b * ROW_BLOCK + ob.len();
            let sums = euclidean_sums(&pts, &ids, m, rows.clone());
            for (r, o) in ob.iter_mut().enumerate() {
                *o = score(&sums[r * m..(r + 1) * m], ids[rows.start + r], &sizes);
            }
        });
    Ok(out)
}

/// Mean silhouette; with `sample_size`, of a seeded random subset (as scikit-learn).
pub fn silhouette(
    x: &[f32],
    dim: usize,
    labels: &[i64],
    metric: Metric,
    sample_size: Option<usize>,
    seed: u64,
) -> Result<f64> {
    let n = rows_of(x, dim)?;
    if labels.len() != n {
        return Err(CoreError::invalid(
            "labels",
            "length does not match the rows of x",
        ));
    }
    let s = match sample_size {
        Some(s) if s < n => {
            if s == 0 {
                return Err(CoreError::invalid("sample_size", "must be at least 1"));
            }
            check_finite(x)?; // every row, not only the sampled ones
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut idx = rand::seq::index::sample(&mut rng, n, s).into_vec();
            idx.sort_unstable();
            let xs: Vec<f32> = idx
                .iter()
                .flat_map(|&i| x[i * dim..(i + 1) * dim].iter().copied())
                .collect();
            let ls: Vec<i64> = idx.iter().map(|&i| labels[i]).collect();
            silhouette_samples(&xs, dim, &ls, metric)?
        }
        _ => silhouette_samples(x, dim, labels, metric)?,
    };
    Ok(s.iter().map(|&v| v as f64).sum::<f64>() / s.len() as f64)
}

fn score(sum: &[f64], own: usize, sizes: &[usize]) -> f32 {
    if sizes[own] <= 1 {
        return 0.0;
    }
    let a = sum[own] / (sizes[own] - 1) as f64;
    let b = sum
        .iter()
        .zip(sizes)
        .enumerate()
        .filter(|&(l, _)| l != own)
        .map(|(_, (s, &c))| s / c as f64)
        .fold(f64::INFINITY, f64::min);
    let den = a.max(b);
    if den > 0.0 {
        ((b - a) / den) as f32
    } else {
        0.0
    }
}

/// Rows whose squared norm is within this of 1 are unit length to f32 precision (a few
/// ulps): normalising them again would only move their last bits, so they are used as
/// they are, without a copy.
const UNIT_TOL: f32 = 1e-6;

/// The refusal of NaN and infinity (a float64 value beyond the float32 range becomes
/// infinity on the way in).
const NOT_FINITE: &str = "contains NaN or infinity (or a value beyond the float32 range)";

/// The row count of a well-formed matrix; its values are not scanned (the callers find
/// NaN and infinity in a pass they make anyway). Malformed shapes get `check_matrix`'s
/// messages.
fn rows_of(x: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 || x.is_empty() || !x.len().is_multiple_of(dim) {
        check_matrix(x, dim)?;
    }
    Ok(x.len() / dim)
}

/// Refuse NaN and infinity anywhere in `x` (in parallel).
fn check_finite(x: &[f32]) -> Result<()> {
    let finite = x
        .par_chunks(1 << 16)
        .all(|c| c.iter().fold(true, |ok, v| ok & v.is_finite()));
    if finite {
        Ok(())
    } else {
        Err(CoreError::invalid("x", NOT_FINITE))
    }
}

/// The rows scaled to unit length (all-zero rows stay zero): `x` itself when every row
/// already is, else a normalised copy (made in parallel). The same pass refuses NaN and
/// infinity: a row's squared norm is finite unless one of its values is not (or the sum
/// overflows, which the row's values then tell apart).
fn unit_rows(x: &[f32], dim: usize) -> Result<Cow<'_, [f32]>> {
    let (unit, finite) = x
        .par_chunks(dim * 1024)
        .map(|block| {
            let (mut unit, mut finite) = (true, true);
            for r in block.chunks_exact(dim) {
                let sq = distance::norm_sq(r);
                if sq.is_finite() {
                    unit &= (sq - 1.0).abs() <= UNIT_TOL;
                } else {
                    unit = false;
                    finite &= r.iter().all(|v| v.is_finite());
                }
            }
            (unit, finite)
        })
        .reduce(|| (true, true), |a, b| (a.0 & b.0, a.1 & b.1));
    if !finite {
        return Err(CoreError::invalid("x", NOT_FINITE));
    }
    if unit {
        return Ok(Cow::Borrowed(x));
    }
    let mut data = x.to_vec();
    data.par_chunks_mut(dim).for_each(|r| {
        distance::normalize(r);
    });
    Ok(Cow::Owned(data))
}

/// Marks a row that belongs to no cluster in `cluster_sums` (noise).
const SKIP: usize = usize::MAX;
/// Memory for the partial sums of `cluster_sums` (all chunks together).
const SUM_BUDGET: usize = 64 << 20;
/// Most chunks `cluster_sums` splits the rows into.
const SUM_CHUNKS: usize = 16;

/// Per-cluster f64 sums of the rows (`ids[i]` = cluster of row i, or `SKIP`), `m × dim`
/// row-major. The rows are split into chunks (how many depends on n, m and dim only, not on
/// the threads), each summed in parallel row by row, and the chunks' sums added in order:
/// the same numbers on every run and machine.
fn cluster_sums(rows: &[f32], dim: usize, ids: &[usize], m: usize) -> Vec<f64> {
    let n = ids.len();
    let chunks = (SUM_BUDGET / (m * dim * 8).max(1))
        .clamp(1, SUM_CHUNKS)
        .min(n.max(1));
    let per = n.div_ceil(chunks).max(1);
    let parts: Vec<Vec<f64>> = ids
        .par_chunks(per)
        .zip(rows.par_chunks(per * dim))
        .map(|(ids, rows)| {
            let mut acc = vec![0f64; m * dim];
            if wide() {
                // SAFETY: `wide` checked that the CPU has AVX2
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    add_rows_avx2(&mut acc, rows, dim, ids)
                };
            } else {
                add_rows(&mut acc, rows, dim, ids);
            }
            acc
        })
        .collect();
    let mut parts = parts.into_iter();
    let mut sums = parts.next().unwrap_or_else(|| vec![0f64; m * dim]);
    for p in parts {
        sums.iter_mut().zip(&p).for_each(|(s, v)| *s += v);
    }
    sums
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_rows_avx2(acc: &mut [f64], rows: &[f32], dim: usize, ids: &[usize]) {
    add_rows(acc, rows, dim, ids)
}

/// `acc[ids[i]] += rows[i]` (in f64) for the rows not marked `SKIP`.
#[inline(always)]
fn add_rows(acc: &mut [f64], rows: &[f32], dim: usize, ids: &[usize]) {
    for (r, &l) in rows.chunks_exact(dim).zip(ids) {
        if l != SKIP {
            acc[l * dim..(l + 1) * dim]
                .iter_mut()
                .zip(r)
                .for_each(|(a, v)| *a += *v as f64);
        }
    }
}

/// Cluster means of the unit rows (f64 sums; norm ≤ 1, so an f32 product with them keeps
/// its absolute precision).
fn cluster_means(rows: &[f32], dim: usize, ids: &[usize], sizes: &[usize]) -> Vec<f32> {
    cluster_sums(rows, dim, ids, sizes.len())
        .chunks(dim)
        .zip(sizes)
        .flat_map(|(s, &c)| s.iter().map(move |v| (v / c as f64) as f32))
        .collect()
}

/// Rows per block of the cosine product: the block's tile (rows × clusters) stays about
/// 1 MiB, at least 64 rows so the packed means are reused.
fn cosine_block(m: usize) -> usize {
    (262_144 / m.max(1)).clamp(64, 512)
}

/// Cosine silhouette of every unit row: `sum[i][l] = Σ_{j∈l} (1 − x_i·x_j) = |l|·(1 −
/// x_i·μ_l)`, the products for a block of rows at once against the means packed once.
fn cosine_samples(rows: &[f32], dim: usize, ids: &[usize], sizes: &[usize]) -> Vec<f32> {
    let n = ids.len();
    let m = sizes.len();
    let means = cluster_means(rows, dim, ids, sizes);
    let micro = active_micro();
    let pb = Packed::new(&means, dim, micro.nr);
    let rb = cosine_block(m);
    let mut out = vec![0f32; n];
    out.par_chunks_mut(rb).enumerate().for_each(|(b, ob)| {
        let r0 = b * rb;
        let pa = Packed::new(&rows[r0 * dim..(r0 + ob.len()) * dim], dim, micro.mr);
        let mut tile = vec![0f32; ob.len() * m];
        gemm_packed(&micro, &pa, &pb, &mut tile, m);
        let mut sums = vec![0f64; m];
        for (r, o) in ob.iter_mut().enumerate() {
            let t = &tile[r * m..(r + 1) * m];
            sums.iter_mut()
                .zip(t)
                .zip(sizes)
                .for_each(|((s, &t), &c)| *s = c as f64 * (1.0 - t as f64));
            *o = score(&sums, ids[r0 + r], sizes);
        }
    });
    out
}

/// Summed euclidean distances from the rows `rows` to each label, streamed over tiles.
fn euclidean_sums(pts: &Points, ids: &[usize], m: usize, rows: Range<usize>) -> Vec<f64> {
    let mut out = vec![0f64; rows.len() * m];
    let mut tile = Vec::new();
    for cols in blocks(pts.n, COL_BLOCK) {
        pts.tile(rows.clone(), cols.clone(), &mut tile);
        let nc = cols.len();
        for (r, line) in tile.chunks(nc).enumerate() {
            let acc = &mut out[r * m..(r + 1) * m];
            for (c, &d) in line.iter().enumerate() {
                acc[ids[cols.start + c]] += d as f64;
            }
        }
    }
    out
}

/// Distance of every row to the mean of the rows sharing its label, in f64 (NaN for
/// negative labels, i.e. noise): `1 − cos(x, mean)` (a zero row or mean counts as norm 1)
/// or `‖x − mean‖`. The mean is of the rows as given (not normalised), in f64 (as NumPy's
/// `members.mean(axis=0)` of the f64 rows, up to the order of the additions).
///
/// O(n·d), parallel, two passes over `x` (sums, then distances); NaN or infinity is found
/// by the second pass (a row's f64 sum of squares is finite exactly when its values are),
/// so no pass of its own checks them.
pub fn centre_distances(x: &[f32], dim: usize, labels: &[i64], metric: Metric) -> Result<Vec<f64>> {
    let n = rows_of(x, dim)?;
    check_labels(labels, n)?;
    let mut uniq: Vec<i64> = labels.iter().copied().filter(|&l| l >= 0).collect();
    uniq.sort_unstable();
    uniq.dedup();
    let ids: Vec<usize> = labels
        .iter()
        .map(|l| {
            if *l < 0 {
                SKIP
            } else {
                uniq.binary_search(l).expect("label present")
            }
        })
        .collect();
    let m = uniq.len();
    let mut sizes = vec![0usize; m];
    ids.iter()
        .filter(|&&i| i != SKIP)
        .for_each(|&i| sizes[i] += 1);
    let mut centres = cluster_sums(x, dim, &ids, m);
    let cosine = metric == Metric::Cosine;
    for (c, &size) in centres.chunks_mut(dim).zip(&sizes) {
        c.iter_mut().for_each(|v| *v /= size as f64);
        if cosine {
            let norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
            let norm = if norm == 0.0 { 1.0 } else { norm };
            c.iter_mut().for_each(|v| *v /= norm);
        }
    }
    let mut out = vec![f64::NAN; n];
    let finite = out
        .par_chunks_mut(DIST_BLOCK)
        .enumerate()
        .map(|(b, ob)| {
            let r0 = b * DIST_BLOCK;
            let rows = &x[r0 * dim..(r0 + ob.len()) * dim];
            let ids = &ids[r0..r0 + ob.len()];
            if wide() {
                // SAFETY: `wide` checked that the CPU has AVX2
                #[cfg(target_arch = "x86_64")]
                return unsafe { distances_avx2(rows, dim, ids, &centres, cosine, ob) };
            }
            distances_block(rows, dim, ids, &centres, cosine, ob)
        })
        .reduce(|| true, |a, b| a & b);
    if !finite {
        return Err(CoreError::invalid("x", NOT_FINITE));
    }
    Ok(out)
}

/// Rows per parallel block of `centre_distances`.
const DIST_BLOCK: usize = 1024;
/// Lanes of the f64 row loops below: independent partial sums, so they vectorise.
const LANES: usize = 8;

/// Whether the f64 loops may run as their AVX2 build (the ISA `distance` picked, with the
/// same `EIGENLAKE_SIMD` override).
fn wide() -> bool {
    cfg!(target_arch = "x86_64")
        && matches!(
            distance::active().isa,
            distance::Isa::Avx2 | distance::Isa::Avx512
        )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn distances_avx2(
    rows: &[f32],
    dim: usize,
    ids: &[usize],
    centres: &[f64],
    cosine: bool,
    out: &mut [f64],
) -> bool {
    distances_block(rows, dim, ids, centres, cosine, out)
}

/// `centre_distances` of one block of rows; false when a row holds NaN or infinity.
#[inline(always)]
fn distances_block(
    rows: &[f32],
    dim: usize,
    ids: &[usize],
    centres: &[f64],
    cosine: bool,
    out: &mut [f64],
) -> bool {
    let mut finite = true;
    for ((row, &l), o) in rows.chunks_exact(dim).zip(ids).zip(out.iter_mut()) {
        if l == SKIP {
            finite &= row.iter().all(|v| v.is_finite());
            continue;
        }
        let c = &centres[l * dim..(l + 1) * dim];
        *o = if cosine {
            let (dot, sq) = lane_sums(row, c, |v, w| (v * w, v * v));
            finite &= sq.is_finite();
            let norm = sq.sqrt();
            1.0 - dot / if norm == 0.0 { 1.0 } else { norm }
        } else {
            let (diff, sq) = lane_sums(row, c, |v, w| ((v - w) * (v - w), v * v));
            finite &= sq.is_finite();
            diff.sqrt()
        };
    }
    finite
}

/// Two sums over the pairs of `row` (as f64) and `c` of the terms `f(v, w)`, in `LANES`
/// partial sums each (so the loop vectorises).
#[inline(always)]
fn lane_sums(row: &[f32], c: &[f64], f: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut p, mut q) = ([0f64; LANES], [0f64; LANES]);
    let (rh, rt) = row.split_at(row.len() - row.len() % LANES);
    let (ch, ct) = c.split_at(rh.len());
    for (r, c) in rh.chunks_exact(LANES).zip(ch.chunks_exact(LANES)) {
        for j in 0..LANES {
            let (a, b) = f(r[j] as f64, c[j]);
            p[j] += a;
            q[j] += b;
        }
    }
    let (mut a, mut b) = (0f64, 0f64);
    for j in 0..LANES {
        a += p[j];
        b += q[j];
    }
    for (&v, &w) in rt.iter().zip(ct) {
        let (x, y) = f(v as f64, w);
        a += x;
        b += y;
    }
    (a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force oracle in f64.
    fn naive(x: &[f32], dim: usize, labels: &[i64], cosine: bool) -> Vec<f64> {
        let n = labels.len();
        let row = |i: usize| -> Vec<f64> {
            let r: Vec<f64> = x[i * dim..(i + 1) * dim]
                .iter()
                .map(|&v| v as f64)
                .collect();
            if cosine {
                let nn = r.iter().map(|v| v * v).sum::<f64>().sqrt();
                r.iter().map(|v| v / nn).collect()
            } else {
                r
            }
        };
        let d = |i: usize, j: usize| -> f64 {
            let (a, b) = (row(i), row(j));
            if cosine {
                1.0 - a.iter().zip(&b).map(|(p, q)| p * q).sum::<f64>()
            } else {
                a.iter()
                    .zip(&b)
                    .map(|(p, q)| (p - q).powi(2))
                    .sum::<f64>()
                    .sqrt()
            }
        };
        (0..n)
            .map(|i| {
                let mut per: std::collections::BTreeMap<i64, (f64, usize)> = Default::default();
                for (j, &lj) in labels.iter().enumerate() {
                    if j != i {
                        let e = per.entry(lj).or_default();
                        e.0 += d(i, j);
                        e.1 += 1;
                    }
                }
                let (sa, ca) = per.get(&labels[i]).copied().unwrap_or((0.0, 0));
                if ca == 0 {
                    return 0.0;
                }
                let a = sa / ca as f64;
                let b = per
                    .iter()
                    .filter(|(l, _)| **l != labels[i])
                    .map(|(_, (s, c))| s / *c as f64)
                    .fold(f64::INFINITY, f64::min);
                (b - a) / a.max(b)
            })
            .collect()
    }

    #[test]
    fn matches_brute_force_both_metrics() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, dim) = (150, 5);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let labels: Vec<i64> = (0..n).map(|i| [7, -1, 3][i % 3]).collect();
        for (metric, cos) in [(Metric::Cosine, true), (Metric::Euclidean, false)] {
            let got = silhouette_samples(&x, dim, &labels, metric).unwrap();
            let want = naive(&x, dim, &labels, cos);
            for (g, w) in got.iter().zip(&want) {
                assert!((*g as f64 - w).abs() < 1e-5, "{g} vs {w}");
            }
        }
    }

    #[test]
    fn singleton_scores_zero_and_label_count_checked() {
        let x = [0.0f32, 0.0, 1.0, 0.0, 1.1, 0.0, 5.0, 5.0];
        let s = silhouette_samples(&x, 2, &[0, 1, 1, 2], Metric::Euclidean).unwrap();
        assert_eq!(s[0], 0.0);
        assert_eq!(s[3], 0.0);
        assert!(silhouette_samples(&x, 2, &[0, 0, 0, 0], Metric::Euclidean).is_err());
        assert!(silhouette_samples(&x, 2, &[0, 1, 2, 3], Metric::Euclidean).is_err());
    }

    #[test]
    fn unit_rows_read_in_place_give_the_normalised_scores() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (n, dim) = (700, 9);
        let mut x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let labels: Vec<i64> = (0..n).map(|i| (i % 7) as i64).collect();
        let raw = silhouette_samples(&x, dim, &labels, Metric::Cosine).unwrap();
        x.chunks_mut(dim).for_each(|r| {
            distance::normalize(r);
        });
        assert!(matches!(unit_rows(&x, dim), Ok(Cow::Borrowed(_))));
        let unit = silhouette_samples(&x, dim, &labels, Metric::Cosine).unwrap();
        let want = naive(&x, dim, &labels, true);
        for ((a, b), w) in raw.iter().zip(&unit).zip(&want) {
            assert!((*a as f64 - w).abs() < 1e-5 && (*b as f64 - w).abs() < 1e-5);
        }
    }

    #[test]
    fn centre_distances_match_the_mean_of_each_cluster() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (n, dim) = (300, 70);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let labels: Vec<i64> = (0..n).map(|i| [4, -1, 0, 9][i % 4]).collect();
        for metric in [Metric::Cosine, Metric::Euclidean] {
            let got = centre_distances(&x, dim, &labels, metric).unwrap();
            for (i, &g) in got.iter().enumerate() {
                if labels[i] < 0 {
                    assert!(g.is_nan());
                    continue;
                }
                let members: Vec<usize> = (0..n).filter(|&j| labels[j] == labels[i]).collect();
                let mut mean = vec![0f64; dim];
                for &j in &members {
                    for (m, v) in mean.iter_mut().zip(&x[j * dim..(j + 1) * dim]) {
                        *m += *v as f64;
                    }
                }
                mean.iter_mut().for_each(|m| *m /= members.len() as f64);
                let row: Vec<f64> = x[i * dim..(i + 1) * dim]
                    .iter()
                    .map(|&v| v as f64)
                    .collect();
                let want = if metric == Metric::Cosine {
                    let dot: f64 = row.iter().zip(&mean).map(|(a, b)| a * b).sum();
                    let na = row.iter().map(|a| a * a).sum::<f64>().sqrt();
                    let nb = mean.iter().map(|a| a * a).sum::<f64>().sqrt();
                    1.0 - dot / (na * nb)
                } else {
                    row.iter()
                        .zip(&mean)
                        .map(|(a, b)| (a - b).powi(2))
                        .sum::<f64>()
                        .sqrt()
                };
                assert!((g - want).abs() < 1e-12, "{g} vs {want}");
            }
        }
    }
}

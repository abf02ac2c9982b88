//! Exact silhouette coefficients with scikit-learn's conventions: labels are any integers
//! (noise −1 is just another label here; callers drop it first if they want), a point of
//! a size-1 cluster scores 0, and 2 ≤ number of labels ≤ n − 1.
//!
//! Cosine uses cluster sums: the summed distance from `x` to cluster `C` is
//! `|C| − x·ΣC` (self term `1 − x·x` = 0 for unit rows), so the cost is O(n·k·d).
//! Euclidean streams distance tiles into per-label sums: O(n²·d) time, O(n + k) memory
//! beyond the tiles.

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::points::{blocks, check_matrix, Metric, Points, COL_BLOCK, ROW_BLOCK};
use crate::error::{CoreError, Result};
use crate::gemm::gemm_abt;

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

/// Silhouette of every row.
pub fn silhouette_samples(
    x: &[f32],
    dim: usize,
    labels: &[i64],
    metric: Metric,
) -> Result<Vec<f32>> {
    let n = check_matrix(x, dim)?;
    if labels.len() != n {
        return Err(CoreError::invalid(
            "labels",
            format!("length {} does not match the {n} rows of x", labels.len()),
        ));
    }
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
    let pts = Points::new(x, dim, metric)?;
    let means = (metric == Metric::Cosine).then(|| cluster_means(&pts, &ids, &sizes));
    // per block of rows: summed distance to each label, then the scores (O(n + k) memory)
    let mut out = vec![0f32; n];
    out.par_chunks_mut(ROW_BLOCK)
        .enumerate()
        .for_each(|(b, ob)| {
            let rows = b * ROW_BLOCK..b * ROW_BLOCK + ob.len();
            let sums = match &means {
                Some(mu) => cosine_sums(&pts, mu, &sizes, rows.clone()),
                None => euclidean_sums(&pts, &ids, m, rows.clone()),
            };
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
    let n = check_matrix(x, dim)?;
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

/// Cluster means of the unit rows (f64 sums; norm ≤ 1, so an f32 product with them keeps
/// its absolute precision).
fn cluster_means(pts: &Points, ids: &[usize], sizes: &[usize]) -> Vec<f32> {
    let dim = pts.dim;
    let mut acc = vec![0f64; sizes.len() * dim];
    for (i, &l) in ids.iter().enumerate() {
        acc[l * dim..(l + 1) * dim]
            .iter_mut()
            .zip(pts.row(i))
            .for_each(|(a, v)| *a += *v as f64);
    }
    acc.chunks(dim)
        .zip(sizes)
        .flat_map(|(s, &c)| s.iter().map(move |v| (v / c as f64) as f32))
        .collect()
}

/// `sum[i][l] = Σ_{j∈l} (1 − x_i·x_j) = |l|·(1 − x_i·μ_l)` for the rows `rows`.
fn cosine_sums(pts: &Points, means: &[f32], sizes: &[usize], rows: Range<usize>) -> Vec<f64> {
    let m = sizes.len();
    let mut tile = vec![0f32; rows.len() * m];
    gemm_abt(pts.rows(rows), means, pts.dim, &mut tile);
    tile.iter()
        .zip((0..m).cycle())
        .map(|(t, l)| sizes[l] as f64 * (1.0 - *t as f64))
        .collect()
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
}

//! Lloyd k-means, spherical (unit rows, renormalised centroids, distance `1 − cos`) or
//! euclidean. Rows are scored in GEMM blocks against centroids packed once per pass
//! (`assign::Scorer`), skipping rows Hamerly's bounds settle; cluster sums run across
//! passes; empty clusters are reseeded from the points farthest from their centroid;
//! `n_init` runs keep the lowest inertia. The caller's rows are used without a copy
//! unless spherical k-means has to normalise them.

use std::borrow::Cow;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::assign::{assign, RunningSums};
use super::hamerly::Bounds;
use super::init::kmeans_pp;
use super::points::check_matrix;
use crate::distance;
use crate::error::{CoreError, Result};

#[derive(Clone, Debug)]
pub struct KMeansParams<'a> {
    pub k: usize,
    pub max_iter: usize,
    /// Relative to the mean per-feature variance, on the summed squared centroid shift
    /// (scikit-learn's convention).
    pub tol: f64,
    pub n_init: usize,
    pub seed: u64,
    pub spherical: bool,
    /// Initial centroids (k × dim); then a single run.
    pub init: Option<&'a [f32]>,
}

#[derive(Clone, Debug)]
pub struct KMeansResult {
    pub labels: Vec<u32>,
    pub centroids: Vec<f32>,
    /// Sum of squared distances (euclidean) or of `1 − cos` (spherical).
    pub inertia: f64,
    pub n_iter: usize,
}

pub fn kmeans(x: &[f32], dim: usize, p: &KMeansParams) -> Result<KMeansResult> {
    let n = check_matrix(x, dim)?;
    if p.k == 0 || p.k > n {
        return Err(CoreError::invalid(
            "k",
            format!("must be in 1..={n}, got {}", p.k),
        ));
    }
    if p.max_iter == 0 {
        return Err(CoreError::invalid("max_iter", "must be at least 1"));
    }
    if p.n_init == 0 {
        return Err(CoreError::invalid("n_init", "must be at least 1"));
    }
    if p.tol.is_nan() || p.tol < 0.0 {
        return Err(CoreError::invalid("tol", "must be >= 0"));
    }
    if let Some(c) = p.init {
        if c.len() != p.k * dim {
            return Err(CoreError::invalid(
                "init",
                format!("expected shape ({}, {dim}), got {} values", p.k, c.len()),
            ));
        }
        if !c.iter().all(|v| v.is_finite()) {
            return Err(CoreError::invalid("init", "contains NaN or infinity"));
        }
    }
    let data = prepare(x, dim, p.spherical);
    let tol = p.tol * mean_variance(&data, dim);
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let runs = if p.init.is_some() { 1 } else { p.n_init };
    let mut best: Option<KMeansResult> = None;
    for _ in 0..runs {
        let mut run_rng = ChaCha8Rng::seed_from_u64(rng.next_u64());
        let cent = match p.init {
            Some(c) => prepare(c, dim, p.spherical).into_owned(),
            None => kmeans_pp(&data, dim, p.k, p.spherical, &mut run_rng),
        };
        let r = lloyd(&data, dim, cent, p.max_iter, tol, p.spherical);
        if best.as_ref().is_none_or(|b| r.inertia < b.inertia) {
            best = Some(r);
        }
    }
    Ok(best.expect("at least one run"))
}

/// The rows k-means runs on: the caller's own (no copy) unless spherical k-means needs
/// them scaled to unit length; rows already unit length (within f32 rounding, as stored by
/// a cosine index) are used as they are.
pub(crate) fn prepare(x: &[f32], dim: usize, spherical: bool) -> Cow<'_, [f32]> {
    let unit = |r: &[f32]| (distance::norm_sq(r) - 1.0).abs() <= UNIT_TOL;
    if !spherical || x.par_chunks(dim).all(unit) {
        return Cow::Borrowed(x);
    }
    let mut v = x.to_vec();
    v.par_chunks_mut(dim).for_each(|r| {
        distance::normalize(r);
    });
    Cow::Owned(v)
}

/// How far a squared norm may be from 1 for a row to count as unit length (f32 rounding of
/// a normalisation over a few thousand features stays well inside).
const UNIT_TOL: f32 = 1e-5;

fn mean_variance(x: &[f32], dim: usize) -> f64 {
    let n = (x.len() / dim) as f64;
    let (mut s, mut s2) = (vec![0f64; dim], vec![0f64; dim]);
    for r in x.chunks(dim) {
        for (j, &v) in r.iter().enumerate() {
            s[j] += v as f64;
            s2[j] += (v as f64) * (v as f64);
        }
    }
    let var: f64 = s
        .iter()
        .zip(&s2)
        .map(|(a, b)| (b / n - (a / n).powi(2)).max(0.0))
        .sum();
    var / dim as f64
}

fn lloyd(
    x: &[f32],
    dim: usize,
    mut cent: Vec<f32>,
    max_iter: usize,
    tol: f64,
    spherical: bool,
) -> KMeansResult {
    let n = x.len() / dim;
    let k = cent.len() / dim;
    let mut bounds = Bounds::new(x, dim, &cent);
    let mut running: Option<RunningSums> = None;
    let mut n_iter = 0;
    for _ in 0..max_iter {
        n_iter += 1;
        bounds.assign(x, dim, &cent, spherical);
        for i in repair_empty(&mut bounds.labels, &bounds.upper, k) {
            bounds.invalidate(i);
        }
        let sums = match running.as_mut() {
            Some(r) => {
                r.update(x, &bounds.labels);
                r
            }
            None => running.insert(RunningSums::new(x, dim, &bounds.labels, k)),
        };
        let next = centroids(&sums.s, &sums.c, &cent, dim, spherical);
        let moves: Vec<f32> = next
            .chunks(dim)
            .zip(cent.chunks(dim))
            .map(|(a, b)| distance::l2sq(a, b).sqrt())
            .collect();
        let shift: f64 = moves.iter().map(|&m| (m as f64).powi(2)).sum();
        bounds.moved(&moves);
        cent = next;
        if shift <= tol {
            break;
        }
    }
    let mut labels = vec![0u32; n];
    let mut dist = vec![0f32; n];
    // final E-step so labels and inertia belong to the returned centroids
    assign(x, dim, &cent, spherical, &mut labels, &mut dist);
    let inertia = dist.iter().map(|&d| d as f64).sum();
    KMeansResult {
        labels,
        centroids: cent,
        inertia,
        n_iter,
    }
}

/// Means of the clusters (renormalised when spherical); a cluster left empty keeps its
/// old centroid.
pub(crate) fn centroids(
    s: &[f64],
    c: &[usize],
    old: &[f32],
    dim: usize,
    spherical: bool,
) -> Vec<f32> {
    let mut out = old.to_vec();
    for (l, &cnt) in c.iter().enumerate() {
        if cnt == 0 {
            continue;
        }
        let row = &mut out[l * dim..(l + 1) * dim];
        let src = &s[l * dim..(l + 1) * dim];
        row.iter_mut()
            .zip(src)
            .for_each(|(o, v)| *o = (v / cnt as f64) as f32);
        if spherical {
            distance::normalize(row);
        }
    }
    out
}

/// Give each empty cluster one of the points farthest from their centroid, taking points
/// only from clusters that keep at least one member; returns the rows moved.
fn repair_empty(labels: &mut [u32], dist: &[f32], k: usize) -> Vec<usize> {
    let mut counts = vec![0usize; k];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    let mut moved = Vec::new();
    if empty.is_empty() {
        return moved;
    }
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    let mut far = order.into_iter();
    for c in empty {
        for i in far.by_ref() {
            let from = labels[i] as usize;
            if counts[from] > 1 {
                counts[from] -= 1;
                counts[c] += 1;
                labels[i] = c as u32;
                moved.push(i);
                break;
            }
        }
    }
    moved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::assign::sums;

    fn blobs(n_per: usize, centers: &[[f32; 3]], seed: u64) -> Vec<f32> {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut v = Vec::new();
        for c in centers {
            for _ in 0..n_per {
                for &cj in c {
                    v.push(cj + rng.random_range(-0.05..0.05));
                }
            }
        }
        v
    }

    fn params(k: usize, spherical: bool) -> KMeansParams<'static> {
        KMeansParams {
            k,
            max_iter: 50,
            tol: 1e-4,
            n_init: 3,
            seed: 7,
            spherical,
            init: None,
        }
    }

    /// Spherical k-means depends on directions only: rows scaled by arbitrary factors give
    /// what their unit versions give (which are used without a copy).
    #[test]
    fn spherical_ignores_row_lengths() {
        use rand::Rng;
        let x = blobs(40, &[[1.0, 0.2, 0.0], [0.0, 1.0, 0.3], [0.2, 0.0, 1.0]], 4);
        let unit = prepare(&x, 3, true).into_owned();
        assert!(matches!(prepare(&unit, 3, true), Cow::Borrowed(_)));
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let scaled: Vec<f32> = unit
            .chunks(3)
            .flat_map(|r| {
                let f: f32 = rng.random_range(0.1..10.0);
                r.iter().map(move |v| v * f).collect::<Vec<_>>()
            })
            .collect();
        let a = kmeans(&unit, 3, &params(3, true)).unwrap();
        let b = kmeans(&scaled, 3, &params(3, true)).unwrap();
        assert_eq!(a.labels, b.labels);
        assert!((a.inertia - b.inertia).abs() <= 1e-4 * (1.0 + a.inertia));
        for (p, q) in a.centroids.iter().zip(&b.centroids) {
            assert!((p - q).abs() <= 1e-4, "{p} vs {q}");
        }
    }

    #[test]
    fn separates_blobs_both_metrics() {
        let x = blobs(50, &[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 1);
        for spherical in [true, false] {
            let r = kmeans(&x, 3, &params(3, spherical)).unwrap();
            for b in 0..3 {
                let l = r.labels[b * 50];
                assert!(r.labels[b * 50..(b + 1) * 50].iter().all(|&v| v == l));
            }
            let mut ls: Vec<u32> = (0..3).map(|b| r.labels[b * 50]).collect();
            ls.sort();
            assert_eq!(ls, vec![0, 1, 2]);
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let x = blobs(40, &[[1.0, 0.2, 0.0], [0.0, 1.0, 0.3], [0.3, 0.0, 1.0]], 2);
        let a = kmeans(&x, 3, &params(3, true)).unwrap();
        let b = kmeans(&x, 3, &params(3, true)).unwrap();
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.centroids, b.centroids);
    }

    #[test]
    fn spherical_centroids_are_unit() {
        let x = blobs(30, &[[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]], 3);
        let r = kmeans(&x, 3, &params(2, true)).unwrap();
        for c in r.centroids.chunks(3) {
            assert!((distance::norm_sq(c) - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn empty_cluster_is_repaired() {
        // both initial centroids far from all data but one nearer: the other empties
        let x = blobs(20, &[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], 4);
        let init = [0.1f32, 0.1, 0.1, 50.0, 50.0, 50.0];
        let mut p = params(2, false);
        p.init = Some(&init);
        let r = kmeans(&x, 3, &p).unwrap();
        let mut counts = [0; 2];
        r.labels.iter().for_each(|&l| counts[l as usize] += 1);
        assert_eq!(counts, [20, 20]);
    }

    #[test]
    fn bounded_lloyd_equals_brute_force_lloyd() {
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let (n, dim, k) = (3000, 16, 12);
        // overlapping blobs: bounds prune some rows and not others, and the runs have a
        // structure to agree on (on structureless noise a single near-tie sends them apart)
        let centres: Vec<f32> = (0..k * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let x: Vec<f32> = (0..n)
            .flat_map(|i| {
                let c = (i * 7) % k;
                centres[c * dim..(c + 1) * dim].to_vec()
            })
            .map(|v| v + rng.random_range(-0.4..0.4))
            .collect();
        for spherical in [true, false] {
            let data = prepare(&x, dim, spherical);
            let init = data[..k * dim].to_vec();
            let mut p = params(k, spherical);
            p.init = Some(&init);
            p.tol = 0.0;
            p.max_iter = 15;
            let got = kmeans(&x, dim, &p).unwrap();
            // plain Lloyd: full assignment every iteration
            let mut cent = init.clone();
            let (mut labels, mut dist) = (vec![0u32; n], vec![0f32; n]);
            for _ in 0..15 {
                assign(&data, dim, &cent, spherical, &mut labels, &mut dist);
                let (s, c) = sums(&data, dim, &labels, k);
                cent = centroids(&s, &c, &cent, dim, spherical);
            }
            assign(&data, dim, &cent, spherical, &mut labels, &mut dist);
            // Both paths score rows with SIMD GEMM tiles whose rounding depends on where a
            // row sits in a tile, so a near-tie may break the other way and the two runs
            // drift apart. What must hold: every label is the nearest centroid up to
            // rounding, and the partition is as good and nearly the same.
            let mut own = vec![0u32; n];
            let mut own_d = vec![0f32; n];
            assign(&data, dim, &got.centroids, spherical, &mut own, &mut own_d);
            for i in 0..n {
                let c = got.labels[i] as usize;
                let row = &data[i * dim..(i + 1) * dim];
                let cen = &got.centroids[c * dim..(c + 1) * dim];
                let d = if spherical {
                    1.0 - crate::distance::dot(row, cen)
                } else {
                    crate::distance::l2sq(row, cen)
                };
                assert!(
                    d <= own_d[i] + 1e-4,
                    "row {i}: label {c} at {d}, best {}",
                    own_d[i]
                );
            }
            let same = got
                .labels
                .iter()
                .zip(&labels)
                .filter(|(a, b)| a == b)
                .count();
            assert!(
                same as f64 >= 0.995 * n as f64,
                "only {same} of {n} labels agree"
            );
            let brute: f64 = dist.iter().map(|&v| v as f64).sum();
            let ours: f64 = own_d.iter().map(|&v| v as f64).sum();
            assert!(
                (ours - brute).abs() <= 1e-3 * brute.abs().max(1.0),
                "{ours} vs {brute}"
            );
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        let x = blobs(5, &[[0.0, 0.0, 1.0]], 5);
        assert!(kmeans(&x, 3, &params(0, true)).is_err());
        assert!(kmeans(&x, 3, &params(6, true)).is_err());
        let init = [1.0f32; 5];
        let mut p = params(2, true);
        p.init = Some(&init);
        assert!(kmeans(&x, 3, &p).is_err());
    }
}

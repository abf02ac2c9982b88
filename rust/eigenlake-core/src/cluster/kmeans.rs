//! Lloyd k-means, spherical (unit rows, renormalised centroids, distance `1 − cos`) or
//! euclidean. Rows are scored in GEMM blocks against centroids packed once per pass
//! (`assign::Scorer`), skipping rows Hamerly's bounds settle; cluster sums run across
//! passes; empty clusters are reseeded from the points farthest from their centroid;
//! `n_init` runs keep the lowest inertia. The caller's rows are used without a copy
//! unless spherical k-means has to normalise them. Spherical k-means on enough rows
//! scores the rows the bounds leave from int8 codes with a proved error bound (`coded`:
//! the same labels as the f32 scores; `EIGENLAKE_KMEANS_CODES=0` turns it off).

use std::borrow::Cow;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::assign::RunningSums;
use super::coded::{self, RowCodes};
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
    let codes =
        (p.spherical && coded::enabled() && n >= CODED_MIN_ROWS).then(|| RowCodes::new(&data, dim));
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let runs = if p.init.is_some() { 1 } else { p.n_init };
    let mut best: Option<KMeansResult> = None;
    for _ in 0..runs {
        let mut run_rng = ChaCha8Rng::seed_from_u64(rng.next_u64());
        let cent = match p.init {
            Some(c) => prepare(c, dim, p.spherical).into_owned(),
            None => kmeans_pp(&data, dim, p.k, p.spherical, &mut run_rng),
        };
        let r = lloyd(
            &data,
            dim,
            cent,
            p.max_iter,
            tol,
            p.spherical,
            codes.as_ref(),
        );
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

/// Spherical k-means on fewer rows scores every centroid in f32 (coding the rows would
/// not pay).
const CODED_MIN_ROWS: usize = 2048;

/// Rows per partial inertia sum (fixed, so the total does not depend on the threads).
const INERTIA_CHUNK: usize = 4096;

/// Mean per-feature variance, in f64 over fixed chunks of rows added in order
/// (deterministic for any thread count).
fn mean_variance(x: &[f32], dim: usize) -> f64 {
    const CHUNK: usize = 2048;
    let n = (x.len() / dim) as f64;
    let parts: Vec<(Vec<f64>, Vec<f64>)> = x
        .par_chunks(CHUNK * dim)
        .map(|xb| moments(xb, dim))
        .collect();
    let (mut s, mut s2) = (vec![0f64; dim], vec![0f64; dim]);
    for (ps, ps2) in parts {
        s.iter_mut().zip(&ps).for_each(|(a, b)| *a += b);
        s2.iter_mut().zip(&ps2).for_each(|(a, b)| *a += b);
    }
    let var: f64 = s
        .iter()
        .zip(&s2)
        .map(|(a, b)| (b / n - (a / n).powi(2)).max(0.0))
        .sum();
    var / dim as f64
}

/// Per-feature sums and sums of squares of the rows of `xb`.
fn moments(xb: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
    #[inline(always)]
    fn body(xb: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
        let (mut s, mut s2) = (vec![0f64; dim], vec![0f64; dim]);
        for r in xb.chunks_exact(dim) {
            for ((a, b), &v) in s.iter_mut().zip(s2.iter_mut()).zip(r) {
                let v = v as f64;
                *a += v;
                *b += v * v;
            }
        }
        (s, s2)
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn wide(xb: &[f32], dim: usize) -> (Vec<f64>, Vec<f64>) {
            body(xb, dim)
        }
        if distance::active().isa == distance::Isa::Avx512 {
            // SAFETY: the AVX-512 distance kernels are active, so the CPU has AVX-512F
            return unsafe { wide(xb, dim) };
        }
    }
    body(xb, dim)
}

fn lloyd(
    x: &[f32],
    dim: usize,
    mut cent: Vec<f32>,
    max_iter: usize,
    tol: f64,
    spherical: bool,
    codes: Option<&RowCodes>,
) -> KMeansResult {
    let codes = codes.map(|c| (c, coded::Kernel::active(c.padded_dim())));
    let k = cent.len() / dim;
    // spherical rows are unit within UNIT_TOL, or within f32 rounding once normalised (far
    // inside 1 %), or zero
    let mut bounds = Bounds::new(x, dim, &cent, spherical.then_some(0.01));
    let mut running: Option<RunningSums> = None;
    let mut n_iter = 0;
    for _ in 0..max_iter {
        n_iter += 1;
        bounds.assign(x, dim, &cent, spherical, codes);
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
    // final E-step so labels and inertia belong to the returned centroids: the bounds are
    // valid for them (moved above), so it costs an iteration plus one read for the inertia
    bounds.assign(x, dim, &cent, spherical, codes);
    let labels = bounds.labels;
    let inertia = match running.as_mut().filter(|_| spherical) {
        // Σ (1 − x·c) over a cluster is its size minus c·(sum of its rows): from the running
        // sums, brought to the final labels (a few rows move), instead of reading every row
        Some(r) => {
            r.update(x, &labels);
            let dots: f64 = cent
                .chunks_exact(dim)
                .zip(r.s.chunks_exact(dim))
                .map(|(c, s)| c.iter().zip(s).map(|(&a, &b)| a as f64 * b).sum::<f64>())
                .sum();
            (labels.len() as f64 - dots).max(0.0)
        }
        None => x
            .par_chunks(INERTIA_CHUNK * dim)
            .zip(labels.par_chunks(INERTIA_CHUNK))
            .map(|(xb, lb)| {
                xb.chunks_exact(dim)
                    .zip(lb)
                    .map(|(r, &l)| {
                        let c = &cent[l as usize * dim..(l as usize + 1) * dim];
                        let d = if spherical {
                            (1.0 - distance::dot(r, c)).max(0.0)
                        } else {
                            distance::l2sq(r, c)
                        };
                        d as f64
                    })
                    .sum::<f64>()
            })
            .collect::<Vec<f64>>()
            .iter()
            .sum(),
    };
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
    use crate::cluster::assign::{assign, sums};

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

    /// Spherical Lloyd assigning from int8 codes ends where scoring every centroid in f32
    /// ends: the same labels every iteration, so the same centroids, iterations and
    /// inertia, over seeds, cluster counts and dimensions (data without f32 near-ties).
    #[test]
    fn coded_lloyd_equals_f32_lloyd() {
        use rand::Rng;
        for (seed, dim, k) in [(1u64, 32, 12), (2, 384, 50), (3, 7, 5), (4, 100, 20)] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let n = 4000;
            let centres: Vec<f32> = (0..k * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
            let x: Vec<f32> = (0..n)
                .flat_map(|i| {
                    let c = (i * 7 + i / 13) % k;
                    centres[c * dim..(c + 1) * dim].to_vec()
                })
                .map(|v| v + rng.random_range(-0.5..0.5))
                .collect();
            let data = prepare(&x, dim, true).into_owned();
            let codes = RowCodes::new(&data, dim);
            for run in 0..3u64 {
                let mut r = ChaCha8Rng::seed_from_u64(seed * 10 + run);
                let init = kmeans_pp(&data, dim, k, true, &mut r);
                let a = lloyd(&data, dim, init.clone(), 40, 0.0, true, Some(&codes));
                let b = lloyd(&data, dim, init, 40, 0.0, true, None);
                assert_eq!(a.labels, b.labels, "seed {seed} run {run}");
                assert_eq!(a.n_iter, b.n_iter, "seed {seed} run {run}");
                assert_eq!(a.centroids, b.centroids, "seed {seed} run {run}");
                assert!((a.inertia - b.inertia).abs() <= 1e-9 * b.inertia);
            }
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

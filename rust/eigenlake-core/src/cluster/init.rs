//! Greedy k-means++ seeding (D² sampling with `2 + ln k` candidates per step, keeping the
//! one that lowers the potential most), on a seeded sample so its cost stays below one
//! Lloyd iteration on large inputs.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::distance;

/// Rows per centroid seen by the seeding (the rest only matters to Lloyd).
const SAMPLE_PER_CLUSTER: usize = 64;

fn dist(a: &[f32], b: &[f32], spherical: bool) -> f32 {
    if spherical {
        (1.0 - distance::dot(a, b)).max(0.0)
    } else {
        distance::l2sq(a, b)
    }
}

/// Draw an index with probability proportional to `w` (all zero: uniform).
fn draw(w: &[f32], rng: &mut ChaCha8Rng) -> usize {
    let total: f64 = w.iter().map(|&v| v as f64).sum();
    if total <= 0.0 {
        return rng.random_range(0..w.len());
    }
    let mut t = rng.random::<f64>() * total;
    for (i, &v) in w.iter().enumerate() {
        t -= v as f64;
        if t < 0.0 {
            return i;
        }
    }
    w.len() - 1
}

/// `k` initial centroids (rows of `x`, copied) for `x` of `n` rows.
pub fn kmeans_pp(
    x: &[f32],
    dim: usize,
    k: usize,
    spherical: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let n = x.len() / dim;
    let m = n.min((SAMPLE_PER_CLUSTER * k).max(1024));
    let idx: Vec<usize> = if m == n {
        (0..n).collect()
    } else {
        rand::seq::index::sample(rng, n, m).into_vec()
    };
    let s: Vec<f32> = idx
        .iter()
        .flat_map(|&i| x[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    let row = |i: usize| &s[i * dim..(i + 1) * dim];
    let trials = 2 + (k as f64).ln() as usize;

    let first = rng.random_range(0..m);
    let mut chosen = vec![first];
    let mut closest: Vec<f32> = (0..m)
        .into_par_iter()
        .map(|i| dist(row(i), row(first), spherical))
        .collect();
    while chosen.len() < k {
        // every trial draws from the same `closest`, so all are drawn first and scored in
        // one pass over the sample (the same draws and values as one pass per trial)
        let cands: Vec<usize> = (0..trials).map(|_| draw(&closest, rng)).collect();
        let mut upd = vec![0f32; m * trials];
        upd.par_chunks_mut(trials * 64)
            .enumerate()
            .for_each(|(b, out)| {
                for (r, o) in out.chunks_mut(trials).enumerate() {
                    let i = b * 64 + r;
                    for (v, &c) in o.iter_mut().zip(&cands) {
                        *v = closest[i].min(dist(row(i), row(c), spherical));
                    }
                }
            });
        let mut best: Option<(f64, usize)> = None;
        for t in 0..trials {
            let pot: f64 = (0..m).map(|i| upd[i * trials + t] as f64).sum();
            if best.is_none_or(|b| pot < b.0) {
                best = Some((pot, t));
            }
        }
        let (_, t) = best.expect("at least one trial");
        chosen.push(cands[t]);
        closest = (0..m).map(|i| upd[i * trials + t]).collect();
    }
    chosen
        .iter()
        .flat_map(|&c| row(c).iter().copied())
        .collect()
}

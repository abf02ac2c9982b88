//! Mini-batch k-means (Sculley 2010) for large or streaming collections: each step draws a
//! seeded batch, assigns it, and moves each centroid toward its batch members with a
//! per-centroid rate 1/count. A full assignment at the end gives labels and inertia.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::assign::{assign, sums};
use super::init::kmeans_pp;
use super::kmeans::{prepare, KMeansResult};
use super::points::check_matrix;
use crate::distance;
use crate::error::{CoreError, Result};

pub struct MiniBatchParams {
    pub k: usize,
    pub batch_size: usize,
    /// Number of batches.
    pub max_iter: usize,
    pub seed: u64,
    pub spherical: bool,
}

pub fn minibatch_kmeans(x: &[f32], dim: usize, p: &MiniBatchParams) -> Result<KMeansResult> {
    let n = check_matrix(x, dim)?;
    if p.k == 0 || p.k > n {
        return Err(CoreError::invalid(
            "k",
            format!("must be in 1..={n}, got {}", p.k),
        ));
    }
    if p.batch_size == 0 {
        return Err(CoreError::invalid("batch_size", "must be at least 1"));
    }
    if p.max_iter == 0 {
        return Err(CoreError::invalid("max_iter", "must be at least 1"));
    }
    let data = prepare(x, dim, p.spherical);
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut cent = kmeans_pp(&data, dim, p.k, p.spherical, &mut rng);
    let mut counts = vec![0usize; p.k];
    let b = p.batch_size.min(n);
    let mut batch = vec![0f32; b * dim];
    let mut bl = vec![0u32; b];
    let mut bd = vec![0f32; b];
    for _ in 0..p.max_iter {
        for row in batch.chunks_mut(dim) {
            let i = rng.random_range(0..n);
            row.copy_from_slice(&data[i * dim..(i + 1) * dim]);
        }
        assign(&batch, dim, &cent, p.spherical, &mut bl, &mut bd);
        let (s, c) = sums(&batch, dim, &bl, p.k);
        for l in 0..p.k {
            if c[l] == 0 {
                continue;
            }
            counts[l] += c[l];
            // moving the centroid to the running mean: c += (Σx − |b|·c) / count
            let rate = 1.0 / counts[l] as f64;
            let row = &mut cent[l * dim..(l + 1) * dim];
            for (v, sv) in row.iter_mut().zip(&s[l * dim..(l + 1) * dim]) {
                *v += ((sv - c[l] as f64 * *v as f64) * rate) as f32;
            }
            if p.spherical {
                distance::normalize(row);
            }
        }
    }
    let mut labels = vec![0u32; n];
    let mut dist = vec![0f32; n];
    assign(&data, dim, &cent, p.spherical, &mut labels, &mut dist);
    Ok(KMeansResult {
        labels,
        centroids: cent,
        inertia: dist.iter().map(|&d| d as f64).sum(),
        n_iter: p.max_iter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_separated_blobs() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let centres = [[5.0f32, 0.0], [0.0, 5.0], [-5.0, -5.0]];
        let x: Vec<f32> = (0..3000)
            .flat_map(|i| {
                let c = centres[i % 3];
                [
                    c[0] + rng.random_range(-0.5..0.5),
                    c[1] + rng.random_range(-0.5..0.5),
                ]
            })
            .collect();
        let p = MiniBatchParams {
            k: 3,
            batch_size: 256,
            max_iter: 50,
            seed: 0,
            spherical: false,
        };
        let r = minibatch_kmeans(&x, 2, &p).unwrap();
        for i in 3..3000 {
            assert_eq!(r.labels[i], r.labels[i % 3]);
        }
        assert_eq!(r.labels, minibatch_kmeans(&x, 2, &p).unwrap().labels);
    }
}

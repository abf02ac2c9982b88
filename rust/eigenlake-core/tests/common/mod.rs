//! Data shared by the HNSW walk tests: unit vectors in tight blobs, as
//! bench_query_vs_hnswlib makes them, and recall against an exact answer.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gauss(rng: &mut ChaCha8Rng) -> f32 {
    let u: f32 = rng.random_range(f32::MIN_POSITIVE..1.0);
    let v: f32 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

/// `n` unit rows of `dim` in `blobs` tight blobs (noise 0.03 around N(0,1) centres) and
/// `nq` queries near rows (noise 0.01), row-major.
pub fn blobs(n: usize, nq: usize, dim: usize, blobs: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<f32> = (0..blobs * dim).map(|_| gauss(&mut rng)).collect();
    let mut x = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let c = rng.random_range(0..blobs);
        let mut v: Vec<f32> = (0..dim)
            .map(|j| centres[c * dim + j] + 0.03 * gauss(&mut rng))
            .collect();
        eigenlake_core::distance::normalize(&mut v);
        x.extend(v);
    }
    let mut q = Vec::with_capacity(nq * dim);
    for _ in 0..nq {
        let r = rng.random_range(0..n);
        let mut v: Vec<f32> = (0..dim)
            .map(|j| x[r * dim + j] + 0.01 * gauss(&mut rng))
            .collect();
        eigenlake_core::distance::normalize(&mut v);
        q.extend(v);
    }
    (x, q)
}

/// Share of the exact answer's ids (`k` a query) found in `got` (-1 padding never counts).
pub fn recall(got: &[i64], want: &[i64], k: usize) -> f64 {
    let hit: usize = got
        .chunks(k)
        .zip(want.chunks(k))
        .map(|(g, w)| g.iter().filter(|&&i| i >= 0 && w.contains(&i)).count())
        .sum();
    hit as f64 / want.len() as f64
}

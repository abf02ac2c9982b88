//! Probe for `EXACT_FALLBACK_FRACTION`: filtered graph walk vs exact scan of the
//! allowed rows, by mask selectivity (ignored by default; run with
//! `cargo test --release --test hnsw_filter_speed -- --ignored --nocapture`).

use std::time::Instant;

use eigenlake_core::distance::{normalize, Metric};
use eigenlake_core::flat::flat_topk;
use eigenlake_core::hnsw::Hnsw;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
#[ignore]
fn filtered_walk_vs_exact() {
    let (n, dim, nq) = (50_000, 128, 200);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let centres: Vec<f32> = (0..100 * dim)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let mut x = Vec::with_capacity((n + nq) * dim);
    for _ in 0..n + nq {
        let c = rng.random_range(0..100);
        let mut v: Vec<f32> = (0..dim)
            .map(|j| centres[c * dim + j] + rng.random_range(-0.3..0.3))
            .collect();
        normalize(&mut v);
        x.extend(v);
    }
    let (data, queries) = x.split_at(n * dim);
    let mut h = Hnsw::new(dim, Metric::InnerProduct, 16, 100, 0).unwrap();
    eigenlake_core::threads::install(|| h.add(data, 0)).unwrap();
    for share in [0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005] {
        let mask: Vec<bool> = (0..n).map(|_| rng.random_bool(share)).collect();
        let t = Instant::now();
        let g = eigenlake_core::threads::install(|| {
            h.search_with(data, queries, 10, 64, Some(&mask), 0.0)
        })
        .unwrap();
        let walk = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let e = eigenlake_core::threads::install(|| {
            flat_topk(data, queries, dim, 10, Metric::InnerProduct, Some(&mask))
        })
        .unwrap();
        let exact = t.elapsed().as_secs_f64();
        let hits: usize = (0..nq)
            .map(|q| {
                let want = &e.ids[q * 10..(q + 1) * 10];
                g.ids[q * 10..(q + 1) * 10]
                    .iter()
                    .filter(|&&i| i >= 0 && want.contains(&i))
                    .count()
            })
            .sum();
        println!(
            "share {share}: walk {:.1} ms (recall {:.3}), exact {:.1} ms",
            walk * 1e3,
            hits as f64 / e.ids.len() as f64,
            exact * 1e3
        );
    }
}

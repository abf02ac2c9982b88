//! Timing of one query at a time through `Hnsw::search` (the walk, the re-rank, the
//! answer), on one graph walked three ways: float rows, 16-bit codes, 8-bit residual
//! codes; alternating rounds in one process, p50 per query and recall@10 against exact
//! search. Data like bench_query_vs_hnswlib's: 384-d unit vectors in 100 tight blobs
//! (N(0,1) centres, noise 0.03), queries = rows + noise 0.01, M=16, efC=200, ef=64.
//! Ignored (minutes of graph builds; timing is not asserted):
//!
//!     WALK_SIZES=5000,20000,100000 cargo test --release -p eigenlake-core \
//!         --test hnsw_walk_speed -- --ignored --nocapture

use std::time::Instant;

mod common;

use common::{blobs, recall};
use eigenlake_core::distance::Metric;
use eigenlake_core::flat::flat_topk;
use eigenlake_core::hnsw::{Hnsw, WalkCodes};

const D: usize = 384;
const K: usize = 10;
const EF: usize = 64;

fn data(n: usize, nq: usize) -> (Vec<f32>, Vec<f32>) {
    blobs(n, nq, D, 100, 0)
}

#[test]
#[ignore]
fn walk_speed_float_vs_codes() {
    let sizes: Vec<usize> = std::env::var("WALK_SIZES")
        .unwrap_or_else(|_| "5000,20000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let nq = 400;
    let rounds: usize = std::env::var("WALK_ROUNDS").map_or(6, |s| s.parse().unwrap());
    let all = [WalkCodes::Float, WalkCodes::Wide16, WalkCodes::Residual8];
    let pick = std::env::var("WALK_MODES").unwrap_or_default();
    let modes: Vec<WalkCodes> = all
        .into_iter()
        .filter(|m| pick.is_empty() || pick.contains(&format!("{m:?}")))
        .collect();
    for n in sizes {
        let (x, q) = data(n, nq);
        let t = Instant::now();
        let mut h = Hnsw::new(D, Metric::InnerProduct, 16, 200, 0).unwrap();
        h.set_walk_codes(WalkCodes::Float);
        h.add(&x, 0).unwrap();
        let build = t.elapsed().as_secs_f64();
        let bytes = h.to_bytes();
        let idx: Vec<Hnsw> = modes
            .iter()
            .map(|&m| {
                let mut g = Hnsw::from_bytes(&bytes).unwrap();
                g.set_walk_codes(m);
                let t = Instant::now();
                g.search(&x, &q[..D], K, EF, None).unwrap(); // makes the codes
                eprintln!("  {m:?}: codes made in {:.2} s", t.elapsed().as_secs_f64());
                g
            })
            .collect();
        let exact = flat_topk(&x, &q, D, K, Metric::InnerProduct, None).unwrap();
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
        let mut ids: Vec<Vec<i64>> = vec![Vec::new(); modes.len()];
        for r in 0..rounds {
            for j in 0..modes.len() {
                let m = (j + r) % modes.len();
                ids[m].clear();
                for qi in 0..nq {
                    let one = &q[qi * D..(qi + 1) * D];
                    let t = Instant::now();
                    let got = h_search(&idx[m], &x, one);
                    times[m].push(t.elapsed().as_nanos() as f64 / 1e3);
                    ids[m].extend(got);
                }
            }
        }
        eprintln!("n={n}: build {build:.1} s");
        for (m, mode) in modes.iter().enumerate() {
            let mut t = times[m].clone();
            t.sort_by(f64::total_cmp);
            eprintln!(
                "  {mode:>10?}: p50 {:6.1} us  p90 {:6.1} us  recall@10 {:.4}",
                t[t.len() / 2],
                t[t.len() * 9 / 10],
                recall(&ids[m], &exact.ids, K)
            );
        }
    }
}

fn h_search(h: &Hnsw, x: &[f32], q: &[f32]) -> Vec<i64> {
    h.search(x, q, K, EF, None).unwrap().ids
}

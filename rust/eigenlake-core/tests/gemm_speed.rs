//! Throughput probe of `gemm_abt` and `flat_topk` (ignored by default; run with
//! `cargo test --release --test gemm_speed -- --ignored --nocapture`).

use std::time::Instant;

use eigenlake_core::distance::Metric;
use eigenlake_core::flat::flat_topk;
use eigenlake_core::gemm::gemm_abt;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
#[ignore]
fn gemm_gflops() {
    let (na, nb, d) = (512, 8192, 384);
    let a: Vec<f32> = (0..na * d).map(|i| ((i * 7) % 13) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..nb * d).map(|i| ((i * 5) % 11) as f32 * 0.1).collect();
    let mut out = vec![0.0f32; na * nb];
    let t: Vec<f64> = (0..5)
        .map(|_| {
            let s = Instant::now();
            gemm_abt(&a, &b, d, &mut out);
            s.elapsed().as_secs_f64()
        })
        .collect();
    let gf = 2.0 * (na * nb * d) as f64 / median(t) / 1e9;
    println!(
        "gemm_abt {na}x{d} · {nb}x{d}: {gf:.1} GFLOP/s (1 thread, {})",
        eigenlake_core::distance::active_isa()
    );
}

#[test]
#[ignore]
fn flat_qps() {
    let (n, nq, d) = (100_000, 1000, 384);
    let data: Vec<f32> = (0..n * d).map(|i| ((i * 7) % 13) as f32 * 0.01).collect();
    let q: Vec<f32> = (0..nq * d).map(|i| ((i * 3) % 17) as f32 * 0.01).collect();
    let t: Vec<f64> = (0..3)
        .map(|_| {
            let s = Instant::now();
            eigenlake_core::threads::install(|| {
                flat_topk(&data, &q, d, 10, Metric::InnerProduct, None).unwrap()
            });
            s.elapsed().as_secs_f64()
        })
        .collect();
    let t = median(t);
    println!(
        "flat_topk 100k x 384, 1000 queries: {:.0} QPS, {:.1} GFLOP/s ({} threads)",
        nq as f64 / t,
        2.0 * (n * nq * d) as f64 / t / 1e9,
        eigenlake_core::threads::num_threads()
    );
}

#[test]
#[ignore]
fn gemm_parts() {
    use eigenlake_core::gemm::{active_micro, gemm_packed, Packed};
    let (na, nb, d) = (256, 2048, 384);
    let a: Vec<f32> = (0..na * d).map(|i| ((i * 7) % 13) as f32 * 0.1).collect();
    let b: Vec<f32> = (0..nb * d).map(|i| ((i * 5) % 11) as f32 * 0.1).collect();
    let m = active_micro();
    let s = Instant::now();
    let pa = Packed::new(&a, d, m.mr);
    let pb = Packed::new(&b, d, m.nr);
    println!("pack {:.2} ms", s.elapsed().as_secs_f64() * 1e3);
    for ldc in [nb, nb + 16] {
        let mut out = vec![0.0f32; na * ldc];
        let t: Vec<f64> = (0..5)
            .map(|_| {
                let s = Instant::now();
                gemm_packed(&m, &pa, &pb, &mut out, ldc);
                s.elapsed().as_secs_f64()
            })
            .collect();
        println!(
            "gemm_packed ldc={ldc}: {:.1} GFLOP/s",
            2.0 * (na * nb * d) as f64 / median(t) / 1e9
        );
    }
}

//! `gemm_abt` with every micro-kernel this CPU has, against an f64 reference within
//! the dot-product rounding bound γ_d Σ|a_k b_k|, on shapes that exercise every edge
//! (partial tiles, several k-blocks, empty operands).

use eigenlake_core::distance::Isa;
use eigenlake_core::gemm::{gemm_abt, gemm_abt_with, micro_for};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn check(isa: Isa, na: usize, nb: usize, dim: usize, rng: &mut ChaCha8Rng) {
    let Some(m) = micro_for(isa) else {
        println!("SKIP gemm {}: not supported by this CPU/target", isa.name());
        return;
    };
    let a: Vec<f32> = (0..na * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let b: Vec<f32> = (0..nb * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut out = vec![f32::NAN; na * nb];
    gemm_abt_with(&m, &a, &b, dim, &mut out);
    let u = f64::powi(2.0, -24);
    let gamma = dim as f64 * u / (1.0 - dim as f64 * u);
    for i in 0..na {
        for j in 0..nb {
            let (ai, bj) = (&a[i * dim..(i + 1) * dim], &b[j * dim..(j + 1) * dim]);
            let exact: f64 = ai.iter().zip(bj).map(|(&x, &y)| x as f64 * y as f64).sum();
            let mag: f64 = ai
                .iter()
                .zip(bj)
                .map(|(&x, &y)| (x as f64 * y as f64).abs())
                .sum();
            let got = out[i * nb + j] as f64;
            assert!(
                (got - exact).abs() <= gamma * mag + 1e-30,
                "{} na={na} nb={nb} dim={dim} at ({i},{j}): {got} vs {exact}",
                isa.name()
            );
        }
    }
}

#[test]
fn every_kernel_matches_f64() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let shapes = [
        (1, 1, 1),
        (3, 5, 7),
        (8, 32, 16),
        (9, 33, 17),
        (17, 70, 384),
        (6, 16, 193),
        (40, 100, 385),
        (300, 50, 64),
        (5, 2100, 20),
    ];
    for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon] {
        for &(na, nb, dim) in &shapes {
            check(isa, na, nb, dim, &mut rng);
        }
    }
}

#[test]
fn empty_and_hand_case() {
    let mut out = vec![];
    gemm_abt(&[], &[1.0, 2.0], 2, &mut out);
    // [[1,2],[3,4]] · [[1,0],[0,1],[1,1]]ᵀ
    let a = [1.0, 2.0, 3.0, 4.0];
    let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let mut out = vec![0.0; 6];
    gemm_abt(&a, &b, 2, &mut out);
    assert_eq!(out, vec![1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
}

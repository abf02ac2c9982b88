//! Every kernel set this CPU supports against an f64 reference, within the
//! worst-case rounding bound of a floating-point dot product of length n:
//! |fl(a·b) − a·b| ≤ γ_n Σ|a_i b_i|, γ_n = n u / (1 − n u), u = 2⁻²⁴.

use eigenlake_core::distance::{kernels_for, Isa};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn gamma(n: usize) -> f64 {
    let u = f64::powi(2.0, -24);
    let nu = n as f64 * u;
    nu / (1.0 - nu)
}

fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (0..=70).collect();
    v.extend([127, 384, 768, 1023]);
    v
}

fn vectors(n: usize, rng: &mut ChaCha8Rng) -> (Vec<f32>, Vec<f32>) {
    // Mixed signs and magnitudes make cancellation (the hard case) likely.
    let a = (0..n).map(|_| rng.random_range(-3.0f32..3.0)).collect();
    let b = (0..n).map(|_| rng.random_range(-3.0f32..3.0)).collect();
    (a, b)
}

fn check(isa: Isa) {
    let Some(k) = kernels_for(isa) else {
        println!("SKIP {}: not supported by this CPU/target", isa.name());
        return;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for n in lengths() {
        for _ in 0..5 {
            let (a, b) = vectors(n, &mut rng);
            let exact: f64 = a.iter().zip(&b).map(|(&x, &y)| x as f64 * y as f64).sum();
            let mag: f64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as f64 * y as f64).abs())
                .sum();
            let got = (k.dot)(&a, &b) as f64;
            let bound = gamma(n) * mag + f64::MIN_POSITIVE;
            assert!(
                (got - exact).abs() <= bound,
                "{} dot n={n}: got {got}, exact {exact}, bound {bound}",
                isa.name()
            );

            // The difference is rounded once more, then squared: γ_{n+2}.
            let exact: f64 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
                .sum();
            let got = (k.l2sq)(&a, &b) as f64;
            let bound = gamma(n + 2) * exact + f64::MIN_POSITIVE;
            assert!(
                (got - exact).abs() <= bound,
                "{} l2sq n={n}: got {got}, exact {exact}, bound {bound}",
                isa.name()
            );
        }
    }
}

#[test]
fn scalar_matches_f64() {
    check(Isa::Scalar);
}

#[test]
fn avx2_matches_f64() {
    check(Isa::Avx2);
}

#[test]
fn avx512_matches_f64() {
    check(Isa::Avx512);
}

#[test]
fn neon_matches_f64() {
    check(Isa::Neon);
}

#[test]
fn hand_cases() {
    for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon] {
        let Some(k) = kernels_for(isa) else { continue };
        assert_eq!((k.dot)(&[], &[]), 0.0);
        assert_eq!((k.dot)(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
        assert_eq!((k.l2sq)(&[1.0, 2.0, 3.0], &[4.0, 6.0, 3.0]), 25.0);
        let ones = vec![1.0f32; 1023];
        assert_eq!((k.dot)(&ones, &ones), 1023.0);
    }
}

#[test]
fn normalize_and_active_isa() {
    let mut v = vec![3.0f32, 4.0];
    assert!(eigenlake_core::distance::normalize(&mut v));
    assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
    let mut z = vec![0.0f32; 3];
    assert!(!eigenlake_core::distance::normalize(&mut z));
    let isa = eigenlake_core::distance::active_isa();
    assert!(["scalar", "avx2", "avx512", "neon"].contains(&isa));
}

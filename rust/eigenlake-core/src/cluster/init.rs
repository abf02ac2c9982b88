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

/// `out[t] = distance::dot(x, row(cands[t]))` reading `x` once (the same bits), where the
/// AVX-512 kernels are active and there are at most 8 candidates; false otherwise.
fn many_dots<'a>(
    x: &[f32],
    cands: &[usize],
    row: &impl Fn(usize) -> &'a [f32],
    out: &mut [f32],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if distance::active().isa == distance::Isa::Avx512 {
        use crate::distance::avx512::dots;
        macro_rules! go {
            ($m:literal) => {{
                let b: [&[f32]; $m] = std::array::from_fn(|t| row(cands[t]));
                // SAFETY: the AVX-512 kernels are active, so the CPU has AVX-512F; rows
                // all have dim values
                out.copy_from_slice(&unsafe { dots::<$m>(x, b) });
                true
            }};
        }
        return match cands.len() {
            1 => go!(1),
            2 => go!(2),
            3 => go!(3),
            4 => go!(4),
            5 => go!(5),
            6 => go!(6),
            7 => go!(7),
            8 => go!(8),
            _ => false,
        };
    }
    let _ = (x, cands, row, out);
    false
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
                    if spherical && many_dots(row(i), &cands, &row, o) {
                        for v in o.iter_mut() {
                            *v = closest[i].min((1.0 - *v).max(0.0));
                        }
                        continue;
                    }
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

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    /// The one-pass scoring of the trials gives the seeds of scoring one trial at a time
    /// (the plain greedy k-means++), bit for bit.
    #[test]
    fn batched_trials_give_the_plain_seeds() {
        fn plain(
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
            let row = |i: usize| &x[idx[i] * dim..(idx[i] + 1) * dim];
            let trials = 2 + (k as f64).ln() as usize;
            let first = rng.random_range(0..m);
            let mut chosen = vec![first];
            let mut closest: Vec<f32> = (0..m)
                .map(|i| dist(row(i), row(first), spherical))
                .collect();
            while chosen.len() < k {
                let mut best: Option<(f64, usize, Vec<f32>)> = None;
                for _ in 0..trials {
                    let c = draw(&closest, rng);
                    let upd: Vec<f32> = (0..m)
                        .map(|i| closest[i].min(dist(row(i), row(c), spherical)))
                        .collect();
                    let pot: f64 = upd.iter().map(|&v| v as f64).sum();
                    if best.as_ref().is_none_or(|b| pot < b.0) {
                        best = Some((pot, c, upd));
                    }
                }
                let (_, c, upd) = best.unwrap();
                chosen.push(c);
                closest = upd;
            }
            chosen.iter().flat_map(|&c| row(c).to_vec()).collect()
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for (n, dim, k) in [(3000, 384, 50), (500, 7, 3), (2000, 33, 400), (1500, 64, 9)] {
            let mut x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
            x.chunks_mut(dim).for_each(|r| {
                distance::normalize(r);
            });
            for spherical in [true, false] {
                let a = kmeans_pp(&x, dim, k, spherical, &mut ChaCha8Rng::seed_from_u64(9));
                let b = plain(&x, dim, k, spherical, &mut ChaCha8Rng::seed_from_u64(9));
                assert!(a == b, "n={n} dim={dim} k={k} spherical={spherical}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn many_dots_match_dot_bit_for_bit() {
        if !is_x86_feature_detected!("avx512f") {
            return;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for n in [1, 5, 16, 17, 63, 64, 65, 130, 384, 1000] {
            let a: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let b: Vec<Vec<f32>> = (0..3)
                .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
                .collect();
            // SAFETY: AVX-512F checked above
            let got = unsafe { distance::avx512::dots::<3>(&a, [&b[0], &b[1], &b[2]]) };
            for (g, r) in got.iter().zip(&b) {
                let want = unsafe { distance::avx512::dot(&a, r) };
                assert_eq!(g.to_bits(), want.to_bits(), "n={n}");
            }
        }
    }
}

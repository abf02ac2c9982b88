use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// Every kernel this CPU can run.
fn kernels() -> Vec<Kernel> {
    let mut v: Vec<Kernel> = QIsa::available().into_iter().map(Kernel::Panel).collect();
    if quant::amx_enabled() {
        v.push(Kernel::Amx);
    }
    v
}

/// The oracle: the largest `distance::dot`, the first centroid on a tie.
fn argmax(row: &[f32], cent: &[f32]) -> (u32, Vec<f32>) {
    let s: Vec<f32> = cent
        .chunks_exact(row.len())
        .map(|c| distance::dot(row, c))
        .collect();
    let mut best = 0;
    for c in 1..s.len() {
        if s[c] > s[best] {
            best = c;
        }
    }
    (best as u32, s)
}

fn gauss(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| {
            // Box–Muller
            let (u, v): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
        })
        .collect()
}

fn unit(mut v: Vec<f32>, dim: usize) -> Vec<f32> {
    v.chunks_mut(dim).for_each(|r| {
        distance::normalize(r);
    });
    v
}

/// Rows and centroids where the codes alone rarely decide: centroids in tight pairs
/// (near-ties), exact duplicates (ties: the first wins), rows equal to a centroid or to
/// each other, a zero row, and rows whose norms span many orders of magnitude.
fn adversarial(rng: &mut ChaCha8Rng, n: usize, dim: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
    let mut cent = unit(gauss(rng, k * dim), dim);
    for c in (1..k).step_by(3) {
        // a near-twin of the previous centroid
        let eps = [1e-7f32, 1e-5, 1e-3][c % 3];
        for j in 0..dim {
            cent[c * dim + j] = cent[(c - 1) * dim + j] + eps * rng.random_range(-1.0..1.0);
        }
    }
    if k >= 3 {
        cent.copy_within(0..dim, (k - 1) * dim); // the last centroid duplicates the first
    }
    let mut x = Vec::with_capacity(n * dim);
    for i in 0..n {
        let mut r: Vec<f32> = match i % 5 {
            // between two near-twins
            0 | 1 => {
                let c = rng.random_range(0..k);
                let d = (c + 1) % k;
                let t: f32 = rng.random();
                (0..dim)
                    .map(|j| t * cent[c * dim + j] + (1.0 - t) * cent[d * dim + j])
                    .collect()
            }
            // a centroid itself, or a copy of an earlier row
            2 if i >= 5 => x[(i - 5) * dim..(i - 4) * dim].to_vec(),
            2 => cent[(i % k) * dim..(i % k + 1) * dim].to_vec(),
            _ => gauss(rng, dim),
        };
        if i % 97 == 13 {
            r.iter_mut().for_each(|v| *v = 0.0);
        }
        // (a copied row keeps its scale)
        let f = if i % 5 == 2 && i >= 5 {
            1.0
        } else {
            [1.0f32, 1e-3, 1e3, 1e-15, 1e15][i % 7 % 5]
        };
        x.extend(r.iter().map(|v| v * f));
    }
    (x, cent)
}

/// The coded assignment gives the f32 argmax of every row exactly (ties to the first
/// centroid), with `d1`/`d2` bounding the chords, for every kernel, contiguous and
/// gathered rows.
fn check(x: &[f32], cent: &[f32], dim: usize, what: &str) {
    let n = x.len() / dim;
    let rc = RowCodes::new(x, dim);
    for kernel in kernels() {
        let Some(cc) = CentCodes::new(&rc, cent, kernel) else {
            let bad: Vec<usize> = (0..cent.len() / dim)
                .filter(|&c| {
                    QueryCode::new(&cent[c * dim..(c + 1) * dim], rc.max_norm, false).is_none()
                })
                .collect();
            panic!(
                "{what}: centroids {bad:?} not coded (max norm {})",
                rc.max_norm
            );
        };
        let all: Vec<u32> = (0..n as u32).collect();
        let some: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 1).collect();
        for ids in [&all, &some] {
            let mut w = Worker::new();
            let mut out = Vec::new();
            for chunk in ids.chunks(BLOCK) {
                cc.assign(&rc, x, chunk, &mut w, &mut out);
                for (&i, a) in chunk.iter().zip(&out) {
                    let row = &x[i as usize * dim..(i as usize + 1) * dim];
                    let (want, s) = argmax(row, cent);
                    assert_eq!(a.label, want, "{what} {kernel:?}: row {i} scores {s:?}");
                    assert!(a.d1 >= chord(s[want as usize]), "{what}: row {i} d1");
                    for (c, &v) in s.iter().enumerate() {
                        if c != want as usize {
                            assert!(a.d2 <= chord(v), "{what}: row {i} d2 vs {c}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn coded_labels_equal_f32_argmax_on_random_rows() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (dim, k, n) in [
        (384, 50, 700),
        (3, 4, 300),
        (37, 7, 400),
        (64, 1, 100),
        (130, 33, 500),
        (20, 70, 300),
    ] {
        let x = unit(gauss(&mut rng, n * dim), dim);
        let cent = unit(gauss(&mut rng, k * dim), dim);
        check(&x, &cent, dim, &format!("random d={dim} k={k}"));
        // centroids drawn from the rows: most rows near one
        let cent: Vec<f32> = x[..k * dim].to_vec();
        let xs: Vec<f32> = x
            .chunks(dim)
            .flat_map(|r| {
                let c = rng.random_range(0..k);
                r.iter()
                    .zip(&cent[c * dim..(c + 1) * dim])
                    .map(|(a, b)| 0.2 * a + b)
                    .collect::<Vec<_>>()
            })
            .collect();
        check(
            &unit(xs, dim),
            &cent,
            dim,
            &format!("clustered d={dim} k={k}"),
        );
    }
}

#[test]
fn coded_labels_equal_f32_argmax_on_adversarial_rows() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for (dim, k, n) in [(384, 50, 600), (16, 9, 500), (101, 6, 400), (8, 3, 300)] {
        for _ in 0..3 {
            let (x, cent) = adversarial(&mut rng, n, dim, k);
            check(&x, &cent, dim, &format!("adversarial d={dim} k={k}"));
        }
    }
}

/// A zero centroid cannot be coded: the pass falls back to f32.
#[test]
fn zero_centroid_is_not_coded() {
    let x = vec![1.0f32, 0.0, 0.0, 1.0];
    let rc = RowCodes::new(&x, 2);
    let cent = [1.0f32, 0.0, 0.0, 0.0];
    assert!(CentCodes::new(&rc, &cent, Kernel::Panel(QIsa::Scalar)).is_none());
}

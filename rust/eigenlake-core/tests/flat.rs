//! Exact search against a naive f64 brute force: same score multiset, ids agree
//! wherever scores are clearly apart; masks and padding.

use eigenlake_core::distance::Metric;
use eigenlake_core::flat::flat_topk;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn brute(
    data: &[f32],
    q: &[f32],
    dim: usize,
    metric: Metric,
    mask: Option<&[bool]>,
) -> Vec<(f64, i64)> {
    let n = data.len() / dim;
    let mut v: Vec<(f64, i64)> = (0..n)
        .filter(|&i| mask.is_none_or(|m| m[i]))
        .map(|i| {
            let x = &data[i * dim..(i + 1) * dim];
            let s: f64 = match metric {
                Metric::InnerProduct => x.iter().zip(q).map(|(&a, &b)| a as f64 * b as f64).sum(),
                Metric::L2 => -x
                    .iter()
                    .zip(q)
                    .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                    .sum::<f64>(),
            };
            (s, i as i64)
        })
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0));
    v
}

fn run(n: usize, nq: usize, dim: usize, k: usize, metric: Metric, masked: bool) {
    let mut rng = ChaCha8Rng::seed_from_u64((n * 31 + nq) as u64);
    let data: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let queries: Vec<f32> = (0..nq * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mask: Option<Vec<bool>> = masked.then(|| (0..n).map(|_| rng.random_bool(0.3)).collect());
    let r = flat_topk(&data, &queries, dim, k, metric, mask.as_deref()).unwrap();
    // the answer is k wide, or as wide as the rows when k exceeds them
    assert_eq!(r.k, k.min(n));
    assert_eq!(r.ids.len(), nq * r.k);
    let k = r.k;
    for q in 0..nq {
        let want = brute(
            &data,
            &queries[q * dim..(q + 1) * dim],
            dim,
            metric,
            mask.as_deref(),
        );
        for i in 0..k {
            let (id, s) = (r.ids[q * k + i], r.scores[q * k + i] as f64);
            if i >= want.len() {
                assert_eq!(id, -1, "expected padding");
                continue;
            }
            let ws = if metric == Metric::L2 {
                -want[i].0
            } else {
                want[i].0
            };
            assert!(
                (s - ws).abs() <= 1e-4 * (1.0 + ws.abs()),
                "q{q} rank {i}: {s} vs {ws}"
            );
            let clear = (i == 0 || (want[i - 1].0 - want[i].0).abs() > 1e-3)
                && want
                    .get(i + 1)
                    .is_none_or(|w| (want[i].0 - w.0).abs() > 1e-3);
            if clear {
                assert_eq!(id, want[i].1, "q{q} rank {i}");
            }
            if let Some(m) = &mask {
                assert!(m[id as usize]);
            }
        }
    }
}

#[test]
fn matches_brute_force() {
    for metric in [Metric::InnerProduct, Metric::L2] {
        for masked in [false, true] {
            run(3000, 37, 33, 10, metric, masked); // batched path, partial tiles
            run(2500, 2, 384, 7, metric, masked); // gemv path
            run(20, 5, 8, 30, metric, masked); // k > n: clamped to n
            run(20, 5, 8, usize::MAX, metric, masked); // k far beyond any allocation
            run(3000, 37, 33, 1 << 60, metric, masked); // batched path, huge k
            run(2500, 2, 16, 10usize.pow(18), metric, masked); // gemv path, huge k
        }
    }
}

#[test]
fn hand_case_and_errors() {
    let data = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let r = flat_topk(&data, &[1.0, 0.0], 2, 2, Metric::InnerProduct, None).unwrap();
    assert_eq!(r.ids, vec![0, 2]); // tie on 1.0: smaller id first
    assert_eq!(r.scores, vec![1.0, 1.0]);
    let r = flat_topk(
        &data,
        &[1.0, 0.0],
        2,
        3,
        Metric::L2,
        Some(&[false, true, true]),
    )
    .unwrap();
    assert_eq!(r.ids, vec![2, 1, -1]);
    assert_eq!(r.scores[..2], [1.0, 2.0]);
    assert!(flat_topk(&data, &[1.0, 0.0], 2, 1, Metric::L2, Some(&[true])).is_err());
    // k beyond the rows: as wide as the rows, masked-out rows still padded
    let r = flat_topk(
        &data,
        &[1.0, 0.0],
        2,
        usize::MAX,
        Metric::L2,
        Some(&[false, true, true]),
    )
    .unwrap();
    assert_eq!((r.k, r.ids.clone()), (3, vec![2, 1, -1]));
    assert_eq!(r.scores[2], f32::INFINITY);
    // no rows, or k = 0: an empty answer, not an error
    let r = flat_topk(&[], &[1.0, 0.0], 2, usize::MAX, Metric::InnerProduct, None).unwrap();
    assert_eq!((r.k, r.ids.len()), (0, 0));
    let r = flat_topk(&data, &[1.0, 0.0], 2, 0, Metric::InnerProduct, None).unwrap();
    assert_eq!((r.k, r.ids.len()), (0, 0));
    assert!(flat_topk(&data, &[1.0], 0, 1, Metric::L2, None).is_err());
}

/// The row-list scan and the serial scan answer exactly as the masked scan (same ids,
/// same scores), ties included (repeated rows), on either side of the pool's split.
#[test]
fn row_list_and_serial_scans_match_the_mask() {
    use eigenlake_core::flat::{flat_topk_rows, flat_topk_serial};
    let dim = 5;
    for (n, nq) in [(40, 1), (300, 3), (9000, 1), (20_000, 2)] {
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let mut data: Vec<f32> = (0..n * dim)
            .map(|_| rng.random_range(-2i32..3) as f32)
            .collect();
        for r in (0..n).step_by(7) {
            let first: Vec<f32> = data[..dim].to_vec();
            data[r * dim..(r + 1) * dim].copy_from_slice(&first);
        }
        let queries: Vec<f32> = (0..nq * dim)
            .map(|_| rng.random_range(-2i32..3) as f32)
            .collect();
        let mask: Vec<bool> = (0..n).map(|_| rng.random_bool(0.6)).collect();
        let rows: Vec<u32> = (0..n as u32).filter(|&i| mask[i as usize]).collect();
        for metric in [Metric::InnerProduct, Metric::L2] {
            for k in [1, 10, 57] {
                let want = flat_topk(&data, &queries, dim, k, metric, Some(&mask)).unwrap();
                for parallel in [false, true] {
                    let got =
                        flat_topk_rows(&data, &queries, dim, k, metric, &rows, parallel).unwrap();
                    assert_eq!((got.k, &got.ids), (want.k, &want.ids));
                    assert_eq!(got.scores, want.scores);
                }
                let serial =
                    flat_topk_serial(&data, &queries, dim, k, metric, Some(&mask)).unwrap();
                assert_eq!((&serial.ids, &serial.scores), (&want.ids, &want.scores));
            }
        }
    }
    let err = flat_topk_rows(&[0.0; 10], &[0.0; 5], 5, 1, Metric::L2, &[2], false);
    assert!(err.is_err());
}

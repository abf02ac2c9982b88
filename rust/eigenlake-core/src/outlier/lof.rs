//! Local outlier factor, as scikit-learn's `LocalOutlierFactor(..).negative_outlier_factor_`
//! with `algorithm="brute"`: k = min(n_neighbors, n − 1) neighbours (self excluded),
//! reach-dist(a, b) = max(d(a, b), k-dist(b)), lrd = 1 / (mean reach-dist + 1e-10),
//! score = −mean over neighbours of lrd(b) / lrd(a).

use rayon::prelude::*;

use crate::cluster::kdtree::Measure;
use crate::cluster::neighbors::knn_rows;
use crate::cluster::points::{check_matrix, Metric};
use crate::error::{CoreError, Result};

pub fn lof(x: &[f32], dim: usize, n_neighbors: usize, metric: Metric) -> Result<Vec<f64>> {
    let n = check_matrix(x, dim)?;
    if n_neighbors == 0 {
        return Err(CoreError::invalid("n_neighbors", "must be at least 1"));
    }
    if n < 2 {
        return Err(CoreError::invalid("x", "LOF needs at least 2 rows"));
    }
    let k = n_neighbors.min(n - 1);
    // the neighbour sets must be exact; distances rounded by ~1e-7 move no score visibly
    let nn = knn_rows(x, dim, k, metric, Measure::SetExact)?;
    let kdist: Vec<f64> = nn.dist.chunks(k).map(|d| d[k - 1] as f64).collect();
    let lrd_of = |(d, ids): (&[f32], &[u32])| {
        let reach = sum4(d.iter().zip(ids).map(|(&dd, &j)| {
            let kd = kdist[j as usize];
            // a plain compare: distances are never NaN (`f64::max` handles NaN)
            let dd = dd as f64;
            if dd > kd {
                dd
            } else {
                kd
            }
        }));
        1.0 / (reach / k as f64 + 1e-10)
    };
    let (d, ids) = (&nn.dist, &nn.ids);
    let lrd: Vec<f64> = if n < PAR_ROWS {
        d.chunks(k).zip(ids.chunks(k)).map(lrd_of).collect()
    } else {
        d.par_chunks(k).zip(ids.par_chunks(k)).map(lrd_of).collect()
    };
    let score_of = |(i, ids): (usize, &[u32])| {
        -sum4(ids.iter().map(|&j| lrd[j as usize])) / (k as f64 * lrd[i])
    };
    Ok(if n < PAR_ROWS {
        ids.chunks(k).enumerate().map(score_of).collect()
    } else {
        ids.par_chunks(k).enumerate().map(score_of).collect()
    })
}

/// Rows from which the passes after the kNN run in parallel: a row is only k gathers, and
/// on a machine whose cores are far apart (the 2-vCPU benchmark VM, ~160 ns) reading the
/// other thread's kNN rows costs more than a second thread saves. 2 threads, parallel pieces
/// vs one thread: cardio (1,831 rows) 66–73 vs 42–43 µs; thyroid (3,772) and satellite
/// (6,435) equal; the four running sums took cardio's passes 58 → 41 µs on one thread.
const PAR_ROWS: usize = 8192;

/// A sum kept as four running sums: a row's k terms are then four short chains of adds
/// instead of one long one (each add waits on the last; the gathers feeding them do not).
#[inline]
fn sum4(mut v: impl Iterator<Item = f64>) -> f64 {
    let mut a = [0f64; 4];
    'rows: loop {
        for s in a.iter_mut() {
            match v.next() {
                Some(x) => *s += x,
                None => break 'rows,
            }
        }
    }
    (a[0] + a[1]) + (a[2] + a[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_square_with_outlier() {
        // unit square corners plus a far point: with k = 2 the corners all have
        // lrd = 1 and score −1; the outlier's neighbours are two corners
        let x = [0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 5.0, 0.0];
        let s = lof(&x, 2, 2, Metric::Euclidean).unwrap();
        for v in &s[..4] {
            assert!((v + 1.0).abs() < 1e-6, "{v}");
        }
        // outlier (5,0): neighbours (1,0) d=4 and (1,1) d=√17; reach = max(d, 1)
        let lrd_o = 1.0 / ((4.0 + 17f64.sqrt()) / 2.0 + 1e-10);
        assert!((s[4] + 1.0 / lrd_o).abs() < 1e-5, "{}", s[4]);
    }

    /// Brute-force LOF in f64 (ties in the k-th place broken by row, as the kNN does).
    fn brute_lof(x: &[f32], dim: usize, k: usize) -> Vec<f64> {
        let n = x.len() / dim;
        let d = |i: usize, j: usize| -> f64 {
            (0..dim)
                .map(|c| (x[i * dim + c] as f64 - x[j * dim + c] as f64).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let nn: Vec<Vec<(f64, usize)>> = (0..n)
            .map(|i| {
                let mut r: Vec<(f64, usize)> =
                    (0..n).filter(|&j| j != i).map(|j| (d(i, j), j)).collect();
                r.select_nth_unstable_by(k - 1, |a, b| a.partial_cmp(b).unwrap());
                r.truncate(k);
                r
            })
            .collect();
        let kdist: Vec<f64> = nn
            .iter()
            .map(|r| r.iter().map(|p| p.0).fold(0.0, f64::max))
            .collect();
        let lrd: Vec<f64> = nn
            .iter()
            .map(|r| {
                let reach: f64 = r.iter().map(|&(dd, j)| dd.max(kdist[j])).sum();
                1.0 / (reach / k as f64 + 1e-10)
            })
            .collect();
        (0..n)
            .map(|i| -nn[i].iter().map(|&(_, j)| lrd[j]).sum::<f64>() / (k as f64 * lrd[i]))
            .collect()
    }

    #[test]
    fn equals_brute_force_below_and_above_the_parallel_passes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (n, dim) in [(400, 3), (PAR_ROWS + 300, 2), (700, 14)] {
            // clustered rows plus scattered ones, continuous values (no exact ties)
            let x: Vec<f32> = (0..n * dim)
                .map(|i| {
                    let v: f32 = rng.random_range(-1.0..1.0);
                    if (i / dim) % 10 == 0 {
                        8.0 * v
                    } else {
                        v + ((i / dim) % 3) as f32
                    }
                })
                .collect();
            let k = 7;
            let got = lof(&x, dim, k, Metric::Euclidean).unwrap();
            let want = brute_lof(&x, dim, k);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-4 * w.abs(),
                    "n {n}, row {i}: {g} vs {w}"
                );
            }
        }
    }
}

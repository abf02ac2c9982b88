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
    let lrd: Vec<f64> = nn
        .dist
        .par_chunks(k)
        .zip(nn.ids.par_chunks(k))
        .map(|(d, ids)| {
            let reach: f64 = d
                .iter()
                .zip(ids)
                .map(|(&dd, &j)| (dd as f64).max(kdist[j as usize]))
                .sum();
            1.0 / (reach / k as f64 + 1e-10)
        })
        .collect();
    Ok(nn
        .ids
        .par_chunks(k)
        .enumerate()
        .map(|(i, ids)| -ids.iter().map(|&j| lrd[j as usize]).sum::<f64>() / (k as f64 * lrd[i]))
        .collect())
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
}

//! Prepared input shared by the pairwise analyses, and blocked distance tiles.
//!
//! Cosine rows are normalised (distance `1 - x·y`, clipped at 0 like scikit-learn).
//! Euclidean rows are centred first: distances are translation invariant and the
//! `‖x‖² − 2x·y + ‖y‖²` expansion loses less precision on small norms.

use std::ops::Range;

use rayon::prelude::*;

use crate::distance;
use crate::error::{CoreError, Result};
use crate::gemm::gemm_abt;

/// Rows per parallel work item and columns per tile (a tile stays in L2).
pub const ROW_BLOCK: usize = 64;
pub const COL_BLOCK: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    Euclidean,
}

impl Metric {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "cosine" => Ok(Metric::Cosine),
            "euclidean" => Ok(Metric::Euclidean),
            _ => Err(CoreError::invalid(
                "metric",
                format!("expected \"cosine\" or \"euclidean\", got {s:?}"),
            )),
        }
    }
}

/// Check a row-major matrix and return its row count.
pub fn check_matrix(x: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 {
        return Err(CoreError::invalid("x", "matrix has 0 columns"));
    }
    if !x.len().is_multiple_of(dim) {
        return Err(CoreError::invalid("x", "length is not a multiple of dim"));
    }
    let n = x.len() / dim;
    if n == 0 {
        return Err(CoreError::invalid("x", "matrix has 0 rows"));
    }
    if !all_finite(x) {
        return Err(CoreError::invalid("x", "contains NaN or infinity"));
    }
    Ok(n)
}

/// Whether every value is finite: a branch-free test per piece (it vectorises; `all` with
/// its early exit does not), pieces tested in parallel, stopping soon after a bad value.
fn all_finite(x: &[f32]) -> bool {
    x.par_chunks(1 << 14)
        .all(|c| c.iter().fold(true, |ok, v| ok & (v.abs() < f32::INFINITY)))
}

pub struct Points {
    pub data: Vec<f32>,
    pub dim: usize,
    pub n: usize,
    /// Squared norms of the prepared rows.
    pub sq: Vec<f32>,
    pub metric: Metric,
}

impl Points {
    pub fn new(x: &[f32], dim: usize, metric: Metric) -> Result<Self> {
        let n = check_matrix(x, dim)?;
        let mut data = x.to_vec();
        match metric {
            Metric::Cosine => data.chunks_mut(dim).for_each(|r| {
                distance::normalize(r);
            }),
            Metric::Euclidean => {
                let mut mean = vec![0f64; dim];
                for r in data.chunks(dim) {
                    mean.iter_mut().zip(r).for_each(|(m, v)| *m += *v as f64);
                }
                let mean: Vec<f32> = mean.iter().map(|m| (m / n as f64) as f32).collect();
                for r in data.chunks_mut(dim) {
                    r.iter_mut().zip(&mean).for_each(|(v, m)| *v -= m);
                }
            }
        }
        let sq = data.chunks(dim).map(distance::norm_sq).collect();
        Ok(Points {
            data,
            dim,
            n,
            sq,
            metric,
        })
    }

    #[inline]
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn rows(&self, r: Range<usize>) -> &[f32] {
        &self.data[r.start * self.dim..r.end * self.dim]
    }

    /// Distance of rows `i`, `j` given their dot product (fast, f32 expansion).
    #[inline]
    pub fn from_dot(&self, i: usize, j: usize, dot: f32) -> f32 {
        match self.metric {
            Metric::Cosine => (1.0 - dot).max(0.0),
            Metric::Euclidean => (self.sq[i] + self.sq[j] - 2.0 * dot).max(0.0).sqrt(),
        }
    }

    /// Distance of rows `i`, `j` computed directly (no cancellation).
    pub fn exact(&self, i: usize, j: usize) -> f32 {
        if i == j {
            return 0.0;
        }
        match self.metric {
            Metric::Cosine => (1.0 - distance::dot(self.row(i), self.row(j))).max(0.0),
            Metric::Euclidean => distance::l2sq(self.row(i), self.row(j)).sqrt(),
        }
    }

    /// Bound on `|from_dot − exact|` for rows `i`, `j`: pairs whose fast distance is within
    /// it of a threshold are recomputed with `exact`. Cosine is an f32 dot either way (as in
    /// scikit-learn), so only euclidean needs it: `|√a − √b| ≤ √|a − b|`.
    #[inline]
    pub fn slack(&self, i: usize, j: usize) -> f32 {
        match self.metric {
            Metric::Cosine => 0.0,
            Metric::Euclidean => {
                let rel = 8.0 * f32::EPSILON * (self.dim as f32).sqrt();
                (rel * (self.sq[i] + self.sq[j])).sqrt() + 1e-6
            }
        }
    }

    /// Distances between `rows` and `cols`, row-major into `out` (resized to fit).
    pub fn tile(&self, rows: Range<usize>, cols: Range<usize>, out: &mut Vec<f32>) {
        let nc = cols.len();
        out.resize(rows.len() * nc, 0.0);
        gemm_abt(
            self.rows(rows.clone()),
            self.rows(cols.clone()),
            self.dim,
            out,
        );
        for (r, i) in rows.enumerate() {
            let line = &mut out[r * nc..(r + 1) * nc];
            for (c, j) in cols.clone().enumerate() {
                line[c] = if i == j {
                    0.0
                } else {
                    self.from_dot(i, j, line[c])
                };
            }
        }
    }
}

/// Row blocks `[start, end)` of `n` rows.
pub fn blocks(n: usize, size: usize) -> impl Iterator<Item = Range<usize>> + Clone {
    (0..n.div_ceil(size)).map(move |b| b * size..((b + 1) * size).min(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_check_finds_any_nan_or_infinity_anywhere() {
        let mut x = vec![1.5f32; 10_000];
        x[3] = f32::MAX;
        x[4] = -f32::MAX;
        x[5] = -0.0;
        x[6] = f32::MIN_POSITIVE / 8.0;
        assert!(all_finite(&x));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            for at in [0, 4095, 4096, 9_999] {
                let mut y = x.clone();
                y[at] = bad;
                assert!(!all_finite(&y), "{bad} at {at}");
                assert!(check_matrix(&y, 10).is_err());
            }
        }
    }
}

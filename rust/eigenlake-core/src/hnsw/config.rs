//! Build parameters of an HNSW graph (Malkov & Yashunin 2018 notation).

use crate::distance::Metric;
use crate::{CoreError, Result};

/// Highest layer a node may get; with M ≥ 2 reaching it has negligible probability.
pub const MAX_LEVEL: usize = 16;

#[derive(Clone, Debug, PartialEq)]
pub struct HnswConfig {
    pub dim: usize,
    pub metric: Metric,
    /// Links per node on the upper layers; layer 0 keeps `2·m`.
    pub m: usize,
    pub ef_construction: usize,
    pub seed: u64,
}

impl HnswConfig {
    pub fn new(
        dim: usize,
        metric: Metric,
        m: usize,
        ef_construction: usize,
        seed: u64,
    ) -> Result<Self> {
        if dim == 0 {
            return Err(CoreError::invalid("dim", "must be positive"));
        }
        if !(2..=256).contains(&m) {
            return Err(CoreError::invalid(
                "m",
                format!("must be in 2..=256, got {m}"),
            ));
        }
        if ef_construction == 0 {
            return Err(CoreError::invalid("ef_construction", "must be positive"));
        }
        Ok(HnswConfig {
            dim,
            metric,
            m,
            ef_construction,
            seed,
        })
    }

    pub fn m0(&self) -> usize {
        2 * self.m
    }

    /// Level normalisation factor mL = 1 / ln(M).
    pub fn ml(&self) -> f64 {
        1.0 / (self.m as f64).ln()
    }
}

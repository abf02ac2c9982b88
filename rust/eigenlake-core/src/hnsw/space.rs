//! Distances between a query and rows of the caller's matrix, "smaller is nearer":
//! `-dot` for inner product, squared euclidean for l2.

use crate::distance::{dot, l2sq, Metric};

#[derive(Clone, Copy)]
pub struct Space<'a> {
    pub data: &'a [f32],
    pub dim: usize,
    pub metric: Metric,
}

impl<'a> Space<'a> {
    #[inline]
    pub fn row(&self, i: u32) -> &'a [f32] {
        let i = i as usize;
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    #[inline]
    pub fn dist(&self, q: &[f32], i: u32) -> f32 {
        let x = self.row(i);
        match self.metric {
            Metric::InnerProduct => -dot(q, x),
            Metric::L2 => l2sq(q, x),
        }
    }

    /// The score reported to callers: inner product or squared distance.
    #[inline]
    pub fn score(&self, d: f32) -> f32 {
        match self.metric {
            Metric::InnerProduct => -d,
            Metric::L2 => d,
        }
    }
}

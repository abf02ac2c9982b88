//! Distances between a query and rows of the caller's matrix, "smaller is nearer":
//! `-dot` for inner product, squared euclidean for l2.

use crate::distance::{active, Metric};

#[derive(Clone, Copy)]
pub struct Space<'a> {
    pub data: &'a [f32],
    pub dim: usize,
    pub metric: Metric,
    /// The kernel, resolved once instead of per call.
    kernel: fn(&[f32], &[f32]) -> f32,
}

impl<'a> Space<'a> {
    pub fn new(data: &'a [f32], dim: usize, metric: Metric) -> Space<'a> {
        let k = active();
        let kernel = match metric {
            Metric::InnerProduct => k.dot,
            Metric::L2 => k.l2sq,
        };
        Space {
            data,
            dim,
            metric,
            kernel,
        }
    }

    /// Lines of a row asked for when a neighbour is first seen; the rest follow one
    /// neighbour ahead of its distance (`prefetch_rest`).
    const HEAD_LINES: usize = 4;

    /// Ask for the first lines of row `i` ahead of use: the walk is bound by memory
    /// latency once the matrix outgrows the caches.
    #[inline]
    pub fn prefetch(&self, i: u32) {
        self.prefetch_lines(i, 0, Self::HEAD_LINES);
    }

    /// Ask for the remaining lines of row `i`: issued one neighbour ahead of its distance,
    /// so the whole row is in flight while the previous one is being measured.
    #[inline]
    pub fn prefetch_rest(&self, i: u32) {
        self.prefetch_lines(i, Self::HEAD_LINES, usize::MAX);
    }

    #[inline]
    fn prefetch_lines(&self, i: u32, first: usize, count: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let row = self.row(i);
            let start = (first * 16).min(row.len());
            let end = first
                .saturating_add(count)
                .saturating_mul(16)
                .min(row.len());
            for line in row[start..end].chunks(16) {
                // SAFETY: a prefetch of an address inside a live slice; SSE is baseline.
                #[allow(unused_unsafe)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8)
                };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (i, first, count);
    }

    #[inline]
    pub fn row(&self, i: u32) -> &'a [f32] {
        let i = i as usize;
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    #[inline]
    pub fn dist(&self, q: &[f32], i: u32) -> f32 {
        let v = (self.kernel)(q, self.row(i));
        match self.metric {
            Metric::InnerProduct => -v,
            Metric::L2 => v,
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

/// What a walk measures: the "smaller is nearer" distance of a node to the query, and
/// prefetches ahead of it. `Exact` measures the float rows; `quant::Coded` the codes.
pub trait Measure {
    fn dist(&self, i: u32) -> f32;
    /// Ask for the start of node `i`'s row (when the node is first seen).
    fn prefetch(&self, i: u32);
    /// Ask for the rest of node `i`'s row (one node ahead of its distance).
    fn prefetch_rest(&self, i: u32);
}

/// Exact distances of the query `q` over the float rows.
pub struct Exact<'s, 'a> {
    pub sp: &'s Space<'a>,
    pub q: &'s [f32],
}

impl Measure for Exact<'_, '_> {
    #[inline]
    fn dist(&self, i: u32) -> f32 {
        self.sp.dist(self.q, i)
    }
    #[inline]
    fn prefetch(&self, i: u32) {
        self.sp.prefetch(i);
    }
    #[inline]
    fn prefetch_rest(&self, i: u32) {
        self.sp.prefetch_rest(i);
    }
}

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

    /// Ask for the first lines of row `i` ahead of use: the walk is bound by
    /// memory latency once the matrix outgrows the caches; the hardware
    /// prefetcher streams the rest of the row.
    #[inline]
    pub fn prefetch(&self, i: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let row = self.row(i);
            for line in row.chunks(16).take(4) {
                // SAFETY: a prefetch of an address inside a live slice; SSE is baseline.
                #[allow(unused_unsafe)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8)
                };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
    }

    /// Ask for every line of row `i`: issued one neighbour ahead of its distance, so the
    /// whole row is in flight while the previous one is being measured.
    #[inline]
    pub fn prefetch_row(&self, i: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            for line in self.row(i).chunks(16).skip(4) {
                // SAFETY: a prefetch of an address inside a live slice; SSE is baseline.
                #[allow(unused_unsafe)]
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8)
                };
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = i;
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

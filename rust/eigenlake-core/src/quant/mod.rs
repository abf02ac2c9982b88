//! Quantized exact search: an int8 scan whose top-k is still exact.
//!
//! The store keeps int8 codes of the rows (per-row scale, `encode`) beside the caller's
//! f32 rows, which it does not copy (like `hnsw`: the caller passes them to `search`). A
//! search scans the codes with an integer kernel (`kernels`: AVX-512 VNNI, AVX2, scalar),
//! derives for every row a rigorous interval [lower, upper] that contains the score the
//! f32 kernel would give (`encode` proves it), and keeps every row whose upper bound
//! reaches the k-th best lower bound: any row left out has k rows strictly better than
//! it. Those candidates are re-scored with the same one-query f32 kernel as `flat_topk`
//! and ranked by (score desc, id asc), so ids and scores are exactly those of an exact
//! scan by that kernel (`flat_topk` of one query at a time; its batched path ranks by GEMM
//! sums and may order near-ties differently).
//!
//! Inner product and squared l2 are scanned through codes; zero or overflow-prone queries
//! and masks allowing few rows are answered by the exact f32 scan (same answer, no
//! speed-up).

mod encode;
mod kernels;
mod one;
mod scalar;
mod search;

#[cfg(target_arch = "x86_64")]
mod amx;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

/// The AMX panel kernel (spherical k-means codes its centroids as one panel).
#[cfg(target_arch = "x86_64")]
pub(crate) use amx::dots_all as amx_dots_all;
pub use encode::{
    bounds, bounds_l2, encode_row, gamma, gamma_l2, up, QueryCode, RowMeta, ETA, QMAX,
};
pub use kernels::{
    active as active_kernels, amx_enabled, description as kernels_description, QBlock, QIsa, MR, NR,
};

use crate::{CoreError, Result};

pub struct QuantFlat {
    dim: usize,
    /// dim rounded up to 4 (the kernels take 4 codes at a time; padding codes are 0)
    dp: usize,
    n: usize,
    /// `panels · (dp/4) · 128` codes
    codes: Vec<i8>,
    // per row, padded to whole panels (padding rows: all zero, never allowed)
    scale: Vec<f32>,
    alpha: Vec<f32>,
    beta: Vec<f32>,
    csum: Vec<i32>,
    /// ‖x‖² (l2)
    sq: Vec<f32>,
    /// `gamma_l2(dim)`
    gl2: f32,
    /// an upper bound of every row's ‖x‖ (may stay high after `set_rows`)
    max_norm: f32,
    last_candidates: AtomicUsize,
}

impl QuantFlat {
    pub fn new(dim: usize) -> Result<QuantFlat> {
        if dim == 0 {
            return Err(CoreError::invalid("dim", "must be positive"));
        }
        if dim > (1 << 16) {
            // 127²·dim must stay inside i32 (and f32's exact integers) in the kernels
            return Err(CoreError::invalid("dim", "must be at most 65536"));
        }
        Ok(QuantFlat {
            dim,
            dp: dim.div_ceil(4) * 4,
            n: 0,
            codes: Vec::new(),
            scale: Vec::new(),
            alpha: Vec::new(),
            beta: Vec::new(),
            csum: Vec::new(),
            sq: Vec::new(),
            gl2: encode::gamma_l2(dim),
            max_norm: 0.0,
            last_candidates: AtomicUsize::new(0),
        })
    }

    /// Codes of `data` (row-major, `dim` columns). Call inside `threads::install`.
    pub fn from_rows(data: &[f32], dim: usize) -> Result<QuantFlat> {
        let mut q = QuantFlat::new(dim)?;
        q.append(data)?;
        Ok(q)
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Bytes held: codes plus 20 per row.
    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity()
            + 4 * (self.scale.capacity()
                + self.alpha.capacity()
                + self.beta.capacity()
                + self.csum.capacity()
                + self.sq.capacity())
    }

    /// Rows re-scored with the f32 kernel by the last `search` (all its queries).
    pub fn last_candidates(&self) -> usize {
        self.last_candidates.load(Ordering::Relaxed)
    }

    fn panel_bytes(&self) -> usize {
        self.dp / 4 * NR * 4
    }

    fn rows_of(&self, rows: &[f32]) -> Result<usize> {
        if !rows.len().is_multiple_of(self.dim) {
            return Err(CoreError::invalid(
                "rows",
                "length is not a multiple of dim",
            ));
        }
        Ok(rows.len() / self.dim)
    }

    /// Add rows at the end.
    pub fn append(&mut self, rows: &[f32]) -> Result<()> {
        let m = self.rows_of(rows)?;
        let panels = (self.n + m).div_ceil(NR);
        let pb = self.panel_bytes();
        self.codes.resize(panels * pb, 0);
        for v in [
            &mut self.scale,
            &mut self.alpha,
            &mut self.beta,
            &mut self.sq,
        ] {
            v.resize(panels * NR, 0.0);
        }
        self.csum.resize(panels * NR, 0);
        let start = self.n;
        self.n += m;
        self.encode_at(start, rows);
        Ok(())
    }

    /// Re-encode rows `start..start + len(rows)` (they must exist).
    pub fn set_rows(&mut self, start: usize, rows: &[f32]) -> Result<()> {
        let m = self.rows_of(rows)?;
        if start.checked_add(m).is_none_or(|e| e > self.n) {
            return Err(CoreError::invalid(
                "start",
                format!(
                    "rows {start}..{} are not all present ({} rows)",
                    start + m,
                    self.n
                ),
            ));
        }
        self.encode_at(start, rows);
        Ok(())
    }

    /// Encode `rows` into rows `start..`, panel by panel in parallel.
    fn encode_at(&mut self, start: usize, rows: &[f32]) {
        let (dim, dp, pb) = (self.dim, self.dp, self.panel_bytes());
        let m = rows.len() / dim;
        if m == 0 {
            return;
        }
        let (p0, p1) = (start / NR, (start + m).div_ceil(NR));
        let metas: Vec<(usize, RowMeta)> = self.codes[p0 * pb..p1 * pb]
            .par_chunks_mut(pb)
            .enumerate()
            .flat_map_iter(|(pi, panel)| {
                let p = p0 + pi;
                let mut row_codes = vec![0i8; dp];
                let mut out = Vec::with_capacity(NR);
                for r in 0..NR {
                    let i = p * NR + r;
                    if i < start || i >= start + m {
                        continue;
                    }
                    let x = &rows[(i - start) * dim..(i - start + 1) * dim];
                    let meta = encode_row(x, &mut row_codes[..dim]);
                    for (j, &c) in row_codes.iter().enumerate() {
                        panel[(j / 4) * NR * 4 + r * 4 + j % 4] = c;
                    }
                    out.push((i, meta));
                }
                out
            })
            .collect();
        for (i, meta) in metas {
            self.scale[i] = meta.scale;
            self.alpha[i] = meta.alpha;
            self.beta[i] = meta.beta;
            self.csum[i] = meta.csum;
            self.sq[i] = meta.sq;
            // a non-finite row is always re-scored, so it need not raise the guard
            if meta.norm.is_finite() {
                self.max_norm = self.max_norm.max(meta.norm);
            }
        }
    }

    fn meta(&self, i: usize) -> RowMeta {
        RowMeta {
            scale: self.scale[i],
            alpha: self.alpha[i],
            beta: self.beta[i],
            csum: self.csum[i],
            norm: 0.0,
            sq: self.sq[i],
        }
    }
}

#[cfg(test)]
mod tests;

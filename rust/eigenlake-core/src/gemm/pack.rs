//! Packing rows of a row-major matrix into k-major panels of `width` rows:
//! within k-block `p` and panel `q`, element (row r, column k) sits at
//! `panel(p, q)[k * width + r]`. Rows past the end are zero-padded.

use super::transpose_into;

/// Depth of one k-block: a 32-wide B panel of KC floats (24 KiB) stays in L1.
pub const KC: usize = 192;
/// Widest panel any micro-kernel uses.
pub const MAX_WIDTH: usize = 64;

pub struct Packed {
    data: Vec<f32>,
    rows: usize,
    dim: usize,
    width: usize,
}

impl Packed {
    /// Pack the contiguous rows of `m` (`m.len() / dim` rows).
    pub fn new(m: &[f32], dim: usize, width: usize) -> Packed {
        let rows = m.len().checked_div(dim).unwrap_or(0);
        Packed::gather(rows, dim, width, |r| &m[r * dim..(r + 1) * dim])
    }

    /// Pack `rows` rows given by `row(r)`, e.g. the rows a mask lets through.
    pub fn gather<'a>(
        rows: usize,
        dim: usize,
        width: usize,
        row: impl Fn(usize) -> &'a [f32],
    ) -> Packed {
        let mut p = Packed {
            data: Vec::new(),
            rows: 0,
            dim,
            width,
        };
        p.repack(rows, dim, row);
        p
    }

    /// Pack again into the same buffer (no new allocation, no page faults).
    pub fn repack<'a>(&mut self, rows: usize, dim: usize, row: impl Fn(usize) -> &'a [f32]) {
        let width = self.width;
        assert!(width <= MAX_WIDTH);
        let panels = rows.div_ceil(width);
        let padded = panels * width;
        self.data.resize(padded * dim, 0.0);
        self.rows = rows;
        self.dim = dim;
        let mut srcs: [&[f32]; MAX_WIDTH] = [&[]; MAX_WIDTH];
        for q in 0..panels {
            let r0 = q * width;
            let nr = width.min(rows - r0);
            for (w, s) in srcs[..nr].iter_mut().enumerate() {
                *s = row(r0 + w);
            }
            for k0 in (0..dim).step_by(KC) {
                let kc = KC.min(dim - k0);
                let off = k0 * padded + q * kc * width;
                let panel = &mut self.data[off..off + kc * width];
                transpose_into(panel, &srcs[..nr], k0, kc, width);
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn panels(&self) -> usize {
        self.rows.div_ceil(self.width)
    }
    pub fn kblocks(&self) -> usize {
        self.dim.div_ceil(KC)
    }
    pub fn kc(&self, p: usize) -> usize {
        KC.min(self.dim - p * KC)
    }

    /// Pointer to the `kc(p) × width` panel `q` of k-block `p`.
    pub fn panel(&self, p: usize, q: usize) -> *const f32 {
        let padded = self.panels() * self.width;
        let off = p * KC * padded + q * self.kc(p) * self.width;
        self.data[off..].as_ptr()
    }
}

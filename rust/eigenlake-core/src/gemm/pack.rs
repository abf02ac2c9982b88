//! Packing rows of a row-major matrix into k-major panels of `width` rows:
//! within k-block `p` and panel `q`, element (row r, column k) sits at
//! `panel(p, q)[k * width + r]`. Rows past the end are zero-padded.

/// Depth of one k-block: a 32-wide B panel of KC floats (24 KiB) stays in L1.
pub const KC: usize = 192;

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
        let padded = rows.div_ceil(width) * width;
        let mut data = vec![0.0f32; padded * dim];
        for k0 in (0..dim).step_by(KC) {
            let kc = KC.min(dim - k0);
            let block = &mut data[k0 * padded..(k0 + kc) * padded];
            for r in 0..rows {
                let (q, w) = (r / width, r % width);
                let panel = &mut block[q * kc * width..(q + 1) * kc * width];
                for (k, &v) in row(r)[k0..k0 + kc].iter().enumerate() {
                    panel[k * width + w] = v;
                }
            }
        }
        Packed {
            data,
            rows,
            dim,
            width,
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

//! The codes a query walk may measure instead of the float rows: 16-bit per dimension
//! (`quant`) or 8-bit residuals of coarse centroids (`resid`), and when each is used.

use super::quant::Quant;
use super::resid::Resid;
use crate::distance::Metric;

/// Which rows the query walk measures. `Auto` picks per index size (`WalkCodes::pick`);
/// the others force one (for tuning and benchmarks). The answer is measured and ranked on
/// the float rows in every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkCodes {
    Auto,
    Float,
    Wide16,
    Residual8,
}

/// Float rows of at least this many bytes walk the residual codes; fewer fit a core's L2
/// as floats. Measured on bench_query_vs_hnswlib's data (tests/hnsw_walk_speed.rs, 384-d,
/// ef 64, one query at a time, same graph): the residual walk beat the float walk at 5k,
/// 20k and 100k rows with recall@10 kept, and the 16-bit walk everywhere (so `Auto` no
/// longer picks that one). Figures in benches/results/query_vs_hnswlib.md.
pub const MIN_RESIDUAL_FLOAT_BYTES: usize = 2 << 20;

impl WalkCodes {
    /// The codes walked over `rows` rows of `dim` floats (None: the float rows).
    pub fn pick(self, rows: usize, dim: usize) -> Option<WalkCodes> {
        let bytes = rows.saturating_mul(dim).saturating_mul(4);
        match self {
            WalkCodes::Float => None,
            WalkCodes::Wide16 | WalkCodes::Residual8 => Some(self),
            WalkCodes::Auto if bytes >= MIN_RESIDUAL_FLOAT_BYTES => Some(WalkCodes::Residual8),
            WalkCodes::Auto => None,
        }
    }
}

pub enum Codes {
    Wide(Quant),
    Resid(Resid),
}

impl Codes {
    pub fn rows(&self) -> usize {
        match self {
            Codes::Wide(z) => z.rows(),
            Codes::Resid(z) => z.rows(),
        }
    }

    fn fitted(&self) -> usize {
        match self {
            Codes::Wide(z) => z.fitted(),
            Codes::Resid(z) => z.fitted(),
        }
    }

    pub fn kind(&self) -> WalkCodes {
        match self {
            Codes::Wide(_) => WalkCodes::Wide16,
            Codes::Resid(_) => WalkCodes::Residual8,
        }
    }

    /// Whether these are the codes of `kind` for exactly `rows` rows.
    pub fn fresh(&self, kind: WalkCodes, rows: usize) -> bool {
        self.kind() == kind && self.rows() == rows
    }
}

/// Codes of `kind` for rows `0..rows`: refitted when there are none, they are of another
/// kind or cover more rows, or the rows doubled since the fit; else the new rows are
/// encoded with the fitted steps (centroids).
pub fn update(
    codes: &mut Option<Codes>,
    kind: WalkCodes,
    data: &[f32],
    dim: usize,
    rows: usize,
    metric: Metric,
) {
    match codes {
        Some(c) if c.kind() == kind && rows < 2 * c.fitted().max(1) && c.rows() <= rows => {
            match c {
                Codes::Wide(z) => z.extend(data, rows),
                Codes::Resid(z) => z.extend(data, rows),
            }
        }
        _ => {
            *codes = Some(match kind {
                WalkCodes::Residual8 => Codes::Resid(Resid::fit(data, dim, rows, metric)),
                _ => Codes::Wide(Quant::fit(data, dim, rows, metric)),
            })
        }
    }
}

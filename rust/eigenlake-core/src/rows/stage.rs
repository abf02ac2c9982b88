//! A batch's vectors copied into place and checked on the way: one parallel pass instead
//! of a copy, a finiteness scan and a zero scan.

use rayon::prelude::*;

/// Why a row cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowProblem {
    /// NaN or ±infinity somewhere in it.
    NotFinite,
    /// Every value zero (no direction: refused by cosine indexes).
    Zero,
}

/// Rows copied per task: large enough to amortise the hand-off, small enough to split.
const BLOCK_ROWS: usize = 1024;

/// Copy `src` into `dst` (both `rows × dim`, row-major) and return the rows that cannot be
/// stored, in row order: non-finite ones always, all-zero ones when `zero_is_bad`.
pub fn copy_checked(
    src: &[f32],
    dst: &mut [f32],
    dim: usize,
    zero_is_bad: bool,
) -> Vec<(usize, RowProblem)> {
    assert_eq!(
        src.len(),
        dst.len(),
        "source and destination differ in size"
    );
    if dim == 0 {
        return Vec::new();
    }
    let block = dim * BLOCK_ROWS;
    dst.par_chunks_mut(block)
        .zip(src.par_chunks(block))
        .enumerate()
        .flat_map_iter(|(b, (d, s))| {
            d.copy_from_slice(s);
            s.chunks_exact(dim).enumerate().filter_map(move |(i, row)| {
                // branch-free folds: both vectorise
                let finite = row.iter().fold(true, |ok, x| ok & x.is_finite());
                let nonzero = row.iter().fold(false, |nz, &x| nz | (x != 0.0));
                let problem = if !finite {
                    Some(RowProblem::NotFinite)
                } else if zero_is_bad && !nonzero {
                    Some(RowProblem::Zero)
                } else {
                    None
                };
                problem.map(|p| (b * BLOCK_ROWS + i, p))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_names_bad_rows_in_order() {
        let dim = 3;
        let mut src = vec![1.0f32; dim * 3000];
        src[5 * dim + 1] = f32::NAN;
        src[2500 * dim..2501 * dim].fill(0.0);
        src[2999 * dim + 2] = f32::NEG_INFINITY;
        let mut dst = vec![7.0f32; src.len()];
        let bad = copy_checked(&src, &mut dst, dim, true);
        assert_eq!(
            bad,
            [
                (5, RowProblem::NotFinite),
                (2500, RowProblem::Zero),
                (2999, RowProblem::NotFinite)
            ]
        );
        assert_eq!(dst.len(), src.len());
        assert!(dst
            .iter()
            .zip(&src)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
        let lenient = copy_checked(&src, &mut dst, dim, false);
        assert_eq!(lenient.len(), 2); // zero rows are fine outside cosine
    }
}

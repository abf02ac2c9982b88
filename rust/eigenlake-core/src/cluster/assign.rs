//! Nearest-centroid assignment and centroid sums, shared by Lloyd and mini-batch k-means.
//! Deterministic: partial sums are taken over fixed chunks and added in order, running
//! sums are moved row by row in row order.

use rayon::prelude::*;

use crate::distance;
use crate::gemm::{active_micro, gemm_packed, Micro, Packed};

const ASSIGN_BLOCK: usize = 256;

/// Scores blocks of rows against centroids packed once per pass. The centroids are the
/// product's left operand (panels of MR = 8 rows: k = 100 pads to 104, whereas as the right
/// operand it padded to 128), a block's rows the right one, packed straight from the data
/// (no gathered copy first). Per row it keeps the two smallest of `v(c) = −x·c`
/// (spherical) or `‖c‖² − 2x·c` (euclidean) and the first `c` reaching the smallest.
pub(crate) struct Scorer<'a> {
    m: Micro,
    cent: &'a Packed,
    csq: &'a [f32],
    spherical: bool,
    rows: Packed,
    tile: Vec<f32>,
    pub(crate) best: Vec<f32>,
    pub(crate) second: Vec<f32>,
    pub(crate) arg: Vec<u32>,
}

/// Centroids packed for `Scorer`, with their squared norms.
pub(crate) struct Centroids {
    m: Micro,
    packed: Packed,
    csq: Vec<f32>,
}

impl Centroids {
    pub(crate) fn new(cent: &[f32], dim: usize) -> Self {
        let m = active_micro();
        Centroids {
            m,
            packed: Packed::new(cent, dim, m.mr),
            csq: cent.chunks(dim).map(distance::norm_sq).collect(),
        }
    }

    pub(crate) fn scorer(&self, spherical: bool) -> Scorer<'_> {
        let dim = self.packed.dim();
        Scorer {
            m: self.m,
            cent: &self.packed,
            csq: &self.csq,
            spherical,
            rows: Packed::gather(0, dim, self.m.nr, |_| &[]),
            tile: Vec::new(),
            best: Vec::new(),
            second: Vec::new(),
            arg: Vec::new(),
        }
    }
}

impl Scorer<'_> {
    /// Score `len` rows given by `row(j)`: fills `best`, `second` and `arg` (first `len`).
    pub(crate) fn score<'r>(&mut self, len: usize, row: impl Fn(usize) -> &'r [f32]) {
        let k = self.cent.rows();
        self.rows.repack(len, self.cent.dim(), row);
        self.tile.resize(k * len, 0.0);
        gemm_packed(&self.m, self.cent, &self.rows, &mut self.tile, len);
        self.best.clear();
        self.best.resize(len, f32::INFINITY);
        self.second.clear();
        self.second.resize(len, f32::INFINITY);
        self.arg.clear();
        self.arg.resize(len, 0);
        let (best, second, arg) = (&mut self.best, &mut self.second, &mut self.arg);
        for (c, line) in self.tile.chunks_exact(len).enumerate() {
            let (w, off) = if self.spherical {
                (-1.0, 0.0)
            } else {
                (-2.0, self.csq[c])
            };
            // branch-free so it runs across rows in SIMD lanes
            let c = c as u32;
            for (((&dot, b), s), a) in line
                .iter()
                .zip(best.iter_mut())
                .zip(second.iter_mut())
                .zip(arg.iter_mut())
            {
                let v = off + w * dot;
                let first = v < *b;
                let runner = if v < *s { v } else { *s };
                *s = if first { *b } else { runner };
                *a = if first { c } else { *a };
                *b = if first { v } else { *b };
            }
        }
    }
}

/// Label and distance of each row to its nearest centroid. Spherical: rows and centroids
/// are unit vectors, distance `1 − x·c`. Euclidean: squared distance.
pub fn assign(
    x: &[f32],
    dim: usize,
    cent: &[f32],
    spherical: bool,
    labels: &mut [u32],
    dist: &mut [f32],
) {
    let cs = Centroids::new(cent, dim);
    x.par_chunks(ASSIGN_BLOCK * dim)
        .zip(labels.par_chunks_mut(ASSIGN_BLOCK))
        .zip(dist.par_chunks_mut(ASSIGN_BLOCK))
        .for_each_init(
            || cs.scorer(spherical),
            |sc, ((xb, lb), db)| {
                sc.score(lb.len(), |j| &xb[j * dim..(j + 1) * dim]);
                for (r, ((l, d), (&a, &v))) in lb
                    .iter_mut()
                    .zip(db.iter_mut())
                    .zip(sc.arg.iter().zip(&sc.best))
                    .enumerate()
                {
                    *l = a;
                    *d = if spherical {
                        (1.0 + v).max(0.0)
                    } else {
                        let xi = &xb[r * dim..(r + 1) * dim];
                        distance::l2sq(xi, &cent[a as usize * dim..(a as usize + 1) * dim])
                    };
                }
            },
        );
}

/// Per-cluster sums (f64) and counts of the rows.
pub fn sums(x: &[f32], dim: usize, labels: &[u32], k: usize) -> (Vec<f64>, Vec<usize>) {
    let n = labels.len();
    let chunk = (n / 16).max(4096);
    let parts: Vec<(Vec<f64>, Vec<usize>)> = x
        .par_chunks(chunk * dim)
        .zip(labels.par_chunks(chunk))
        .map(|(xb, lb)| {
            let mut s = vec![0f64; k * dim];
            let mut c = vec![0usize; k];
            for (row, &l) in xb.chunks(dim).zip(lb) {
                let l = l as usize;
                c[l] += 1;
                s[l * dim..(l + 1) * dim]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(a, v)| *a += *v as f64);
            }
            (s, c)
        })
        .collect();
    let mut s = vec![0f64; k * dim];
    let mut c = vec![0usize; k];
    for (ps, pc) in parts {
        s.iter_mut().zip(&ps).for_each(|(a, b)| *a += b);
        c.iter_mut().zip(&pc).for_each(|(a, b)| *a += b);
    }
    (s, c)
}

/// Per-cluster sums kept across Lloyd iterations: after one full pass, only the rows whose
/// label changed move between sums (a few percent of the rows once k-means settles), so an
/// iteration reads the data once (to assign) instead of twice. A pass where more than a
/// quarter of the labels changed starts over from a full sum.
pub struct RunningSums {
    dim: usize,
    pub s: Vec<f64>,
    pub c: Vec<usize>,
    /// The label each row is counted under.
    held: Vec<u32>,
}

impl RunningSums {
    pub fn new(x: &[f32], dim: usize, labels: &[u32], k: usize) -> Self {
        let (s, c) = sums(x, dim, labels, k);
        RunningSums {
            dim,
            s,
            c,
            held: labels.to_vec(),
        }
    }

    /// Bring the sums to `labels`.
    pub fn update(&mut self, x: &[f32], labels: &[u32]) {
        let dim = self.dim;
        let changed: Vec<usize> = self
            .held
            .par_iter()
            .zip(labels.par_iter())
            .enumerate()
            .filter_map(|(i, (a, b))| (a != b).then_some(i))
            .collect();
        if changed.len() * 4 > labels.len() {
            *self = RunningSums::new(x, dim, labels, self.c.len());
            return;
        }
        for &i in &changed {
            let (from, to) = (self.held[i] as usize, labels[i] as usize);
            let row = &x[i * dim..(i + 1) * dim];
            self.c[from] -= 1;
            self.c[to] += 1;
            self.s[from * dim..(from + 1) * dim]
                .iter_mut()
                .zip(row)
                .for_each(|(a, v)| *a -= *v as f64);
            self.s[to * dim..(to + 1) * dim]
                .iter_mut()
                .zip(row)
                .for_each(|(a, v)| *a += *v as f64);
            self.held[i] = labels[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Running sums moved row by row equal a fresh full sum, through rounds that change a
    /// few labels (moved in place) and most labels (summed again).
    #[test]
    fn running_sums_match_full_sums() {
        let (n, dim, k) = (3000, 7, 9);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let mut labels: Vec<u32> = (0..n).map(|_| rng.random_range(0..k as u32)).collect();
        let mut run = RunningSums::new(&x, dim, &labels, k);
        for changed in [10, 0, 700, 2900, 1] {
            for _ in 0..changed {
                let i = rng.random_range(0..n);
                labels[i] = rng.random_range(0..k as u32);
            }
            run.update(&x, &labels);
            let (s, c) = sums(&x, dim, &labels, k);
            assert_eq!(run.c, c, "counts after {changed} changes");
            for (a, b) in run.s.iter().zip(&s) {
                assert!((a - b).abs() <= 1e-9 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }

    /// Scores of a block (euclidean and spherical) against a scalar reference: the two
    /// smallest `v(c)` and the first centroid reaching the smallest.
    #[test]
    fn scorer_matches_scalar_scores() {
        let (dim, k, len) = (37, 13, 61);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x: Vec<f32> = (0..len * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let mut cent: Vec<f32> = (0..k * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        // a duplicated centroid: ties go to the first
        cent.copy_within(2 * dim..3 * dim, 7 * dim);
        let cs = Centroids::new(&cent, dim);
        for spherical in [false, true] {
            let mut sc = cs.scorer(spherical);
            sc.score(len, |j| &x[j * dim..(j + 1) * dim]);
            for j in 0..len {
                let xi = &x[j * dim..(j + 1) * dim];
                let v: Vec<f32> = cent
                    .chunks(dim)
                    .map(|c| {
                        let dot: f32 = xi.iter().zip(c).map(|(a, b)| a * b).sum();
                        let csq: f32 = c.iter().map(|a| a * a).sum();
                        if spherical {
                            -dot
                        } else {
                            csq - 2.0 * dot
                        }
                    })
                    .collect();
                let mut order: Vec<usize> = (0..k).collect();
                order.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
                let tol = 1e-4 * (1.0 + v[order[0]].abs());
                assert!((sc.best[j] - v[order[0]]).abs() <= tol, "row {j} best");
                assert!((sc.second[j] - v[order[1]]).abs() <= tol, "row {j} second");
                // the chosen centroid is (up to rounding) a nearest one, the first if tied
                assert!(
                    (v[sc.arg[j] as usize] - v[order[0]]).abs() <= tol,
                    "row {j} arg"
                );
                assert_ne!(sc.arg[j], 7, "row {j}: the later duplicate of centroid 2");
            }
        }
    }
}

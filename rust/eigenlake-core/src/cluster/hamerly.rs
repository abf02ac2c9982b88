//! Hamerly's bounds for Lloyd iterations: each row keeps an upper bound on the distance to
//! its centroid and a lower bound on the distance to any other. A row is re-assigned only
//! when the bounds overlap; the rest keep their label without touching the centroids.
//! Rows that need work are gathered into a contiguous block and scored with `gemm_abt`,
//! so the blocked product survives. Distances are euclidean, and chords (`√(2 − 2cos)`)
//! for spherical k-means, where the triangle inequality holds as well.

use rayon::prelude::*;

use super::assign::Centroids;
use super::coded::{self, Assigned, CentCodes, RowCodes};
use crate::distance;

const BLOCK: usize = 256;

/// Upper bounds are tightened before the test only while fewer than this share of the rows
/// were re-scored last time. Measured on 100k × 384, k = 100 (90% re-scored every pass):
/// skipping it saved one read of the data per iteration.
const TIGHTEN_BELOW: f32 = 0.5;

pub struct Bounds {
    pub labels: Vec<u32>,
    pub upper: Vec<f32>,
    lower: Vec<f32>,
    /// Bound on the f32 rounding of an expanded distance, per row.
    slack: Vec<f32>,
    /// Squared norm of each row (euclidean re-scoring turns `‖c‖² − 2x·c` into distances).
    sq: Vec<f32>,
    /// Share of the rows re-scored last time. When most are (many features, many
    /// clusters: the second-nearest centroid is about as near as the nearest), tightening
    /// each upper bound first only reads every row one more time, so it is skipped.
    rescored: f32,
}

fn dist(x: &[f32], c: &[f32], spherical: bool) -> f32 {
    if spherical {
        (2.0 - 2.0 * distance::dot(x, c)).max(0.0).sqrt()
    } else {
        distance::l2sq(x, c).sqrt()
    }
}

impl Bounds {
    /// Bounds that force every row through a full assignment. With `spherical = Some(tol)`
    /// every row's squared norm is at most `1 + tol` (unit or zero rows): that bound is
    /// used (only the slack needs the norms, and a larger one only widens it) instead of
    /// reading every row.
    pub fn new(x: &[f32], dim: usize, cent: &[f32], spherical: Option<f32>) -> Self {
        let n = x.len() / dim;
        let cmax = cent.chunks(dim).map(distance::norm_sq).fold(0f32, f32::max);
        let rel = 8.0 * f32::EPSILON * (dim as f32).sqrt();
        let sq: Vec<f32> = match spherical {
            Some(tol) => vec![1.0 + tol; n],
            None => x.par_chunks(dim).map(distance::norm_sq).collect(),
        };
        let slack = sq
            .iter()
            .map(|&q| (rel * (q + cmax + 2.0)).sqrt() + 1e-6)
            .collect();
        Bounds {
            labels: vec![0; n],
            upper: vec![f32::INFINITY; n],
            lower: vec![0.0; n],
            slack,
            sq,
            rescored: 1.0,
        }
    }

    /// Force row `i` through a full assignment next time (its label was changed by hand).
    pub fn invalidate(&mut self, i: usize) {
        self.upper[i] = f32::INFINITY;
        self.lower[i] = 0.0;
    }

    /// One assignment step against `cent`; returns how many rows were fully re-scored.
    /// With `codes` (spherical only), the rows the bounds leave are assigned from their
    /// int8 codes (`coded`): the same labels.
    pub fn assign(
        &mut self,
        x: &[f32],
        dim: usize,
        cent: &[f32],
        spherical: bool,
        codes: Option<(&RowCodes, coded::Kernel)>,
    ) -> usize {
        let k = cent.len() / dim;
        // half the distance from each centroid to its nearest other centroid
        let half: Vec<f32> = (0..k)
            .into_par_iter()
            .map(|a| {
                let ca = &cent[a * dim..(a + 1) * dim];
                (0..k)
                    .filter(|&b| b != a)
                    .map(|b| distance::l2sq(ca, &cent[b * dim..(b + 1) * dim]).sqrt())
                    .fold(f32::INFINITY, f32::min)
                    / 2.0
            })
            .collect();
        // rows whose bounds cannot prove their label
        // (with codes the rows left are scored from codes at a fraction of the f32 cost: an f32
        // tightening first would read most of them for nothing)
        let tighten = self.rescored < TIGHTEN_BELOW && codes.is_none();
        let todo: Vec<u32> = self
            .upper
            .par_iter_mut()
            .zip(self.lower.par_iter())
            .zip(self.slack.par_iter())
            .zip(self.labels.par_iter())
            .enumerate()
            .filter_map(|(i, (((u, &l), &s), &a))| {
                let m = half[a as usize].max(l - s);
                if *u <= m {
                    return None;
                }
                if tighten && u.is_finite() {
                    *u = dist(
                        &x[i * dim..(i + 1) * dim],
                        &cent[a as usize * dim..(a as usize + 1) * dim],
                        spherical,
                    );
                    if *u <= m {
                        return None;
                    }
                }
                Some(i as u32)
            })
            .collect();
        let cc = match codes {
            Some((rc, kernel)) if spherical => CentCodes::new(rc, cent, kernel).map(|c| (rc, c)),
            _ => None,
        };
        let rescored: Vec<(u32, f32, f32)> = match cc {
            Some((rc, cc)) => todo
                .par_chunks(coded::BLOCK)
                .map_init(
                    || (coded::Worker::new(), Vec::new()),
                    |(w, out), ids| {
                        cc.assign(rc, x, ids, w, out);
                        out.iter()
                            .map(|a: &Assigned| (a.label, a.d1, a.d2))
                            .collect::<Vec<_>>()
                    },
                )
                .flatten_iter()
                .collect(),
            None => self.scored(x, dim, cent, spherical, &todo),
        };
        for (&i, (b, d1, d2)) in todo.iter().zip(rescored) {
            let i = i as usize;
            self.labels[i] = b;
            // the expanded d1 may be off by `slack`: keep the upper bound an upper bound
            self.upper[i] = d1 + self.slack[i];
            self.lower[i] = d2;
        }
        self.rescored = todo.len() as f32 / self.labels.len().max(1) as f32;
        todo.len()
    }

    /// Label and chords to the nearest and second-nearest centroid of rows `todo`, from
    /// the f32 scores of every centroid.
    fn scored(
        &self,
        x: &[f32],
        dim: usize,
        cent: &[f32],
        spherical: bool,
        todo: &[u32],
    ) -> Vec<(u32, f32, f32)> {
        let cs = Centroids::new(cent, dim);
        let row = |i: u32| &x[i as usize * dim..(i as usize + 1) * dim];
        todo.par_chunks(BLOCK)
            .map_init(
                || cs.scorer(spherical),
                |sc, ids| {
                    sc.score(ids.len(), |j| row(ids[j]));
                    let out: Vec<(u32, f32, f32)> = ids
                        .iter()
                        .zip(sc.arg.iter().zip(sc.best.iter().zip(&sc.second)))
                        .map(|(&i, (&a, (&b, &s)))| {
                            // back from the scores to squared distances
                            let base = if spherical { 2.0 } else { self.sq[i as usize] };
                            let w = if spherical { 2.0 } else { 1.0 };
                            let d1 = (base + w * b).max(0.0).sqrt();
                            let d2 = (base + w * s).max(0.0).sqrt();
                            (a, d1, d2)
                        })
                        .collect();
                    out
                },
            )
            .flatten_iter()
            .collect()
    }

    /// Centroids moved by `shift` (per centroid): loosen the bounds accordingly.
    pub fn moved(&mut self, shift: &[f32]) {
        let (mut m1, mut m2, mut arg) = (0f32, 0f32, usize::MAX);
        for (j, &s) in shift.iter().enumerate() {
            if s > m1 {
                m2 = m1;
                m1 = s;
                arg = j;
            } else if s > m2 {
                m2 = s;
            }
        }
        self.upper
            .par_iter_mut()
            .zip(self.lower.par_iter_mut())
            .zip(self.labels.par_iter())
            .for_each(|((u, l), &a)| {
                *u += shift[a as usize];
                // the largest move of any other centroid
                *l -= if a as usize == arg { m2 } else { m1 };
            });
    }
}

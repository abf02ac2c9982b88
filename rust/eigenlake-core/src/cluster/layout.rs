//! Rows regrouped by a coarse partition so that whole blocks of pairs can be skipped.
//!
//! Prepared rows (unit for cosine, centred for euclidean) are clustered into `m ≈ √n / 2`
//! groups by a few euclidean Lloyd steps fitted on a sample; each group keeps its centre
//! and radius (largest member distance). By the triangle inequality, no pair `(a, b)`
//! with `b` in group `B` is nearer than `‖a − c_B‖ − r_B`, which lets DBSCAN skip groups
//! beyond `eps` and kNN skip groups beyond a row's current k-th distance. Cosine distances
//! become chords (`‖a − b‖ = √(2(1 − cos))`) for these bounds.

use std::ops::Range;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::assign::{assign, sums};
use super::kmeans::centroids;
use super::points::{Metric, Points};
use crate::distance;
use crate::error::Result;

/// Below this many rows one group is used (pruning would not pay).
const MIN_ROWS_TO_GROUP: usize = 256;
const COARSE_ITERS: usize = 6;
const SAMPLE_PER_GROUP: usize = 40;

pub struct Layout {
    /// Rows in grouped order.
    pub pts: Points,
    /// `perm[p]` = original row of position `p`.
    pub perm: Vec<u32>,
    pub groups: Vec<Range<usize>>,
    pub centres: Vec<f32>,
    pub radius: Vec<f32>,
}

/// A metric distance as a euclidean distance between prepared rows.
#[inline]
pub fn to_euclid(metric: Metric, d: f32) -> f32 {
    match metric {
        Metric::Cosine => (2.0 * d.max(0.0)).sqrt(),
        Metric::Euclidean => d,
    }
}

/// Safety margin on the pruning bounds (centre distances are f32 expansions).
#[inline]
pub fn margin(e: f32) -> f32 {
    1e-3 * (1.0 + e)
}

impl Layout {
    pub fn new(x: &[f32], dim: usize, metric: Metric) -> Result<Self> {
        let pts = Points::new(x, dim, metric)?;
        let n = pts.n;
        let m = if n < MIN_ROWS_TO_GROUP {
            1
        } else {
            ((n as f64).sqrt() / 2.0).ceil() as usize
        };
        let mut labels = vec![0u32; n];
        let centres = if m == 1 {
            let (s, c) = sums(&pts.data, dim, &labels, 1);
            centroids(&s, &c, &vec![0.0; dim], dim, false)
        } else {
            coarse(&pts, m, &mut labels)
        };
        let m = centres.len() / dim;
        // counting sort of rows by group
        let mut start = vec![0usize; m + 1];
        labels.iter().for_each(|&l| start[l as usize + 1] += 1);
        (0..m).for_each(|g| start[g + 1] += start[g]);
        let mut fill = start.clone();
        let mut perm = vec![0u32; n];
        for (i, &l) in labels.iter().enumerate() {
            perm[fill[l as usize]] = i as u32;
            fill[l as usize] += 1;
        }
        let mut data = vec![0f32; n * dim];
        data.par_chunks_mut(dim)
            .zip(&perm)
            .for_each(|(row, &i)| row.copy_from_slice(pts.row(i as usize)));
        let sq = perm.iter().map(|&i| pts.sq[i as usize]).collect();
        let pts = Points { data, sq, ..pts };
        let groups: Vec<Range<usize>> = (0..m).map(|g| start[g]..start[g + 1]).collect();
        let radius = groups
            .par_iter()
            .enumerate()
            .map(|(g, r)| {
                let c = &centres[g * dim..(g + 1) * dim];
                r.clone()
                    .map(|p| distance::l2sq(pts.row(p), c).sqrt())
                    .fold(0f32, f32::max)
            })
            .collect();
        Ok(Layout {
            pts,
            perm,
            groups,
            centres,
            radius,
        })
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// Group holding position `p`.
    pub fn group_of(&self, p: usize) -> usize {
        self.groups.partition_point(|r| r.end <= p)
    }

    /// Euclidean distances from the rows at `rows` to every centre (row-major, m columns),
    /// computed directly so the bounds need no cancellation slack.
    pub fn centre_dists(&self, rows: Range<usize>) -> Vec<f32> {
        let d = self.pts.dim;
        rows.flat_map(|p| {
            self.centres
                .chunks(d)
                .map(move |c| distance::l2sq(self.pts.row(p), c).sqrt())
        })
        .collect()
    }

    /// Euclidean distance between the centres of groups `a` and `b`.
    pub fn centre_gap(&self, a: usize, b: usize) -> f32 {
        let d = self.pts.dim;
        distance::l2sq(
            &self.centres[a * d..(a + 1) * d],
            &self.centres[b * d..(b + 1) * d],
        )
        .sqrt()
    }
}

/// Coarse euclidean k-means: Lloyd on a seeded sample, then one full assignment.
fn coarse(pts: &Points, m: usize, labels: &mut [u32]) -> Vec<f32> {
    let (n, dim) = (pts.n, pts.dim);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let s = n.min(SAMPLE_PER_GROUP * m);
    let idx = rand::seq::index::sample(&mut rng, n, s).into_vec();
    let sample: Vec<f32> = idx
        .iter()
        .flat_map(|&i| pts.row(i).iter().copied())
        .collect();
    let mut cent: Vec<f32> = sample[..m * dim].to_vec();
    let mut sl = vec![0u32; s];
    let mut sd = vec![0f32; s];
    for _ in 0..COARSE_ITERS {
        assign(&sample, dim, &cent, false, &mut sl, &mut sd);
        let (sm, c) = sums(&sample, dim, &sl, m);
        cent = centroids(&sm, &c, &cent, dim, false);
    }
    let mut d = vec![0f32; n];
    assign(&pts.data, dim, &cent, false, labels, &mut d);
    cent
}

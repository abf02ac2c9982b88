//! Nearest-centroid assignment and centroid sums, shared by Lloyd and mini-batch k-means.
//! Deterministic: partial sums are taken over fixed chunks and added in order.

use rayon::prelude::*;

use crate::distance;
use crate::gemm::gemm_abt;

const ASSIGN_BLOCK: usize = 256;

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
    let k = cent.len() / dim;
    let csq: Vec<f32> = cent.chunks(dim).map(distance::norm_sq).collect();
    x.par_chunks(ASSIGN_BLOCK * dim)
        .zip(labels.par_chunks_mut(ASSIGN_BLOCK))
        .zip(dist.par_chunks_mut(ASSIGN_BLOCK))
        .for_each(|((xb, lb), db)| {
            let mut tile = vec![0f32; lb.len() * k];
            gemm_abt(xb, cent, dim, &mut tile);
            for (r, row) in tile.chunks(k).enumerate() {
                let (mut best, mut bv) = (0usize, f32::INFINITY);
                for (c, &dot) in row.iter().enumerate() {
                    // argmin of ‖c‖² − 2x·c (euclidean) or −x·c (spherical)
                    let v = if spherical { -dot } else { csq[c] - 2.0 * dot };
                    if v < bv {
                        bv = v;
                        best = c;
                    }
                }
                lb[r] = best as u32;
                db[r] = if spherical {
                    (1.0 + bv).max(0.0)
                } else {
                    let xi = &xb[r * dim..(r + 1) * dim];
                    distance::l2sq(xi, &cent[best * dim..(best + 1) * dim])
                };
            }
        });
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

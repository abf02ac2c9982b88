//! Exact lower bounds on pair distances from a low-dimensional projection, so most pairs
//! are rejected after `p ≪ d` multiply-adds instead of `d`.
//!
//! With `Q` an orthonormal basis of the span of the layout's group centres (clustered
//! data varies mostly inside it), every row splits into its projection `Pa = Qa` and a
//! residual of norm `ρa`. Then `‖a − b‖² = ‖Pa − Pb‖² + ‖Ra − Rb‖² ≥ ‖Pa − Pb‖² + (ρa − ρb)²`
//! (reverse triangle inequality on the residuals): no false rejections, only a bound.

use std::ops::Range;

use rayon::prelude::*;

use super::layout::Layout;
use crate::distance;
use crate::gemm::gemm_abt;

/// Largest projection kept; beyond it screening costs more than it saves.
const MAX_DIM: usize = 48;

pub struct Screen {
    pub p: usize,
    proj: Vec<f32>,
    psq: Vec<f32>,
    rho: Vec<f32>,
    /// Per row, how far rounding may have moved its projection (f32 dot products over
    /// `dim` terms): subtracted from every bound so a bound never exceeds the true distance.
    err: Vec<f32>,
    /// Per group: projected centre (m × p), projected radius, residual-norm range.
    pc: Vec<f32>,
    prad: Vec<f32>,
    rho_lo: Vec<f32>,
    rho_hi: Vec<f32>,
}

impl Screen {
    pub fn new(lay: &Layout) -> Self {
        let (n, dim) = (lay.pts.n, lay.pts.dim);
        let q = basis(&lay.centres, dim, MAX_DIM.min(dim / 4));
        let p = q.len() / dim.max(1);
        let mut proj = vec![0f32; n * p];
        let mut rho = vec![0f32; n];
        if p > 0 {
            proj.par_chunks_mut(256 * p)
                .zip(rho.par_chunks_mut(256))
                .enumerate()
                .for_each(|(b, (pb, rb))| {
                    let rows = b * 256..b * 256 + rb.len();
                    gemm_abt(lay.pts.rows(rows.clone()), &q, dim, pb);
                    let mut res = vec![0f32; dim];
                    for (r, i) in rows.enumerate() {
                        res.copy_from_slice(lay.pts.row(i));
                        for (t, &c) in pb[r * p..(r + 1) * p].iter().enumerate() {
                            res.iter_mut()
                                .zip(&q[t * dim..(t + 1) * dim])
                                .for_each(|(x, qv)| *x -= c * qv);
                        }
                        rb[r] = distance::norm_sq(&res).sqrt();
                    }
                });
        } else {
            rho.iter_mut()
                .zip(&lay.pts.sq)
                .for_each(|(r, s)| *r = s.sqrt());
        }
        let psq = if p == 0 {
            vec![0.0; n]
        } else {
            proj.chunks(p).map(distance::norm_sq).collect()
        };
        let scale = (p.max(1) as f32).sqrt() * dim as f32 * f32::EPSILON;
        let err = lay.pts.sq.iter().map(|s| scale * s.sqrt()).collect();
        let mut sc = Screen {
            p,
            proj,
            psq,
            err,
            rho,
            pc: Vec::new(),
            prad: Vec::new(),
            rho_lo: Vec::new(),
            rho_hi: Vec::new(),
        };
        sc.group_stats(lay);
        sc
    }

    fn group_stats(&mut self, lay: &Layout) {
        let p = self.p;
        for g in &lay.groups {
            let mut c = vec![0f64; p];
            for i in g.clone() {
                c.iter_mut()
                    .zip(self.prow(i))
                    .for_each(|(a, &v)| *a += v as f64);
            }
            let c: Vec<f32> = c
                .iter()
                .map(|v| (v / g.len().max(1) as f64) as f32)
                .collect();
            let r = g
                .clone()
                .map(|i| distance::l2sq(self.prow(i), &c).sqrt())
                .fold(0f32, f32::max);
            let lo = g.clone().map(|i| self.rho[i]).fold(f32::INFINITY, f32::min);
            let hi = g.clone().map(|i| self.rho[i]).fold(0f32, f32::max);
            self.pc.extend(c);
            self.prad.push(r);
            self.rho_lo.push(lo);
            self.rho_hi.push(hi);
        }
    }

    #[inline]
    fn prow(&self, i: usize) -> &[f32] {
        &self.proj[i * self.p..(i + 1) * self.p]
    }

    /// Lower bound on the distance from row `i` to any row of group `b`:
    /// projected part `‖Pa − PC_B‖ − r_B` and the gap of `ρa` to the group's residual range.
    pub fn group_bound(&self, i: usize, b: usize) -> f32 {
        let p = self.p;
        let dp = (distance::l2sq(self.prow(i), &self.pc[b * p..(b + 1) * p]).sqrt() - self.prad[b])
            .max(0.0);
        let r = self.rho[i];
        let dr = (self.rho_lo[b] - r).max(r - self.rho_hi[b]).max(0.0);
        (dp * dp + dr * dr).sqrt()
    }

    /// Lower bounds (euclidean, on prepared rows) for `rows × cols`, row-major into `out`.
    pub fn lower_bounds(&self, rows: Range<usize>, cols: Range<usize>, out: &mut Vec<f32>) {
        let (p, nc) = (self.p, cols.len());
        out.resize(rows.len() * nc, 0.0);
        if p > 0 {
            gemm_abt(
                &self.proj[rows.start * p..rows.end * p],
                &self.proj[cols.start * p..cols.end * p],
                p,
                out,
            );
        } else {
            out.iter_mut().for_each(|v| *v = 0.0);
        }
        // ‖pi‖² + ‖pj‖² − 2 pi·pj cancels when pi ≈ pj: its rounding error is about
        // (p + 2)·ε·(‖pi‖² + ‖pj‖²), taken off (with margin) before the square root
        let cancel = 4.0 * (p as f32 + 2.0) * f32::EPSILON;
        for (r, i) in rows.enumerate() {
            for (c, o) in out[r * nc..(r + 1) * nc].iter_mut().enumerate() {
                let j = cols.start + c;
                let dr = self.rho[i] - self.rho[j];
                let sum = self.psq[i] + self.psq[j];
                let v = sum - 2.0 * *o + dr * dr - cancel * sum;
                *o = (v.max(0.0).sqrt() - self.err[i] - self.err[j]).max(0.0);
            }
        }
    }
}

/// Orthonormal rows spanning the (mean-removed) centres, at most `max` of them, by modified
/// Gram–Schmidt in f64; near-dependent directions are dropped.
fn basis(centres: &[f32], dim: usize, max: usize) -> Vec<f32> {
    let m = centres.len() / dim.max(1);
    if m < 2 || max == 0 {
        return Vec::new();
    }
    let mut mean = vec![0f64; dim];
    for c in centres.chunks(dim) {
        mean.iter_mut()
            .zip(c)
            .for_each(|(a, &v)| *a += v as f64 / m as f64);
    }
    let mut q: Vec<Vec<f64>> = Vec::new();
    for c in centres.chunks(dim) {
        if q.len() == max {
            break;
        }
        let mut v: Vec<f64> = c.iter().zip(&mean).map(|(&a, b)| a as f64 - b).collect();
        let n0 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        for _ in 0..2 {
            for b in &q {
                let d: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                v.iter_mut().zip(b).for_each(|(x, y)| *x -= d * y);
            }
        }
        let nv = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if nv > 1e-6 * n0.max(1e-30) && nv > 0.0 {
            q.push(v.iter().map(|x| x / nv).collect());
        }
    }
    q.into_iter().flatten().map(|x| x as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::points::Metric;
    use rand::{Rng, SeedableRng};

    #[test]
    fn bounds_never_exceed_true_distances() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let (n, dim) = (600, 64);
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        for metric in [Metric::Cosine, Metric::Euclidean] {
            let lay = Layout::new(&x, dim, metric).unwrap();
            let s = Screen::new(&lay);
            assert!(s.p > 0);
            let mut lb = Vec::new();
            s.lower_bounds(0..n, 0..n, &mut lb);
            for i in 0..n {
                for j in 0..n {
                    let d = crate::distance::l2sq(lay.pts.row(i), lay.pts.row(j)).sqrt();
                    // d itself is rounded: allow its own error, nothing more
                    assert!(
                        lb[i * n + j] <= d * (1.0 + 1e-5) + 1e-6,
                        "{} > {d}",
                        lb[i * n + j]
                    );
                }
            }
        }
    }
}

/// Scratch buffers of one worker.
#[derive(Default)]
pub struct Scratch {
    lb: Vec<f32>,
    tile: Vec<f32>,
    cand: Vec<(u32, u32)>,
}

/// Share of surviving pairs above which a full GEMM tile beats single dot products.
const DENSE: f32 = 0.3;

/// Call `f(r, j, d)` for the pairs of `rows × cols` whose lower bound is within `thr[r]`
/// (euclidean, on prepared rows) and whose column passes `col_ok` (indexed from
/// `cols.start`), with `d` their metric distance (fast form: see `Points::from_dot`).
/// Pairs not visited are provably farther than `thr[r]` or were masked out.
#[allow(clippy::too_many_arguments)]
pub fn visit_tile(
    lay: &Layout,
    screen: &Screen,
    rows: Range<usize>,
    cols: Range<usize>,
    thr: &[f32],
    col_ok: Option<&[bool]>,
    s: &mut Scratch,
    mut f: impl FnMut(usize, usize, f32),
) {
    let nc = cols.len();
    s.cand.clear();
    if thr.iter().all(|&t| t < 0.0) {
        return;
    }
    screen.lower_bounds(rows.clone(), cols.clone(), &mut s.lb);
    for (r, line) in s.lb.chunks(nc).enumerate() {
        if thr[r] < 0.0 {
            continue;
        }
        for (c, &b) in line.iter().enumerate() {
            if b <= thr[r] && col_ok.is_none_or(|m| m[c]) {
                s.cand.push((r as u32, (cols.start + c) as u32));
            }
        }
    }
    if s.cand.len() as f32 > DENSE * (rows.len() * nc) as f32 {
        lay.pts.tile(rows.clone(), cols.clone(), &mut s.tile);
        for &(r, j) in &s.cand {
            let (r, j) = (r as usize, j as usize);
            f(r, j, s.tile[r * nc + j - cols.start]);
        }
    } else {
        for &(r, j) in &s.cand {
            let (r, j) = (r as usize, j as usize);
            let (i, dot) = (
                rows.start + r,
                distance::dot(lay.pts.row(rows.start + r), lay.pts.row(j)),
            );
            f(
                r,
                j,
                if i == j {
                    0.0
                } else {
                    lay.pts.from_dot(i, j, dot)
                },
            );
        }
    }
}

/// Lower bounds from each row of `rows` to every group (row-major, one column per group):
/// the better of the full-space centre bound and the projected one.
pub fn group_bounds(lay: &Layout, screen: &Screen, rows: Range<usize>) -> Vec<f32> {
    let cd = lay.centre_dists(rows.clone());
    let m = lay.n_groups();
    cd.chunks(m)
        .zip(rows)
        .flat_map(|(line, i)| {
            line.iter()
                .enumerate()
                .map(move |(b, &d)| (d - lay.radius[b]).max(screen.group_bound(i, b)))
        })
        .collect()
}

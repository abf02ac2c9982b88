//! The coded search against an exact oracle (every allowed row scored by the one-query f32
//! kernel, ranked by score then id): equal ids and bit-equal scores on adversarial data;
//! every kernel against the scalar one.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::kernels::{QBlock, QIsa, MR, NR};
use super::QuantFlat;
use crate::distance::{self, Metric};
use crate::flat::TopKResult;

fn oracle(
    data: &[f32],
    q: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    mask: Option<&[bool]>,
) -> Vec<(f32, i64)> {
    let n = data.len() / dim;
    let mut v: Vec<(f32, i64)> = (0..n)
        .filter(|&i| mask.is_none_or(|m| m[i]))
        .map(|i| {
            let x = &data[i * dim..(i + 1) * dim];
            let s = match metric {
                Metric::InnerProduct => distance::dot(q, x),
                Metric::L2 => -distance::l2sq(q, x),
            };
            (s, i as i64)
        })
        .filter(|s| s.0 > f32::NEG_INFINITY)
        .collect();
    v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    v.truncate(k);
    v
}

/// `search` with the codes of every row, and `search_rows` (serial and on the pool) with
/// the codes of just the rows `mask` allows, against `oracle`.
fn check(
    data: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    mask: Option<&[bool]>,
    what: &str,
) {
    let qf = QuantFlat::from_rows(data, dim).unwrap();
    let r = qf.search(data, queries, k, metric, mask).unwrap();
    let n = data.len() / dim;
    assert_eq!(r.k, k.min(n), "{what}");
    same_as_oracle(&r, data, queries, dim, k, metric, mask, what);
    let rows: Vec<u32> = (0..n as u32)
        .filter(|&i| mask.is_none_or(|m| m[i as usize]))
        .collect();
    let sub: Vec<f32> = rows
        .iter()
        .flat_map(|&i| {
            data[i as usize * dim..(i as usize + 1) * dim]
                .iter()
                .copied()
        })
        .collect();
    let listed = QuantFlat::from_rows(&sub, dim).unwrap();
    for serial in [true, false] {
        let r = listed
            .search_rows(data, Some(&rows), queries, k, metric, serial)
            .unwrap();
        assert_eq!(r.k, k.min(rows.len()), "{what}: listed");
        let what = format!("{what}: listed rows, serial {serial}");
        same_as_oracle(&r, data, queries, dim, k, metric, mask, &what);
        // the same codes over the rows' own copy: ids are the copy's rows
        let mut mapped = listed
            .search_rows(&sub, None, queries, k, metric, serial)
            .unwrap();
        for id in mapped.ids.iter_mut().filter(|id| **id >= 0) {
            *id = i64::from(rows[*id as usize]);
        }
        let what = format!("{what}, over their copy");
        same_as_oracle(&mapped, data, queries, dim, k, metric, mask, &what);
    }
    // one query at a time on the calling thread: the single-query path (`one`)
    for (qi, q) in queries.chunks(dim).enumerate() {
        let r = listed
            .search_rows(data, Some(&rows), q, k, metric, true)
            .unwrap();
        let what = format!("{what}: listed rows, one query ({qi})");
        same_as_oracle(&r, data, q, dim, k, metric, mask, &what);
    }
}

#[allow(clippy::too_many_arguments)]
fn same_as_oracle(
    r: &TopKResult,
    data: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    metric: Metric,
    mask: Option<&[bool]>,
    what: &str,
) {
    for (qi, q) in queries.chunks(dim).enumerate() {
        let want = oracle(data, q, dim, k, metric, mask);
        for i in 0..r.k {
            let (id, s) = (r.ids[qi * r.k + i], r.scores[qi * r.k + i]);
            if i < want.len() {
                let ws = if metric == Metric::L2 {
                    -want[i].0
                } else {
                    want[i].0
                };
                assert_eq!(
                    (id, s.to_bits()),
                    (want[i].1, ws.to_bits()),
                    "{what}: query {qi} rank {i}"
                );
            } else {
                assert_eq!(id, -1, "{what}: padding");
            }
        }
    }
}

#[test]
fn listed_rows_are_checked() {
    let dim = 4;
    let data: Vec<f32> = (0..40).map(|v| v as f32).collect();
    let q = vec![1.0f32; dim];
    let sub = data[4..12].to_vec();
    let listed = QuantFlat::from_rows(&sub, dim).unwrap();
    for bad in [&[1u32, 1][..], &[2, 1], &[1, 10], &[1]] {
        let e = listed.search_rows(&data, Some(bad), &q, 1, Metric::InnerProduct, true);
        assert!(e.is_err(), "{bad:?}");
    }
    let e = listed.search_rows(&data, None, &q, 1, Metric::InnerProduct, true);
    assert!(e.is_err(), "10 rows of data, codes of 2");
    let r = listed
        .search_rows(&data, Some(&[1, 2]), &q, 1, Metric::InnerProduct, true)
        .unwrap();
    assert_eq!(r.ids, vec![2]);
}

fn unit_rows(n: usize, dim: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut v: Vec<f32> = (0..n * dim)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    for r in v.chunks_mut(dim) {
        distance::normalize(r);
    }
    v
}

#[test]
fn kernels_match_scalar() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for dp in [4usize, 8, 36, 384] {
        let k4 = dp / 4;
        let panel: Vec<i8> = (0..k4 * NR * 4)
            .map(|_| rng.random_range(-127..=127))
            .collect();
        let csum: Vec<i32> = (0..NR)
            .map(|r| {
                (0..dp)
                    .map(|j| panel[(j / 4) * NR * 4 + r * 4 + j % 4] as i32)
                    .sum()
            })
            .collect();
        for m in 1..=MR {
            let qs: Vec<Vec<i8>> = (0..m)
                .map(|i| {
                    (0..dp)
                        .map(|_| {
                            if i == 0 {
                                127
                            } else {
                                rng.random_range(-127..=127)
                            }
                        })
                        .collect()
                })
                .collect();
            let refs: Vec<&[i8]> = qs.iter().map(|q| q.as_slice()).collect();
            let blk = QBlock::new(&refs, dp);
            let mut want = [0i32; MR * NR];
            QIsa::Scalar.dots(&blk, &panel, &csum, &mut want);
            for r in 0..NR {
                let d: i32 = (0..dp)
                    .map(|j| qs[0][j] as i32 * panel[(j / 4) * NR * 4 + r * 4 + j % 4] as i32)
                    .sum();
                assert_eq!(want[r], d);
            }
            for isa in QIsa::available() {
                let mut got = [0i32; MR * NR];
                isa.dots(&blk, &panel, &csum, &mut got);
                assert_eq!(
                    &got[..m * NR],
                    &want[..m * NR],
                    "{} m {m} dp {dp}",
                    isa.name()
                );
                let sc: Vec<f32> = (0..NR).map(|_| rng.random_range(0.0f32..1e-2)).collect();
                let al: Vec<f32> = (0..NR).map(|_| rng.random_range(0.0f32..1e-2)).collect();
                let be: Vec<f32> = (0..NR)
                    .map(|r| if r == 3 { f32::INFINITY } else { 1.0 })
                    .collect();
                for thr in [f32::NEG_INFINITY, -1.0, 0.0, 0.5, 3.0] {
                    let a = isa.filter(&got, &sc, &al, &be, 1e-3, 1.0, 1e-3, thr);
                    let b = QIsa::Scalar.filter(&got, &sc, &al, &be, 1e-3, 1.0, 1e-3, thr);
                    assert_eq!(a, b, "{} thr {thr}", isa.name());
                    let sq: Vec<f32> = (0..NR).map(|r| r as f32 * 0.1).collect();
                    let qc = super::QueryCode::new(&[0.5, -0.25, 1.0], 1.0, true).unwrap();
                    let g = super::gamma_l2(dp);
                    let a = isa.filter_l2(&got, &sc, &al, &be, &sq, &qc, g, thr - 1.0);
                    let b = QIsa::Scalar.filter_l2(&got, &sc, &al, &be, &sq, &qc, g, thr - 1.0);
                    assert_eq!(a, b, "l2 {} thr {thr}", isa.name());
                }
            }
        }
    }
}

#[test]
fn exact_on_random_unit_rows_with_masks() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for &(n, dim, nq, k) in &[
        (3000, 64, 5, 10),
        (3000, 128, 40, 10),
        (5001, 37, 9, 1),
        (4100, 3, 3, 50),
        (2500, 130, 17, 7),
    ] {
        let data = unit_rows(n, dim, &mut rng);
        let queries = unit_rows(nq, dim, &mut rng);
        check(&data, &queries, dim, k, Metric::InnerProduct, None, "plain");
        let mask: Vec<bool> = (0..n).map(|_| rng.random_bool(0.7)).collect();
        check(
            &data,
            &queries,
            dim,
            k,
            Metric::InnerProduct,
            Some(&mask),
            "mask",
        );
        let few: Vec<bool> = (0..n).map(|i| i % 997 == 5).collect();
        check(
            &data,
            &queries,
            dim,
            k,
            Metric::InnerProduct,
            Some(&few),
            "few",
        );
        check(&data, &queries, dim, k, Metric::L2, Some(&mask), "l2 mask");
        check(&data, &queries, dim, k, Metric::L2, None, "l2");
    }
}

#[test]
fn exact_on_adversarial_rows() {
    // 48-d: the VNNI kernel; 128-d with 20 queries: AMX where the CPU has it
    adversarial(48, 6);
    adversarial(128, 20);
}

fn adversarial(dim: usize, nq: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 4000;
    let mut data = unit_rows(n, dim, &mut rng);
    let queries = unit_rows(nq, dim, &mut rng);
    let q0 = queries[..dim].to_vec();
    // exact ties: many copies of rows near the first query, some duplicated exactly
    for i in 0..200 {
        let src: Vec<f32> = if i % 2 == 0 {
            q0.clone()
        } else {
            // near-ties: one coordinate moved by a few ulps
            let mut v = q0.clone();
            v[i % dim] = f32::from_bits(v[i % dim].to_bits() + (i as u32 % 5));
            v
        };
        data[(i * 17) * dim..(i * 17 + 1) * dim].copy_from_slice(&src);
    }
    // huge and tiny norms, a zero row, non-finite rows
    for (i, s) in [
        (7usize, 1e30f32),
        (8, 1e-30),
        (9, 1e15),
        (10, 3e-20),
        (11, 0.0),
    ] {
        data[i * dim..(i + 1) * dim]
            .iter_mut()
            .for_each(|v| *v *= s);
    }
    data[12 * dim] = f32::NAN;
    data[13 * dim + 1] = f32::INFINITY;
    data[14 * dim + 2] = f32::NEG_INFINITY;
    data[16 * dim..17 * dim]
        .iter_mut()
        .for_each(|v| *v = f32::INFINITY);
    // a row with one spike: its codes carry few bits elsewhere
    data[15 * dim + 3] = 50.0;
    for metric in [Metric::InnerProduct, Metric::L2] {
        for k in [1, 10, 150, 5000] {
            check(
                &data,
                &queries,
                dim,
                k,
                metric,
                None,
                &format!("adv k {k} {metric:?}"),
            );
        }
        let mask: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
        check(&data, &queries, dim, 10, metric, Some(&mask), "adv mask");
        // queries scaled to large and tiny norms
        let big: Vec<f32> = queries.iter().map(|v| v * 1e20).collect();
        check(&data, &big, dim, 10, metric, None, "big queries");
        let tiny: Vec<f32> = queries.iter().map(|v| v * 1e-25).collect();
        check(&data, &tiny, dim, 10, metric, None, "tiny queries");
        let far: Vec<f32> = queries.iter().map(|v| v + 100.0).collect();
        check(&data, &far, dim, 10, metric, None, "far queries");
    }
}

#[test]
fn all_equal_rows_tie_by_id() {
    let dim = 16;
    let row: Vec<f32> = (0..dim).map(|j| (j as f32 * 0.37).sin()).collect();
    let data: Vec<f32> = (0..3000).flat_map(|_| row.clone()).collect();
    check(
        &data,
        &row,
        dim,
        10,
        Metric::InnerProduct,
        None,
        "all equal",
    );
    check(&data, &row, dim, 10, Metric::L2, None, "all equal l2");
}

#[test]
fn append_and_set_rows_equal_a_fresh_build() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (n, dim) = (3000, 20);
    let mut data = unit_rows(n, dim, &mut rng);
    let mut q = QuantFlat::new(dim).unwrap();
    q.append(&data[..1000 * dim]).unwrap();
    q.append(&data[1000 * dim..1001 * dim]).unwrap();
    q.append(&data[1001 * dim..]).unwrap();
    let fresh = QuantFlat::from_rows(&data, dim).unwrap();
    assert_eq!(q.codes, fresh.codes);
    assert_eq!(q.alpha, fresh.alpha);
    let new = unit_rows(40, dim, &mut rng);
    data[100 * dim..140 * dim].copy_from_slice(&new);
    q.set_rows(100, &new).unwrap();
    let fresh = QuantFlat::from_rows(&data, dim).unwrap();
    assert_eq!(
        (q.codes.clone(), q.scale.clone(), q.csum.clone()),
        (fresh.codes, fresh.scale, fresh.csum)
    );
    assert!(q.set_rows(2990, &new).is_err());
    assert!(q
        .search(&data[dim..], &new[..dim], 3, Metric::InnerProduct, None)
        .is_err());
    assert!(QuantFlat::new(0).is_err());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn amx_matches_scalar() {
    if !super::amx::available() {
        eprintln!("no AMX here: skipped");
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (dp, nqp) in [(64usize, 32usize), (384, 64)] {
        let k4 = dp / 4;
        let panel: Vec<i8> = (0..k4 * NR * 4)
            .map(|_| rng.random_range(-127..=127))
            .collect();
        let qs: Vec<i8> = (0..nqp * dp)
            .map(|_| rng.random_range(-127..=127))
            .collect();
        let qu8: Vec<u8> = qs.iter().map(|&v| (v as i32 + 128) as u8).collect();
        let mut out = vec![0i32; nqp * NR];
        // SAFETY: available; sizes as documented
        unsafe { super::amx::dots_all(panel.as_ptr(), qu8.as_ptr(), nqp, dp, out.as_mut_ptr()) };
        for q in 0..nqp {
            for r in 0..NR {
                let mut d = 0i32;
                let mut cs = 0i32;
                for j in 0..dp {
                    let c = panel[(j / 4) * NR * 4 + r * 4 + j % 4] as i32;
                    d += qs[q * dp + j] as i32 * c;
                    cs += c;
                }
                assert_eq!(out[q * NR + r] - 128 * cs, d, "dp {dp} q {q} r {r}");
            }
        }
    }
}

/// The single-query path (`search_rows`, serial, one query) against the oracle over random
/// sizes and k, on rows with many exact and near ties (copies of a few rows, scaled).
#[test]
fn one_query_matches_the_oracle() {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    for case in 0..40 {
        let n = rng.random_range(257..=5000usize);
        let dim = [3, 17, 64, 130][case % 4];
        let k = rng.random_range(1..=50usize);
        let mut data = unit_rows(n, dim, &mut rng);
        // copies of a few rows (exact ties), some scaled by a power of two (ties in ip
        // order up to the scale) and some moved by an ulp (near-ties)
        for _ in 0..rng.random_range(0..n / 4) {
            let (a, b) = (rng.random_range(0..8usize), rng.random_range(0..n));
            let mut v = data[a * dim..(a + 1) * dim].to_vec();
            match rng.random_range(0..3) {
                0 => {}
                1 => v.iter_mut().for_each(|x| *x *= 2.0),
                _ => {
                    let j = rng.random_range(0..dim);
                    v[j] = f32::from_bits(v[j].to_bits() + 1);
                }
            }
            data[b * dim..(b + 1) * dim].copy_from_slice(&v);
        }
        let q: Vec<f32> = if case % 3 == 0 {
            data[..dim].to_vec()
        } else {
            unit_rows(1, dim, &mut rng)
        };
        let qf = QuantFlat::from_rows(&data, dim).unwrap();
        for metric in [Metric::InnerProduct, Metric::L2] {
            let r = qf.search_rows(&data, None, &q, k, metric, true).unwrap();
            let what = format!("case {case}: n {n} dim {dim} k {k} {metric:?}");
            same_as_oracle(&r, &data, &q, dim, k, metric, None, &what);
            // it re-scores at least the answer, and no more than every row
            let c = qf.last_candidates();
            assert!(c >= k.min(n) && c <= n, "{what}: {c} re-scored");
        }
    }
}

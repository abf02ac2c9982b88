//! The coded query walks (8-bit residual, 16-bit) against the float walk on the same
//! graph and against exact search: recall on tight clusters (where global 8-bit steps lost
//! the route), exact reported scores, rows added after the codes' fit, deletes, and a
//! reopened index (codes made again from the rows).

mod common;

use common::{blobs, recall};
use eigenlake_core::distance::Metric;
use eigenlake_core::flat::flat_topk;
use eigenlake_core::hnsw::{Hnsw, WalkCodes};

const DIM: usize = 96;
const K: usize = 10;

fn copy(h: &Hnsw, kind: WalkCodes) -> Hnsw {
    let mut c = Hnsw::from_bytes(&h.to_bytes()).unwrap();
    c.set_walk_codes(kind);
    c
}

#[test]
fn coded_walks_keep_the_float_walks_recall_and_exact_scores() {
    let (x, q) = blobs(6000, 200, DIM, 40, 1);
    for metric in [Metric::InnerProduct, Metric::L2] {
        let mut h = Hnsw::new(DIM, metric, 16, 100, 0).unwrap();
        h.set_walk_codes(WalkCodes::Float);
        h.add(&x, 0).unwrap();
        let exact = flat_topk(&x, &q, DIM, K, metric, None).unwrap();
        // a small ef, so that a lost route shows in the recall
        let float = h.search(&x, &q, K, 16, None).unwrap();
        let rf = recall(&float.ids, &exact.ids, K);
        for kind in [WalkCodes::Residual8, WalkCodes::Wide16] {
            let c = copy(&h, kind);
            let got = c.search(&x, &q, K, 16, None).unwrap();
            let r = recall(&got.ids, &exact.ids, K);
            assert!(
                r >= rf - 0.01,
                "{metric:?} {kind:?}: recall {r} vs float {rf}"
            );
            // reported scores are the float rows' own
            for (qi, (ids, sc)) in got.ids.chunks(K).zip(got.scores.chunks(K)).enumerate() {
                let qv = &q[qi * DIM..(qi + 1) * DIM];
                for (&i, &s) in ids.iter().zip(sc) {
                    let xv = &x[i as usize * DIM..(i as usize + 1) * DIM];
                    let want: f32 = match metric {
                        Metric::InnerProduct => qv.iter().zip(xv).map(|(a, b)| a * b).sum(),
                        Metric::L2 => qv.iter().zip(xv).map(|(a, b)| (a - b) * (a - b)).sum(),
                    };
                    assert!((s - want).abs() < 1e-4, "{kind:?} score {s} vs {want}");
                }
                assert!(sc.windows(2).all(|w| match metric {
                    Metric::InnerProduct => w[0] >= w[1],
                    Metric::L2 => w[0] <= w[1],
                }));
            }
        }
        assert!(rf > 0.8, "{metric:?} float recall {rf}");
    }
}

#[test]
fn residual_codes_follow_inserts_deletes_and_a_reopen() {
    let (x, q) = blobs(8000, 100, DIM, 40, 2);
    let mut h = Hnsw::new(DIM, Metric::InnerProduct, 16, 100, 0).unwrap();
    h.set_walk_codes(WalkCodes::Residual8);
    h.add(&x[..2000 * DIM], 0).unwrap();
    // a search over the first rows fits the codes; the next adds extend them (to 3,000
    // rows, under the refit at twice the fitted rows) and refit them (8,000)
    h.search(&x[..2000 * DIM], &q, K, 64, None).unwrap();
    for end in [3000, 8000] {
        h.add(&x[..end * DIM], h.len()).unwrap();
        let data = &x[..end * DIM];
        let exact = flat_topk(data, &q, DIM, K, Metric::InnerProduct, None).unwrap();
        let got = h.search(data, &q, K, 64, None).unwrap();
        let float = copy(&h, WalkCodes::Float)
            .search(data, &q, K, 64, None)
            .unwrap();
        let (r, rf) = (
            recall(&got.ids, &exact.ids, K),
            recall(&float.ids, &exact.ids, K),
        );
        assert!(r >= rf - 0.01, "{end} rows: recall {r} vs float {rf}");
        assert!(got.ids.iter().all(|&i| (i as usize) < end));
    }
    // tombstones are never returned
    let first: Vec<i64> = h.search(&x, &q, 1, 64, None).unwrap().ids;
    for &i in &first {
        h.mark_deleted(i as usize).unwrap();
    }
    let after = h.search(&x, &q, K, 64, None).unwrap();
    assert!(after
        .ids
        .iter()
        .all(|&i| i < 0 || !h.is_deleted(i as usize)));
    // a reopened index makes its codes from the rows again: same answers
    let mut back = Hnsw::from_bytes(&h.to_bytes()).unwrap();
    back.set_walk_codes(WalkCodes::Residual8);
    assert_eq!(back.search(&x, &q, K, 64, None).unwrap().ids, after.ids);
}

#[test]
fn auto_walks_floats_on_small_indexes_and_codes_on_larger_ones() {
    assert_eq!(WalkCodes::Auto.pick(1000, 384), None);
    assert_eq!(WalkCodes::Auto.pick(5000, 384), Some(WalkCodes::Residual8));
    assert_eq!(WalkCodes::Float.pick(1 << 30, 384), None);
    assert_eq!(WalkCodes::Wide16.pick(10, 4), Some(WalkCodes::Wide16));
}

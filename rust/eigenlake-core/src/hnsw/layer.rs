//! The two walks every HNSW operation is made of: greedy descent on an upper layer
//! and the ef-bounded best-first search of one layer (Malkov & Yashunin, alg. 2).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::graph::Graph;
use super::space::Measure;
use super::visited::Visited;

/// (distance, node) ordered by distance, then node, so runs are deterministic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cand(pub f32, pub u32);

impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(self.1.cmp(&o.1))
    }
}

/// Per-thread scratch of a walk.
pub struct Scratch {
    pub visited: Visited,
    pub nbrs: Vec<u32>,
    fresh: Vec<u32>,
    cands: BinaryHeap<Reverse<Cand>>,
    results: BinaryHeap<Cand>,
}

impl Scratch {
    pub fn new(n: usize) -> Scratch {
        Scratch {
            visited: Visited::new(n),
            nbrs: Vec::new(),
            fresh: Vec::new(),
            cands: BinaryHeap::new(),
            results: BinaryHeap::new(),
        }
    }
}

/// Follow strictly closer neighbours on `layer` until none is closer.
pub fn greedy(g: &Graph, sp: &impl Measure, mut cur: Cand, layer: usize, s: &mut Scratch) -> Cand {
    loop {
        let mut moved = false;
        g.neighbors(cur.1, layer, &mut s.nbrs);
        s.nbrs.iter().for_each(|&nb| sp.prefetch(nb));
        for &nb in &s.nbrs {
            let d = sp.dist(nb);
            if d < cur.0 {
                cur = Cand(d, nb);
                moved = true;
            }
        }
        if !moved {
            return cur;
        }
    }
}

/// The `ef` nearest nodes to `q` on `layer` that pass `keep`, nearest first.
/// Nodes failing `keep` are still walked through (they route, e.g. tombstones).
#[allow(clippy::too_many_arguments)]
pub fn search_layer(
    g: &Graph,
    sp: &impl Measure,
    eps: &[Cand],
    ef: usize,
    layer: usize,
    s: &mut Scratch,
    keep: impl Fn(u32) -> bool,
) -> Vec<Cand> {
    s.visited.reset(g.len());
    s.cands.clear();
    s.results.clear();
    for &e in eps {
        if s.visited.insert(e.1) {
            s.cands.push(Reverse(e));
            if keep(e.1) {
                s.results.push(e);
            }
        }
    }
    while s.results.len() > ef {
        s.results.pop();
    }
    let mut nbrs = std::mem::take(&mut s.nbrs);
    let mut fresh = std::mem::take(&mut s.fresh);
    while let Some(Reverse(c)) = s.cands.pop() {
        let full = s.results.len() >= ef;
        if full && c.0 > s.results.peek().map_or(f32::INFINITY, |w| w.0) {
            break;
        }
        if layer == 0 {
            // the next candidate's list is read after this one's neighbours are measured
            if let Some(Reverse(n)) = s.cands.peek() {
                g.prefetch0(n.1);
            }
        }
        g.neighbors(c.1, layer, &mut nbrs);
        // Mark and prefetch all unvisited neighbours first, then measure them.
        fresh.clear();
        for &nb in &nbrs {
            if s.visited.insert(nb) {
                sp.prefetch(nb);
                fresh.push(nb);
            }
        }
        for (j, &nb) in fresh.iter().enumerate() {
            if let Some(&next) = fresh.get(j + 1) {
                sp.prefetch_rest(next); // its first lines were asked for above
            }
            let d = sp.dist(nb);
            let bound = s.results.peek().map_or(f32::INFINITY, |w| w.0);
            if s.results.len() < ef || d < bound {
                s.cands.push(Reverse(Cand(d, nb)));
                if keep(nb) {
                    s.results.push(Cand(d, nb));
                    if s.results.len() > ef {
                        s.results.pop();
                    }
                }
            }
        }
    }
    s.nbrs = nbrs;
    s.fresh = fresh;
    let mut out: Vec<Cand> = s.results.drain().collect();
    out.sort_unstable();
    out
}

//! The two walks every HNSW operation is made of: greedy descent on an upper layer
//! and the ef-bounded best-first search of one layer (Malkov & Yashunin, alg. 2).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::graph::Graph;
use super::keys::{cand, dist_bits, dist_of, key};
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
    pub(super) fresh: Vec<u32>,
    /// Candidates to expand, as bitwise-not keys (`keys`): the max-heap pops the nearest.
    cands: BinaryHeap<u64>,
    /// The `ef` nearest kept nodes as keys, the farthest on top.
    results: BinaryHeap<u64>,
    out: Vec<u64>,
    pub(super) beam: super::pool::Beam,
}

impl Scratch {
    pub fn new(n: usize) -> Scratch {
        Scratch {
            visited: Visited::new(n),
            nbrs: Vec::new(),
            fresh: Vec::new(),
            cands: BinaryHeap::new(),
            results: BinaryHeap::new(),
            out: Vec::new(),
            beam: Default::default(),
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

/// The `width` nearest of the `ef` nearest nodes to `q` on `layer` that pass `keep`,
/// nearest first. Nodes failing `keep` are still walked through (they route, e.g.
/// tombstones).
#[allow(clippy::too_many_arguments)]
pub fn search_layer(
    g: &Graph,
    sp: &impl Measure,
    eps: &[Cand],
    ef: usize,
    width: usize,
    layer: usize,
    s: &mut Scratch,
    keep: impl Fn(u32) -> bool,
) -> Vec<Cand> {
    s.visited.reset(g.len());
    s.cands.clear();
    s.results.clear();
    for &e in eps {
        if s.visited.insert(e.1) {
            s.cands.push(!key(e));
            if keep(e.1) {
                s.results.push(key(e));
            }
        }
    }
    while s.results.len() > ef {
        s.results.pop();
    }
    // The distance half of the farthest kept node once `ef` are kept: nearer ones are
    // taken, and the walk stops at the first candidate past it. Nothing is refused before.
    let bound = |r: &BinaryHeap<u64>| match r.peek() {
        Some(&w) if r.len() >= ef => dist_of(w),
        _ => u32::MAX,
    };
    let mut nbrs = std::mem::take(&mut s.nbrs);
    let mut fresh = std::mem::take(&mut s.fresh);
    while let Some(top) = s.cands.pop() {
        let c = !top;
        if dist_of(c) > bound(&s.results) {
            break;
        }
        if layer == 0 {
            // the next candidate's list is read after this one's neighbours are measured
            if let Some(&n) = s.cands.peek() {
                g.prefetch0(!n as u32);
            }
        }
        g.neighbors(c as u32, layer, &mut nbrs);
        // Mark all unvisited neighbours and prefetch them first, then measure them. The
        // marking keeps every neighbour and counts only the unvisited ones: whether one was
        // visited is unpredictable, and a branch on it mispredicts about every other time.
        let kept = s.visited.take_unvisited(&nbrs, &mut fresh, 0);
        let fresh = &fresh[..kept];
        fresh.iter().for_each(|&nb| sp.prefetch(nb));
        for (j, &nb) in fresh.iter().enumerate() {
            if let Some(&next) = fresh.get(j + 1) {
                sp.prefetch_rest(next); // its first lines were asked for above
            }
            let d = dist_bits(sp.dist(nb));
            if d < bound(&s.results) {
                let k = (u64::from(d) << 32) | u64::from(nb);
                s.cands.push(!k);
                if keep(nb) {
                    if s.results.len() >= ef {
                        // replaces the farthest (one sift down, not a push and a pop)
                        if let Some(mut w) = s.results.peek_mut() {
                            *w = k;
                        }
                    } else {
                        s.results.push(k);
                    }
                }
            }
        }
    }
    s.nbrs = nbrs;
    s.fresh = fresh;
    let out = &mut s.out;
    out.clear();
    out.extend(s.results.drain());
    if width < out.len() {
        out.select_nth_unstable(width);
        out.truncate(width);
    }
    out.sort_unstable();
    out.iter().map(|&k| cand(k)).collect()
}

//! The layer-0 beam of a query walk that may return every node (no mask, no tombstones),
//! kept as one sorted array instead of two heaps. The `ef` nearest nodes met so far are
//! the beam and also the answer; the next node to expand is the nearest one of them not
//! yet expanded, and the walk ends when all of them are. This expands exactly the nodes
//! `layer::search_layer` expands with every node kept (a candidate its heap holds outside
//! the `ef` nearest is past their bound, where that walk stops; only exact ties of
//! distance at the bound may differ), without a heap's sifts, and the answer needs no sort.
//!
//! Two candidates are expanded at once when both are within the bound (the second would be
//! next unless a neighbour of the first is nearer): their unvisited neighbours are asked
//! for together, so a walk waits on memory once per pair instead of once per node (20k
//! rows: ~2 µs of ~29 a query; recall@10 the same on 1,000 queries).

use super::graph::Graph;
use super::keys::{cand, dist_bits, dist_of};
use super::layer::{Cand, Scratch};
use super::space::Measure;

/// Graphs with at least this many nodes take the heap walk: a beam key keeps the node in
/// 31 bits (see `Beam`).
pub const MAX_NODES: usize = 1 << 31;

/// The sorted beam, nearest first: per node `dist_bits << 32 | node << 1 | expanded`, so
/// the order is `keys::key`'s and marking a node expanded keeps it (nodes are distinct);
/// one array, so taking a node moves one run of keys.
#[derive(Default)]
pub struct Beam {
    keys: Vec<u64>,
}

#[inline]
fn beam_key(d: u32, node: u32) -> u64 {
    (u64::from(d) << 32) | (u64::from(node) << 1)
}

#[inline]
fn node_of(k: u64) -> u32 {
    (k as u32) >> 1
}

impl Beam {
    /// The first node at or after `from` not yet expanded.
    #[inline]
    fn open_from(&self, from: usize) -> Option<usize> {
        (from..self.keys.len()).find(|&j| self.keys[j] & 1 == 0)
    }

    /// Mark the node at `j` expanded; the node.
    #[inline]
    fn expand(&mut self, j: usize) -> u32 {
        self.keys[j] |= 1;
        node_of(self.keys[j])
    }

    /// Take key `k` when the beam has room or `k` is nearer than its farthest (by distance:
    /// a tie with the farthest is refused, as the heap walk refuses it); the position
    /// it took. The farther keys move up one by one from the end, where most new keys
    /// land once the beam is full (a binary search and a moved run cost more).
    #[inline]
    fn offer(&mut self, k: u64, ef: usize) -> Option<usize> {
        let n = self.keys.len();
        if n >= ef {
            if dist_of(k) >= dist_of(self.keys[n - 1]) {
                return None;
            }
        } else {
            self.keys.push(k);
        }
        // the last slot is free: a new one, or the farthest node's, which drops out
        let keys = &mut self.keys[..];
        let mut i = keys.len() - 1;
        while i > 0 && keys[i - 1] > k {
            keys[i] = keys[i - 1];
            i -= 1;
        }
        keys[i] = k;
        Some(i)
    }
}

/// The `width` nearest of the `ef` nearest nodes to the query on layer 0, nearest first,
/// from entry `e`; `paired`: expand two candidates at once (see the module notes).
pub fn search(
    g: &Graph,
    sp: &impl Measure,
    e: Cand,
    ef: usize,
    width: usize,
    paired: bool,
    s: &mut Scratch,
) -> Vec<Cand> {
    debug_assert!(g.len() < MAX_NODES);
    let ef = ef.max(1);
    s.visited.reset(g.len());
    let mut beam = std::mem::take(&mut s.beam);
    beam.keys.clear();
    s.visited.insert(e.1);
    beam.offer(beam_key(dist_bits(e.0), e.1), ef);
    let mut nbrs = std::mem::take(&mut s.nbrs);
    let mut fresh = std::mem::take(&mut s.fresh);
    // every node before `cur` is expanded
    let mut cur = 0;
    while let Some(at) = beam.open_from(cur) {
        let first = beam.expand(at);
        cur = at + 1;
        let mut second = None;
        if paired {
            if let Some(j) = beam.open_from(cur) {
                second = Some(beam.expand(j));
            }
        }
        // the lists expanded next are read after these neighbours are measured
        let mut ahead = beam.open_from(cur);
        for _ in 0..1 + usize::from(paired) {
            let Some(j) = ahead else { break };
            g.prefetch0(node_of(beam.keys[j]));
            ahead = beam.open_from(j + 1);
        }
        // Mark the unvisited neighbours of both (no branch on the visited test: it
        // mispredicts about every other time), prefetch them all, then measure them.
        let mut kept = 0;
        for node in std::iter::once(first).chain(second) {
            g.neighbors(node, 0, &mut nbrs);
            kept = s.visited.take_unvisited(&nbrs, &mut fresh, kept);
        }
        let fresh = &fresh[..kept];
        fresh.iter().for_each(|&nb| sp.prefetch(nb));
        for (j, &nb) in fresh.iter().enumerate() {
            if let Some(&next) = fresh.get(j + 1) {
                sp.prefetch_rest(next);
            }
            if let Some(p) = beam.offer(beam_key(dist_bits(sp.dist(nb)), nb), ef) {
                cur = cur.min(p);
            }
        }
    }
    s.nbrs = nbrs;
    s.fresh = fresh;
    let out = beam
        .keys
        .iter()
        .take(width)
        .map(|&k| cand((k & !0xFFFF_FFFF) | u64::from(node_of(k))))
        .collect();
    s.beam = beam;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::Metric;
    use crate::hnsw::layer::search_layer;
    use crate::hnsw::space::{Exact, Space};
    use crate::hnsw::Hnsw;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The sorted beam (unpaired) answers exactly as the two-heap walk with every node
    /// kept, on random graphs, entries, ef and widths; paired, it finds the same nodes
    /// up to a few near the end of the beam.
    #[test]
    fn expands_as_the_heap_walk_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (n, dim, m) in [(300usize, 8usize, 4usize), (1500, 16, 8), (40, 4, 16)] {
            let data: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
            for metric in [Metric::InnerProduct, Metric::L2] {
                let mut h = Hnsw::new(dim, metric, m, 40, 1).unwrap();
                h.add(&data, 0).unwrap();
                let sp = Space::new(&data, dim, metric);
                let mut s = Scratch::new(n);
                let mut both = 0usize;
                let mut total = 0usize;
                for _ in 0..60 {
                    let q: Vec<f32> = (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect();
                    let ex = Exact { sp: &sp, q: &q };
                    let start = rng.random_range(0..n as u32);
                    let e = Cand(ex.dist(start), start);
                    let ef = rng.random_range(1..80);
                    let width = rng.random_range(1..100);
                    let heap = search_layer(&h.graph, &ex, &[e], ef, width, 0, &mut s, |_| true);
                    let sorted = search(&h.graph, &ex, e, ef, width, false, &mut s);
                    assert_eq!(sorted, heap, "n={n} ef={ef} width={width}");
                    let paired = search(&h.graph, &ex, e, ef, width, true, &mut s);
                    assert_eq!(paired.len(), heap.len());
                    assert!(paired.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
                    both += paired.iter().filter(|c| heap.contains(c)).count();
                    total += heap.len();
                }
                assert!(
                    both as f64 >= 0.95 * total as f64,
                    "paired kept {both} of {total}"
                );
            }
        }
    }
}

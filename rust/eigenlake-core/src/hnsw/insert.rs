//! Insertion (Malkov & Yashunin, alg. 1) with the neighbour-selection heuristic
//! (alg. 4): a candidate is linked only if it is nearer to the new node than to
//! every neighbour already chosen, which keeps links spread across directions.

use super::graph::Graph;
use super::layer::{greedy, search_layer, Cand, Scratch};
use super::space::{Exact, Space};
use super::Entry;

/// Keep at most `m` of `cands` (sorted nearest first) by the heuristic.
pub fn select(sp: &Space, cands: &[Cand], m: usize) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::with_capacity(m);
    for c in cands {
        if out.len() >= m {
            break;
        }
        let x = sp.row(c.1);
        if out.iter().all(|&r| sp.dist(x, r) > c.0) {
            out.push(c.1);
        }
    }
    out
}

/// Link node `q` (whose level is already in `g`) into the graph below `entry`.
pub fn insert(g: &Graph, sp: &Space, ef_c: usize, q: u32, entry: Entry, s: &mut Scratch) {
    let level = g.levels[q as usize] as usize;
    let x = sp.row(q);
    let ex = Exact { sp, q: x };
    let mut cur = Cand(sp.dist(x, entry.node), entry.node);
    for layer in (level + 1..=entry.level).rev() {
        cur = greedy(g, &ex, cur, layer, s);
    }
    let mut eps = vec![cur];
    for layer in (0..=level.min(entry.level)).rev() {
        let w = search_layer(g, &ex, &eps, ef_c, ef_c, layer, s, |i| i != q);
        let chosen = select(sp, &w, g.cap(layer));
        {
            let _l = g.lock(q);
            g.set(q, layer, &chosen);
        }
        for &e in &chosen {
            link_back(g, sp, e, q, layer, &mut s.nbrs);
        }
        eps = w;
    }
}

/// Add `q` to `e`'s list on `layer`, re-selecting when the list is full.
fn link_back(g: &Graph, sp: &Space, e: u32, q: u32, layer: usize, buf: &mut Vec<u32>) {
    let _l = g.lock(e);
    g.neighbors(e, layer, buf);
    if buf.contains(&q) {
        return;
    }
    let cap = g.cap(layer);
    if buf.len() < cap {
        buf.push(q);
        g.set(e, layer, buf);
        return;
    }
    let ex = sp.row(e);
    let mut cands: Vec<Cand> = buf
        .iter()
        .chain([&q])
        .map(|&i| Cand(sp.dist(ex, i), i))
        .collect();
    cands.sort_unstable();
    let kept = select(sp, &cands, cap);
    g.set(e, layer, &kept);
}

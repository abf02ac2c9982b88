//! Concurrent union-find: roots are always the smallest member (a larger root is linked
//! under a smaller one by compare-and-swap), so `find` of a component is its minimum.

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

pub struct UnionFind {
    parent: Vec<AtomicU32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).map(AtomicU32::new).collect(),
        }
    }

    pub fn find(&self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize].load(Relaxed);
            if p == x {
                return x;
            }
            let gp = self.parent[p as usize].load(Relaxed);
            // path halving; losing the race only leaves a longer path
            let _ = self.parent[x as usize].compare_exchange(p, gp, Relaxed, Relaxed);
            x = gp;
        }
    }

    pub fn union(&self, a: u32, b: u32) {
        loop {
            let (ra, rb) = (self.find(a), self.find(b));
            if ra == rb {
                return;
            }
            let (hi, lo) = if ra > rb { (ra, rb) } else { (rb, ra) };
            if self.parent[hi as usize]
                .compare_exchange(hi, lo, Relaxed, Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn parallel_unions_give_min_roots() {
        let uf = UnionFind::new(1000);
        (0..999u32)
            .into_par_iter()
            .filter(|i| i % 10 != 9)
            .for_each(|i| uf.union(i + 1, i));
        for i in 0..1000u32 {
            assert_eq!(uf.find(i), i / 10 * 10);
        }
    }
}

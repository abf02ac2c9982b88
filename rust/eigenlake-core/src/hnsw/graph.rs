//! Links of every node on every layer. Each list is a fixed slot of atomics
//! `[count, id…]`: readers never lock (a reader racing a writer sees an older or a
//! newer valid list, which only perturbs the approximate search), writers of one
//! node serialise on that node's mutex.

use std::sync::atomic::{AtomicU32, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use std::sync::Mutex;

pub struct Graph {
    pub m: usize,
    pub m0: usize,
    pub levels: Vec<u8>,
    layer0: Vec<AtomicU32>,
    upper: Vec<Box<[AtomicU32]>>,
    locks: Vec<Mutex<()>>,
}

impl Graph {
    pub fn new(m: usize) -> Graph {
        Graph {
            m,
            m0: 2 * m,
            levels: Vec::new(),
            layer0: Vec::new(),
            upper: Vec::new(),
            locks: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// Make room for `nodes` nodes in all, the layer-0 lists (read at random by every
    /// walk) in memory advised for huge pages (`crate::hugepage`).
    pub fn reserve(&mut self, nodes: usize) {
        crate::hugepage::reserve(&mut self.layer0, nodes.saturating_mul(self.m0 + 1));
    }

    /// Append a node with empty lists on layers `0..=level`.
    pub fn push(&mut self, level: usize) {
        self.levels.push(level as u8);
        self.layer0.extend((0..=self.m0).map(|_| AtomicU32::new(0)));
        self.upper.push(
            (0..level * (self.m + 1))
                .map(|_| AtomicU32::new(0))
                .collect(),
        );
        self.locks.push(Mutex::new(()));
    }

    pub fn cap(&self, layer: usize) -> usize {
        if layer == 0 {
            self.m0
        } else {
            self.m
        }
    }

    fn slot(&self, node: u32, layer: usize) -> &[AtomicU32] {
        let n = node as usize;
        if layer == 0 {
            &self.layer0[n * (self.m0 + 1)..(n + 1) * (self.m0 + 1)]
        } else {
            &self.upper[n][(layer - 1) * (self.m + 1)..layer * (self.m + 1)]
        }
    }

    /// Copy the neighbours of `node` on `layer` into `out` (cleared first).
    #[inline]
    pub fn neighbors(&self, node: u32, layer: usize, out: &mut Vec<u32>) {
        out.clear();
        let s = self.slot(node, layer);
        let c = (s[0].load(Acquire) as usize).min(s.len() - 1);
        out.extend(s[1..=c].iter().map(|a| a.load(Relaxed)));
    }

    /// Ask for the layer-0 list of `node` ahead of use (the walk's next candidate).
    #[inline]
    pub fn prefetch0(&self, node: u32) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let n = node as usize;
            if let Some(s) = self.layer0.get(n * (self.m0 + 1)..(n + 1) * (self.m0 + 1)) {
                for line in s.chunks(16) {
                    // SAFETY: a prefetch of an address inside a live slice; SSE is baseline.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr() as *const i8) };
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = node;
    }

    /// Replace the list; caller holds `lock(node)`.
    pub fn set(&self, node: u32, layer: usize, ids: &[u32]) {
        let s = self.slot(node, layer);
        let c = ids.len().min(s.len() - 1);
        for (a, &id) in s[1..=c].iter().zip(ids) {
            a.store(id, Relaxed);
        }
        s[0].store(c as u32, Release);
    }

    pub fn lock(&self, node: u32) -> std::sync::MutexGuard<'_, ()> {
        self.locks[node as usize]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

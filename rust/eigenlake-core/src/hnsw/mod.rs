//! HNSW graph index (Malkov & Yashunin 2018). The index stores links only; the
//! vectors are the caller's row-major matrix, passed again to `add` and `search`.
//!
//! Files: `config` (parameters), `graph` (lock-free-read link lists), `layer`
//! (greedy / ef-search walks), `insert` (build), `search` (batched + filtered
//! queries), `codes` (which codes the query walk measures: `quant` 16-bit, `resid` 8-bit
//! residuals), `persist` (binary file), `space` / `visited` (helpers).

mod codes;
mod config;
mod graph;
mod insert;
mod keys;
mod layer;
mod persist;
mod pool;
mod quant;
mod resid;
mod search;
mod space;
mod visited;

use std::sync::{Mutex, RwLock};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use codes::WalkCodes;
pub use config::{HnswConfig, MAX_LEVEL};
pub use search::EXACT_FALLBACK_SCALE;

use crate::distance::Metric;
use crate::{CoreError, Result};
use codes::Codes;
use graph::Graph;
use layer::Scratch;
use space::Space;

/// Where every descent starts: the node on the highest layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub node: u32,
    pub level: usize,
}

pub struct Hnsw {
    cfg: HnswConfig,
    graph: Graph,
    entry: Mutex<Option<Entry>>,
    deleted: Vec<bool>,
    /// How many of `deleted` are set: none lets a query walk skip the per-node test.
    tombstones: usize,
    /// Codes of the indexed rows for the query walk (`quant`): made by `add`, loaded with
    /// the graph (residual codes, `persist`), or made by the first search after loading a
    /// file without them.
    quant: RwLock<Option<Codes>>,
    walk_codes: WalkCodes,
}

impl Hnsw {
    pub fn new(
        dim: usize,
        metric: Metric,
        m: usize,
        ef_construction: usize,
        seed: u64,
    ) -> Result<Hnsw> {
        let cfg = HnswConfig::new(dim, metric, m, ef_construction, seed)?;
        Ok(Hnsw {
            graph: Graph::new(cfg.m),
            cfg,
            entry: Mutex::new(None),
            deleted: Vec::new(),
            tombstones: 0,
            quant: RwLock::new(None),
            walk_codes: WalkCodes::Auto,
        })
    }

    pub fn config(&self) -> &HnswConfig {
        &self.cfg
    }
    pub fn len(&self) -> usize {
        self.graph.len()
    }
    pub fn is_empty(&self) -> bool {
        self.graph.is_empty()
    }
    pub fn dim(&self) -> usize {
        self.cfg.dim
    }

    fn entry(&self) -> Option<Entry> {
        *self.entry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn space<'a>(&self, data: &'a [f32]) -> Result<Space<'a>> {
        let dim = self.cfg.dim;
        if !data.len().is_multiple_of(dim) {
            return Err(CoreError::invalid(
                "data",
                "length is not a multiple of dim",
            ));
        }
        if data.len() / dim < self.len() {
            return Err(CoreError::invalid(
                "data",
                format!(
                    "has {} rows but the index covers {}",
                    data.len() / dim,
                    self.len()
                ),
            ));
        }
        Ok(Space::new(data, dim, self.cfg.metric))
    }

    /// Index rows `start..n` of `data` (`start` must equal `len()`). Parallel on the
    /// current rayon pool; with one thread the build is sequential and deterministic.
    pub fn add(&mut self, data: &[f32], start: usize) -> Result<()> {
        if start != self.len() {
            return Err(CoreError::invalid(
                "start",
                format!(
                    "must equal the number of indexed rows ({}), got {start}",
                    self.len()
                ),
            ));
        }
        let n = self.space(data)?.data.len() / self.cfg.dim;
        if n > u32::MAX as usize - 1 {
            return Err(CoreError::invalid("data", "too many rows for u32 ids"));
        }
        // Levels are drawn up front from (seed, start): the same rows give the same graph.
        self.graph.reserve(n);
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.cfg.seed ^ (start as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let ml = self.cfg.ml();
        for _ in start..n {
            let u: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
            self.graph.push(((-u.ln() * ml) as usize).min(MAX_LEVEL));
        }
        self.deleted.resize(n, false);
        let sp = self.space(data)?;
        let mut first = start;
        if self.entry().is_none() && start < n {
            *self.entry.get_mut().unwrap_or_else(|e| e.into_inner()) = Some(Entry {
                node: start as u32,
                level: self.graph.levels[start] as usize,
            });
            first += 1;
        }
        let this = &*self;
        let one = |s: &mut Scratch, q: usize| this.insert_one(&sp, q as u32, s);
        if rayon::current_num_threads() <= 1 {
            let mut s = Scratch::new(n);
            (first..n).for_each(|q| one(&mut s, q));
        } else {
            (first..n)
                .into_par_iter()
                .for_each_init(|| Scratch::new(n), one);
        }
        if let Some(kind) = self.walk_codes.pick(n, self.cfg.dim) {
            let metric = self.cfg.metric;
            let quant = self.quant.get_mut().unwrap_or_else(|e| e.into_inner());
            codes::update(quant, kind, data, self.cfg.dim, n, metric);
        }
        Ok(())
    }

    /// Whether queries may walk codes where they pay (default, `WalkCodes::Auto`) or
    /// always the float rows; either way the answer is measured and ranked on the floats.
    pub fn set_quantized_walk(&mut self, on: bool) {
        self.set_walk_codes(if on {
            WalkCodes::Auto
        } else {
            WalkCodes::Float
        });
    }

    pub fn quantized_walk(&self) -> bool {
        self.walk_codes != WalkCodes::Float
    }

    /// Which codes the query walk measures (`Auto` unless forced, for tuning); codes of
    /// another kind are dropped and made again at the next search.
    pub fn set_walk_codes(&mut self, kind: WalkCodes) {
        self.walk_codes = kind;
        let q = self.quant.get_mut().unwrap_or_else(|e| e.into_inner());
        if q.as_ref()
            .is_some_and(|c| Some(c.kind()) != kind.pick(c.rows(), self.cfg.dim))
        {
            *q = None;
        }
    }

    pub fn walk_codes(&self) -> WalkCodes {
        self.walk_codes
    }

    fn insert_one(&self, sp: &Space, q: u32, s: &mut Scratch) {
        let entry = self.entry().expect("entry exists once a node is indexed");
        insert::insert(&self.graph, sp, self.cfg.ef_construction, q, entry, s);
        let level = self.graph.levels[q as usize] as usize;
        if level > entry.level {
            let mut e = self.entry.lock().unwrap_or_else(|e| e.into_inner());
            if e.is_none_or(|e| level > e.level) {
                *e = Some(Entry { node: q, level });
            }
        }
    }

    /// Tombstone `row`: it still routes searches but is never returned.
    pub fn mark_deleted(&mut self, row: usize) -> Result<()> {
        match self.deleted.get_mut(row) {
            Some(d) => {
                self.tombstones += usize::from(!*d);
                *d = true;
                Ok(())
            }
            None => Err(CoreError::invalid(
                "row",
                format!("{row} is not indexed (len {})", self.len()),
            )),
        }
    }

    pub fn is_deleted(&self, row: usize) -> bool {
        self.deleted.get(row).copied().unwrap_or(false)
    }
}

//! Binary file of an index: header (magic, version, parameters), levels, tombstones,
//! link lists, then an FNV-1a checksum of everything before it. Loading checks every
//! field and id, so a damaged file is an error, never a panic or a bad graph.

use std::io::Write;
use std::path::Path;

use super::graph::Graph;
use super::{Entry, Hnsw, HnswConfig, MAX_LEVEL};
use crate::distance::Metric;
use crate::{CoreError, Result};

const MAGIC: &[u8; 8] = b"ELHNSW\0\0";
const VERSION: u32 = 1;
const NO_ENTRY: u32 = u32::MAX;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| CoreError::Corrupt("hnsw file is truncated".into()))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

fn corrupt(what: &str) -> CoreError {
    CoreError::Corrupt(format!("hnsw file: {what}"))
}

impl Hnsw {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        let c = &self.cfg;
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        for v in [
            c.dim as u32,
            (c.metric == Metric::L2) as u32,
            c.m as u32,
            c.ef_construction as u32,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&c.seed.to_le_bytes());
        b.extend_from_slice(&(self.len() as u64).to_le_bytes());
        let e = self.entry();
        b.extend_from_slice(&e.map_or(NO_ENTRY, |e| e.node).to_le_bytes());
        b.extend_from_slice(&(e.map_or(0, |e| e.level) as u32).to_le_bytes());
        b.extend_from_slice(&self.graph.levels);
        b.extend(self.deleted.iter().map(|&d| d as u8));
        let mut buf = Vec::new();
        for node in 0..self.len() as u32 {
            for layer in 0..=self.graph.levels[node as usize] as usize {
                self.graph.neighbors(node, layer, &mut buf);
                b.extend_from_slice(&(buf.len() as u32).to_le_bytes());
                buf.iter()
                    .for_each(|id| b.extend_from_slice(&id.to_le_bytes()));
            }
        }
        let h = fnv1a(&b);
        b.extend_from_slice(&h.to_le_bytes());
        b
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        // Write aside, then rename, so a crash never leaves a half-written index.
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&self.to_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Hnsw> {
        Hnsw::from_bytes(&std::fs::read(path)?)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Hnsw> {
        if bytes.len() < MAGIC.len() + 8 || &bytes[..8] != MAGIC {
            return Err(corrupt("not an EigenLake HNSW file (bad magic)"));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        if fnv1a(body) != u64::from_le_bytes(tail.try_into().expect("8 bytes")) {
            return Err(corrupt("checksum mismatch"));
        }
        let mut r = Reader { b: body, pos: 8 };
        let version = r.u32()?;
        if version != VERSION {
            return Err(corrupt(&format!("unsupported version {version}")));
        }
        let (dim, l2, m, ef_c) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
        let metric = match l2 {
            0 => Metric::InnerProduct,
            1 => Metric::L2,
            _ => return Err(corrupt("bad metric")),
        };
        let seed = r.u64()?;
        let cfg = HnswConfig::new(dim as usize, metric, m as usize, ef_c as usize, seed)
            .map_err(|e| corrupt(&e.to_string()))?;
        let n = r.u64()? as usize;
        let (enode, elevel) = (r.u32()?, r.u32()? as usize);
        if n > body.len() {
            return Err(corrupt("row count exceeds the file size"));
        }
        let levels = r.take(n)?.to_vec();
        let deleted: Vec<bool> = r.take(n)?.iter().map(|&d| d != 0).collect();
        let mut graph = Graph::new(cfg.m);
        graph.reserve(n);
        for &l in &levels {
            if l as usize > MAX_LEVEL {
                return Err(corrupt("level out of range"));
            }
            graph.push(l as usize);
        }
        let mut ids = Vec::new();
        for node in 0..n as u32 {
            for layer in 0..=levels[node as usize] as usize {
                let c = r.u32()? as usize;
                if c > graph.cap(layer) {
                    return Err(corrupt("link list longer than its capacity"));
                }
                ids.clear();
                for _ in 0..c {
                    let id = r.u32()?;
                    if id as usize >= n || (levels[id as usize] as usize) < layer {
                        return Err(corrupt("link to a missing node"));
                    }
                    ids.push(id);
                }
                graph.set(node, layer, &ids);
            }
        }
        if r.pos != body.len() {
            return Err(corrupt("trailing bytes"));
        }
        let entry = match (enode, n) {
            (NO_ENTRY, 0) => None,
            (e, _) if (e as usize) < n && levels[e as usize] as usize == elevel => Some(Entry {
                node: e,
                level: elevel,
            }),
            _ => return Err(corrupt("bad entry point")),
        };
        Ok(Hnsw {
            cfg,
            graph,
            entry: std::sync::Mutex::new(entry),
            deleted,
            // codes are made again from the rows at the first search
            quant: std::sync::RwLock::new(None),
            walk_codes: super::WalkCodes::Auto,
        })
    }
}

//! Binary file of an index: header (magic, version, parameters), levels, tombstones,
//! link lists, (version 2) the walk's residual codes when it has them, then an FNV-1a
//! checksum of everything before it. Loading checks every field and id, so a damaged file
//! is an error, never a panic or a bad graph. Version 1 files (no codes) still load; their
//! codes are made at the first search, as before.

use std::io::Write;
use std::path::Path;

use super::codes::Codes;
use super::graph::Graph;
use super::resid::Resid;
use super::{Entry, Hnsw, HnswConfig, MAX_LEVEL};
use crate::distance::Metric;
use crate::{CoreError, Result};

const MAGIC: &[u8; 8] = b"ELHNSW\0\0";
const VERSION: u32 = 2;
/// Codes section: none, or the residual codes (`resid`).
const NO_CODES: u8 = 0;
const RESID_CODES: u8 = 1;
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
    fn f32s(&mut self, n: usize) -> Result<Vec<f32>> {
        let bytes = self.take(n.checked_mul(4).ok_or_else(|| corrupt("size overflow"))?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
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
        self.write_codes(&mut b);
        let h = fnv1a(&b);
        b.extend_from_slice(&h.to_le_bytes());
        b
    }

    /// The residual codes of the walk, so a load need not fit them again (the fit costs
    /// k-means and an assignment of every row: ~1 s at 100k × 384). Rows: at most the graph's.
    fn write_codes(&self, b: &mut Vec<u8>) {
        let quant = self.quant.read().unwrap_or_else(|e| e.into_inner());
        let Some(Codes::Resid(z)) = quant.as_ref().filter(|c| c.rows() <= self.len()) else {
            b.push(NO_CODES);
            return;
        };
        let (cent, meta, codes, fitted) = z.parts();
        b.push(RESID_CODES);
        b.extend_from_slice(&(cent.len() as u64).to_le_bytes());
        b.extend_from_slice(&(meta.len() as u64).to_le_bytes());
        b.extend_from_slice(&(fitted as u64).to_le_bytes());
        cent.iter()
            .for_each(|v| b.extend_from_slice(&v.to_le_bytes()));
        for (scale, c, norm) in meta {
            b.extend_from_slice(&scale.to_le_bytes());
            b.extend_from_slice(&c.to_le_bytes());
            b.extend_from_slice(&norm.to_le_bytes());
        }
        b.extend_from_slice(codes);
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
        if version != VERSION && version != 1 {
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
        let codes = if version >= 2 {
            read_codes(&mut r, &cfg, n)?
        } else {
            None
        };
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
            tombstones: deleted.iter().filter(|&&d| d).count(),
            deleted,
            // saved codes, else made again from the rows at the first search
            quant: std::sync::RwLock::new(codes),
            walk_codes: super::WalkCodes::Auto,
        })
    }
}

/// The codes section of a version 2 file (`Hnsw::write_codes`).
fn read_codes(r: &mut Reader<'_>, cfg: &HnswConfig, n: usize) -> Result<Option<Codes>> {
    match r.take(1)?[0] {
        NO_CODES => Ok(None),
        RESID_CODES => {
            let (floats, rows, fitted) = (r.u64()? as usize, r.u64()? as usize, r.u64()? as usize);
            let lines = cfg.dim.div_ceil(64).max(1);
            if rows > n || floats > r.b.len() {
                return Err(corrupt("codes larger than the graph"));
            }
            let cent = r.f32s(floats)?;
            let mut meta = Vec::with_capacity(rows);
            for _ in 0..rows {
                let m = r.take(12)?;
                let f = |i: usize| m[i..i + 4].try_into().expect("4 bytes");
                meta.push((
                    f32::from_le_bytes(f(0)),
                    u32::from_le_bytes(f(4)),
                    f32::from_le_bytes(f(8)),
                ));
            }
            let codes = r.take(rows * lines * 64)?;
            Resid::from_parts(cfg.dim, cfg.metric, cent, &meta, codes, fitted)
                .map(|z| Some(Codes::Resid(z)))
                .ok_or_else(|| corrupt("codes do not fit the graph"))
        }
        _ => Err(corrupt("unknown codes section")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hnsw::WalkCodes;

    /// Rows in 30 tight blobs, enough of them (≥ 2 MiB of floats) to walk residual codes.
    fn rows(n: usize, dim: usize) -> Vec<f32> {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let centres: Vec<f32> = (0..30 * dim).map(|_| next()).collect();
        let mut x = Vec::with_capacity(n * dim);
        for i in 0..n {
            let c = i % 30;
            let mut v: Vec<f32> = (0..dim)
                .map(|j| centres[c * dim + j] + 0.02 * next())
                .collect();
            crate::distance::normalize(&mut v);
            x.extend(v);
        }
        x
    }

    fn built(n: usize, dim: usize) -> (Hnsw, Vec<f32>) {
        let x = rows(n, dim);
        let mut h = Hnsw::new(dim, Metric::InnerProduct, 8, 40, 7).unwrap();
        h.add(&x, 0).unwrap();
        (h, x)
    }

    fn has_resid(h: &Hnsw) -> bool {
        matches!(*h.quant.read().unwrap(), Some(Codes::Resid(_)))
    }

    fn reseal(mut body: Vec<u8>) -> Vec<u8> {
        let h = fnv1a(&body);
        body.extend_from_slice(&h.to_le_bytes());
        body
    }

    #[test]
    fn residual_codes_are_saved_and_answer_alike() {
        let (dim, n) = (384, 1_600); // 2.3 MiB of floats: residual codes
        let (h, x) = built(n, dim);
        assert_eq!(h.walk_codes.pick(n, dim), Some(WalkCodes::Residual8));
        assert!(has_resid(&h));
        let bytes = h.to_bytes();
        let back = Hnsw::from_bytes(&bytes).unwrap();
        assert!(
            has_resid(&back),
            "a load keeps the codes: no refit at the first search"
        );
        let q = &x[17 * dim..18 * dim];
        let a = h.search(&x, q, 10, 64, None).unwrap();
        let b = back.search(&x, q, 10, 64, None).unwrap();
        assert_eq!(a.ids, b.ids);
        assert_eq!(a.scores, b.scores);
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn version_1_files_load_without_codes() {
        let (mut h, x) = built(300, 32);
        h.set_walk_codes(WalkCodes::Float);
        let v2 = h.to_bytes();
        // version 1: the same body without the codes byte
        let mut body = v2[..v2.len() - 9].to_vec();
        assert_eq!(v2[v2.len() - 9], NO_CODES);
        body[8..12].copy_from_slice(&1u32.to_le_bytes());
        let back = Hnsw::from_bytes(&reseal(body)).unwrap();
        assert!(back.quant.read().unwrap().is_none());
        let q = &x[..32];
        assert_eq!(
            h.search(&x, q, 5, 32, None).unwrap().ids,
            back.search(&x, q, 5, 32, None).unwrap().ids
        );
    }

    #[test]
    fn damaged_codes_are_refused() {
        let (dim, n) = (384, 1_600);
        let (h, _) = built(n, dim);
        let bytes = h.to_bytes();
        let body = &bytes[..bytes.len() - 8];
        // the codes section starts after the links: counted back from the end
        let lines = dim.div_ceil(64);
        let quant = h.quant.read().unwrap();
        let Some(Codes::Resid(z)) = quant.as_ref() else {
            panic!("residual codes expected")
        };
        let (cent, meta, _, _) = z.parts();
        let start = body.len() - n * lines * 64 - meta.len() * 12 - cent.len() * 4 - 24 - 1;
        assert_eq!(body[start], RESID_CODES);
        // a centroid index past the centroids
        let mut bad = body.to_vec();
        let first_meta = start + 1 + 24 + cent.len() * 4;
        bad[first_meta + 4..first_meta + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = Hnsw::from_bytes(&reseal(bad)).err().unwrap().to_string();
        assert!(err.contains("codes do not fit"), "{err}");
        // more code rows than graph rows
        let mut bad = body.to_vec();
        bad[start + 9..start + 17].copy_from_slice(&((n + 1) as u64).to_le_bytes());
        let err = Hnsw::from_bytes(&reseal(bad)).err().unwrap().to_string();
        assert!(err.contains("codes larger than the graph"), "{err}");
        // an unknown section
        let mut bad = body.to_vec();
        bad[start] = 9;
        assert!(Hnsw::from_bytes(&reseal(bad)).is_err());
    }
}

//! Record ids as their 16 raw bytes: the canonical uuid text (lower-case, hyphenated) read
//! and written, and a map from id to row that holds no text.
//!
//! The text's character order is the bytes' order (each byte is two hex digits, the
//! hyphens sit at fixed places), so ids sort as their texts sort.

use std::collections::HashMap;

/// A record id: the uuid's bytes, most significant first (as `uuid.UUID.bytes`).
pub type Id = [u8; 16];

/// Length of the canonical text.
pub const TEXT_LEN: usize = 36;

/// Byte ranges of the dash-separated groups (8-4-4-4-12 hex digits).
const GROUPS: [(usize, usize); 5] = [(0, 4), (4, 6), (6, 8), (8, 10), (10, 16)];
const HEX: &[u8; 16] = b"0123456789abcdef";

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None, // upper case is not canonical: such a text names no stored id
    }
}

/// The id of a canonical uuid text, None for any other text.
pub fn parse(text: &[u8]) -> Option<Id> {
    if text.len() != TEXT_LEN {
        return None;
    }
    let mut id = [0u8; 16];
    let mut at = 0;
    for (g, &(lo, hi)) in GROUPS.iter().enumerate() {
        if g > 0 {
            if text[at] != b'-' {
                return None;
            }
            at += 1;
        }
        for byte in &mut id[lo..hi] {
            *byte = (nibble(text[at])? << 4) | nibble(text[at + 1])?;
            at += 2;
        }
    }
    Some(id)
}

/// The canonical text of `id` (what `str(uuid.UUID(bytes=id))` gives).
pub fn format(id: &Id) -> [u8; TEXT_LEN] {
    let mut out = [b'-'; TEXT_LEN];
    let mut at = 0;
    for (g, &(lo, hi)) in GROUPS.iter().enumerate() {
        if g > 0 {
            at += 1; // the hyphen already there
        }
        for &byte in &id[lo..hi] {
            out[at] = HEX[usize::from(byte >> 4)];
            out[at + 1] = HEX[usize::from(byte & 15)];
            at += 2;
        }
    }
    out
}

/// Live ids to their rows. Rows are u32 (an entry is 20 bytes); `insert` refuses larger.
/// Keys are hashed with a per-map random seed (std `RandomState`): ids come from users.
#[derive(Default)]
pub struct IdMap {
    rows: HashMap<Id, u32>,
}

impl IdMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn reserve(&mut self, extra: usize) {
        self.rows.reserve(extra);
    }

    /// Map `id` to `row` (replacing an earlier row, as a dict does); false (and nothing
    /// changed) when `row` does not fit in u32.
    pub fn insert(&mut self, id: Id, row: u64) -> bool {
        match u32::try_from(row) {
            Ok(r) => {
                self.rows.insert(id, r);
                true
            }
            Err(_) => false,
        }
    }

    pub fn get(&self, id: &Id) -> Option<u64> {
        self.rows.get(id).map(|&r| u64::from(r))
    }

    pub fn remove(&mut self, id: &Id) -> Option<u64> {
        self.rows.remove(id).map(u64::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let text = b"0123abcd-ef01-4567-89ab-cdef01234567";
        let id = parse(text).unwrap();
        assert_eq!(id[0], 0x01);
        assert_eq!(id[15], 0x67);
        assert_eq!(&format(&id), text);
        assert_eq!(
            &format(&[0xff; 16]),
            b"ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
    }

    #[test]
    fn non_canonical_texts_parse_to_none() {
        for bad in [
            &b"0123ABCD-ef01-4567-89ab-cdef01234567"[..],
            b"0123abcd0ef01-4567-89ab-cdef01234567",
            b"0123abcd-ef01-4567-89ab-cdef0123456",
            b"0123abcd-ef01-4567-89ab-cdef012345670",
            b"0123abcdef01456789abcdef01234567",
            b"0123abcd-ef01-4567-89ab-cdef0123456g",
            b"",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn map_replaces_and_removes() {
        let mut m = IdMap::new();
        let a = [1u8; 16];
        assert!(m.insert(a, 3));
        assert!(m.insert(a, 7));
        assert_eq!(m.get(&a), Some(7));
        assert_eq!(m.len(), 1);
        assert!(!m.insert([2u8; 16], u64::from(u32::MAX) + 1));
        assert_eq!(m.len(), 1);
        assert_eq!(m.remove(&a), Some(7));
        assert_eq!(m.remove(&a), None);
        assert!(m.is_empty());
    }
}

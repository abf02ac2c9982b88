//! One text per row (a cache's property JSON), all rows' bytes in a few large chunks and a
//! 12-byte span a row: no allocation per row, whatever the row count.
//!
//! Replacing a row's text appends the new one; the old bytes are garbage until a repack
//! (when garbage outweighs the live bytes) copies the live texts into fresh chunks. Chunks
//! are shared (`Arc`) with views taken of some rows (`view`), and a shared chunk is never
//! written again, so a view keeps the texts its rows had when it was taken.

use std::sync::Arc;

use crate::{CoreError, Result};

/// A chunk is filled up to this many bytes (a longer text gets a chunk of its own).
const CHUNK: usize = 1 << 22;
/// The first chunk's room: small indexes stay small.
const FIRST_CHUNK: usize = 1 << 12;
/// Garbage below this many bytes is never worth a repack.
const REPACK_FLOOR: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, Default)]
struct Span {
    chunk: u32,
    start: u32,
    len: u32,
}

fn text_of(chunks: &[Arc<Vec<u8>>], s: Span) -> &[u8] {
    let start = s.start as usize;
    &chunks[s.chunk as usize][start..start + s.len as usize]
}

/// Texts of rows `0..len()`, appended or replaced one row at a time or in blocks.
#[derive(Debug, Default)]
pub struct TextRows {
    chunks: Vec<Arc<Vec<u8>>>,
    spans: Vec<Span>,
    /// bytes in all chunks
    stored: u64,
    /// bytes the rows' current texts hold
    live: u64,
}

impl TextRows {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Row `row`'s text, None past the end.
    pub fn get(&self, row: usize) -> Option<&[u8]> {
        self.spans.get(row).map(|&s| text_of(&self.chunks, s))
    }

    /// Bytes held by replaced texts, not yet reclaimed.
    pub fn garbage(&self) -> u64 {
        self.stored - self.live
    }

    /// Bytes this holds: the chunks' used bytes and the spans.
    pub fn nbytes(&self) -> u64 {
        self.stored + (self.spans.len() * std::mem::size_of::<Span>()) as u64
    }

    /// A chunk no view shares with room for `need` more bytes (a chunk grows up to
    /// `CHUNK`; a longer text fills one alone): its index and where the bytes go.
    fn room(&mut self, need: usize) -> Result<(u32, u32)> {
        if need > u32::MAX as usize {
            return Err(CoreError::invalid(
                "text",
                format!("a property text of {need} bytes is too long to hold"),
            ));
        }
        if let Some(last) = self.chunks.last_mut() {
            let used = last.len();
            if Arc::get_mut(last).is_some() && (used == 0 || used + need <= CHUNK) {
                return Ok(((self.chunks.len() - 1) as u32, used as u32));
            }
        }
        self.chunks
            .push(Arc::new(Vec::with_capacity(need.clamp(FIRST_CHUNK, CHUNK))));
        Ok(((self.chunks.len() - 1) as u32, 0))
    }

    /// Write `text` where `room` said, as a row's span.
    fn write(&mut self, text: &[u8]) -> Result<Span> {
        let (chunk, start) = self.room(text.len())?;
        let buf =
            Arc::get_mut(&mut self.chunks[chunk as usize]).expect("room gives an unshared chunk");
        buf.extend_from_slice(text);
        self.stored += text.len() as u64;
        self.live += text.len() as u64;
        Ok(Span {
            chunk,
            start,
            len: text.len() as u32,
        })
    }

    /// Add a row holding `text`.
    pub fn push(&mut self, text: &[u8]) -> Result<()> {
        let span = self.write(text)?;
        self.spans.push(span);
        Ok(())
    }

    /// Add rows whose texts lie back to back in `text`: row `i` is `text[ends[i]..ends[i + 1]]`
    /// (`ends` from 0, non-decreasing, last = `text.len()`).
    pub fn push_joined(&mut self, text: &[u8], ends: &[usize]) -> Result<()> {
        let ok = ends.first() == Some(&0)
            && ends.last() == Some(&text.len())
            && ends.windows(2).all(|w| w[0] <= w[1]);
        if !ok {
            return Err(CoreError::invalid(
                "ends",
                format!("must rise from 0 to the text's length {}", text.len()),
            ));
        }
        self.spans.reserve(ends.len() - 1);
        for w in ends.windows(2) {
            self.push(&text[w[0]..w[1]])?;
        }
        Ok(())
    }

    /// Replace row `row`'s text (the old bytes become garbage; repacked when they
    /// outweigh the live ones).
    pub fn set(&mut self, row: usize, text: &[u8]) -> Result<()> {
        let Some(old) = self.spans.get(row).copied() else {
            return Err(CoreError::invalid(
                "row",
                format!("{row} is past the end ({})", self.spans.len()),
            ));
        };
        let span = self.write(text)?;
        self.live -= u64::from(old.len);
        self.spans[row] = span;
        let garbage = self.garbage();
        if garbage > REPACK_FLOOR && garbage > self.live {
            self.repack();
        }
        Ok(())
    }

    /// Copy the live texts into fresh chunks, in row order (views keep the old ones).
    pub fn repack(&mut self) {
        let old = std::mem::take(&mut self.chunks);
        let spans = std::mem::take(&mut self.spans);
        self.stored = 0;
        self.live = 0;
        self.spans.reserve(spans.len());
        for s in spans {
            self.push(text_of(&old, s))
                .expect("a text held before fits again");
        }
    }

    /// The texts of `rows` as they are now, kept however the rows change later.
    pub fn view(&self, rows: &[usize]) -> Result<TextView> {
        let spans = rows
            .iter()
            .map(|&r| {
                self.spans.get(r).copied().ok_or_else(|| {
                    CoreError::invalid(
                        "rows",
                        format!("{r} is past the end ({})", self.spans.len()),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TextView {
            chunks: self.chunks.clone(),
            spans,
        })
    }
}

/// Some rows' texts at the time `TextRows::view` was called; `i`-th is the `i`-th row asked.
#[derive(Debug, Clone, Default)]
pub struct TextView {
    chunks: Vec<Arc<Vec<u8>>>,
    spans: Vec<Span>,
}

impl TextView {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.spans.get(i).map(|&s| text_of(&self.chunks, s))
    }

    /// The view of positions `at` of this one.
    pub fn pick(&self, at: &[usize]) -> Option<TextView> {
        let spans = at
            .iter()
            .map(|&i| self.spans.get(i).copied())
            .collect::<Option<Vec<_>>>()?;
        Some(TextView {
            chunks: self.chunks.clone(),
            spans,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &TextRows) -> Vec<Vec<u8>> {
        (0..t.len()).map(|r| t.get(r).unwrap().to_vec()).collect()
    }

    #[test]
    fn push_set_and_repack_keep_each_rows_text() {
        let mut t = TextRows::new();
        let mut oracle: Vec<Vec<u8>> = Vec::new();
        for i in 0..5000u32 {
            let s = format!(
                "{{\"i\": {i}, \"pad\": \"{}\"}}",
                "x".repeat((i % 300) as usize)
            );
            t.push(s.as_bytes()).unwrap();
            oracle.push(s.into_bytes());
        }
        // enough replacements to pass the repack threshold several times
        for round in 0..40u32 {
            for r in (0..5000usize).step_by(3) {
                let s = format!("{{\"r\": {round}, \"big\": \"{}\"}}", "y".repeat(r % 500));
                t.set(r, s.as_bytes()).unwrap();
                oracle[r] = s.into_bytes();
            }
            assert!(t.garbage() <= t.live.max(REPACK_FLOOR));
        }
        assert_eq!(texts(&t), oracle);
        let live: u64 = oracle.iter().map(|s| s.len() as u64).sum();
        assert_eq!(t.live, live);
        t.repack();
        assert_eq!(t.garbage(), 0);
        assert_eq!(texts(&t), oracle);
    }

    #[test]
    fn a_view_keeps_the_texts_it_was_taken_with() {
        let mut t = TextRows::new();
        t.push_joined(b"{}{\"a\": 1}[]", &[0, 2, 10, 12]).unwrap();
        let v = t.view(&[2, 1]).unwrap();
        t.set(1, b"{\"a\": 2}").unwrap();
        t.push(b"{\"b\": 3}").unwrap();
        t.repack();
        assert_eq!(v.get(0).unwrap(), b"[]");
        assert_eq!(v.get(1).unwrap(), b"{\"a\": 1}");
        assert_eq!(t.get(1).unwrap(), b"{\"a\": 2}");
        assert_eq!(v.pick(&[1]).unwrap().get(0).unwrap(), b"{\"a\": 1}");
        assert!(v.pick(&[2]).is_none());
    }

    #[test]
    fn bad_input_is_refused() {
        let mut t = TextRows::new();
        assert!(t.push_joined(b"ab", &[0, 3]).is_err());
        assert!(t.push_joined(b"ab", &[1, 2]).is_err());
        assert!(t.set(0, b"x").is_err());
        assert!(t.view(&[0]).is_err());
        let long = vec![b'x'; CHUNK + 5];
        t.push(&long).unwrap();
        t.push(b"y").unwrap();
        assert_eq!(t.get(0).unwrap().len(), CHUNK + 5);
        assert_eq!(t.get(1).unwrap(), b"y");
    }
}

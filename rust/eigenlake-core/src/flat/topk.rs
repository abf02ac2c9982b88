//! Streaming top-k by a "larger is better" key: candidates above the current k-th
//! best go into a buffer of 2k that is cut back to k by partial selection, so the
//! common case (most rows lose) costs one comparison.

#[derive(Clone, Debug)]
pub struct TopK {
    k: usize,
    buf: Vec<(f32, i64)>,
    /// Key a candidate must beat; -inf until k candidates have been kept.
    pub threshold: f32,
}

fn better(a: &(f32, i64), b: &(f32, i64)) -> std::cmp::Ordering {
    // Best key first; equal keys by smaller id, so results are deterministic.
    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
}

impl TopK {
    pub fn new(k: usize) -> TopK {
        TopK {
            k,
            // a large k grows the buffer as candidates come: reserving 2k up front for
            // every query of every worker would cost memory no candidate may ever need
            buf: Vec::with_capacity(2 * k.clamp(8, 512)),
            threshold: f32::NEG_INFINITY,
        }
    }

    #[inline]
    pub fn push(&mut self, key: f32, id: i64) {
        // `>` is false for NaN, so NaN scores never enter.
        if key > self.threshold && self.k > 0 {
            self.buf.push((key, id));
            if self.buf.len() >= 2 * self.k.max(8) {
                self.shrink();
            }
        }
    }

    fn shrink(&mut self) {
        if self.buf.len() > self.k {
            self.buf.select_nth_unstable_by(self.k - 1, better);
            self.buf.truncate(self.k);
        }
        if self.buf.len() == self.k {
            self.threshold = self.buf.iter().map(|c| c.0).fold(f32::INFINITY, f32::min);
        }
    }

    pub fn merge(&mut self, other: TopK) {
        for (key, id) in other.buf {
            self.push(key, id);
        }
    }

    /// The best ≤ k candidates, best first.
    pub fn into_sorted(mut self) -> Vec<(f32, i64)> {
        self.shrink();
        self.buf.sort_unstable_by(better);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_largest() {
        let mut t = TopK::new(3);
        for (i, v) in [5.0, 1.0, 9.0, 3.0, 9.0, f32::NAN, 7.0, 2.0]
            .iter()
            .enumerate()
        {
            t.push(*v, i as i64);
        }
        let got: Vec<i64> = t.into_sorted().iter().map(|c| c.1).collect();
        assert_eq!(got, vec![2, 4, 6]);
        assert!(TopK::new(0).into_sorted().is_empty());
    }
}

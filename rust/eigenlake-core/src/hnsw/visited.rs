//! Visited set reused across searches: a tag per node, cleared by bumping the epoch.

pub struct Visited {
    tags: Vec<u32>,
    epoch: u32,
}

impl Visited {
    pub fn new(n: usize) -> Visited {
        Visited {
            tags: vec![0; n],
            epoch: 0,
        }
    }

    pub fn reset(&mut self, n: usize) {
        if self.tags.len() < n {
            self.tags.resize(n, 0);
        }
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.tags.iter_mut().for_each(|t| *t = 0);
            self.epoch = 1;
        }
    }

    /// Mark `i`; true when it was not yet visited in this epoch.
    #[inline]
    pub fn insert(&mut self, i: u32) -> bool {
        let t = &mut self.tags[i as usize];
        let fresh = *t != self.epoch;
        *t = self.epoch;
        fresh
    }
}

//! One query's scan shared between the calling thread and a pool worker that may join it.
//!
//! A split over the pool (`rayon` `install`) makes the caller wait for two workers to wake
//! (~25 µs each on the 2-vCPU benchmark VM) and, when another process holds a CPU, for
//! that CPU: a scan of a few thousand rows then took longer split than on one thread.
//! Here the caller starts scanning at once, pieces taken in turn from a counter, and
//! hands the pool a helper that takes pieces from the same counter when a worker runs it.
//! A helper that starts after the last piece was taken does nothing; one that is late
//! costs the caller nothing; the caller waits only for a piece a helper is scanning.
//! The pieces' heaps are merged in piece order, so ties go to the smaller row as in the
//! serial scan: the answer is the serial one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::TopK;
use crate::threads;

/// Entry of the helpers into the caller's scan: bit 0 set once the caller no longer waits
/// for helpers; the rest counts the helpers inside (2 each).
struct Gate(AtomicUsize);

impl Gate {
    /// Enter unless the gate is closed; every `enter` that returns true is paired with a
    /// `leave`.
    fn enter(&self) -> bool {
        let mut s = self.0.load(Ordering::Acquire);
        loop {
            if s & 1 != 0 {
                return false;
            }
            match self
                .0
                .compare_exchange_weak(s, s + 2, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    fn leave(&self) {
        self.0.fetch_sub(2, Ordering::Release);
    }

    /// Close the gate and wait until no helper is inside.
    fn close(&self) {
        self.0.fetch_or(1, Ordering::AcqRel);
        while self.0.load(Ordering::Acquire) > 1 {
            std::hint::spin_loop();
        }
    }
}

/// What the helpers read, on the caller's stack: `scan` scans piece `i`.
struct Work<'a> {
    pieces: usize,
    next: AtomicUsize,
    scan: &'a (dyn Fn(usize) -> TopK + Sync),
    found: Mutex<Vec<(usize, TopK)>>,
}

impl Work<'_> {
    /// Scan pieces until none is left.
    fn run(&self) {
        let mut mine = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.pieces {
                break;
            }
            mine.push((i, (self.scan)(i)));
        }
        if !mine.is_empty() {
            let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
            found.extend(mine);
        }
    }
}

/// The address of the caller's `Work`, handed to a helper: dereferenced only between a
/// successful `Gate::enter` and its `leave`, while the caller waits in `Gate::close`.
struct WorkPtr(*const Work<'static>);
// SAFETY: `Work` is Sync (atomics, a mutex, a Sync closure); the pointer is only read
// while the gate guarantees the caller keeps `Work` alive (see `WorkPtr`).
unsafe impl Send for WorkPtr {}

/// The heaps of `pieces` pieces (`scan(i)` scans piece `i`, rows in order) merged in piece
/// order: what one thread scanning them in turn keeps. Up to `helpers` pool workers join
/// the calling thread when they are free in time. Call outside the pool (`install`).
pub fn shared_scan(
    pieces: usize,
    k: usize,
    helpers: usize,
    scan: &(dyn Fn(usize) -> TopK + Sync),
) -> TopK {
    let work = Work {
        pieces,
        next: AtomicUsize::new(0),
        scan,
        found: Mutex::new(Vec::with_capacity(pieces)),
    };
    let gate = Arc::new(Gate(AtomicUsize::new(0)));
    if pieces > 1 {
        let pool = threads::pool();
        for _ in 0..helpers.min(pieces - 1) {
            let gate = Arc::clone(&gate);
            // the lifetime is erased here and restored by the gate (see `WorkPtr`)
            let ptr = WorkPtr((&work as *const Work<'_>).cast::<Work<'static>>());
            pool.spawn(move || {
                let ptr = ptr;
                if gate.enter() {
                    // SAFETY: inside the gate the caller is still in `shared_scan`
                    // (it closes the gate and waits for us before `work` goes away)
                    let work = unsafe { &*ptr.0 };
                    // a panicking scan must still leave the gate, or the caller spins on
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work.run()));
                    gate.leave();
                }
            });
        }
    }
    // the caller scans too, and waits for the helpers inside even if its own scan unwinds
    struct Closing<'a>(&'a Gate);
    impl Drop for Closing<'_> {
        fn drop(&mut self) {
            self.0.close();
        }
    }
    {
        let _closing = Closing(&gate);
        work.run();
    }
    let mut found = work.found.into_inner().unwrap_or_else(|e| e.into_inner());
    assert_eq!(found.len(), pieces, "a helper's scan failed");
    found.sort_unstable_by_key(|&(i, _)| i);
    let mut heaps = found.into_iter().map(|(_, h)| h);
    let mut best = heaps.next().unwrap_or_else(|| TopK::new(k));
    for h in heaps {
        best.merge(h);
    }
    best
}

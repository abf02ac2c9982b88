//! The one rayon pool every heavy call runs on. Its size comes from
//! `EIGENLAKE_NUM_THREADS`, else the CPU count, and can be changed at run time.
//!
//! On Linux, when the pool has one worker per CPU of the process's allowed set (the
//! default), each worker is pinned to its own CPU (`EIGENLAKE_PIN_THREADS=0` turns it off).
//! Unpinned, the scheduler often woke both workers of a short call onto one CPU and left
//! them there for the whole call: a 3 ms kNN then ran at one-thread speed in streaks
//! (measured on a 2-vCPU VM: 6.2 ms instead of 3.4 ms for runs of several calls). A smaller
//! pool is left to the OS: several processes sharing a machine (Ray actors, a server's
//! workers) would otherwise all pin to the same first CPUs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

fn slot() -> &'static RwLock<Arc<ThreadPool>> {
    static POOL: OnceLock<RwLock<Arc<ThreadPool>>> = OnceLock::new();
    POOL.get_or_init(|| RwLock::new(Arc::new(build(default_threads()))))
}

fn default_threads() -> usize {
    std::env::var("EIGENLAKE_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
}

fn build(n: usize) -> ThreadPool {
    let cpus = affinity::allowed_cpus();
    let pin = pin_wanted() && n == cpus.len();
    PINNED.store(pin, Ordering::Relaxed);
    ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("eigenlake-{i}"))
        .start_handler(move |i| {
            if pin {
                affinity::pin(cpus[i]);
            }
        })
        .build()
        .expect("failed to build the eigenlake thread pool")
}

static PINNED: AtomicBool = AtomicBool::new(false);

fn pin_wanted() -> bool {
    std::env::var("EIGENLAKE_PIN_THREADS").map_or(true, |v| v.trim() != "0")
}

/// Whether the current pool's workers are pinned to CPUs.
pub fn pinned() -> bool {
    // the pool is built first, so the flag describes it
    let _ = pool();
    PINNED.load(Ordering::Relaxed)
}

/// The current pool (cheap clone of an `Arc`).
pub fn pool() -> Arc<ThreadPool> {
    // the slot only ever holds a whole Arc: a panic elsewhere cannot leave it half-written
    slot().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Run `f` inside the pool, so rayon iterators in it use the pool's threads.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

/// Replace the pool with one of `n` threads (`0` = the default).
pub fn set_num_threads(n: usize) {
    let n = if n == 0 { default_threads() } else { n };
    let pool = Arc::new(build(n)); // built before the lock is taken: a failure poisons nothing
    *slot().write().unwrap_or_else(|e| e.into_inner()) = pool;
}

pub fn num_threads() -> usize {
    pool().current_num_threads()
}

/// Runs `f` on the current thread while one idle worker of the current pool spins until it
/// returns, so the parallel step right after `f` starts on both without waiting for a
/// worker to wake: an idle rayon worker sleeps after a few dozen µs, and waking one took
/// ~25 µs on the 2-vCPU benchmark VM (median of futex wake-ups), longer than the step it
/// would share. For serial set-up of a few tens of µs before a parallel step: the spinner
/// holds a core meanwhile. (Cardio LOF, 2 threads: the rotation after the serial principal
/// axes 32 → 18 µs.) If no worker is idle, `f` runs and the spin returns at once.
pub fn keeping_a_worker_awake<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_num_threads() < 2 {
        return f();
    }
    // set when `f` returns or unwinds: `join` waits for the spinner before passing a panic on
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    let done = AtomicBool::new(false);
    let (r, ()) = rayon::join(
        || {
            let _done = Done(&done);
            f()
        },
        || {
            while !done.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
        },
    );
    r
}

#[cfg(target_os = "linux")]
mod affinity {
    /// CPUs this process may run on, ascending.
    pub(super) fn allowed_cpus() -> Vec<usize> {
        // SAFETY: a zeroed cpu_set_t is a valid empty set, filled by sched_getaffinity
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Vec::new();
            }
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&c| libc::CPU_ISSET(c, &set))
                .collect()
        }
    }

    /// Keep the calling thread on `cpu` (a failure leaves it unpinned).
    pub(super) fn pin(cpu: usize) {
        // SAFETY: as above; the set holds one CPU of the allowed set
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod affinity {
    pub(super) fn allowed_cpus() -> Vec<usize> {
        Vec::new()
    }

    pub(super) fn pin(_cpu: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeping_a_worker_awake_returns_the_result_in_any_pool() {
        for n in [1, 2, 3] {
            let pool = ThreadPoolBuilder::new().num_threads(n).build().unwrap();
            // many calls in a row: a spinner left behind would hang the next join
            for i in 0..200u64 {
                let r = pool.install(|| keeping_a_worker_awake(|| (0..=i).sum::<u64>()));
                assert_eq!(r, i * (i + 1) / 2, "{n} threads, call {i}");
            }
            // and from outside any pool
            assert_eq!(keeping_a_worker_awake(|| 7), 7);
            // a panic in `f` reaches the caller (the spinner is released, not left waiting)
            let caught = pool
                .install(|| std::panic::catch_unwind(|| keeping_a_worker_awake(|| panic!("in f"))));
            assert!(caught.is_err(), "{n} threads");
        }
    }
}

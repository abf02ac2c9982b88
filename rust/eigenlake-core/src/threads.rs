//! The one rayon pool every heavy call runs on. Its size comes from
//! `EIGENLAKE_NUM_THREADS`, else the CPU count, and can be changed at run time.

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
    ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("eigenlake-{i}"))
        .build()
        .expect("failed to build the eigenlake thread pool")
}

/// The current pool (cheap clone of an `Arc`).
pub fn pool() -> Arc<ThreadPool> {
    slot().read().expect("pool lock poisoned").clone()
}

/// Run `f` inside the pool, so rayon iterators in it use the pool's threads.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    pool().install(f)
}

/// Replace the pool with one of `n` threads (`0` = the default).
pub fn set_num_threads(n: usize) {
    let n = if n == 0 { default_threads() } else { n };
    *slot().write().expect("pool lock poisoned") = Arc::new(build(n));
}

pub fn num_threads() -> usize {
    pool().current_num_threads()
}

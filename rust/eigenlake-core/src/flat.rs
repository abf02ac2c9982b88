//! Exact (brute-force) top-k search. Owned by the search work; see `gemm.rs`.

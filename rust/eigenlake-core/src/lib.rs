//! EigenLake compute core.
//!
//! Pure Rust, no Python: functions take row-major `&[f32]` matrices, row indices and
//! masks, and know nothing of records (but `rows`, which encodes property columns for the
//! store, `ids`, record ids as raw bytes, and `text_rows`, their property texts). The Python bindings live in `eigenlake-py`.

pub mod cluster;
pub mod distance;
pub mod error;
pub mod flat;
pub mod gemm;
pub mod hnsw;
pub mod hugepage;
pub mod ids;
pub mod outlier;
pub mod quant;
pub mod rows;
pub mod text_rows;
pub mod threads;

pub use error::{CoreError, Result};

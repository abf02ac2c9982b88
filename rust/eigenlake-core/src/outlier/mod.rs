//! Outlier scores (LOF).

pub mod lof;

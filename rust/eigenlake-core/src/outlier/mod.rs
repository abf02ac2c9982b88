//! Outlier scores (LOF). Owned by the analytics work.

//! Clustering and neighbourhood analyses: k-means (spherical and euclidean), mini-batch
//! k-means, DBSCAN, silhouette, k-distance knee, kNN. Inputs are row-major `&[f32]`
//! matrices with `dim` columns; nothing here materialises an n×n matrix.

pub(crate) mod assign;
mod coded;
pub mod dbscan;
mod hamerly;
mod init;
pub(crate) mod kdtree;
mod kdtree_kernels;
mod kdtree_search;
pub mod kmeans;
pub mod knee;
pub mod layout;
pub mod minibatch;
pub mod neighbors;
pub mod plane;
pub mod points;
mod principal;
mod screen;
pub mod silhouette;
mod sketch;
mod topk;
mod unionfind;

pub use points::{Metric, Points};

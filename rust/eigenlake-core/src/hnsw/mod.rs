//! HNSW graph index. Owned by the search work.

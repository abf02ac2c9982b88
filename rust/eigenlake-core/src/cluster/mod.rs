//! Clustering: spherical k-means, DBSCAN, silhouette, k-distance knee. Owned by the
//! analytics work.

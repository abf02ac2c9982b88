//! A query row as every search sees it: checked and, for cosine, scaled to unit length.
//!
//! One definition for all paths, because a page's cursor carries a hash of this row: the
//! next page must rebuild it bit for bit. The square norm is summed in f64 over eight
//! fixed lanes, so the result does not depend on the CPU's kernels, and no finite f32
//! row overflows it.

/// Lanes of the f64 sum: enough independent adds to hide their latency.
const LANES: usize = 8;

fn norm_sq_f64(q: &[f32]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut chunks = q.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            let x = f64::from(x);
            *a += x * x;
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        let x = f64::from(x);
        *a += x * x;
    }
    // pairwise, in a fixed order
    let s4: [f64; 4] = std::array::from_fn(|i| acc[i] + acc[i + 4]);
    (s4[0] + s4[2]) + (s4[1] + s4[3])
}

/// `q` as a search takes it: unit length when `cosine`; None when a value is not finite
/// or (for cosine) every value is zero, which callers report as a bad query.
pub fn query_row(q: &[f32], cosine: bool) -> Option<Vec<f32>> {
    let sq = norm_sq_f64(q);
    if !sq.is_finite() {
        return None;
    }
    if !cosine {
        return Some(q.to_vec());
    }
    if sq == 0.0 {
        return None;
    }
    let inv = 1.0 / sq.sqrt();
    Some(q.iter().map(|&x| (f64::from(x) * inv) as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_length_and_direction() {
        let q = [3.0f32, 4.0, 0.0];
        assert_eq!(query_row(&q, true).unwrap(), vec![0.6, 0.8, 0.0]);
        assert_eq!(query_row(&q, false).unwrap(), q.to_vec());
    }

    #[test]
    fn bad_rows_are_refused() {
        assert!(query_row(&[0.0; 5], true).is_none());
        assert_eq!(query_row(&[0.0; 5], false).unwrap(), vec![0.0; 5]);
        assert!(query_row(&[1.0, f32::NAN], false).is_none());
        assert!(query_row(&[f32::INFINITY, 1.0], true).is_none());
        // squares past f32's range still sum in f64
        let big = [3e38f32; 20];
        let u = query_row(&big, true).unwrap();
        let want = (1.0 / 20f64.sqrt()) as f32;
        assert!(u.iter().all(|&x| x == want));
    }

    #[test]
    fn same_as_a_plain_f64_sum_on_random_rows() {
        let mut state = 7u64;
        for len in [1usize, 7, 8, 9, 100, 384, 1000] {
            let q: Vec<f32> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
                })
                .collect();
            let plain: f64 = q.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
            let got = norm_sq_f64(&q);
            assert!((got - plain).abs() <= 1e-12 * plain, "len {len}");
            let u = query_row(&q, true).unwrap();
            let n: f64 = u.iter().map(|&x| f64::from(x) * f64::from(x)).sum();
            assert!((n - 1.0).abs() < 1e-6);
        }
    }
}

//! A walk's (distance, node) pair as one `u64` ordered exactly like `Cand` (distance by
//! `f32::total_cmp`, then node): the heaps of the beam search compare and move plain
//! integers instead of a float's total order and a tie-break (the heaps were ~15% of a
//! query's walk).

use super::layer::Cand;

/// The key of `c`: the distance's bits mapped so unsigned order is `total_cmp`'s order
/// (negatives have their magnitude bits flipped, then the sign bit is flipped), the node
/// in the low half.
#[inline]
pub fn key(c: Cand) -> u64 {
    (u64::from(dist_bits(c.0)) << 32) | u64::from(c.1)
}

/// `key`'s distance half alone: compares like `total_cmp` of the distances.
#[inline]
pub fn dist_bits(d: f32) -> u32 {
    let b = d.to_bits();
    b ^ ((((b as i32) >> 31) as u32) >> 1) ^ 0x8000_0000
}

/// The distance half of a key.
#[inline]
pub fn dist_of(k: u64) -> u32 {
    (k >> 32) as u32
}

/// The pair a key was made from.
#[inline]
pub fn cand(k: u64) -> Cand {
    let t = dist_of(k) ^ 0x8000_0000;
    let b = t ^ ((((t as i32) >> 31) as u32) >> 1);
    Cand(f32::from_bits(b), k as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every pair of edge values and of random ones (any bit pattern, and the walk's
    /// range) orders by key as by `Cand`, and each key gives its pair back bit for bit.
    #[test]
    fn keys_order_like_cands_and_round_trip() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut dists = vec![
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -f32::NAN,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            1e-45,
            -1e-45,
            1.0,
            -1.0,
        ];
        dists.extend((0..300).map(|_| f32::from_bits(rng.random())));
        dists.extend((0..300).map(|_| rng.random_range(-2.0f32..2.0)));
        let nodes = [0u32, 1, 7, u32::MAX - 1, u32::MAX];
        for &a in &dists {
            for &b in &dists {
                assert_eq!(dist_bits(a).cmp(&dist_bits(b)), a.total_cmp(&b), "{a} {b}");
                let (i, j) = (rng.random_range(0..5), rng.random_range(0..5));
                let (x, y) = (Cand(a, nodes[i]), Cand(b, nodes[j]));
                assert_eq!(key(x).cmp(&key(y)), x.cmp(&y), "{x:?} {y:?}");
            }
            for &i in &nodes {
                let back = cand(key(Cand(a, i)));
                assert_eq!((back.0.to_bits(), back.1), (a.to_bits(), i));
            }
        }
    }
}

//! Knee of a sorted curve: the point farthest from the chord joining its ends, with both
//! axes scaled to [0, 1] so the answer does not depend on units.

use crate::error::{CoreError, Result};

pub fn knee(values: &[f32]) -> Result<usize> {
    if values.is_empty() {
        return Err(CoreError::invalid("values", "must not be empty"));
    }
    if !values.iter().all(|v| v.is_finite()) {
        return Err(CoreError::invalid("values", "contains NaN or infinity"));
    }
    let n = values.len();
    let (first, last) = (values[0] as f64, values[n - 1] as f64);
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min) as f64;
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    if n < 3 || hi == lo {
        return Ok(0);
    }
    let (y0, y1) = ((first - lo) / (hi - lo), (last - lo) / (hi - lo));
    // chord from (0, y0) to (1, y1): distance ∝ |(y1 − y0)·t − (y − y0)|
    let mut best = (0usize, -1f64);
    for (i, &v) in values.iter().enumerate() {
        let t = i as f64 / (n - 1) as f64;
        let y = (v as f64 - lo) / (hi - lo);
        let d = ((y1 - y0) * t - (y - y0)).abs();
        if d > best.1 {
            best = (i, d);
        }
    }
    Ok(best.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elbow_of_a_hockey_stick() {
        let v: Vec<f32> = (0..100)
            .map(|i| {
                if i < 80 {
                    i as f32 * 0.01
                } else {
                    0.8 + (i - 80) as f32
                }
            })
            .collect();
        assert_eq!(knee(&v).unwrap(), 80);
    }

    #[test]
    fn flat_and_short_curves() {
        assert_eq!(knee(&[1.0, 1.0, 1.0]).unwrap(), 0);
        assert_eq!(knee(&[1.0]).unwrap(), 0);
        assert!(knee(&[]).is_err());
    }
}

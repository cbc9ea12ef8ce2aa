//! Norms, cosines and L2 norm clipping (the cheapest defence against scaled updates).

/// L2 norm, accumulated in f64.
pub fn l2_norm(values: &[f32]) -> f64 {
    values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt()
}

/// `values * min(1, max_norm / ||values||)`.
pub fn clip_to_norm(values: &[f32], max_norm: f32) -> Vec<f32> {
    let norm = l2_norm(values);
    let factor = if norm > f64::from(max_norm) {
        (f64::from(max_norm) / norm) as f32
    } else {
        1.0
    };
    values.iter().map(|v| v * factor).collect()
}

/// Cosine similarity given both norms; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32], norm_a: f64, norm_b: f64) -> f64 {
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    dot / (norm_a * norm_b)
}
